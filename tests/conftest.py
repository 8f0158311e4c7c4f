"""Test set-up shared by every test.

- Tests that touch the database get the marker ``dbtest``; `make test` runs those a second time on
  PostgreSQL (``COBRO_DATABASE_URL=postgres://...``).
- When the database is PostgreSQL and it cannot be reached, the run fails under CI (the variable CI
  set to anything but "", "0" or "false": ``ci_env.in_ci``) and its tests skip with a clear message
  elsewhere (tests/test_ci_postgres.py).
"""

from __future__ import annotations

import os
import uuid

import pytest

from ci_env import in_ci

# (not django_db_blocker or django_db_setup: pytest-django gives those to every test)
DB_FIXTURES = {"db", "transactional_db", "live_server", "django_user_model", "admin_user", "client"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if DB_FIXTURES & set(getattr(item, "fixturenames", ())) or item.get_closest_marker("django_db"):
            item.add_marker(pytest.mark.dbtest)


def pytest_configure(config):
    config.addinivalue_line("markers", "dbtest: touches the database (run on SQLite and PostgreSQL)")
    # One id per run, inherited by the xdist workers: the run's PostgreSQL databases carry it in
    # their names (settings.py), so two runs on one server never collide.
    os.environ.setdefault("COBRO_TEST_RUN", uuid.uuid4().hex[:8])
    # `make test-clock` runs the suite with the machine's clock moved (COBRO_TEST_CLOCK=YYYY-MM-DD):
    # no test may depend on the real date.
    clock = os.environ.get("COBRO_TEST_CLOCK")
    if clock:
        import datetime as dt

        import time_machine

        moved = dt.datetime.combine(dt.date.fromisoformat(clock), dt.time(15, 0), tzinfo=dt.UTC)
        config._cobro_clock = time_machine.travel(moved, tick=True)  # noqa: SLF001
        config._cobro_clock.start()  # noqa: SLF001
    url = os.environ.get("COBRO_DATABASE_URL", "")
    if url.startswith(("postgres", "pgsql")):
        import dj_database_url
        import psycopg

        db = dj_database_url.parse(url)
        try:
            # The server's own maintenance database: pytest-django creates test_<NAME> from there.
            psycopg.connect(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"],
                            password=db["PASSWORD"] or None, dbname="postgres", connect_timeout=3).close()
        except psycopg.OperationalError as exc:
            message = f"PostgreSQL at {url} is unreachable ({exc}); its integration tests cannot run."
            if in_ci():
                pytest.exit(f"{message} Under CI (CI={os.environ['CI']!r}) this fails the run.", returncode=3)
            config._cobro_pg_skip = message  # noqa: SLF001


def pytest_runtest_setup(item):
    message = getattr(item.config, "_cobro_pg_skip", None)
    if message and item.get_closest_marker("dbtest"):  # tests that never touch the database still run
        pytest.skip(message)


@pytest.fixture(autouse=True)
def _spanish_by_default():
    """Each test starts in Cobro's default language, whatever language the previous test left active
    in this thread (views and services activate the user's or the customer's language)."""
    from django.utils import translation

    translation.activate("es")
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_portal_cache():
    """Each test's organizations start with nothing cached (the portal keeps per-organization lists
    by id, and every test's database hands out the same ids again)."""
    from django.core.cache import caches

    caches["portal"].clear()
    yield
