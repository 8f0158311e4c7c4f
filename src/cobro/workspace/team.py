"""Agent and team figures per ISO week, from what the app already stores.

- **Calls**: "call.logged" timeline events by the agent who logged them; **reached** those whose
  outcome is "reached"; the reach rate is reached ÷ calls.
- **Promises made**: promises the agent took (``Promise.taken_by``) with ``made_on`` in the week;
  **kept**: of those, the ones kept by now (a promise of this week may still be pending).
- **Collected**: payments dated in the week from the customers the agent is the owner of (the
  owner today), per currency, exact minor units; payments of customers without an owner are in
  the team's total and in a row of their own.

Weeks are ISO weeks (Monday to Sunday) of the organization's calendar. Four queries, whatever the
number of agents and weeks: members, calls by day, promises by day, payments by day.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate

from cobro.ledger.models import Membership, Organization, Payment, Role, TimelineEvent

DEFAULT_WEEKS = 4
MAX_WEEKS = 26
WEEK_CHOICES = (1, 4, 8, 13, 26)
NO_OWNER = 0  # the row key of customers without an owner


@dataclass
class Figures:
    calls: int = 0
    reached: int = 0
    promises_made: int = 0
    promises_kept: int = 0
    collected: dict[str, int] = field(default_factory=dict)

    @property
    def reach_rate(self) -> float | None:
        return self.reached / self.calls if self.calls else None

    @property
    def empty(self) -> bool:
        return not (self.calls or self.promises_made or self.collected)

    def add(self, other: Figures) -> None:
        self.calls += other.calls
        self.reached += other.reached
        self.promises_made += other.promises_made
        self.promises_kept += other.promises_kept
        for currency, minor in other.collected.items():
            self.collected[currency] = self.collected.get(currency, 0) + minor


@dataclass
class Row:
    user_id: int  # NO_OWNER for customers without an owner
    name: str
    figures: Figures


@dataclass
class Week:
    year: int
    number: int
    monday: dt.date
    sunday: dt.date
    rows: list[Row]
    total: Figures


def _weeks(today: dt.date, count: int) -> list[dt.date]:
    """The Mondays of the last ``count`` ISO weeks, this one first."""
    monday = today - dt.timedelta(days=today.weekday())
    return [monday - dt.timedelta(weeks=n) for n in range(count)]


def _zone(org: Organization) -> ZoneInfo:
    try:
        return ZoneInfo(org.timezone)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def figures(org: Organization, today: dt.date, weeks: int = DEFAULT_WEEKS) -> list[Week]:
    """The last ``weeks`` ISO weeks up to ``today`` (newest first), one row per agent each."""
    from cobro.agreements.models import Promise

    mondays = _weeks(today, weeks)
    first, last = mondays[-1], mondays[0] + dt.timedelta(days=6)
    tz = _zone(org)
    lo = dt.datetime.combine(first, dt.time(), tzinfo=tz)
    hi = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    cells: dict[tuple[dt.date, int], Figures] = defaultdict(Figures)

    def cell(day: dt.date, user_id: int | None) -> Figures:
        return cells[day - dt.timedelta(days=day.weekday()), user_id or NO_OWNER]

    for actor, day, n, reached in (
            TimelineEvent.objects.for_org(org).filter(kind="call.logged", at__gte=lo, at__lt=hi, actor__isnull=False)
            .annotate(day=TruncDate("at", tzinfo=tz)).values("actor_id", "day")
            .annotate(n=Count("id"), reached=Count("id", filter=Q(data__outcome="reached")))
            .values_list("actor_id", "day", "n", "reached")):
        f = cell(day, actor)
        f.calls += n
        f.reached += reached
    for taker, day, n, kept in (
            Promise.objects.for_org(org).filter(made_on__gte=first, made_on__lte=last, taken_by__isnull=False)
            .values("taken_by_id", "made_on")
            .annotate(n=Count("id"), kept=Count("id", filter=Q(status=Promise.Status.KEPT)))
            .values_list("taken_by_id", "made_on", "n", "kept")):
        f = cell(day, taker)
        f.promises_made += n
        f.promises_kept += kept
    for owner, day, currency, total in (
            Payment.objects.for_org(org).filter(date__gte=first, date__lte=last)
            .values("customer__owner_id", "date", "currency").annotate(total=Sum("amount"))
            .values_list("customer__owner_id", "date", "currency", "total")):
        f = cell(day, owner)
        f.collected[currency] = f.collected.get(currency, 0) + int(total)

    names: dict[int, str] = {}
    for m in (Membership.objects.filter(organization=org).exclude(role=Role.VIEWER)
              .select_related("user").order_by("user__first_name", "user__username")):
        names[m.user_id] = m.user.get_full_name() or m.user.get_username()
    active = {uid for _monday, uid in cells} - {NO_OWNER} - set(names)
    if active:  # someone who has left the organization still shows under their name
        from django.contrib.auth import get_user_model

        for user in get_user_model().objects.filter(pk__in=active):
            names[user.pk] = user.get_full_name() or user.get_username()

    out = []
    for monday in mondays:
        total = Figures()
        rows = []
        for uid, name in names.items():
            f = cells.get((monday, uid), Figures())
            rows.append(Row(uid, name, f))
            total.add(f)
        orphan = cells.get((monday, NO_OWNER))
        if orphan is not None and not orphan.empty:
            rows.append(Row(NO_OWNER, "", orphan))
            total.add(orphan)
        year, number, _weekday = monday.isocalendar()
        out.append(Week(year, number, monday, monday + dt.timedelta(days=6), rows, total))
    return out
