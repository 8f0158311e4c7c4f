"""Test set-up shared by every test.

- Tests that touch the database get the marker ``dbtest``; `make test` runs those a second time on
  PostgreSQL (``COBRO_DATABASE_URL=postgres://...``).
- When the database is PostgreSQL and it cannot be reached, the run fails under CI (CI=true) and
  skips with a clear message elsewhere.
"""

from __future__ import annotations

import os

import pytest

# (not django_db_blocker or django_db_setup: pytest-django gives those to every test)
DB_FIXTURES = {"db", "transactional_db", "live_server", "django_user_model", "admin_user", "client"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if DB_FIXTURES & set(getattr(item, "fixturenames", ())) or item.get_closest_marker("django_db"):
            item.add_marker(pytest.mark.dbtest)


def pytest_configure(config):
    config.addinivalue_line("markers", "dbtest: touches the database (run on SQLite and PostgreSQL)")
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
            if os.environ.get("CI"):
                pytest.exit(message, returncode=3)
            config._cobro_pg_skip = message  # noqa: SLF001


def pytest_runtest_setup(item):
    message = getattr(item.config, "_cobro_pg_skip", None)
    if message:
        pytest.skip(message)


@pytest.fixture(autouse=True)
def _spanish_by_default():
    """Each test starts in Cobro's default language, whatever language the previous test left active
    in this thread (views and services activate the user's or the customer's language)."""
    from django.utils import translation

    translation.activate("es")
    yield
    translation.deactivate()
