"""Results per step, channel and template: read the contacts and the book, let
``cobro.engine.results`` add them up against comparable customers, and keep the sums.

``compute_and_store`` runs at night (``cobro insights results``); the Dashboard reads the latest
stored rows with ``latest`` (one query, nothing computed in the request).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db import transaction

from cobro.engine import results as engine
from cobro.engine.risk import day
from cobro.insights.models import StepResult
from cobro.ledger.models import Allocation, CreditNote, Invoice, Organization, Payment


def compute(org: Organization, as_of: dt.date, currency: str) -> dict[tuple, dict[int, engine.GroupResult]]:
    """The sums for one currency, from the contacts of the ``engine.WINDOW`` days before ``as_of``."""
    from cobro.dunning.models import Action
    from cobro.messaging.models import Message

    zone = ZoneInfo(org.timezone)
    first = as_of - dt.timedelta(days=engine.WINDOW)
    since = dt.datetime.combine(first, dt.time(), tzinfo=zone)
    until = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    sent = list(Message.objects.for_org(org)
                .filter(direction=Message.Direction.OUT, action_id__isnull=False, sent_at__gte=since,
                        sent_at__lt=until)
                .exclude(status=Message.Status.FAILED)
                .values_list("customer_id", "sent_at", "channel", "template", "action_id"))
    steps = dict(Action.objects.for_org(org).filter(pk__in={r[4] for r in sent}).values_list("pk", "step"))
    invoices = list(Invoice.objects.for_org(org).filter(currency=currency, issue_date__lte=as_of)
                    .exclude(closed_on__lt=first)
                    .values_list("pk", "customer_id", "issue_date", "due_date", "amount", "closed_on"))
    customers = sorted({r[1] for r in invoices} | {r[0] for r in sent})
    cindex = {c: i for i, c in enumerate(customers)}
    iindex = {r[0]: i for i, r in enumerate(invoices)}
    reductions = []
    for model in (Allocation, CreditNote):
        for inv, on, amount in (model.objects.for_org(org)
                                .filter(invoice__currency=currency, invoice__issue_date__lte=as_of, date__lte=as_of)
                                .exclude(invoice__closed_on__lt=first).values_list("invoice_id", "date", "amount")):
            if inv in iindex:
                reductions.append((iindex[inv], day(on), amount))
    payments = [(cindex[c], day(on), amount) for c, on, amount in
                Payment.objects.for_org(org).filter(currency=currency, date__gte=first, date__lte=as_of)
                .values_list("customer_id", "date", "amount") if c in cindex]
    contacts = [(cindex[c], day(at.astimezone(zone).date()), (steps.get(a, ""), ch, tpl))
                for c, at, ch, tpl, a in sent]
    rows = [(cindex[c], day(i), day(d), amount, None if closed is None else day(closed))
            for _pk, c, i, d, amount, closed in invoices]
    return engine.step_results(len(customers), contacts, rows, reductions, payments, day(as_of))


def currencies(org: Organization) -> list[str]:
    return sorted(set(Invoice.objects.for_org(org).values_list("currency", flat=True).distinct()))


def compute_and_store(org: Organization, as_of: dt.date) -> int:
    """Compute every currency's results on ``as_of`` and keep them (replacing that day's); rows kept."""
    made = []
    for cur in currencies(org):
        for (step, channel, template), by_k in compute(org, as_of, cur).items():
            for k, r in by_k.items():
                if not r.contacts:
                    continue
                made.append(StepResult(
                    organization=org, currency=cur, made_on=as_of, step=step, channel=channel,
                    template=template, horizon=k, contacts=r.contacts, customers=len(r.customers),
                    matched=r.matched, paid=r.paid, expected_paid=r.expected_paid, amount=r.amount,
                    expected_amount=round(r.expected_amount), balance=r.balance))
    with transaction.atomic():
        StepResult.objects.for_org(org).filter(made_on=as_of).delete()
        StepResult.objects.bulk_create(made)
    return len(made)


@dataclass(frozen=True)
class Row:
    step: str
    channel: str
    template: str
    customers: int
    by_horizon: dict[int, StepResult]


def latest(org: Organization, currency: str, end: dt.date) -> tuple[dt.date | None, list[Row]]:
    """The latest results stored on or before ``end`` for ``currency``, one row per group."""
    made_on = (StepResult.objects.for_org(org).filter(currency=currency, made_on__lte=end)
               .order_by("-made_on").values_list("made_on", flat=True).first())
    if made_on is None:
        return None, []
    groups: dict[tuple, dict[int, StepResult]] = {}
    for r in StepResult.objects.for_org(org).filter(currency=currency, made_on=made_on):
        groups.setdefault((r.step, r.channel, r.template), {})[r.horizon] = r
    rows = [Row(s, ch, t, max(x.customers for x in by.values()), by) for (s, ch, t), by in sorted(groups.items())]
    return made_on, rows
