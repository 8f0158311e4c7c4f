"""Reads off the primary (#16): the dashboard, reports and exports may read from a PostgreSQL
streaming replica, everything else reads and writes the primary.

``COBRO_DATABASE_REPLICA_URL`` adds the database alias ``replica`` and this router. Nothing reads from
it unless a piece of code asks to, inside ``reading_from_replica()`` (or a view decorated with
``replica_reads``): reads there go to the replica, writes still go to the primary. A page that shows
what the person just did (a form, a customer page) never reads the replica.

Before a request reads from it, the replica is asked how far behind it is (``replica_lag``), at most
once every ``COBRO_REPLICA_CHECK_SECONDS`` per process. When it is further behind than
``COBRO_REPLICA_MAX_LAG`` seconds, or cannot be reached, the request reads the primary instead and a
line is logged: a lagging replica costs the primary some reads, never a wrong figure older than the
limit.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import time
from contextlib import contextmanager

from django.conf import settings
from django.db import DatabaseError, connections

log = logging.getLogger(__name__)

ALIAS = "replica"
_reading: contextvars.ContextVar[str | None] = contextvars.ContextVar("cobro_replica_reads", default=None)
_checked: dict[str, tuple[float, float | None]] = {}  # alias → (monotonic time of the check, lag or None)

#: Seconds the replica is behind: 0 when it has replayed all it received and is still streaming,
#: otherwise the age of the last transaction it replayed (NULL: it has replayed none).
LAG_SQL = """
SELECT CASE
  WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()
       AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') THEN 0
  ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())
END
"""


class ReplicaRouter:
    """Reads go where ``reading_from_replica`` says (the primary when it says nothing); writes and
    migrations always go to the primary."""

    def db_for_read(self, model, **hints):
        return _reading.get()

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the same data on both

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"


def configured() -> bool:
    return ALIAS in settings.DATABASES


def replica_lag(alias: str = ALIAS) -> float | None:
    """How many seconds the replica is behind the primary, or None when it cannot say (unreachable,
    or it has replayed nothing yet). A replica that is not PostgreSQL is taken as up to date."""
    conn = connections[alias]
    if conn.vendor != "postgresql":
        return 0.0
    try:
        with conn.cursor() as cur:
            cur.execute(LAG_SQL)
            value = cur.fetchone()[0]
    except DatabaseError as exc:
        log.warning("replica %s cannot be read (%s); reading the primary", alias, exc)
        conn.close()
        return None
    return None if value is None else float(value)


def _usable_lag(alias: str) -> float | None:
    now = time.monotonic()
    at, lag = _checked.get(alias, (None, None))
    if at is None or now - at >= settings.COBRO_REPLICA_CHECK_SECONDS:
        lag = replica_lag(alias)
        _checked[alias] = (now, lag)
    return lag


@contextmanager
def reading_from_replica():
    """Reads inside go to the replica when one is configured and close enough behind; yields the lag
    in seconds when the replica is used, None when the primary is."""
    lag = None
    if configured():
        lag = _usable_lag(ALIAS)
        if lag is not None and lag > settings.COBRO_REPLICA_MAX_LAG:
            log.warning("replica is %.1f s behind (limit %s s); reading the primary", lag,
                        settings.COBRO_REPLICA_MAX_LAG)
            lag = None
    token = _reading.set(ALIAS if lag is not None else None)
    try:
        yield lag
    finally:
        _reading.reset(token)


def replica_reads(view):
    """A view that may read from the replica; ``request.replica_lag`` says how far behind (None:
    the primary answered). Put it under the permission decorators, so the session, the person and
    their membership are read from the primary first."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        with reading_from_replica() as lag:
            request.replica_lag = lag
            return view(request, *args, **kwargs)

    return wrapped
