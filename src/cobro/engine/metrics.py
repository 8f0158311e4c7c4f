"""Receivables metrics: ageing, DSO (standard and countback), average days delinquent, CEI, days late.

Pure functions over plain numbers and dates. Amounts are int minor units of **one** currency: the
caller groups by currency first, because adding pesos to euros means nothing. Ratios come back as
``Decimal`` rounded to one decimal (days or per cent) or ``None`` when the denominator is zero, so a
page can say "sin ventas en el período" instead of showing a division by zero.

Definitions (docs/metrics.md shows them to users):

- **Ageing** of the book open on ``as_of``: days overdue = ``as_of - due_date``; buckets current
  (not yet overdue, ≤ 0), 1–30, 31–60, 61–90 and 90+ days.
- **DSO, standard method**: receivables at the end of the period ÷ credit sales of the period × days
  in the period.
- **DSO, countback**: how many of the most recent days of sales the receivables amount to, counting
  back day by day from the end of the period (the last day counted partially). It ignores old, high
  sales months that flatter or spoil the standard figure.
- **Best possible DSO**: the same as the standard DSO but with only the current (not overdue)
  receivables; **average days delinquent** (ADD) = DSO − best possible DSO.
- **Collection effectiveness index** (CEI), in per cent:
  (beginning receivables + sales − ending receivables) ÷ (beginning receivables + sales − ending
  current receivables) × 100. The numerator is what was collected or credited in the period; the
  denominator is what could have been.
- **Days late** of a settled invoice: ``max(0, settled - due)``; days to settle: ``settled - issued``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

#: Bucket codes in display order; the labels live with the translations in the insights app.
BUCKETS: tuple[str, ...] = ("current", "1_30", "31_60", "61_90", "90_plus")
#: The largest number of days overdue each overdue bucket holds (90+ holds the rest).
BUCKET_LIMITS: tuple[int, ...] = (0, 30, 60, 90)

_TENTH = Decimal("0.1")


def _ratio(numerator: int | Decimal, denominator: int | Decimal, scale: int | Decimal = 1) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) * Decimal(scale) / Decimal(denominator)).quantize(_TENTH, ROUND_HALF_EVEN)


def percent(part: int, whole: int) -> Decimal | None:
    """``part`` as a per cent of ``whole`` to one decimal (a delivery rate, a share); None of nothing."""
    return _ratio(part, whole, 100)


def bucket_index(days_overdue: int) -> int:
    """Which bucket (index into ``BUCKETS``) an invoice this many days past its due date falls in."""
    for index, limit in enumerate(BUCKET_LIMITS):
        if days_overdue <= limit:
            return index
    return len(BUCKET_LIMITS)


def bucket_cutoffs(as_of: dt.date) -> tuple[dt.date, ...]:
    """The earliest due date of each bucket but the last, for queries that bucket in the database.

    An invoice belongs to bucket ``i`` when ``due_date >= cutoffs[i]`` and it is not in an earlier
    bucket; the 90+ bucket holds the rest. ``ageing`` and these cut-offs agree by construction (a
    test checks it), so SQL GROUP BY and the Python path give the same sums.
    """
    return tuple(as_of - dt.timedelta(days=limit) for limit in BUCKET_LIMITS)


@dataclass(frozen=True, slots=True)
class Ageing:
    """Open amounts and invoice counts per bucket, in ``BUCKETS`` order."""

    amounts: tuple[int, ...]
    counts: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.amounts)

    @property
    def current(self) -> int:
        return self.amounts[0]

    @property
    def overdue(self) -> int:
        return sum(self.amounts[1:])

    def __add__(self, other: Ageing) -> Ageing:
        return Ageing(tuple(a + b for a, b in zip(self.amounts, other.amounts, strict=True)),
                      tuple(a + b for a, b in zip(self.counts, other.counts, strict=True)))


EMPTY_AGEING = Ageing((0,) * len(BUCKETS), (0,) * len(BUCKETS))


def ageing(items: Iterable[tuple[dt.date, int]], as_of: dt.date) -> Ageing:
    """Bucket ``(due_date, open_amount)`` pairs by days overdue on ``as_of``.

    Zero amounts are skipped: a settled invoice is not part of the book.
    """
    amounts = [0] * len(BUCKETS)
    counts = [0] * len(BUCKETS)
    # Comparing ordinals against the cut-offs avoids building a timedelta per row (300,000 rows at L).
    cut = [c.toordinal() for c in bucket_cutoffs(as_of)]
    last = len(cut)
    for due, amount in items:
        if not amount:
            continue
        day = due.toordinal()
        index = last
        for i, c in enumerate(cut):
            if day >= c:
                index = i
                break
        amounts[index] += amount
        counts[index] += 1
    return Ageing(tuple(amounts), tuple(counts))


def ageing_from_sums(rows: Iterable[tuple[int, int, int]]) -> Ageing:
    """Build an ``Ageing`` from ``(bucket_index, amount, count)`` rows, as a GROUP BY returns them."""
    amounts = [0] * len(BUCKETS)
    counts = [0] * len(BUCKETS)
    for index, amount, count in rows:
        amounts[index] += amount or 0
        counts[index] += count or 0
    return Ageing(tuple(amounts), tuple(counts))


def ageing_by_due(rows: Iterable[tuple[dt.date, int, int]], as_of: dt.date) -> Ageing:
    """Build an ``Ageing`` from ``(due_date, amount, count)`` sums, as a GROUP BY due date returns them."""
    return ageing_from_sums((bucket_index((as_of - due).days), amount, count) for due, amount, count in rows)


def dso_standard(receivables: int, sales: int, days: int) -> Decimal | None:
    """Receivables ÷ credit sales of the period × days in the period; None without sales."""
    if days <= 0:
        raise ValueError(f"a period has at least one day, not {days}")
    return _ratio(receivables, sales, days)


def dso_countback(receivables: int, daily_sales: Sequence[int]) -> Decimal | None:
    """Days of the most recent sales that add up to ``receivables``.

    ``daily_sales`` runs from the last day of the period backwards (index 0 is the last day). When
    the receivables are larger than every sale in the window, the rest is counted at the window's
    average daily sales; None when the window has no sales at all.
    """
    remaining = Decimal(receivables)
    if remaining <= 0:
        return Decimal(0).quantize(_TENTH)
    days = Decimal(0)
    for sales in daily_sales:
        if remaining <= sales:
            return (days + remaining / sales).quantize(_TENTH, ROUND_HALF_EVEN)
        remaining -= sales
        days += 1
    total = sum(daily_sales)
    if not total:
        return None
    return (days + remaining * len(daily_sales) / total).quantize(_TENTH, ROUND_HALF_EVEN)


def average_days_delinquent(dso: Decimal | None, best_possible_dso: Decimal | None) -> Decimal | None:
    """DSO − best possible DSO: the days that are the debtors' delay, not the terms given."""
    if dso is None or best_possible_dso is None:
        return None
    return dso - best_possible_dso


def collection_effectiveness(beginning: int, sales: int, ending: int, ending_current: int) -> Decimal | None:
    """CEI in per cent (see the module's definitions); None when nothing was collectable."""
    collected = beginning + sales - ending
    collectable = beginning + sales - ending_current
    return _ratio(collected, collectable, 100)


@dataclass(frozen=True, slots=True)
class Settlement:
    """How a set of settled invoices were paid: counts, amounts and averages in days.

    ``*_weighted`` averages weigh each invoice by its amount, so a large invoice paid late counts
    more than a small one; ``late_share`` is the per cent of invoices settled after their due date.
    """

    count: int
    amount: int
    days_to_settle: Decimal | None
    days_late: Decimal | None
    days_late_weighted: Decimal | None
    late_count: int
    late_share: Decimal | None


def settlement(items: Iterable[tuple[dt.date, dt.date, dt.date, int]]) -> Settlement:
    """Summarise ``(issue_date, due_date, settled_on, amount)`` rows of settled invoices."""
    count = amount = to_settle = late = late_weighted = late_count = 0
    for issued, due, settled, value in items:
        days_late = max(0, (settled - due).days)
        count += 1
        amount += value
        to_settle += (settled - issued).days
        late += days_late
        late_weighted += days_late * value
        late_count += days_late > 0
    return Settlement(count=count, amount=amount, days_to_settle=_ratio(to_settle, count),
                      days_late=_ratio(late, count), days_late_weighted=_ratio(late_weighted, amount),
                      late_count=late_count, late_share=percent(late_count, count))


def daily_series(sums: Iterable[tuple[dt.date, int]], end: dt.date, days: int) -> list[int]:
    """Turn ``(date, amount)`` sums into a list for the ``days`` days ending on ``end``, newest first.

    Days with nothing get 0; dates outside the window are ignored.
    """
    series = [0] * days
    end_ordinal = end.toordinal()
    for day, amount in sums:
        back = end_ordinal - day.toordinal()
        if 0 <= back < days:
            series[back] += amount
    return series


def recovery_rate(overdue_at_start: int, still_open_at_end: int) -> Decimal | None:
    """Per cent of the receivables already overdue when a period began that were paid or credited by
    its end; ``still_open_at_end`` is what is left of those same invoices. None without any overdue.
    """
    return percent(overdue_at_start - still_open_at_end, overdue_at_start)
