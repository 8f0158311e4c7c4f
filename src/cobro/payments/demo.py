"""The demo organization's bank: a month of statements, one account per currency it invoices in, matched.

A Chilean current account sends its "cartola" as CSV every day, a Colombian one MT940, a Mexican one
CAMT.053 and a Spanish one Norma 43; the payers type invoice numbers and tax ids their own way
(``cobro.payments.synth``). Each day's file is read by the same ``import_statement`` the command and
the folder drop use, dated that day and read that evening (the demo's clock), so most lines are
applied, some wait on the reconciliation page as suggestions and a few are unmatched.
Invoices under a promise, a plan or a dispute are left alone: the other demos tell their story.
Idempotent: a second run finds the accounts and adds nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict
from zoneinfo import ZoneInfo

from cobro.engine.money import exponent
from cobro.ledger.models import Customer, Invoice, Organization
from cobro.payments import matching, services, synth
from cobro.payments.models import BankAccount

ACCOUNTS = [  # name, number, currency, country style, format
    ("Banco de Chile · cuenta corriente", "00-123-45678-09", "CLP", "CL", "csv"),
    ("Bancolombia · cuenta corriente", "03012345678", "COP", "CO", "mt940"),
    ("BBVA México · cuenta de cheques", "012180001234567891", "MXN", "MX", "camt053"),
    ("CaixaBank · cuenta euros", "210004184502000513", "EUR", "ES", "n43"),
]
DAYS = 30


def accounts(org: Organization) -> list[tuple[str, str, str, str, str]]:
    """One account per currency the organization's invoices are in (a currency without a bank above
    gets a plain CSV account)."""
    used = sorted(set(Invoice.objects.for_org(org).values_list("currency", flat=True).distinct()))
    known = {a[2]: a for a in ACCOUNTS}
    return [known.get(cur) or (f"Cuenta {cur}", f"DEMO-{cur}-0001", cur, org.country, "csv") for cur in used]


def populate(org: Organization, today: dt.date) -> None:
    if BankAccount.objects.for_org(org).exists():
        return
    rng = random.Random(4301)
    held = _held_invoices(org)
    customers = {c.pk: synth.BookCustomer(c.pk, c.name, c.tax_id, c.country)
                 for c in Customer.objects.for_org(org)}
    names = Counter(matching.payer_key(c.name) for c in customers.values())
    unique = {cid for cid, c in customers.items() if names[matching.payer_key(c.name)] == 1}
    tolerance = services.fee_tolerance(org)
    zone = ZoneInfo(org.timezone or "UTC")
    for name, number, currency, country, fmt in accounts(org):
        BankAccount.objects.create(organization=org, name=name, number=number, currency=currency)
        used: set[int] = set()
        for back in range(DAYS, 0, -1):
            day = today - dt.timedelta(days=back)
            if day.weekday() >= 5:
                continue  # banks send no statement on weekends
            open_by = defaultdict(list)
            for pk, ref, cid, amount, issued in (Invoice.objects.for_org(org).filter(
                    status=Invoice.Status.OPEN, currency=currency, open_amount__gt=0, issue_date__lte=day)
                    .exclude(pk__in=held).values_list("pk", "ref", "customer_id", "open_amount", "issue_date")):
                open_by[cid].append(synth.BookInvoice(pk, ref, cid, currency, amount, issued))
            lines = synth.generate_day(rng, day, currency, country, customers, open_by,
                                       rng.randrange(1, 4), rng.randrange(1, 3), unique_names=unique,
                                       fee_tolerance=tolerance.get(currency, 0), used=used,
                                       ref_prefix="DEMO" if fmt == "csv" else "")
            if not lines:
                continue
            data = synth.write(fmt, lines, number, currency, exponent(currency))
            services.import_statement(org, data, fmt=fmt, account=number, filename=f"demo/{number}/{day}.{fmt}",
                                      as_of=day, now=dt.datetime.combine(day, dt.time(20), tzinfo=zone))


def _held_invoices(org: Organization) -> set[int]:
    """Invoices another demo tells a story with (promises, plans, disputes): no bank line pays them."""
    try:
        from cobro.agreements.models import Dispute, Plan, Promise
    except ImportError:
        return set()
    held = set(Dispute.objects.for_org(org).values_list("invoice_id", flat=True))
    held |= set(Promise.invoices.through.objects.filter(promise__organization=org).values_list("invoice_id", flat=True))
    held |= set(Plan.invoices.through.objects.filter(plan__organization=org).values_list("invoice_id", flat=True))
    return held
