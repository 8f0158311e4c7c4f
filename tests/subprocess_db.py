"""A database of its own for tests that run Cobro in real subprocesses (and kill them).

SQLite: a file under the test's ``tmp_path`` (``COBRO_DATA_DIR``). PostgreSQL (``COBRO_DATABASE_URL``
set, the PostgreSQL pass): a database named after the run, created here and dropped at the end.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def subprocess_env(tmp_path: Path, name: str, cleanup=None, **extra: str) -> dict:
    """The environment for subprocesses sharing one fresh database called ``name``."""
    env = dict(os.environ, COBRO_DATA_DIR=str(tmp_path / name), DJANGO_SETTINGS_MODULE="cobro.settings", **extra)
    env.pop("PYTEST_CURRENT_TEST", None)
    env.pop("PYTEST_VERSION", None)
    url = os.environ.get("COBRO_DATABASE_URL", "")
    if url.startswith("postgres"):
        import dj_database_url
        import psycopg

        db = dj_database_url.parse(url)
        # The run's id and the xdist worker's: two workers of one run building a module's book at once
        # must not share (or drop) each other's database.
        dbname = (f"{db['NAME']}_sub_{name}_{os.environ.get('COBRO_TEST_RUN', os.getpid())}"
                  f"{os.environ.get('PYTEST_XDIST_WORKER', '')}")
        with psycopg.connect(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"],
                             password=db["PASSWORD"] or None, dbname="postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}"')
            conn.execute(f'CREATE DATABASE "{dbname}"')
        if cleanup is not None:
            cleanup(lambda: _drop(db, dbname))
        env["COBRO_DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + dbname
    return env


def _drop(db, dbname):
    import psycopg

    with psycopg.connect(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"],
                         password=db["PASSWORD"] or None, dbname="postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def run(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """``python ARGS...`` in ``env``, its output captured; raises with the output when it fails."""
    done = subprocess.run([sys.executable, *args], env=env, check=False, capture_output=True, text=True,
                          timeout=300)
    if check and done.returncode:
        raise AssertionError(f"{args} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


def clone(source: dict, target: dict) -> None:
    """Make ``target``'s database a copy of ``source``'s (both from ``subprocess_env``; no process may
    hold either open): a migrated, built database copied is much cheaper than migrated again."""
    url = source.get("COBRO_DATABASE_URL", "")
    if not url.startswith("postgres"):
        import shutil

        Path(target["COBRO_DATA_DIR"]).mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            src = Path(source["COBRO_DATA_DIR"]) / f"cobro.sqlite3{suffix}"
            if src.exists():
                shutil.copyfile(src, Path(target["COBRO_DATA_DIR"]) / src.name)
        return
    import dj_database_url
    import psycopg

    db = dj_database_url.parse(url)
    name, copy = db["NAME"], dj_database_url.parse(target["COBRO_DATABASE_URL"])["NAME"]
    with psycopg.connect(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"],
                         password=db["PASSWORD"] or None, dbname="postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{copy}"')
        conn.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{name}"')
