"""The arithmetic of agreements: instalment schedules, interest and fees within legal caps,
early-payment discounts, and whether a promise or a plan is being kept.

Pure: plain frozen dataclasses and ints in, decisions out. No Django, no clock (``as_of`` is always
passed in), no I/O. Amounts are int minor units of one currency; rates are ``Decimal`` percentages
("2.5" means 2.5 %). The agreements app reads the facts, calls these, and writes what they decide.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from cobro.engine.money import round_minor, split

FREQUENCIES = ("weekly", "fortnightly", "monthly")
_HUNDRED = Decimal(100)
_YEAR_DAYS = Decimal(365)


class AgreementError(ValueError):
    """A plan, fee or discount that cannot be made as asked; the message is safe to show."""


# ---------------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------------
def add_period(start: dt.date, frequency: str, n: int) -> dt.date:
    """The date ``n`` periods after ``start``.

    Monthly steps keep the start's day of the month and clamp it to the month's last day, always
    counted from ``start`` (not from the previous instalment) so that a plan begun on 31 January is
    due on 28/29 February and then on 31 March again, instead of drifting to the 28th for good.
    """
    if frequency == "weekly":
        return start + dt.timedelta(days=7 * n)
    if frequency == "fortnightly":
        return start + dt.timedelta(days=14 * n)
    if frequency == "monthly":
        months = start.month - 1 + n
        year, month = start.year + months // 12, months % 12 + 1
        return dt.date(year, month, min(start.day, calendar.monthrange(year, month)[1]))
    raise AgreementError(f"unknown frequency {frequency!r} (expected one of {', '.join(FREQUENCIES)})")


def value_on(series: Sequence[tuple[dt.date, Decimal]], on: dt.date) -> Decimal | None:
    """The value of a dated parameter (a rate per half-year, the UF of the day) in force ``on``.

    ``series`` is (valid_from, value) pairs; the latest one starting on or before ``on`` wins. None
    when the series starts after ``on``: a cap without a known parameter is not guessed.
    """
    best: tuple[dt.date, Decimal] | None = None
    for since, value in series:
        if since <= on and (best is None or since >= best[0]):
            best = (since, value)
    return best[1] if best else None


# ---------------------------------------------------------------------------------------------
# Payment plans
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Instalment:
    """One payment of a plan. ``number`` 0 is the down payment (pie); 1..n the instalments (cuotas)."""

    number: int
    due_date: dt.date
    amount: int


@dataclass(frozen=True, slots=True)
class Schedule:
    principal: int          # what the plan restructures (the open amount of its invoices)
    down_payment: int
    interest: int           # added on top of the principal; 0 without a rate
    instalments: tuple[Instalment, ...]

    @property
    def total(self) -> int:
        return self.principal + self.interest


def plan_interest(financed: int, count: int, frequency: str, first_due: dt.date, start: dt.date,
                  annual_rate: Decimal) -> int:
    """Simple interest on a declining balance that falls by an equal principal share each period.

    The customer pays equal instalments, so their real balance falls a little more slowly than
    this; charging the interest of the faster-falling balance keeps the effective rate at or
    below ``annual_rate`` — and ``annual_rate`` is checked against the legal cap by the caller.
    Rounded once, at the end, half to even.
    """
    if annual_rate <= 0 or financed <= 0:
        return 0
    shares = split(financed, count)
    outstanding = Decimal(financed)
    interest = Decimal(0)
    previous = start
    for k, share in enumerate(shares):
        due = add_period(first_due, frequency, k)
        days = max((due - previous).days, 0)
        interest += outstanding * annual_rate / _HUNDRED * days / _YEAR_DAYS
        outstanding -= share
        previous = due
    return round_minor(interest)


def build_schedule(principal: int, down_payment: int, count: int, frequency: str, start: dt.date, *,
                   first_due: dt.date | None = None, annual_rate: Decimal = Decimal(0),
                   max_annual_rate: Decimal | None = None) -> Schedule:
    """Restructure ``principal`` into a down payment due on ``start`` and ``count`` equal instalments.

    The instalments are equal in minor units with the rounding remainder on the last one, so they
    always add up exactly to ``principal - down_payment + interest``. ``max_annual_rate`` is the
    legal ceiling for the debtor's country (None: no ceiling on file, so no interest may be added).
    """
    if principal <= 0:
        raise AgreementError("a plan needs something to pay (the amount is zero)")
    if count < 1:
        raise AgreementError("a plan needs at least one instalment")
    if not 0 <= down_payment < principal:
        raise AgreementError("the down payment must be at least zero and less than the total")
    if frequency not in FREQUENCIES:
        raise AgreementError(f"unknown frequency {frequency!r} (expected one of {', '.join(FREQUENCIES)})")
    if annual_rate < 0:
        raise AgreementError("the interest rate cannot be negative")
    if annual_rate > 0:
        if max_annual_rate is None:
            raise AgreementError("no legal interest ceiling is on file for this country: a plan cannot add interest")
        if annual_rate > max_annual_rate:
            raise AgreementError(f"the interest rate {annual_rate} % is above the legal ceiling of "
                                 f"{max_annual_rate} % a year")
    first = first_due or add_period(start, frequency, 1)
    if first < start:
        raise AgreementError("the first instalment cannot fall before the plan starts")
    financed = principal - down_payment
    interest = plan_interest(financed, count, frequency, first, start, annual_rate)
    amounts = split(financed + interest, count)
    if amounts[0] <= 0:
        raise AgreementError("too many instalments for so small an amount")
    rows = [Instalment(0, start, down_payment)] if down_payment else []
    rows += [Instalment(k + 1, add_period(first, frequency, k), amount) for k, amount in enumerate(amounts)]
    return Schedule(principal, down_payment, interest, tuple(rows))


@dataclass(frozen=True, slots=True)
class PlanProgress:
    paid: tuple[int, ...]        # paid towards each instalment, in schedule order
    missed: tuple[int, ...]      # numbers of instalments past due (plus grace) and not fully paid
    status: str                  # "active", "completed" or "broken"
    next_due: Instalment | None  # the first instalment not fully paid


def apply_in_order(amounts: Sequence[int], paid_total: int) -> tuple[int, ...]:
    """Payments fill the instalments in order: the oldest first, whatever the payer wrote on them."""
    left = max(paid_total, 0)
    out = []
    for amount in amounts:
        take = min(amount, left)
        out.append(take)
        left -= take
    return tuple(out)


def completion_dates(amounts: Sequence[int], payments: Iterable[tuple[dt.date, int]]) -> list[dt.date | None]:
    """The day each instalment became fully paid (None: not yet), payments taken in date order."""
    out: list[dt.date | None] = [None] * len(amounts)
    needed, k, paid = 0, 0, 0
    ordered = sorted(payments)
    for day, amount in ordered:
        paid += amount
        while k < len(amounts) and paid >= needed + amounts[k]:
            needed += amounts[k]
            out[k] = day
            k += 1
    return out


def plan_progress(instalments: Sequence[Instalment], paid_total: int, as_of: dt.date, *,
                  grace_days: int = 0, max_missed: int = 2) -> PlanProgress:
    """Where a plan stands on ``as_of`` given everything the customer paid since it began.

    An instalment is missed when ``as_of`` is past its due date plus ``grace_days`` and it is not
    fully paid; ``max_missed`` missed instalments break the plan (the normal policy then resumes
    on what is still open).
    """
    paid = apply_in_order([i.amount for i in instalments], paid_total)
    missed = tuple(i.number for i, p in zip(instalments, paid, strict=True)
                   if p < i.amount and as_of > i.due_date + dt.timedelta(days=grace_days))
    next_due = next((i for i, p in zip(instalments, paid, strict=True) if p < i.amount), None)
    if next_due is None:
        status = "completed"
    elif len(missed) >= max(max_missed, 1):
        status = "broken"
    else:
        status = "active"
    return PlanProgress(paid, missed, status, next_due)


@dataclass(frozen=True, slots=True)
class PlanLimits:
    """What a customer may choose alone (in the portal); anything else needs a manager's approval."""

    max_instalments: int = 6
    min_down_percent: Decimal = Decimal(10)
    max_total: int | None = None              # in minor units of the plan's currency; None: no limit
    frequencies: tuple[str, ...] = ("monthly",)
    annual_rate: Decimal = Decimal(0)


def within_limits(limits: PlanLimits, principal: int, down_payment: int, count: int, frequency: str) -> list[str]:
    """The reasons a plan falls outside the organization's self-service limits (empty: inside)."""
    reasons = []
    if count > limits.max_instalments:
        reasons.append(f"{count} instalments is more than the {limits.max_instalments} allowed")
    if down_payment * _HUNDRED < principal * limits.min_down_percent:
        reasons.append(f"the down payment is below {limits.min_down_percent} % of the total")
    if limits.max_total is not None and principal > limits.max_total:
        reasons.append("the total is above the most a plan may restructure without approval")
    if frequency not in limits.frequencies:
        reasons.append(f"the frequency {frequency} is not offered")
    return reasons


@dataclass(frozen=True, slots=True)
class PlanOption:
    count: int
    frequency: str
    down_payment: int
    instalment: int          # the regular instalment (the last one may differ by the rounding remainder)
    interest: int
    total: int
    schedule: Schedule


def min_down_payment(principal: int, limits: PlanLimits) -> int:
    """The smallest down payment inside the limits, rounded up to a whole minor unit."""
    scaled = principal * limits.min_down_percent / _HUNDRED
    whole = int(scaled)
    return whole + (1 if scaled > whole else 0)


def plan_options(principal: int, limits: PlanLimits, start: dt.date, *,
                 max_annual_rate: Decimal | None = None) -> list[PlanOption]:
    """The plans a customer may pick alone: every offered frequency, 2..max instalments, least down."""
    if principal <= 0:
        return []
    if limits.max_total is not None and principal > limits.max_total:
        return []
    down = min_down_payment(principal, limits)
    if down >= principal:
        return []
    # Without a legal ceiling on file no interest is offered; with one, never above it.
    rate = Decimal(0) if max_annual_rate is None else min(limits.annual_rate, max_annual_rate)
    options = []
    for frequency in limits.frequencies:
        for count in range(2, limits.max_instalments + 1):
            try:
                schedule = build_schedule(principal, down, count, frequency, start, annual_rate=rate,
                                          max_annual_rate=max_annual_rate)
            except AgreementError:
                continue  # too many instalments for a small amount: not an option
            regular = [i for i in schedule.instalments if i.number > 0]
            options.append(PlanOption(count, frequency, down, regular[0].amount, schedule.interest,
                                      schedule.total, schedule))
    return options


# ---------------------------------------------------------------------------------------------
# Promises to pay
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PromiseFacts:
    made_on: dt.date
    promised_date: dt.date
    amount: int
    grace_days: int = 0


@dataclass(frozen=True, slots=True)
class PromiseOutcome:
    status: str   # "pending", "kept" or "broken"
    paid: int     # what counts towards the promise
    deadline: dt.date


def evaluate_promise(promise: PromiseFacts, payments: Iterable[tuple[dt.date, int]], as_of: dt.date, *,
                     settled: bool = False) -> PromiseOutcome:
    """Kept, broken or still pending on ``as_of``.

    Every payment from the day the promise was made to its date plus the grace period counts,
    partial ones included; a promise is kept as soon as they add up to the amount (or when
    ``settled``: all it covered was closed, e.g. by a credit note). Money that arrives after the
    deadline does not mend a broken promise: it was broken, and the rate of kept promises says so.
    """
    deadline = promise.promised_date + dt.timedelta(days=promise.grace_days)
    paid = sum(amount for day, amount in payments if promise.made_on <= day <= min(deadline, as_of))
    if settled or paid >= promise.amount:
        return PromiseOutcome("kept", paid, deadline)
    if as_of > deadline:
        return PromiseOutcome("broken", paid, deadline)
    return PromiseOutcome("pending", paid, deadline)


# ---------------------------------------------------------------------------------------------
# Early-payment discounts
# ---------------------------------------------------------------------------------------------
def discount_deadline(issue_date: dt.date, days: int) -> dt.date:
    """The last day the discount applies: "2 % if paid within 10 days" of a 1 March invoice is 11 March."""
    return issue_date + dt.timedelta(days=days)


def early_discount(amount: int, percent: Decimal, issue_date: dt.date, days: int, paid_on: dt.date) -> int:
    """The discount earned by paying ``amount`` on ``paid_on`` (0 outside the window), half to even."""
    if percent <= 0 or days < 0 or paid_on > discount_deadline(issue_date, days) or amount <= 0:
        return 0
    return round_minor(Decimal(amount) * percent / _HUNDRED)


# ---------------------------------------------------------------------------------------------
# Late fees and interest
# ---------------------------------------------------------------------------------------------
LATE_FEE_KINDS = ("none", "fixed", "percent", "daily_interest")


@dataclass(frozen=True, slots=True)
class Terms:
    """The late-payment terms agreed with the customer: the only basis on which a fee is charged.

    ``kind``: "fixed" (``fixed`` minor units), "percent" (``rate`` % of the overdue amount once),
    "daily_interest" (``rate`` % a year, simple, for each day overdue) or "none".
    """

    kind: str = "none"
    rate: Decimal = Decimal(0)
    fixed: int = 0
    grace_days: int = 0


@dataclass(frozen=True, slots=True)
class LegalCap:
    """The most the law lets a creditor charge for a late invoice, resolved for one day and currency.

    The parts add up: a percentage charged in tiers (Chile), a flat fine (Brazil), interest at an
    annual rate (Spain's ECB + 8, Colombia's usury ceiling, compounded when ``compound``), and a
    fixed compensation (Spain's €40). ``min_days_overdue``: nothing may be charged before then.
    """

    country: str
    source: str
    tiers: tuple[tuple[int | None, Decimal], ...] = ()   # (upper bound in minor units or None, %)
    fine_percent: Decimal | None = None
    annual_rate: Decimal | None = None
    compound: bool = False
    fixed_compensation: int = 0
    min_days_overdue: int = 0


def tiered_amount(amount: int, tiers: Sequence[tuple[int | None, Decimal]]) -> Decimal:
    """A percentage charged by brackets, each on the part of ``amount`` inside it (like Chile's)."""
    total = Decimal(0)
    lower = 0
    for upper, percent in tiers:
        top = amount if upper is None else min(amount, upper)
        if top > lower:
            total += Decimal(top - lower) * percent / _HUNDRED
        if upper is None or amount <= upper:
            break
        lower = upper
    return total


def interest_for(amount: int, annual_rate: Decimal, days: int, *, compound: bool = False) -> Decimal:
    """Interest on ``amount`` for ``days`` at ``annual_rate`` %, simple or effective-annual."""
    if days <= 0 or annual_rate <= 0:
        return Decimal(0)
    if compound:
        factor = (1 + annual_rate / _HUNDRED) ** (Decimal(days) / _YEAR_DAYS)
        return Decimal(amount) * (factor - 1)
    return Decimal(amount) * annual_rate / _HUNDRED * days / _YEAR_DAYS


def max_late_charge(cap: LegalCap, amount: int, days_overdue: int) -> int:
    """The legal maximum of everything charged for ``amount`` being ``days_overdue`` days late.

    Rounded down to a whole minor unit, so the ceiling itself is never exceeded by rounding.
    """
    if days_overdue < max(cap.min_days_overdue, 1):
        return 0
    total = tiered_amount(amount, cap.tiers) if cap.tiers else Decimal(0)
    if cap.fine_percent is not None:
        total += Decimal(amount) * cap.fine_percent / _HUNDRED
    if cap.annual_rate is not None:
        total += interest_for(amount, cap.annual_rate, days_overdue, compound=cap.compound)
    return int(total) + cap.fixed_compensation


def requested_charge(terms: Terms, amount: int, days_overdue: int) -> int:
    """What the customer's terms ask for, before any cap."""
    if terms.kind == "none" or days_overdue <= terms.grace_days:
        return 0
    if terms.kind == "fixed":
        return max(terms.fixed, 0)
    if terms.kind == "percent":
        return round_minor(Decimal(amount) * terms.rate / _HUNDRED)
    if terms.kind == "daily_interest":
        return round_minor(interest_for(amount, terms.rate, days_overdue))
    raise AgreementError(f"unknown late fee kind {terms.kind!r} (expected one of {', '.join(LATE_FEE_KINDS)})")


@dataclass(frozen=True, slots=True)
class FeeDecision:
    requested: int
    cap: int | None        # None: no legal ceiling on file for the country
    amount: int            # what is charged: min(requested, cap)
    reason: str            # why it is this amount, in plain words (kept with the fee)


def decide_fee(terms: Terms, amount: int, days_overdue: int, cap: LegalCap | None) -> FeeDecision:
    """The late charge to post for one overdue invoice: the terms' amount, never above the cap."""
    if terms.kind == "none":
        return FeeDecision(0, None, 0, "the customer's terms have no late fee")
    requested = requested_charge(terms, amount, days_overdue)
    if requested == 0:
        return FeeDecision(0, None, 0, f"within the {terms.grace_days} days of grace of the terms")
    if cap is None:
        return FeeDecision(requested, None, requested, "per the terms; no legal ceiling on file")
    ceiling = max_late_charge(cap, amount, days_overdue)
    if requested > ceiling:
        return FeeDecision(requested, ceiling, ceiling, f"capped at the legal maximum ({cap.source})")
    return FeeDecision(requested, ceiling, requested, f"per the terms, under the legal maximum ({cap.source})")
