"""The worker's heartbeat: each pass of ``cobro worker`` touches one row; the pages read it.

A worker that stopped leaves its last beat behind, so "when did the worker last run" has an answer
even after a crash, and the settings pages can warn when that answer is too long ago.
"""

from __future__ import annotations

import datetime as dt
import os
import socket

from django.db.models import F
from django.utils import timezone

from .models import WorkerBeat

#: The worker beats every ``--every`` seconds (60 by default); this long without a beat is a warning.
STALE_AFTER = dt.timedelta(minutes=5)
NAME = "worker"


def beat(name: str = NAME, last: dict | None = None, started_at: dt.datetime | None = None,
         now: dt.datetime | None = None) -> None:
    """Record a pass of the worker ``name`` (its counts in ``last``)."""
    now = now or timezone.now()
    fields = {"beat_at": now, "pid": os.getpid(), "host": socket.gethostname()[:200], "last": last or {}}
    if started_at is not None:
        fields["started_at"] = started_at
    updated = WorkerBeat.objects.filter(name=name).update(passes=F("passes") + 1, **fields)
    if not updated:
        WorkerBeat.objects.get_or_create(name=name, defaults={**fields, "started_at": started_at or now,
                                                              "passes": 1})


def last_beat(name: str = NAME) -> WorkerBeat | None:
    return WorkerBeat.objects.filter(name=name).first()


def is_stale(row: WorkerBeat | None, now: dt.datetime | None = None) -> bool:
    return row is None or (now or timezone.now()) - row.beat_at > STALE_AFTER
