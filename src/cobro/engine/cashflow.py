"""The 13-week cash forecast of an open book, with its range: plain numbers in, weeks out.

Pure (no Django, no clock). The caller hands over, for each invoice open on ``as_of``, its open amount
(int minor units of one currency), its expected payment date and ``p_paid_30`` (the probability it is
paid within 30 days after ``as_of``), as ``cobro forecast`` computes them.

**Where each invoice's money lands.** Week ``k`` (1–13) is the days ``as_of + 7(k-1) + 1`` to
``as_of + 7k``. An invoice is paid within the 30 days with probability ``p = p_paid_30`` (the model's
calibrated answer to exactly that question), and after them with ``1 - p``:

- with probability ``p`` in the week of ``min(expected, as_of + 30)`` (its expected date when it
  falls within the 30 days, else the last of them: it came early);
- with probability ``1 - p`` in the week of ``max(expected, as_of + 31)`` (its expected date when it
  falls after the 30 days, else the first day after them: it came late), or beyond the 13 weeks when
  that day is past them.

So the money of every invoice is counted once: the weeks' expected amounts plus what lies beyond the
horizon add up to the open book, and the first 30 days hold exactly ``Σ amount × p_paid_30``.

**The range.** In one week an invoice either lands (its whole open amount) or not, with probability
``q`` (the sum of its two shares that fall in that week); invoices are taken as independent. The
week's amount then has mean ``Σ a q`` and variance ``Σ a² q (1 - q)``; the range is the mean ±
``Z`` standard deviations (``Z`` = 1.2816, an 80 % interval under the normal approximation), held
within what can land that week (0 to the sum of the amounts with ``q > 0``). Only the open book is
forecast: invoices issued after ``as_of`` and paid within the 13 weeks are not in it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass

WEEKS = 13
HORIZON_30 = 30
#: Standard normal quantile of 90 %: mean ± Z σ is an 80 % interval.
Z = 1.2816


@dataclass(frozen=True)
class Week:
    index: int            # 1..WEEKS
    start: dt.date
    end: dt.date
    expected: int         # minor units, rounded
    low: int
    high: int


@dataclass(frozen=True)
class CashForecast:
    as_of: dt.date
    weeks: list[Week]
    beyond: int           # expected amount paid after the 13 weeks (or never)
    open_total: int


def week_of(as_of: dt.date, day: dt.date) -> int:
    """The week (1-based) a day after ``as_of`` falls in; 0 for ``as_of`` or earlier."""
    days = (day - as_of).days
    return 0 if days <= 0 else (days - 1) // 7 + 1


def shares(as_of: dt.date, expected: dt.date, p_paid_30: float) -> list[tuple[int, float]]:
    """Where one invoice's money lands: ``(week, probability)`` pairs (week ``WEEKS + 1`` = beyond)."""
    p = min(max(float(p_paid_30), 0.0), 1.0)
    early = min(expected, as_of + dt.timedelta(days=HORIZON_30))
    late = max(expected, as_of + dt.timedelta(days=HORIZON_30 + 1))
    out = []
    for day, q in ((early, p), (late, 1.0 - p)):
        if q > 0:
            out.append((min(max(week_of(as_of, day), 1), WEEKS + 1), q))
    return out


def cash_forecast(as_of: dt.date, invoices: Iterable[tuple[int, dt.date, float]]) -> CashForecast:
    """The 13 weeks after ``as_of`` from ``(open_amount, expected_payment_date, p_paid_30)`` rows."""
    n = WEEKS + 2
    mean = [0.0] * n
    var = [0.0] * n
    reach = [0] * n
    total = 0
    for amount, expected, p in invoices:
        amount = int(amount)
        if amount <= 0:
            continue
        total += amount
        q_by_week: dict[int, float] = {}
        for week, q in shares(as_of, expected, p):
            q_by_week[week] = q_by_week.get(week, 0.0) + q
        for week, q in q_by_week.items():
            mean[week] += amount * q
            var[week] += amount * amount * q * (1.0 - q)
            reach[week] += amount
    weeks = []
    for k in range(1, WEEKS + 1):
        spread = Z * math.sqrt(var[k])
        expected = round(mean[k])
        low = max(0, math.floor(mean[k] - spread))
        high = min(reach[k], math.ceil(mean[k] + spread))
        start = as_of + dt.timedelta(days=7 * (k - 1) + 1)
        weeks.append(Week(k, start, start + dt.timedelta(days=6), expected, min(low, expected),
                          max(high, expected)))
    return CashForecast(as_of, weeks, round(mean[WEEKS + 1]), total)
