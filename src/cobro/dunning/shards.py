"""One organization's daily cycle split into shards by customer, each shard a task (#16, docs/scaling.md).

A customer belongs to shard ``i`` of ``n`` when the first 64 bits of sha256 of its id fall in the
``i``-th of ``n`` equal ranges: the same answer on every process and machine, whatever the order the
book is read in. ``cobro cycle --org SLUG --shards N`` prepares the day once (``cycle.prepare_day``:
earlier unfinished days, bank statements, promises), takes the book's fingerprint, writes one
``CycleShard`` row per shard and puts one ``run_cycle_shard`` task per shard on the queue (the
database queue, or RQ over Redis when several machines share the work). A shard's run is
``run_cycle`` restricted to its customers.

Exactly once: every action has a deterministic key under a unique constraint and the cycle's writes
skip conflicting keys (``ON CONFLICT DO NOTHING ... RETURNING``), so a shard run twice, or by two
workers at once, adds each action once and only its writer follows it up (outbox, tasks, fees).
Redone, not lost: a worker holds a shard by its heartbeat (at the claim and after each committed batch
of customers). A shard whose heartbeat is older than the lease (``COBRO_SHARD_LEASE`` seconds, 300 by
default) and is not finished was left by a worker that died (SIGKILL, a lost machine); every
``cobro worker`` pass puts it on the queue again (``requeue_stale``) and another worker takes it. The
task backend's own retry is not relied on: the database queue has none, and RQ marks a killed job
abandoned only after its timeout. The lease must be longer than a batch takes; when it is not, a
second worker starts the same shard and the keys keep the result exact (the work is done twice).
The last shard to finish closes the day's ``CycleRun`` with the fingerprint taken at the split.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import socket

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from cobro.ledger.models import Organization

from .cycle import begin_run, fingerprint, prepare_day, run_cycle
from .models import CycleRun, CycleShard

HASH_SPACE = 1 << 64


def customer_hash(customer_id: int) -> int:
    """A stable 64-bit hash of a customer id (Python's ``hash`` is salted per process)."""
    return int.from_bytes(hashlib.sha256(str(customer_id).encode()).digest()[:8], "big")


class Shard:
    """Part ``index`` of ``count`` of an organization's customers: ``customer_id in shard``."""

    __slots__ = ("index", "count", "lo", "hi", "_seen")

    def __init__(self, index: int, count: int):
        if not 0 <= index < count:
            raise ValueError(f"shard {index} of {count}")
        self.index, self.count = index, count
        self.lo, self.hi = index * HASH_SPACE // count, (index + 1) * HASH_SPACE // count
        self._seen: dict[int, bool] = {}  # a customer's invoices are asked about one by one

    def __contains__(self, customer_id: int) -> bool:
        inside = self._seen.get(customer_id)
        if inside is None:
            inside = self._seen[customer_id] = self.lo <= customer_hash(customer_id) < self.hi
        return inside

    def __repr__(self) -> str:
        return f"Shard({self.index}, {self.count})"


def lease() -> dt.timedelta:
    return dt.timedelta(seconds=settings.COBRO_SHARD_LEASE)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


def begin(org: Organization, as_of: dt.date, count: int, now: dt.datetime | None = None) -> list[CycleShard]:
    """Split the day into ``count`` shards and enqueue them; [] when nothing changed since a finished run."""
    from .tasks import run_cycle_shard

    if count < 1:
        raise ValueError("at least one shard")
    now = now or timezone.now()
    prepare_day(org, as_of)
    stamp = fingerprint(org)
    done = CycleRun.objects.for_org(org).filter(as_of=as_of).first()
    if done and done.finished_at and done.fingerprint == stamp:
        return []
    begin_run(org, as_of, now)
    fresh = {"fingerprint": stamp, "finished_at": None, "worker": "", "heartbeat_at": now}
    rows = []
    for index in range(count):
        row, made = CycleShard.objects.get_or_create(organization=org, as_of=as_of, count=count, index=index,
                                                     defaults=fresh)
        if not made:
            CycleShard.objects.filter(pk=row.pk).update(**fresh)
        rows.append(row)
    for row in rows:
        run_cycle_shard.enqueue(org.pk, as_of.isoformat(), row.index, count)
    return rows


def claim(row_id: int, worker: str, now: dt.datetime) -> bool:
    """Take an unfinished shard nobody holds, or whose holder stopped beating; False if another has it."""
    return CycleShard.objects.filter(pk=row_id, finished_at__isnull=True).filter(
        Q(worker="") | Q(heartbeat_at__lt=now - lease())).update(
        worker=worker, heartbeat_at=now, attempts=F("attempts") + 1) == 1


def run_shard(org: Organization, as_of: dt.date, index: int, count: int, *, worker: str | None = None,
              batch_customers: int = 2000, on_batch=None) -> int | None:
    """Run one shard if this worker can claim it: the number of actions it wrote, None if not claimed."""
    me = worker or worker_name()
    row = CycleShard.objects.for_org(org).get(as_of=as_of, count=count, index=index)
    if not claim(row.pk, me, timezone.now()):
        return None

    def beat(done: int) -> None:
        CycleShard.objects.filter(pk=row.pk, worker=me).update(heartbeat_at=timezone.now())
        if on_batch is not None:
            on_batch(done)

    result = run_cycle(org, as_of, batch_customers=batch_customers, on_batch=beat, shard=Shard(index, count))
    finish(org, row, len(result.created), me)
    return len(result.created)


def finish(org: Organization, row: CycleShard, created: int, worker: str) -> None:
    """Mark a shard done; the last one closes the day's run (under its row lock, so two finishing at
    once cannot both think the other is still running). ``worker`` stays on the row: who finished it."""
    now = timezone.now()
    with transaction.atomic():
        run = CycleRun.objects.for_org(org).select_for_update().get(as_of=row.as_of)
        CycleShard.objects.filter(pk=row.pk).update(finished_at=now, worker=worker, created=F("created") + created)
        fields = {"created": F("created") + created}
        if not CycleShard.objects.for_org(org).filter(as_of=row.as_of, count=row.count,
                                                      finished_at__isnull=True).exists():
            fields.update(finished_at=now, fingerprint=row.fingerprint)
        CycleRun.objects.filter(pk=run.pk).update(**fields)


def requeue_stale(now: dt.datetime | None = None) -> list[tuple[int, dt.date, int, int]]:
    """Put back on the queue every unfinished shard whose holder stopped beating (every organization).

    The row's heartbeat is moved to ``now`` in the same update, so one pass of one worker requeues it
    and the next attempt has a whole lease before it is requeued again.
    """
    from .tasks import run_cycle_shard

    now = now or timezone.now()
    requeued = []
    for pk, org_id, as_of, index, count, beat in CycleShard.objects.filter(
            finished_at__isnull=True, heartbeat_at__lt=now - lease()).values_list(
            "pk", "organization_id", "as_of", "index", "count", "heartbeat_at"):
        if CycleShard.objects.filter(pk=pk, heartbeat_at=beat).update(worker="", heartbeat_at=now):
            run_cycle_shard.enqueue(org_id, as_of.isoformat(), index, count)
            requeued.append((org_id, as_of, index, count))
    return requeued


def pending_days() -> set[tuple[int, dt.date]]:
    """(organization id, day) of every day whose shards are not all finished: the shards' business."""
    return set(CycleShard.objects.filter(finished_at__isnull=True).values_list("organization_id", "as_of"))
