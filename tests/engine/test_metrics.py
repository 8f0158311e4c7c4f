"""Tests of cobro.engine.metrics: hand-worked examples, properties, and IBM's public AR sample."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cobro.engine import metrics as m

D = dt.date
AS_OF = D(2026, 3, 31)
# shared/ lies beside the project checkout (tests/engine/ -> tests -> project -> its parent).
IBM = Path(__file__).resolve().parents[3] / "shared" / "data" / "ar-sample-ibm.csv"


def test_bucket_edges_are_inclusive_of_their_upper_limit():
    assert [m.bucket_index(d) for d in (-5, 0, 1, 30, 31, 60, 61, 90, 91, 400)] == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]


def test_ageing_by_hand():
    items = [
        (D(2026, 4, 10), 100),  # not due yet
        (D(2026, 3, 31), 50),  # due today: still current
        (D(2026, 3, 30), 7),  # 1 day
        (D(2026, 3, 1), 3),  # 30 days
        (D(2026, 2, 28), 11),  # 31 days
        (D(2025, 12, 31), 13),  # 90 days
        (D(2025, 12, 30), 17),  # 91 days
        (D(2025, 1, 1), 0),  # settled: not in the book
    ]
    a = m.ageing(items, AS_OF)
    assert a.amounts == (150, 10, 11, 13, 17)
    assert a.counts == (2, 2, 1, 1, 1)
    assert (a.total, a.current, a.overdue) == (201, 150, 51)
    assert a + a == m.Ageing(tuple(2 * x for x in a.amounts), tuple(2 * x for x in a.counts))


@given(st.lists(st.tuples(st.integers(-200, 400), st.integers(1, 10**12)), max_size=60))
def test_ageing_agrees_with_bucket_index_and_the_cutoffs(rows):
    items = [(AS_OF - dt.timedelta(days=days), amount) for days, amount in rows]
    a = m.ageing(items, AS_OF)
    assert a.total == sum(amount for _, amount in rows)
    assert sum(a.counts) == len(rows)
    cut = m.bucket_cutoffs(AS_OF)
    for (days, _), (due, _) in zip(rows, items, strict=True):
        # The SQL path buckets by "first cut-off the due date is on or after".
        sql_index = next((i for i, c in enumerate(cut) if due >= c), len(cut))
        assert sql_index == m.bucket_index(days)
    assert m.ageing_from_sums([(m.bucket_index(d), x, 1) for d, x in rows]) == a
    assert m.ageing_by_due([(due, x, 1) for due, x in items], AS_OF) == a


def test_dso_standard_and_best_possible():
    # 90 days, 900,000 of sales, 300,000 open of which 120,000 not yet due.
    assert m.dso_standard(300_000, 900_000, 90) == Decimal("30.0")
    assert m.dso_standard(120_000, 900_000, 90) == Decimal("12.0")
    assert m.average_days_delinquent(Decimal("30.0"), Decimal("12.0")) == Decimal("18.0")
    assert m.dso_standard(5, 0, 30) is None
    assert m.average_days_delinquent(None, Decimal(1)) is None
    with pytest.raises(ValueError, match="at least one day"):
        m.dso_standard(1, 1, 0)


def test_countback_by_hand():
    # Newest first: 100 yesterday... receivables 250 = 100 + 100 + half of the third day's 100.
    assert m.dso_countback(250, [100, 100, 100, 100]) == Decimal("2.5")
    assert m.dso_countback(0, [100]) == Decimal("0.0")
    # A day without sales still counts as a day of the window.
    assert m.dso_countback(150, [0, 100, 100]) == Decimal("2.5")
    # More receivables than the window: the rest at the window's average (50 a day): 2 + 100/50.
    assert m.dso_countback(200, [60, 40]) == Decimal("4.0")
    assert m.dso_countback(10, [0, 0]) is None


@given(st.integers(1, 10**9), st.integers(1, 365), st.integers(0, 365 * 4))
def test_countback_equals_standard_when_sales_are_steady(daily, days, ar_days_x4):
    receivables = daily * ar_days_x4 // 4
    series = [daily] * days
    standard = m.dso_standard(receivables, daily * days, days)
    assert m.dso_countback(receivables, series) == standard


@given(st.integers(0, 10**9), st.integers(0, 10**9), st.integers(0, 10**9), st.integers(0, 10**9))
def test_cei_is_a_share_when_the_figures_are_consistent(beginning, sales, end_cut, current_cut):
    ending = max(0, beginning + sales - end_cut)  # what is still open cannot exceed what could be
    ending_current = max(0, ending - current_cut)
    cei = m.collection_effectiveness(beginning, sales, ending, ending_current)
    if beginning + sales - ending_current == 0:
        assert cei is None
    else:
        assert Decimal(0) <= cei <= Decimal(100)
        if ending == ending_current:  # nothing left overdue: fully effective
            assert cei == Decimal(100)


def test_cei_by_hand():
    # Started with 1,000, sold 500, ended with 600 of which 200 current: collected 900 of 1,300.
    assert m.collection_effectiveness(1_000, 500, 600, 200) == Decimal("69.2")


def test_settlement_by_hand():
    rows = [
        (D(2026, 1, 1), D(2026, 1, 31), D(2026, 1, 20), 100),  # early: 0 late, 19 to settle
        (D(2026, 1, 1), D(2026, 1, 31), D(2026, 2, 10), 300),  # 10 late, 40 to settle
    ]
    s = m.settlement(rows)
    assert (s.count, s.amount, s.late_count) == (2, 400, 1)
    assert s.days_to_settle == Decimal("29.5")
    assert s.days_late == Decimal("5.0")
    assert s.days_late_weighted == Decimal("7.5")
    assert s.late_share == Decimal("50.0")
    empty = m.settlement([])
    assert empty.days_late is None and empty.count == 0


def test_daily_series_and_recovery_rate():
    end = D(2026, 3, 31)
    sums = [(end, 5), (D(2026, 3, 29), 7), (D(2026, 3, 29), 1), (D(2025, 1, 1), 99), (D(2026, 4, 1), 99)]
    assert m.daily_series(sums, end, 4) == [5, 0, 8, 0]
    assert m.recovery_rate(400, 100) == Decimal("75.0")
    assert m.recovery_rate(0, 0) is None


# --- IBM's public accounts-receivable sample ------------------------------------------------------


def _us_date(text: str) -> dt.date:
    month, day, year = (int(x) for x in text.split("/"))
    return dt.date(year, month, day)


@pytest.fixture(scope="module")
def ibm():
    with IBM.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2466
    return rows


def _ibm_items(rows):
    return [(_us_date(r["InvoiceDate"]), _us_date(r["DueDate"]), _us_date(r["SettledDate"]),
             round(Decimal(r["InvoiceAmount"]) * 100)) for r in rows]


def test_ibm_days_late_and_days_to_settle_match_the_files_columns(ibm):
    s = m.settlement(_ibm_items(ibm))
    # Independently, from the file's own DaysToSettle and DaysLate columns.
    to_settle = [int(r["DaysToSettle"]) for r in ibm]
    late = [int(r["DaysLate"]) for r in ibm]
    cents = [round(Decimal(r["InvoiceAmount"]) * 100) for r in ibm]
    assert s.count == 2466
    assert s.days_to_settle == (Decimal(sum(to_settle)) / len(ibm)).quantize(Decimal("0.1"))
    assert s.days_late == (Decimal(sum(late)) / len(ibm)).quantize(Decimal("0.1"))
    weighted = Decimal(sum(d * c for d, c in zip(late, cents, strict=True))) / sum(cents)
    assert s.days_late_weighted == weighted.quantize(Decimal("0.1"))
    assert s.late_count == sum(1 for d in late if d > 0)
    # The figures themselves, so a change in the sample or the maths shows up here.
    assert (s.days_to_settle, s.days_late) == (Decimal("26.4"), Decimal("3.4"))


@pytest.mark.parametrize("as_of", [D(2012, 6, 30), D(2013, 3, 31), D(2013, 9, 30)])
def test_ibm_ageing_and_dso_match_the_files_columns(ibm, as_of):
    items = _ibm_items(ibm)
    # Engine: the book open on as_of (issued on or before it, settled after it) by due date.
    open_book = [(due, cents) for issued, due, settled, cents in items if issued <= as_of < settled]
    ageing = m.ageing(open_book, as_of)

    # Independently from DaysToSettle and DaysLate: an invoice is open while the days since it was
    # issued are fewer than DaysToSettle; when it was paid late, its terms were DaysToSettle −
    # DaysLate days, so on as_of it was (days since issue − terms) days overdue; when it was paid on
    # time it was never overdue before it was settled.
    expected_amounts = [0] * 5
    for r, (issued, _due, _settled, cents) in zip(ibm, items, strict=True):
        age = (as_of - issued).days
        to_settle, late = int(r["DaysToSettle"]), int(r["DaysLate"])
        if not 0 <= age < to_settle:
            continue
        overdue = age - (to_settle - late) if late else 0
        bucket = 0 if overdue <= 0 else 1 if overdue <= 30 else 2 if overdue <= 60 else 3 if overdue <= 90 else 4
        expected_amounts[bucket] += cents
    assert list(ageing.amounts) == expected_amounts
    assert ageing.total > 0

    # DSO over the 90 days ending on as_of, against the same independent receivables.
    start = as_of - dt.timedelta(days=89)
    sales = sum(cents for issued, _d, _s, cents in items if start <= issued <= as_of)
    dso = m.dso_standard(ageing.total, sales, 90)
    assert dso == (Decimal(sum(expected_amounts)) * 90 / sales).quantize(Decimal("0.1"))
    # The sample's customers pay in about a month: its DSO is in that neighbourhood.
    assert Decimal(10) < dso < Decimal(60)
    daily = m.daily_series([(issued, cents) for issued, _d, _s, cents in items], as_of, 365)
    countback = m.dso_countback(ageing.total, daily)
    assert Decimal(5) < countback < Decimal(60)
