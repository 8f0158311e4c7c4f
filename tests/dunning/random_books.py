"""Random books for the cycle's differential test, and a dump of everything the cycle wrote.

    python tests/dunning/random_books.py   # (re)write data/cycle_golden.json from the current code

The golden file was written by the ORM-object cycle (before #16's bulk path). The test builds the same
books and asserts the cycle writes exactly the same actions, tasks, outbox rows, fees, fee invoices,
events, stages and daily totals: ids aside, byte for byte.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
from pathlib import Path

GOLDEN = Path(__file__).parent / "data" / "cycle_golden.json"
SEEDS = (1, 2, 3, 4, 5, 6)
START = dt.date(2026, 3, 2)
DAYS = (0, 3, 8, 16)
COUNTRIES = ("CL", "CO", "MX", "US", "ES", "PE", "BR", "AR")
SHORT_POLICY = """
code: corta
name: Corta
segment: corta
steps:
  - {code: "+1", offset: 1, action: message, channel: preferred, template: overdue_friendly, tone: friendly, name: Uno}
  - {code: "+4", offset: 4, action: message, channel: email, template: overdue_neutral, tone: neutral, name: Dos, approval: manager}
  - {code: "+6", offset: 6, action: call_task, channel: call, template: overdue_firm, tone: firm, name: Llamada}
  - {code: "+8", offset: 8, action: fee, channel: preferred, template: late_fee_notice, tone: firm, name: Cargo}
  - {code: "+10", offset: 10, action: stage, channel: preferred, template: mediation_notice, tone: formal, name: Gestion, to_stage: en_gestion}
"""


def build(seed: int):
    """One organization with 30-50 customers: several countries, contacts with and without consent,
    paid and open invoices, pauses, two segments (the second with approvals, a planned stage move and
    an early fee), and late-fee terms of every kind."""
    from decimal import Decimal

    from cobro.agreements import services as agreements
    from cobro.dunning import services as dunning
    from cobro.ledger.models import Contact, Customer, Organization
    from cobro.ledger.services import add_invoice, apply_payment, get_or_create_customer

    rng = random.Random(seed)
    org = Organization.objects.create(slug=f"rnd{seed}", name=f"Random {seed}", country="CL", currency="USD",
                                      timezone="America/Santiago")
    dunning.ensure_default_policy(org)
    dunning.import_policies(org, SHORT_POLICY)
    for n in range(rng.randint(30, 50)):
        country = rng.choice(COUNTRIES)
        email = f"c{n}@example.com" if rng.random() < 0.7 else ""
        phone = f"+5691{seed}{n:06d}" if rng.random() < 0.5 else ""
        customer, _ = get_or_create_customer(org, f"K-{n}", f"Cliente {n}", country=country, email=email,
                                             phone=phone, timezone_name=rng.choice(("", "", "America/Bogota")))
        if rng.random() < 0.3:
            Customer.objects.filter(pk=customer.pk).update(segment="corta")
        if rng.random() < 0.2:
            Contact.objects.filter(customer=customer).update(consent_email=False)
        if rng.random() < 0.5:
            kind = rng.choice(("fixed", "percent", "daily_interest"))
            agreements.set_terms(org, customer, late_fee_kind=kind, late_fee_fixed=rng.choice((500, 5000)),
                                 late_fee_rate=Decimal(rng.choice(("1.5", "3", "40"))), grace_days=rng.randint(0, 5),
                                 business=rng.random() < 0.5)
        for k in range(rng.randint(1, 5)):
            due = START + dt.timedelta(days=rng.randint(-120, 20))
            amount = rng.randint(1, 900) * 100
            inv = add_invoice(org, customer, f"F-{n}-{k}", due - dt.timedelta(days=30), due, "USD", amount)
            if rng.random() < 0.15:
                apply_payment(org, customer, f"P-{n}-{k}", due - dt.timedelta(days=1),
                              rng.choice((amount, amount // 2 or 1)), "USD", invoice=inv)
        if rng.random() < 0.08:
            dunning.pause_customer(org, customer, START + dt.timedelta(days=rng.randint(0, 10)), "Acuerdo verbal")
    return org


def run(org) -> None:
    """The cycle on four days, in batches of seven customers, each day's clock frozen at 08:00 UTC."""
    import time_machine

    from cobro.dunning.cycle import run_cycle

    for day in DAYS:
        as_of = START + dt.timedelta(days=day)
        with time_machine.travel(dt.datetime.combine(as_of, dt.time(8), tzinfo=dt.UTC), tick=False):
            run_cycle(org, as_of, batch_customers=7)


def build_and_run(seed: int):
    import time_machine

    with time_machine.travel(dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC), tick=False):
        org = build(seed)
    run(org)
    return org


def dump(org) -> dict:
    """Everything the cycle wrote, without database ids (keys, refs and values instead)."""
    from cobro.agreements.models import Fee
    from cobro.dunning.models import Action, CustomerStage
    from cobro.insights.models import DailyTotal
    from cobro.ledger.models import Customer, Invoice, Task, TimelineEvent
    from cobro.messaging.models import Message

    def iso(v):
        return v.isoformat() if v is not None else None

    key_of = dict(Action.objects.for_org(org).values_list("pk", "key"))
    actions = sorted([a.key, a.as_of.isoformat(), a.customer.ref, a.step, a.action, a.channel, a.template, a.tone,
                      a.invoice_refs, len(a.invoice_ids), iso(a.scheduled_for), a.status, a.data]
                     for a in Action.objects.for_org(org).select_related("customer"))
    tasks = sorted([t.source_key or "", t.customer.ref, t.kind, t.title, iso(t.due_on), t.status, t.data,
                    t.assignee_id] for t in Task.objects.for_org(org).select_related("customer"))
    outbox = sorted([m.key, key_of.get(m.action_id), m.customer.ref, m.channel, m.template, m.tone, m.status,
                     len(m.invoice_ids), iso(m.scheduled_for), iso(m.next_attempt_at), m.direction]
                    # the cycle's rows only: thank-you messages wait for a commit the test never makes
                    for m in Message.objects.filter(organization=org, action_id__isnull=False)
                    .select_related("customer"))
    fees = sorted([f.invoice.ref, f.fee_invoice.ref if f.fee_invoice else None, f.action_key, iso(f.posted_on),
                   f.currency, f.kind, f.days_overdue, f.requested, f.cap, f.amount, f.basis, f.reason, f.status]
                  for f in Fee.objects.for_org(org).select_related("invoice", "fee_invoice"))
    charges = sorted([i.ref, i.customer.ref, iso(i.issue_date), iso(i.due_date), i.currency, i.amount,
                      i.open_amount, i.status] for i in Invoice.objects.for_org(org).filter(ref__startswith="CM-")
                     .select_related("customer"))
    events = sorted([e.customer.ref, e.kind, e.summary, iso(e.at), e.invoice.ref if e.invoice else None,
                     {k: v for k, v in e.data.items() if not k.endswith("_id") and k != "allocated"}]
                    for e in TimelineEvent.objects.for_org(org).select_related("customer", "invoice"))
    stages = sorted([s.customer.ref, s.stage] for s in CustomerStage.objects.for_org(org).select_related("customer"))
    totals = _totals(DailyTotal, org)
    out = {"actions": actions, "tasks": tasks, "outbox": outbox, "fees": fees, "charges": charges,
           "events": events, "stages": stages, "totals": totals}
    # Keys start with the organization's and the customer's ids: the customer's ref stands for them.
    refs = dict(Customer.objects.for_org(org).values_list("pk", "ref"))
    pattern = re.compile(rf"\b{org.pk}:(\d+):")
    out = _strings(out, lambda s: pattern.sub(lambda m: refs[int(m.group(1))] + ":", s))
    return {part: sorted(rows, key=lambda r: json.dumps(r, sort_keys=True)) for part, rows in out.items()}


def _strings(value, fn):
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, list):
        return [_strings(v, fn) for v in value]
    if isinstance(value, dict):
        return {k: _strings(v, fn) for k, v in value.items()}
    return value


def _totals(model, org) -> list:
    fields = [f.attname for f in model._meta.concrete_fields if f.attname not in ("id", "organization_id")]
    return sorted([str(v) for v in row] for row in model.objects.for_org(org).values_list(*fields))


def write_golden() -> None:
    import os
    import sys
    import tempfile

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))
    os.environ["COBRO_DATA_DIR"] = tempfile.mkdtemp(prefix="cobro-golden-")
    os.environ.pop("COBRO_DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cobro.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    out = {}
    for seed in SEEDS:
        out[str(seed)] = dump(build_and_run(seed))
    GOLDEN.write_text(json.dumps(out, ensure_ascii=False, indent=0, sort_keys=True) + "\n", encoding="utf-8")
    print({seed: {k: len(v) for k, v in d.items()} for seed, d in out.items()})


if __name__ == "__main__":
    write_golden()
