"""The daily totals kept by the ledger's writes always equal a recompute from scratch, and the Dashboard
read from them shows exactly what the old scan of the ledger showed."""

from __future__ import annotations

import datetime as dt
import json
import random
import re

import pytest
from django.core.management import call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cobro.insights import services, totals
from cobro.insights.models import AppliedTotal, DailyTotal
from cobro.ledger import services as ledger
from cobro.ledger.importing import ImportFailed, import_file
from cobro.ledger.models import CreditNote, Invoice, Organization, Payment

D = dt.date
TODAY = D(2026, 3, 20)
_orgs = iter(range(10**9))


def _org() -> Organization:
    slug = f"t{next(_orgs)}"
    return Organization.objects.create(slug=slug, name=slug, currency="CLP", country="CL",
                                       timezone="America/Santiago")


def _day(offset: int) -> dt.date:
    return TODAY + dt.timedelta(days=offset)


# One step of a random history: what to do, and numbers that pick its details.
STEP = st.tuples(
    st.sampled_from(["invoice", "invoice", "invoice", "pay", "pay", "pay_one", "credit", "reverse_payment",
                     "reverse_credit", "change_invoice", "import_invoices", "import_payments", "pay_many"]),
    st.integers(0, 10**6), st.integers(-150, 30), st.integers(1, 10**6))


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    return ("\n".join(",".join(r) for r in [header, *rows]) + "\n").encode()


def play(org: Organization, steps) -> None:
    """Run a history through the ledger's real services and importer (refused steps change nothing)."""
    customers = [ledger.get_or_create_customer(org, f"C{i}", f"Cliente {i}")[0] for i in range(3)]
    for n, (kind, pick, offset, size) in enumerate(steps):
        customer = customers[pick % 3]
        currency = "CLP" if pick % 5 else "USD"
        invoices = list(Invoice.objects.for_org(org).order_by("pk"))
        try:
            with transaction.atomic():
                if kind == "invoice":
                    issued = _day(offset)
                    ledger.add_invoice(org, customer, f"F{n}", issued, issued + dt.timedelta(days=pick % 4 * 20),
                                       currency, size)
                elif kind in ("pay", "pay_one") and invoices:
                    inv = invoices[pick % len(invoices)]
                    target = {"invoice": inv} if kind == "pay_one" else {}
                    ledger.apply_payment(org, inv.customer, f"P{n}", _day(offset), size, inv.currency, **target)
                elif kind == "pay_many" and invoices:
                    # A statement's payments in one batch: several per customer, some naming invoices.
                    batch = []
                    for i in range(4):
                        inv = invoices[(pick + 7 * i) % len(invoices)]
                        batch.append(ledger.NewPayment(inv.customer_id, f"PM{n}-{i}", _day(offset + i),
                                                       size // (i + 1) + 1, inv.currency,
                                                       invoice_ids=(inv.pk,) if i % 2 else ()))
                    ledger.apply_payments(org, batch)
                elif kind == "credit" and invoices:
                    inv = invoices[pick % len(invoices)]
                    if inv.open_amount:
                        ledger.add_credit_note(org, inv, f"NC{n}", _day(offset), 1 + size % inv.open_amount)
                elif kind == "reverse_payment":
                    payments = list(Payment.objects.for_org(org).order_by("pk"))
                    if payments:
                        ledger.reverse_payment(org, payments[pick % len(payments)], "error de prueba")
                elif kind == "reverse_credit":
                    notes = list(CreditNote.objects.for_org(org).order_by("pk"))
                    if notes:
                        ledger.reverse_credit_note(org, notes[pick % len(notes)], "error de prueba")
                elif kind == "change_invoice" and invoices:
                    inv = invoices[pick % len(invoices)]
                    issued = _day(offset)
                    ledger.upsert_invoice(org, inv.customer, inv.ref, issued, issued + dt.timedelta(days=size % 70),
                                          inv.currency, inv.amount - inv.open_amount + size)
                elif kind == "import_invoices":
                    rows = [[f"F{n}-{i}", f"C{(pick + i) % 3}", _day(offset - 7 * i).isoformat(),
                             _day(offset - 7 * i + 30).isoformat(), currency, str(size + i)] for i in range(3)]
                    if invoices:  # and a correction of an invoice already there
                        inv = invoices[pick % len(invoices)]
                        rows.append([inv.ref, inv.customer.ref, _day(offset).isoformat(),
                                     _day(offset + size % 40).isoformat(), inv.currency,
                                     str(inv.amount - inv.open_amount + size)])
                    import_file(org, "invoices", _csv(["invoice_ref", "customer_ref", "issue_date", "due_date",
                                                       "currency", "amount"], rows), name="f.csv")
                elif kind == "import_payments":
                    rows = [[f"P{n}-{i}", f"C{(pick + i) % 3}", _day(offset + i).isoformat(), str(size * (i + 1)),
                             currency] for i in range(3)]
                    import_file(org, "payments", _csv(["payment_ref", "customer_ref", "date", "amount", "currency"],
                                                      rows), name="p.csv")
        except (ledger.LedgerError, ImportFailed):
            pass


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(STEP, max_size=18))
def test_kept_totals_always_equal_a_recompute_and_the_dashboard_the_ledger(steps):
    org = _org()
    play(org, steps)
    assert totals.kept(org) == totals.recompute(org)
    for period in (services.make_period(TODAY, "90d"), services.make_period(TODAY, "month"),
                   services.make_period(TODAY, "last_month"), services.Period(_day(-100), _day(-45)),
                   services.Period(_day(5), _day(40))):
        from_totals = services.as_json(services.dashboard(org, period))
        from_ledger = services.as_json(services.dashboard(org, period, source="ledger"))
        assert from_totals == from_ledger


def _random_book(org: Organization, seed: int, n: int = 120) -> None:
    rng = random.Random(seed)
    steps = [(kind, rng.randrange(10**6), rng.randrange(-150, 30), rng.randrange(1, 10**6))
             for kind in rng.choices(["invoice", "pay", "pay_one", "credit", "reverse_payment", "reverse_credit",
                                      "change_invoice", "import_invoices", "import_payments"],
                                     [30, 20, 10, 8, 3, 2, 3, 2, 3], k=n)]
    play(org, steps)


@pytest.mark.django_db
def test_rebuild_restores_totals_lost_or_damaged():
    org, other = _org(), _org()
    _random_book(org, 11)
    _random_book(other, 12, n=30)
    kept = totals.kept(org)
    other_before = totals.kept(other)
    assert kept.compact().days, "the book should have some totals"
    DailyTotal.objects.for_org(org).filter(day__lte=TODAY - dt.timedelta(days=30)).delete()
    AppliedTotal.objects.for_org(org).update(amount=7)
    assert totals.kept(org) != kept
    out = []
    with pytest.raises(SystemExit):
        call_command("insights", "check", "--org", org.slug, stdout=_Lines(out))
    assert json.loads(out[-1])["agree"] is False
    call_command("insights", "rebuild", "--org", org.slug, stdout=_Lines(out))
    line = json.loads(out[-1])
    assert line["organization"] == org.slug and line["daily_rows"] == len(kept.compact().days)
    assert totals.kept(org) == kept
    assert totals.kept(other) == other_before  # the other organization untouched
    call_command("insights", "check", "--org", org.slug, stdout=_Lines(out))
    assert json.loads(out[-1])["agree"] is True


def test_rebuild_names_an_unknown_organization(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no organization 'nope'"):
        call_command("insights", "rebuild", "--org", "nope")


class _Lines:
    def __init__(self, out: list):
        self.out = out

    def write(self, text: str) -> None:
        self.out.extend(line for line in text.splitlines() if line.strip())

    def flush(self) -> None:
        pass


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", html.replace("\xa0", " "))


@pytest.mark.django_db
def test_the_dashboard_page_shows_the_ledgers_figures(client, django_user_model):
    """On a random book, every ageing row, the ratios and the money of the page are what the old
    computation from the ledger's rows gives, formatted the way the page formats them."""
    import time_machine
    from django.utils import formats, translation

    from cobro.engine import metrics
    from cobro.engine.money import format_money
    from cobro.ledger.models import Membership

    org = _org()
    _random_book(org, 5, n=150)
    user = django_user_model.objects.create_user("viewer-t", password="pw")
    Membership.objects.create(user=user, organization=org, role="viewer")
    client.force_login(user)
    noon = dt.datetime.combine(TODAY, dt.time(12), tzinfo=dt.timezone(dt.timedelta(hours=-3)))
    with time_machine.travel(noon, tick=False):
        html = _text(client.get("/insights/?period=90d&currency=CLP").content.decode())
    expected = services.dashboard(org, services.make_period(TODAY, "90d"), source="ledger").for_currency("CLP")
    assert expected is not None and expected.ageing.total, "the random book should owe something in CLP"
    translation.activate("es")

    def money(minor: int) -> str:
        return _text(format_money(minor, "CLP", "es"))

    rows = re.findall(r'<tr><th scope="row">([^<]+)</th><td class="num">(\d+)</td><td class="num">([^<]+)</td>', html)
    labels = [str(services.BUCKET_LABELS[code]) for code in metrics.BUCKETS]
    assert rows == [(label, str(n), money(a))
                    for label, n, a in zip(labels, expected.ageing.counts, expected.ageing.amounts, strict=True)]
    for name in ("dso", "dso_countback", "best_possible_dso", "average_days_delinquent"):
        value = getattr(expected, name)
        shown = "—" if value is None else formats.localize(value)
        assert f'<dd class="num">{shown}</dd>' in html, name
    cei = "—" if expected.cei is None else f"{formats.localize(expected.cei)} %"
    assert f"<dt>CEI</dt><dd class=\"num\">{cei}</dd>" in html
    for amount in (expected.sales, expected.beginning, expected.collected, expected.collected_previous):
        assert f'<dd class="num">{money(amount)}</dd>' in html
