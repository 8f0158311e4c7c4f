"""The arithmetic of agreements: schedules, promises, discounts, fees and their caps."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cobro.engine.agreements import (
    AgreementError,
    Instalment,
    LegalCap,
    PlanLimits,
    PromiseFacts,
    Terms,
    add_period,
    apply_in_order,
    build_schedule,
    completion_dates,
    decide_fee,
    early_discount,
    evaluate_promise,
    interest_for,
    max_late_charge,
    min_down_payment,
    plan_options,
    plan_progress,
    tiered_amount,
    value_on,
    within_limits,
)

D = dt.date
START = D(2026, 1, 31)
rates = st.decimals(min_value=0, max_value=60, places=2)
dates = st.dates(min_value=D(2024, 1, 1), max_value=D(2030, 12, 31))


# --- dates ----------------------------------------------------------------------------------------
def test_monthly_periods_keep_the_day_and_clamp_to_month_end():
    assert [add_period(START, "monthly", n) for n in range(4)] == [
        D(2026, 1, 31), D(2026, 2, 28), D(2026, 3, 31), D(2026, 4, 30)]
    assert add_period(D(2026, 11, 15), "monthly", 3) == D(2027, 2, 15)
    assert add_period(START, "weekly", 2) == D(2026, 2, 14)
    assert add_period(START, "fortnightly", 1) == D(2026, 2, 14)
    with pytest.raises(AgreementError, match="frequency"):
        add_period(START, "daily", 1)


def test_dated_parameter_is_the_latest_in_force():
    series = [(D(2025, 7, 1), Decimal("2.15")), (D(2026, 1, 1), Decimal("2.00"))]
    assert value_on(series, D(2025, 6, 30)) is None
    assert value_on(series, D(2025, 12, 31)) == Decimal("2.15")
    assert value_on(series, D(2026, 1, 1)) == Decimal("2.00")


# --- schedules ------------------------------------------------------------------------------------
def test_equal_instalments_with_the_remainder_on_the_last():
    s = build_schedule(100_00, 10_00, 3, "monthly", D(2026, 3, 1))
    assert [(i.number, i.due_date, i.amount) for i in s.instalments] == [
        (0, D(2026, 3, 1), 10_00), (1, D(2026, 4, 1), 30_00), (2, D(2026, 5, 1), 30_00),
        (3, D(2026, 6, 1), 30_00)]
    odd = build_schedule(1000, 0, 3, "weekly", D(2026, 3, 1))  # CLP: no minor units
    assert [i.amount for i in odd.instalments] == [333, 333, 334]


@given(principal=st.integers(1, 10**12), down_share=st.integers(0, 99), count=st.integers(1, 36),
       frequency=st.sampled_from(["weekly", "fortnightly", "monthly"]), rate=rates, start=dates,
       cap=rates)
def test_schedule_properties(principal, down_share, count, frequency, rate, start, cap):
    down = principal * down_share // 100
    try:
        s = build_schedule(principal, down, count, frequency, start, annual_rate=rate, max_annual_rate=cap)
    except AgreementError:
        assert rate > cap or principal - down < count
        return
    amounts = [i.amount for i in s.instalments]
    assert all(isinstance(a, int) and a > 0 for a in amounts)
    assert sum(amounts) == principal + s.interest
    regular = [i.amount for i in s.instalments if i.number > 0]
    assert len(regular) == count and len(set(regular[:-1])) <= 1 and regular[-1] >= regular[0]
    assert regular[-1] - regular[0] < count
    assert [i.due_date for i in s.instalments] == sorted(i.due_date for i in s.instalments)
    # The interest never exceeds simple interest at the ceiling on the whole financed sum for the term.
    days = (s.instalments[-1].due_date - start).days
    assert s.interest <= interest_for(principal - down, cap, days) + 1


def test_interest_above_the_ceiling_or_without_one_is_refused():
    with pytest.raises(AgreementError, match="above the legal ceiling"):
        build_schedule(100_000, 0, 6, "monthly", START, annual_rate=Decimal("30"), max_annual_rate=Decimal("25"))
    with pytest.raises(AgreementError, match="no legal interest ceiling"):
        build_schedule(100_000, 0, 6, "monthly", START, annual_rate=Decimal("5"))
    s = build_schedule(120_000, 0, 12, "monthly", D(2026, 1, 1), annual_rate=Decimal("12"),
                       max_annual_rate=Decimal("25"))
    # 1 % a month on a balance falling by 10,000 a month: 120k+110k+...+10k = 780k → 7,800 (± days).
    assert 7_500 <= s.interest <= 8_000


@pytest.mark.parametrize("principal, down, count", [(0, 0, 1), (100, 100, 1), (100, -1, 2), (100, 0, 0),
                                                    (3, 0, 5)])
def test_impossible_plans_are_refused(principal, down, count):
    with pytest.raises(AgreementError):
        build_schedule(principal, down, count, "monthly", START)


# --- plan progress --------------------------------------------------------------------------------
INST = (Instalment(0, D(2026, 3, 1), 100), Instalment(1, D(2026, 4, 1), 300),
        Instalment(2, D(2026, 5, 1), 300), Instalment(3, D(2026, 6, 1), 300))


@given(amounts=st.lists(st.integers(0, 10**6), max_size=12), paid=st.integers(-10, 10**7))
def test_payments_fill_instalments_in_order(amounts, paid):
    out = apply_in_order(amounts, paid)
    assert sum(out) == min(max(paid, 0), sum(amounts))
    assert all(0 <= o <= a for o, a in zip(out, amounts, strict=True))
    # Once one instalment is short, every later one is empty.
    short = [i for i, (o, a) in enumerate(zip(out, amounts, strict=True)) if o < a]
    if short:
        assert all(o == 0 for o in out[short[0] + 1:])


def test_plan_progress_misses_breaks_and_completes():
    p = plan_progress(INST, 400, D(2026, 4, 1), grace_days=3, max_missed=2)
    assert p.status == "active" and p.missed == () and p.next_due.number == 2
    p = plan_progress(INST, 250, D(2026, 4, 5), grace_days=3, max_missed=2)
    assert p.paid == (100, 150, 0, 0) and p.missed == (1,) and p.status == "active"
    assert plan_progress(INST, 250, D(2026, 4, 4), grace_days=3).missed == ()  # last day of grace
    assert plan_progress(INST, 250, D(2026, 5, 5), grace_days=3, max_missed=2).status == "broken"
    assert plan_progress(INST, 1000, D(2026, 12, 1)).status == "completed"


def test_limits_and_self_service_options():
    limits = PlanLimits(max_instalments=4, min_down_percent=Decimal(20), max_total=1_000_000,
                        frequencies=("monthly", "fortnightly"))
    assert within_limits(limits, 100_000, 20_000, 4, "monthly") == []
    reasons = within_limits(limits, 2_000_000, 10, 6, "weekly")
    assert len(reasons) == 4
    assert min_down_payment(1001, limits) == 201  # rounded up: never below the minimum
    options = plan_options(100_000, limits, START)
    assert {(o.frequency, o.count) for o in options} == {(f, c) for f in ("monthly", "fortnightly")
                                                         for c in (2, 3, 4)}
    assert all(within_limits(limits, 100_000, o.down_payment, o.count, o.frequency) == [] for o in options)
    assert all(o.interest == 0 for o in options)  # no ceiling passed: no interest offered
    assert plan_options(2_000_000, limits, START) == []
    with_rate = PlanLimits(max_instalments=3, annual_rate=Decimal(40))
    capped = plan_options(100_000, with_rate, START, max_annual_rate=Decimal(20))
    reference = build_schedule(100_000, capped[0].down_payment, 2, "monthly", START,
                               annual_rate=Decimal(20), max_annual_rate=Decimal(20))
    assert capped[0].interest == reference.interest > 0


# --- promises -------------------------------------------------------------------------------------
PROMISE = PromiseFacts(made_on=D(2026, 3, 1), promised_date=D(2026, 3, 10), amount=1000, grace_days=2)


def test_promise_kept_by_partial_payments_within_grace():
    pays = [(D(2026, 3, 5), 400), (D(2026, 3, 12), 600)]
    assert evaluate_promise(PROMISE, pays, D(2026, 3, 6)).status == "pending"
    out = evaluate_promise(PROMISE, pays, D(2026, 3, 12))
    assert out.status == "kept" and out.paid == 1000


def test_promise_broken_when_short_or_late():
    assert evaluate_promise(PROMISE, [(D(2026, 3, 9), 999)], D(2026, 3, 12)).status == "pending"
    assert evaluate_promise(PROMISE, [(D(2026, 3, 9), 999)], D(2026, 3, 13)).status == "broken"
    late = evaluate_promise(PROMISE, [(D(2026, 3, 13), 1000)], D(2026, 3, 14))
    assert late.status == "broken" and late.paid == 0
    before = evaluate_promise(PROMISE, [(D(2026, 2, 28), 1000)], D(2026, 3, 14))
    assert before.status == "broken"  # paid before the promise: not towards it
    assert evaluate_promise(PROMISE, [], D(2026, 4, 1), settled=True).status == "kept"


# --- discounts ------------------------------------------------------------------------------------
@pytest.mark.parametrize("paid_on, expected", [(D(2026, 3, 1), 2_00), (D(2026, 3, 11), 2_00),
                                               (D(2026, 3, 12), 0)])
def test_discount_window_edges(paid_on, expected):
    assert early_discount(100_00, Decimal(2), D(2026, 3, 1), 10, paid_on) == expected


def test_discount_rounds_half_to_even():
    assert early_discount(125, Decimal(2), D(2026, 3, 1), 10, D(2026, 3, 2)) == 2  # 2.5 → 2
    assert early_discount(175, Decimal(2), D(2026, 3, 1), 10, D(2026, 3, 2)) == 4  # 3.5 → 4
    assert early_discount(100, Decimal(0), D(2026, 3, 1), 10, D(2026, 3, 2)) == 0


# --- fees and caps --------------------------------------------------------------------------------
UF = 40_000  # CLP per UF, a round figure for the test
CHILE = LegalCap("CL", "Ley 19.496 art. 37", tiers=((10 * UF, Decimal(9)), (50 * UF, Decimal(6)),
                                                    (None, Decimal(3))), min_days_overdue=20)
SPAIN = LegalCap("ES", "Ley 3/2004", annual_rate=Decimal("10.15"), fixed_compensation=40_00)
COLOMBIA = LegalCap("CO", "usura", annual_rate=Decimal("25"), compound=True)
BRAZIL = LegalCap("BR", "CDC", fine_percent=Decimal(2))


def test_chile_tiers_are_marginal():
    assert tiered_amount(5 * UF, CHILE.tiers) == Decimal(5 * UF) * 9 / 100
    assert tiered_amount(30 * UF, CHILE.tiers) == Decimal(10 * UF) * 9 / 100 + Decimal(20 * UF) * 6 / 100
    big = tiered_amount(100 * UF, CHILE.tiers)
    assert big == Decimal(10 * UF) * 9 / 100 + Decimal(40 * UF) * 6 / 100 + Decimal(50 * UF) * 3 / 100
    assert max_late_charge(CHILE, 5 * UF, 19) == 0  # nothing before 20 days overdue
    assert max_late_charge(CHILE, 5 * UF, 20) == 18_000


def test_spain_interest_plus_forty_euros():
    # 1,000 € for 73 days at 10.15 %: 20.30 € of interest, plus the 40 € compensation.
    assert max_late_charge(SPAIN, 1000_00, 73) == 20_30 + 40_00
    assert max_late_charge(SPAIN, 1000_00, 0) == 0


def test_colombia_compounds_effective_annual_usury_rate():
    assert max_late_charge(COLOMBIA, 1_000_000, 365) == 250_000
    assert max_late_charge(COLOMBIA, 1_000_000, 30) < 1_000_000 * 25 * 30 // (100 * 365)


def test_fee_follows_terms_and_is_capped():
    fixed = Terms("fixed", fixed=50_000, grace_days=5)
    assert decide_fee(fixed, 100_000, 5, CHILE).amount == 0  # inside the grace days
    d = decide_fee(fixed, 100_000, 30, CHILE)
    assert (d.requested, d.cap, d.amount) == (50_000, 9_000, 9_000) and "capped" in d.reason
    assert decide_fee(Terms("percent", rate=Decimal(1)), 100_000, 30, BRAZIL).amount == 1_000
    assert decide_fee(Terms(), 100_000, 30, BRAZIL).amount == 0
    no_cap = decide_fee(Terms("fixed", fixed=500), 100_000, 30, None)
    assert no_cap.amount == 500 and no_cap.cap is None


@given(amount=st.integers(1, 10**11), days=st.integers(0, 2000), rate=rates, fixed=st.integers(0, 10**9),
       kind=st.sampled_from(["fixed", "percent", "daily_interest"]),
       cap=st.sampled_from([CHILE, SPAIN, COLOMBIA, BRAZIL]))
def test_fees_never_exceed_the_cap(amount, days, rate, fixed, kind, cap):
    d = decide_fee(Terms(kind, rate=rate, fixed=fixed), amount, days, cap)
    assert 0 <= d.amount <= max_late_charge(cap, amount, days)
    assert d.amount <= d.requested


def test_completion_dates_follow_payments_in_date_order():
    pays = [(D(2026, 4, 2), 250), (D(2026, 3, 1), 100), (D(2026, 4, 20), 400)]
    assert completion_dates([100, 300, 300, 300], pays) == [D(2026, 3, 1), D(2026, 4, 20), D(2026, 4, 20), None]
    assert completion_dates([100, 300], []) == [None, None]
