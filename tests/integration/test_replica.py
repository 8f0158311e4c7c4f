"""Reads off the primary (#16): a real PostgreSQL streaming replica, made with ``pg_basebackup`` from
a throwaway primary (Debian's PostgreSQL binaries, in temporary directories, on free ports), serves
the Dashboard while writes go to the primary; when the replica lags beyond the limit, or is gone, the
Dashboard reads the primary.

It runs in the PostgreSQL pass (``COBRO_DATABASE_URL=postgres://...``). Under CI a missing
PostgreSQL binary fails it; elsewhere it skips saying why.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from ci_env import in_ci

pytestmark = pytest.mark.dbtest

HERE = Path(__file__).parent
BIN = Path(os.environ.get("COBRO_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _need(condition: bool, why: str) -> None:
    if not condition:
        if in_ci():
            pytest.fail(f"{why}: the replica test cannot run, and under CI that fails the run")
        pytest.skip(why)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """One PostgreSQL server of our own; as root, run as the ``postgres`` account (initdb refuses root)."""

    def __init__(self, base: Path, name: str):
        self.dir, self.port, self.log = base / name, _free_port(), base / f"{name}.log"
        self.base = base

    def _cmd(self, *args: str) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *args]
        return list(args)

    def run(self, *args: str) -> None:
        done = subprocess.run(self._cmd(*args), capture_output=True, text=True, timeout=120, check=False)
        if done.returncode:
            raise AssertionError(f"{args[0]} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")

    def conf(self, text: str) -> None:
        with open(self.dir / "postgresql.conf", "a") as fh:
            fh.write(text)

    def start(self) -> None:
        self.run(str(BIN / "pg_ctl"), "-D", str(self.dir), "-l", str(self.log), "-w", "-t", "60", "start")

    def stop(self) -> None:
        subprocess.run(self._cmd(str(BIN / "pg_ctl"), "-D", str(self.dir), "-m", "immediate", "-w", "stop"),
                       capture_output=True, timeout=60, check=False)

    def url(self, db: str = "cobro") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{db}"

    def sql(self, query: str, db: str = "cobro"):
        import psycopg

        with psycopg.connect(self.url(db), autocommit=True, connect_timeout=5) as conn:
            cur = conn.execute(query)
            row = cur.fetchone() if cur.description else None
        return row[0] if row else None


@pytest.fixture
def clusters():
    if not os.environ.get("COBRO_DATABASE_URL", "").startswith("postgres"):
        pytest.skip("runs in the PostgreSQL pass (COBRO_DATABASE_URL=postgres://...), which CI always runs")
    _need((BIN / "initdb").exists() and (BIN / "pg_basebackup").exists(), f"no PostgreSQL binaries in {BIN}")
    if os.geteuid() == 0:
        _need(shutil.which("runuser") is not None, "runuser is missing (needed to run PostgreSQL as root)")
        pwd.getpwnam("postgres")
    base = Path(tempfile.mkdtemp(prefix="cobro-replica-"))
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    base.chmod(0o700)
    primary, replica = Cluster(base, "primary"), Cluster(base, "replica")
    try:
        primary.run(str(BIN / "initdb"), "-D", str(primary.dir), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                    "--locale=C.UTF-8", "--no-sync")
        primary.conf(f"\nport = {primary.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{base}'\n"
                     "wal_level = replica\nmax_wal_senders = 4\nfsync = off\nshared_buffers = 32MB\n")
        with open(primary.dir / "pg_hba.conf", "a") as fh:
            fh.write("host replication postgres 127.0.0.1/32 trust\n")
        primary.start()
        primary.sql("CREATE DATABASE cobro", db="postgres")
        replica.run(str(BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
                    "-D", str(replica.dir), "-R", "-X", "stream", "--checkpoint=fast", "--no-sync")
        replica.conf(f"\nport = {replica.port}\nhot_standby = on\n")
        replica.start()
        yield primary, replica
    finally:
        replica.stop()
        primary.stop()
        shutil.rmtree(base, ignore_errors=True)


def _caught_up(primary: Cluster, replica: Cluster) -> None:
    target = primary.sql("SELECT pg_current_wal_lsn()::text")
    for _ in range(200):
        if replica.sql(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"):
            return
        time.sleep(0.05)
    raise AssertionError("the replica did not catch up in 10 s")


def test_the_dashboard_reads_the_replica_and_the_primary_when_the_replica_lags_or_is_gone(clusters, tmp_path):
    primary, replica = clusters
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="cobro.settings", COBRO_DATA_DIR=str(tmp_path),
               COBRO_DATABASE_URL=primary.url(), COBRO_DATABASE_REPLICA_URL=replica.url(),
               COBRO_REPLICA_CHECK_SECONDS="0", COBRO_REPLICA_MAX_LAG="60")
    for name in ("PYTEST_CURRENT_TEST", "PYTEST_VERSION", "COBRO_TEST_RUN", "COBRO_TEST_CLOCK"):
        env.pop(name, None)

    def python(*args: str, **extra: str) -> str:
        done = subprocess.run([sys.executable, *args], env={**env, **extra}, capture_output=True, text=True,
                              timeout=300, check=False)
        assert done.returncode == 0, f"{args} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def dashboard(**extra: str) -> dict:
        return json.loads(python(str(HERE / "replica_probe.py"), "dashboard", **extra).strip().splitlines()[-1])

    python("-m", "cobro", "migrate", "--noinput")
    assert replica.sql("SELECT pg_is_in_recovery()") is True
    python(str(HERE / "replica_probe.py"), "seed", "1234567")
    _caught_up(primary, replica)

    fresh = dashboard()
    assert fresh["status"] == 200 and fresh["largest_amount"].replace(" ", "") == "$1.234.567"
    # The person's session and membership come from the primary; every figure from the replica.
    assert fresh["selects"]["replica"] >= 5 and fresh["selects"]["default"] <= 4, fresh
    assert fresh["note"] == ""  # caught up: nothing to say

    # The replica stops replaying; the primary takes a new invoice.
    replica.sql("SELECT pg_wal_replay_pause()")
    python(str(HERE / "replica_probe.py"), "seed", "7654321")
    time.sleep(2.2)
    stale = dashboard(COBRO_REPLICA_MAX_LAG="3600")  # within the limit: the replica's (older) figures
    assert stale["largest_amount"].replace(" ", "") == "$1.234.567" and stale["selects"]["replica"] >= 5
    assert "réplica" in stale["note"] and "segundos de retraso" in stale["note"], stale
    limited = dashboard(COBRO_REPLICA_MAX_LAG="1")  # beyond the limit: the primary answers, fresh
    assert limited["largest_amount"].replace(" ", "") == "$8.888.888", limited
    assert limited["selects"]["replica"] == 1 and limited["note"] == ""  # only the lag was asked

    replica.sql("SELECT pg_wal_replay_resume()")
    _caught_up(primary, replica)
    assert dashboard()["largest_amount"].replace(" ", "") == "$8.888.888"

    replica.stop()  # gone: the primary answers, the page does not fail
    gone = dashboard()
    assert gone["status"] == 200 and gone["largest_amount"].replace(" ", "") == "$8.888.888"
    assert gone["selects"]["replica"] == 0 and gone["note"] == ""
