"""The daily totals read back give the same book, on any day, as bucketing every invoice by hand."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from cobro.engine import daybook, metrics

BASE = dt.date(2026, 1, 1)


def _day(offset: int) -> dt.date:
    return BASE + dt.timedelta(days=offset)


@st.composite
def invoices(draw):
    issued = draw(st.integers(0, 400))
    due = issued + draw(st.sampled_from([0, 1, 15, 30, 31, 45, 60, 61, 90, 91, 200]))
    amount = draw(st.integers(1, 10**9))
    moves, left = [], amount
    for _ in range(draw(st.integers(0, 4))):
        if not left:
            break
        part = draw(st.integers(1, left))
        # Money may be dated before the invoice (a prepayment allocated later) or long after it.
        moves.append((_day(issued + draw(st.integers(-20, 300))), part))
        left -= part
    is_open = left > 0
    closed_on = max(d for d, _ in moves) if not is_open else None
    return daybook.InvoiceFacts(draw(st.sampled_from(["CLP", "USD"])), _day(issued), _day(due), amount, is_open,
                                closed_on, tuple(moves))


def _by_hand(book, currency, day):
    """Each invoice's balance on ``day`` the obvious way, bucketed by the engine's ``ageing``."""
    items, counted = [], [0] * len(metrics.BUCKETS)
    for f in book:
        if f.currency != currency or f.issue_date > day:
            continue
        balance = f.amount - sum(a for d, a in f.movements if d <= day)
        items.append((f.due_date, balance))
        if f.is_open or (f.closed_on and f.closed_on > day):
            counted[metrics.bucket_index((day - f.due_date).days)] += 1
    amounts = metrics.ageing(items, day).amounts
    return metrics.Ageing(amounts, tuple(counted))


@settings(max_examples=150, deadline=None)
@given(st.lists(invoices(), max_size=25), st.lists(st.integers(-30, 800), min_size=1, max_size=6))
def test_any_days_ageing_from_the_totals_equals_the_book_by_hand(book, offsets):
    totals = daybook.totals_of(book)
    for currency in ("CLP", "USD"):
        reader = daybook.Daybook((day, row) for (cur, day), row in totals.days.items() if cur == currency)
        for offset in offsets:
            day = _day(offset)
            expected = _by_hand(book, currency, day)
            assert reader.ageing(day) == expected
            assert reader.balance(day) == expected.total
            assert reader.overdue(day) == expected.overdue


@given(st.lists(invoices(), max_size=10), st.lists(invoices(), max_size=10))
def test_taking_an_invoice_away_undoes_adding_it(kept, gone):
    totals = daybook.totals_of(kept + gone)
    for facts in gone:
        totals.invoice(facts, sign=-1)
    assert totals == daybook.totals_of(kept)


def test_a_payment_dated_before_the_invoice_counts_from_its_issue_date():
    facts = daybook.InvoiceFacts("USD", _day(10), _day(40), 100, False, _day(5), ((_day(5), 100),))
    reader = daybook.Daybook((day, row) for (_cur, day), row in daybook.totals_of([facts]).days.items())
    assert reader.balance(_day(9)) == 0
    assert reader.balance(_day(10)) == 0
    assert reader.ageing(_day(10)).counts == (0, 0, 0, 0, 0)
