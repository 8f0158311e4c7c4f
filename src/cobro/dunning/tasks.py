"""Background work of the dunning app, on Django's tasks API (database queue by default)."""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone
from django_tasks import task

from cobro.engine.contact import zone
from cobro.ledger.models import Organization

from .models import CycleRun

log = logging.getLogger(__name__)
#: The local hour an organization's cycle runs at when its options do not say ("cycle_hour").
DEFAULT_HOUR = 8


@task()
def run_org_cycle(org_id: int, as_of: str) -> int:
    """Run one organization's cycle for one day; returns how many actions it created."""
    from .cycle import run_cycle

    org = Organization.objects.get(pk=org_id)
    result = run_cycle(org, dt.date.fromisoformat(as_of))
    log.info("cycle %s %s: %d actions", org.slug, as_of, len(result.created))
    return len(result.created)


@task()
def run_cycle_shard(org_id: int, as_of: str, index: int, count: int) -> int | None:
    """Run shard ``index`` of ``count`` of one organization's day (``dunning.shards``); returns how many
    actions it created, or None when another worker holds the shard or it is already finished."""
    from .shards import run_shard

    org = Organization.objects.get(pk=org_id)
    created = run_shard(org, dt.date.fromisoformat(as_of), index, count)
    log.info("cycle %s %s shard %d/%d: %s", org.slug, as_of, index, count,
             "held elsewhere or done" if created is None else f"{created} actions")
    return created


def due_cycles(now: dt.datetime | None = None) -> list[tuple[int, dt.date]]:
    """(organization id, local day) of every cycle whose local hour has come and that has not run.

    A cycle that started and died shows as a run without ``finished_at``; it is due again, unless it
    was split into shards that are not all finished (``shards.requeue_stale`` looks after those).
    """
    from .shards import pending_days

    now = now or timezone.now()
    due = []
    orgs = list(Organization.objects.values_list("pk", "timezone", "options"))
    finished = set(CycleRun.objects.filter(finished_at__isnull=False, as_of__gte=(now - dt.timedelta(days=2)).date())
                   .values_list("organization_id", "as_of"))
    sharded = pending_days()
    for pk, tz, options in orgs:
        local = now.astimezone(zone(tz))
        hour = int((options or {}).get("cycle_hour", DEFAULT_HOUR))
        if local.hour >= hour and (pk, local.date()) not in finished and (pk, local.date()) not in sharded:
            due.append((pk, local.date()))
    return due


def enqueue_due(now: dt.datetime | None = None, already: set | None = None) -> list[tuple[int, dt.date]]:
    """Put every due cycle on the queue once (``already`` remembers what this worker enqueued)."""
    already = already if already is not None else set()
    queued = []
    for pk, day in due_cycles(now):
        if (pk, day) in already:
            continue
        run_org_cycle.enqueue(pk, day.isoformat())
        already.add((pk, day))
        queued.append((pk, day))
    return queued
