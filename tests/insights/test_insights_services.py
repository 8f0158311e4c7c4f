"""The Dashboard's figures from a real database, checked against a replay of the ledger's own rows."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from decimal import Decimal

import pytest

from cobro.engine import metrics
from cobro.insights import services
from cobro.ledger import services as ledger
from cobro.ledger.models import Allocation, CreditNote, Invoice, Organization

D = dt.date
TODAY = D(2026, 3, 20)


def _org(slug: str, currency: str = "CLP") -> Organization:
    return Organization.objects.create(slug=slug, name=slug.title(), currency=currency, country="CL",
                                       timezone="America/Santiago")


def build_random_book(org: Organization, seed: int = 7, n: int = 60) -> None:
    """Invoices over four months with partial and full payments and credit notes on various days."""
    rng = random.Random(seed)
    customers = [ledger.get_or_create_customer(org, f"C{i}", f"Cliente {i}")[0] for i in range(6)]
    for i in range(n):
        customer = rng.choice(customers)
        currency = "CLP" if i % 4 else "USD"
        issued = TODAY - dt.timedelta(days=rng.randint(0, 130))
        due = issued + dt.timedelta(days=rng.choice([0, 15, 30, 60]))
        amount = rng.randint(1_000, 900_000)
        invoice = ledger.add_invoice(org, customer, f"F{i}", issued, due, currency, amount)
        roll = rng.random()
        if roll < 0.35:
            paid_on = min(TODAY, issued + dt.timedelta(days=rng.randint(0, 90)))
            ledger.apply_payment(org, customer, f"P{i}", paid_on, amount, currency, invoice=invoice)
        elif roll < 0.6:
            paid_on = min(TODAY, issued + dt.timedelta(days=rng.randint(0, 60)))
            ledger.apply_payment(org, customer, f"P{i}", paid_on, amount // 3, currency, invoice=invoice)
        elif roll < 0.7:
            on = min(TODAY, issued + dt.timedelta(days=rng.randint(0, 40)))
            ledger.add_credit_note(org, invoice, f"NC{i}", on, amount // 2 if i % 2 else amount)


def balances(org: Organization, day: dt.date) -> dict[int, tuple[Invoice, int]]:
    """Each invoice issued by ``day`` and its balance that day: amount minus what was applied by then."""
    applied: dict[int, int] = defaultdict(int)
    for model in (Allocation, CreditNote):
        for invoice_id, amount, on in model.objects.for_org(org).values_list("invoice_id", "amount", "date"):
            if on <= day:
                applied[invoice_id] += amount
    return {inv.pk: (inv, inv.amount - applied[inv.pk]) for inv in Invoice.objects.for_org(org)
            if inv.issue_date <= day}


def replayed_book(org: Organization, day: dt.date) -> dict[str, metrics.Ageing]:
    """The book on ``day`` rebuilt the slow, obvious way, invoice by invoice."""
    items: dict[str, list] = defaultdict(list)
    for inv, balance in balances(org, day).values():
        items[inv.currency].append((inv.due_date, balance))
    return {cur: metrics.ageing(rows, day) for cur, rows in items.items()}


@pytest.mark.django_db
@pytest.mark.parametrize("start, end", [(D(2026, 2, 19), TODAY), (D(2026, 1, 1), D(2026, 1, 31)),
                                        (D(2025, 12, 1), D(2026, 2, 28)), (D(2026, 3, 20), D(2026, 3, 20))])
def test_the_book_on_any_day_matches_a_replay_of_the_ledger(start, end):
    org = _org("acme")
    build_random_book(org)
    book = services.load_book(org, start, end)
    replay_end = replayed_book(org, end)
    replay_eve = replayed_book(org, start - dt.timedelta(days=1))
    for cur in ("CLP", "USD"):
        assert book.ending.get(cur, metrics.EMPTY_AGEING).amounts == replay_end[cur].amounts
        assert book.ending.get(cur, metrics.EMPTY_AGEING).counts == replay_end[cur].counts
        assert book.beginning.get(cur, 0) == replay_eve.get(cur, metrics.EMPTY_AGEING).total
    assert book.ending["CLP"].total > 0
    # Recovery: the invoices already overdue on the eve, then and on the last day.
    eve = start - dt.timedelta(days=1)
    at_eve, at_end = balances(org, eve), balances(org, end)
    overdue = {pk for pk, (inv, balance) in at_eve.items() if inv.due_date < eve and balance}
    for cur in ("CLP", "USD"):
        mine = [pk for pk in overdue if at_eve[pk][0].currency == cur]
        assert book.overdue_at_start.get(cur, 0) == sum(at_eve[pk][1] for pk in mine)
        assert book.left_of_overdue.get(cur, 0) == sum(at_end[pk][1] for pk in mine)


@pytest.mark.django_db
def test_sql_and_python_ageing_agree_on_todays_book():
    org = _org("acme")
    build_random_book(org, seed=11)
    book = services.load_book(org, TODAY, TODAY)
    assert services.load_ageing_python(org, TODAY) == book.ending


@pytest.mark.django_db
def test_figures_by_hand():
    org = _org("acme")
    c, _ = ledger.get_or_create_customer(org, "C1", "Uno")
    # 30-day period March 1–30. Before it: 100,000 issued in January, due 31 Jan (open on 28 Feb).
    old = ledger.add_invoice(org, c, "F-OLD", D(2026, 1, 1), D(2026, 1, 31), "CLP", 100_000)
    # In the period: 300,000 of sales; 60,000 of it is due after the period ends.
    ledger.add_invoice(org, c, "F-MAR1", D(2026, 3, 2), D(2026, 3, 10), "CLP", 240_000)
    ledger.add_invoice(org, c, "F-MAR2", D(2026, 3, 25), D(2026, 4, 24), "CLP", 60_000)
    # Collected in the period: 70,000 on the old invoice (15 March); in February: 10,000.
    ledger.apply_payment(org, c, "P-FEB", D(2026, 2, 10), 10_000, "CLP", invoice=old)
    ledger.apply_payment(org, c, "P-MAR", D(2026, 3, 15), 70_000, "CLP", invoice=old)

    period = services.make_period(TODAY, start=D(2026, 3, 1), end=D(2026, 3, 30))
    board = services.dashboard(org, period)
    f = board.for_currency("CLP")
    # On 30 March: F-OLD 20,000 (58 days late: 31–60), F-MAR1 240,000 (20 days), F-MAR2 60,000 current.
    assert f.ageing.amounts == (60_000, 240_000, 20_000, 0, 0)
    assert f.beginning == 90_000  # 100,000 − the February payment
    assert f.sales == 300_000
    assert f.dso == Decimal("32.0")  # 320,000 / 300,000 × 30
    assert f.best_possible_dso == Decimal("6.0")
    assert f.average_days_delinquent == Decimal("26.0")
    # CEI: (90,000 + 300,000 − 320,000) / (90,000 + 300,000 − 60,000) = 70,000 / 330,000.
    assert f.cei == Decimal("21.2")
    # Overdue on 28 February: F-OLD's 90,000; 70,000 of it recovered by 30 March.
    assert f.recovery_rate == Decimal("77.8")
    assert (f.collected, f.collected_previous) == (70_000, 10_000)
    assert (f.collected_this_month, f.collected_last_month) == (70_000, 10_000)
    # Countback from 30 March: the sales of the 25th and the 2nd cover 300,000 of the 320,000 in 29
    # days; the 20,000 left is a fifth of 1 January's 100,000, 59 days further back: 88.2 days.
    assert f.dso_countback == Decimal("88.2")
    assert dict(f.monthly_collections)[D(2026, 2, 1)] == 10_000
    rows = services.as_rows(board)
    assert ("ratios", "CLP", "dso", "32.0") in rows
    assert ("ageing", "CLP", "31_60", "20000") in rows
    data = services.as_json(board)
    assert data["currencies"]["CLP"]["ageing"]["1_30"] == {"amount": "240000", "invoices": 1}
    assert data["currencies"]["CLP"]["cei"] == "21.2"


@pytest.mark.django_db
def test_another_organizations_book_never_counts():
    org, other = _org("acme"), _org("other", "USD")
    build_random_book(org, seed=3, n=20)
    before = services.dashboard(org, services.make_period(TODAY, "90d"))
    c, _ = ledger.get_or_create_customer(other, "C1", "Otro")
    inv = ledger.add_invoice(other, c, "X1", D(2026, 1, 1), D(2026, 1, 2), "CLP", 555_555_555)
    ledger.apply_payment(other, c, "XP", D(2026, 3, 1), 5_555, "CLP", invoice=inv)
    ledger.add_credit_note(other, inv, "XN", D(2026, 3, 2), 7_777)
    after = services.dashboard(org, services.make_period(TODAY, "90d"))
    assert after.currencies == before.currencies


@pytest.mark.django_db
def test_the_dashboard_reads_a_fixed_number_of_queries(django_assert_max_num_queries):
    org = _org("acme")
    build_random_book(org, seed=5, n=15)
    period = services.make_period(TODAY, "30d")
    # Five reads of the ledger (open invoices, sales, allocations, credit notes, payments), one
    # each for promises and messages.
    with django_assert_max_num_queries(7) as small:
        services.dashboard(org, period)
    for i in range(40):
        c, _ = ledger.get_or_create_customer(org, f"Z{i}", "Z")
        ledger.add_invoice(org, c, f"Z{i}", TODAY, TODAY, "EUR", 1_000 + i)
    with django_assert_max_num_queries(len(small.captured_queries)):
        services.dashboard(org, period)


def test_periods():
    assert services.make_period(D(2026, 3, 20), "month") == services.Period(D(2026, 3, 1), D(2026, 3, 20), "month")
    last = services.make_period(D(2026, 3, 20), "last_month")
    assert (last.start, last.end, last.days) == (D(2026, 2, 1), D(2026, 2, 28), 28)
    p90 = services.make_period(D(2026, 3, 20), "90d")
    assert p90.days == 90 and p90.end == D(2026, 3, 20)
    assert p90.previous().end == p90.start - dt.timedelta(days=1) and p90.previous().days == 90
    assert services.make_period(D(2026, 3, 20)).code == services.DEFAULT_PERIOD
    with pytest.raises(services.PeriodError, match="unknown period 'week'"):
        services.make_period(D(2026, 3, 20), "week")
    with pytest.raises(services.PeriodError, match="before it starts"):
        services.make_period(D(2026, 3, 20), start=D(2026, 3, 2), end=D(2026, 3, 1))
    with pytest.raises(services.PeriodError, match="both"):
        services.make_period(D(2026, 3, 20), start=D(2026, 3, 2))


@pytest.mark.django_db
def test_promises_due_this_week_and_messages_delivered():
    from cobro.agreements import services as agreements
    from cobro.messaging import services as messaging
    from cobro.messaging.models import Message

    org, other = _org("acme"), _org("other")
    c, _ = ledger.get_or_create_customer(org, "C1", "Uno", email="uno@example.com")
    f1, f2, f3 = (ledger.add_invoice(org, c, f"F{i}", D(2026, 2, 1), D(2026, 3, 1), "CLP", 900_000)
                  for i in (1, 2, 3))
    # TODAY is Friday 20 March 2026: the week runs Monday 16 to Sunday 22.
    agreements.create_promise(org, c, D(2026, 3, 22), 300_000, "CLP", [f1], made_on=D(2026, 3, 10))
    agreements.create_promise(org, c, D(2026, 3, 16), 100_000, "CLP", [f2], made_on=D(2026, 3, 10))
    agreements.create_promise(org, c, D(2026, 3, 23), 50_000, "CLP", [f3], made_on=D(2026, 3, 10))  # next week
    x, _ = ledger.get_or_create_customer(other, "X1", "Otro")
    ledger.add_invoice(other, x, "X1", D(2026, 2, 1), D(2026, 3, 1), "CLP", 900_000)
    agreements.create_promise(other, x, D(2026, 3, 18), 70_000, "CLP", made_on=D(2026, 3, 10))

    def sent(owner, customer, key, channel, day, provider_id):
        at = dt.datetime(2026, 3, day, 15, tzinfo=dt.UTC)
        return Message.objects.create(organization=owner, customer=customer, key=key, channel=channel,
                                      status=Message.Status.SENT, scheduled_for=at, next_attempt_at=at,
                                      sent_at=at, provider_id=provider_id)

    sent(org, c, "m1", "email", 18, "p1")
    sent(org, c, "m2", "email", 19, "p2")
    sent(org, c, "m3", "whatsapp", 19, "p3")
    sent(org, c, "m4", "sms", 1, "p4")  # before the period
    sent(other, x, "m5", "email", 19, "p5")
    messaging.apply_receipt("p1", "delivered")
    messaging.apply_receipt("p3", "read")
    messaging.apply_receipt("p2", "failed", error="mailbox full")

    board = services.dashboard(org, services.make_period(TODAY, start=D(2026, 3, 10), end=TODAY))
    assert board.week == (D(2026, 3, 16), D(2026, 3, 22))
    assert board.promises == services.PromiseFigures(count=2, amounts={"CLP": 400_000})
    m = board.messages
    assert (m.sent, m.delivered, m.failed) == (3, 2, 1)
    assert m.delivery_rate == Decimal("66.7")
    assert m.by_channel == {"email": (2, 1), "whatsapp": (1, 1)}
    data = services.as_json(board)
    assert data["messages"]["delivery_rate"] == "66.7"
    assert data["promises_due_this_week"]["amounts"] == {"CLP": "400000"}
