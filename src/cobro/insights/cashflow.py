"""The 13-week cash forecast: stored when it is made, read back by the Dashboard beside what came in.

``store`` turns one day's payment-date forecast (``cobro.insights.risk.compute``) into 13 weeks per
currency (``cobro.engine.cashflow``) and keeps them (``cobro forecast --store``, for cron at night).
The Dashboard never trains a model: ``board`` reads the latest stored forecast and, for the weeks
already over, the one-week-ahead forecast made just before each of them, beside the payments
received that week (from the daily totals the Dashboard has already read).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction

from cobro.engine import cashflow as engine
from cobro.insights.models import CashForecastWeek
from cobro.ledger.models import Organization

#: How many past weeks the Dashboard sets beside what was collected.
TRACKED_WEEKS = 8


def forecasts_by_currency(answer, as_of: dt.date) -> dict[str, engine.CashForecast]:
    rows: dict[str, list[tuple[int, dt.date, float]]] = defaultdict(list)
    for f in answer.forecasts:
        rows[f.currency].append((f.open_amount, f.expected_payment_date, f.p_paid_30))
    return {cur: engine.cash_forecast(as_of, items) for cur, items in sorted(rows.items())}


def store(org: Organization, answer, as_of: dt.date) -> dict[str, engine.CashForecast]:
    """Keep the 13 weeks of every currency forecast on ``as_of`` (replacing an earlier run's)."""
    out = forecasts_by_currency(answer, as_of)
    with transaction.atomic():
        CashForecastWeek.objects.for_org(org).filter(made_on=as_of).delete()
        CashForecastWeek.objects.bulk_create([
            CashForecastWeek(organization=org, currency=cur, made_on=as_of, week=w.index, week_start=w.start,
                             week_end=w.end, expected=w.expected, low=w.low, high=w.high)
            for cur, fc in out.items() for w in fc.weeks])
    return out


@dataclass(frozen=True)
class Tracked:
    made_on: dt.date
    week_start: dt.date
    week_end: dt.date
    expected: int
    low: int
    high: int
    actual: int

    @property
    def within(self) -> bool:
        return self.low <= self.actual <= self.high


@dataclass(frozen=True)
class CashBoard:
    made_on: dt.date | None
    weeks: list[CashForecastWeek]
    tracked: list[Tracked]


def board(org: Organization, currency: str, end: dt.date,
          collections: list[tuple[dt.date, int]]) -> CashBoard:
    """The latest forecast made on or before ``end`` and the past weeks against what was collected.

    One query: the forecasts made in the last ``TRACKED_WEEKS + 1`` weeks up to ``end``."""
    since = end - dt.timedelta(days=7 * (TRACKED_WEEKS + 1))
    rows = list(CashForecastWeek.objects.for_org(org)
                .filter(currency=currency, made_on__gte=since, made_on__lte=end).order_by("-made_on", "week"))
    if not rows:
        return CashBoard(None, [], [])
    latest = rows[0].made_on
    weeks = [r for r in rows if r.made_on == latest]
    # Past weeks: week 1 of the forecasts whose week is over, newest first, not overlapping.
    tracked: list[Tracked] = []
    next_start = None
    for r in rows:
        if r.week != 1 or r.week_end > end or (next_start is not None and r.week_end >= next_start):
            continue
        actual = sum(a for day, a in collections if r.week_start <= day <= r.week_end)
        tracked.append(Tracked(r.made_on, r.week_start, r.week_end, r.expected, r.low, r.high, actual))
        next_start = r.week_start
        if len(tracked) == TRACKED_WEEKS:
            break
    return CashBoard(latest, weeks, tracked)
