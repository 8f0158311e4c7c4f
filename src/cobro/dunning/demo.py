"""Demo data for the dunning app: the default policy, and a month of daily cycles so the board has work.

The cycle has run every morning of the demo's month (``MONTH`` days before ``today``), each run by
that morning's clock: every step happens on its own day (a reminder three days before, a firm one at
+15, a late-fee notice at +30...), not all at once on the first run, and the manager approved the
mediation and legal steps put to her until a week ago; the last week's wait on her list with today's.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model

from cobro.ledger.demo import SENDING_DAYS
from cobro.ledger.models import Organization, Task
from cobro.ledger.services import complete_task

from .cycle import run_cycle
from .models import Action, CycleRun
from .services import DunningError, approve_action, ensure_default_policy

#: Days of history before ``today`` the demo's cycle ran through.
MONTH = SENDING_DAYS  # the month Cobro has been sending
#: The manager's last days not gone through yet: their approvals wait on today's list (a few, as in
#: a real week, not the flood of a first run).
BEHIND = 7


def at_local(org: Organization, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """``day`` at ``hour`` on the organization's wall clock: the demo's clock for that day."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ZoneInfo(org.timezone or "UTC"))


def populate(org: Organization, today: dt.date) -> None:
    # Idempotent: the policy is created once and the cycle's keys make a second run add nothing.
    ensure_default_policy(org)
    if not CycleRun.objects.for_org(org).exists():
        _month(org, today)
    run_cycle(org, today, now=at_local(org, today, 6))


def _month(org: Organization, today: dt.date) -> None:
    first = today - dt.timedelta(days=MONTH)
    # Demo bookkeeping: the run of the day before the month, so the month's first run takes only that
    # day's steps instead of catching up on every invoice's latest step at once.
    eve = first - dt.timedelta(days=1)
    CycleRun.objects.create(organization=org, as_of=eve, started_at=at_local(org, eve, 6),
                            finished_at=at_local(org, eve, 6, 1))
    manager = (get_user_model().objects.filter(memberships__organization=org, memberships__role="manager")
               .order_by("pk").first())
    for back in range(MONTH, 0, -1):
        day = today - dt.timedelta(days=back)
        run_cycle(org, day, now=at_local(org, day, 6))
        if manager is not None and back > BEHIND:
            _approve_yesterdays(org, day, manager)


def _approve_yesterdays(org: Organization, day: dt.date, manager) -> None:
    """The manager goes through the approvals put to her the day before, at ten in the morning: a
    legal review goes ahead, mediation for one in three (the others get another round of calls)."""
    when = at_local(org, day, 10)
    for n, task in enumerate(Task.objects.for_org(org).filter(kind="approval", status=Task.Status.OPEN,
                                                               due_on__lt=day).order_by("pk")):
        action = Action.objects.for_org(org).filter(key=task.data.get("action_key", "")).first()
        if action is None or action.status != Action.Status.PENDING_APPROVAL:
            complete_task(task, "moot", actor=manager, at=when)
            continue
        if action.data.get("to_stage") != "legal" and n % 3:
            Action.objects.for_org(org).filter(pk=action.pk).update(status=Action.Status.REJECTED)
            complete_task(task, "rejected", actor=manager, at=when)
            continue
        try:
            approve_action(org, action, manager, now=when)
        except DunningError:
            complete_task(task, "moot", actor=manager, at=when)
            continue
        complete_task(task, "approved", actor=manager, at=when)
