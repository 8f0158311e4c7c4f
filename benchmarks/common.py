"""Shared set-up for the benchmarks: a scratch database on SQLite or PostgreSQL, and timing helpers.

Every benchmark prints one line per figure and exits non-zero only when it could not run.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

PG_URL = os.environ.get("COBRO_BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/cobro_bench")


def setup_django(db: str = "sqlite", label: str = "bench") -> str:
    """Point Cobro at a fresh scratch database and migrate it; returns a description of it."""
    data_dir = Path(tempfile.mkdtemp(prefix=f"cobro-{label}-"))
    os.environ["COBRO_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cobro.settings")
    if db == "postgres":
        url = PG_URL.rsplit("/", 1)[0] + f"/cobro_{label}"
        _recreate_pg(url)
        os.environ["COBRO_DATABASE_URL"] = url
    else:
        os.environ.pop("COBRO_DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return os.environ.get("COBRO_DATABASE_URL", str(data_dir / "cobro.sqlite3"))


def _recreate_pg(url: str) -> None:
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(url)
    with psycopg.connect(host=cfg["HOST"], port=cfg["PORT"] or 5432, user=cfg["USER"], dbname="postgres",
                         autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{cfg["NAME"]}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{cfg["NAME"]}"')


def make_org(slug: str = "bench", currency: str = "USD"):
    from cobro.ledger.models import Organization

    return Organization.objects.create(slug=slug, name=f"Benchmark {slug}", country="CL", currency=currency,
                                       timezone="America/Santiago")


@contextmanager
def timer():
    box = {}
    start = time.perf_counter()
    yield box
    box["s"] = time.perf_counter() - start


def median_of(fn, runs: int = 5) -> tuple[float, list[float]]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
