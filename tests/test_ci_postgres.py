"""An unreachable PostgreSQL fails the run under CI and skips its tests, with a clear message, elsewhere
(tests/conftest.py). CI means the variable CI set to anything but "", "0" or "false"."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from ci_env import in_ci

TESTS = Path(__file__).resolve().parent
#: One test that needs the database and one that does not (both fast).
DB_TEST = "dunning/test_cycle.py::test_dry_run_writes_nothing"
PLAIN_TEST = "engine/test_money.py::test_exponents_follow_iso"
MONEY_TESTS = 1


@pytest.mark.parametrize(("value", "expected"), [
    (None, False), ("", False), ("0", False), ("false", False), ("False", False), (" FALSE ", False),
    ("true", True), ("1", True), ("yes", True), ("github", True), ("TRUE", True),
])
def test_what_counts_as_ci(value, expected):
    assert in_ci({} if value is None else {"CI": value}) is expected


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once the socket is closed


def _pytest(ci: str | None, *targets: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "CI"))}
    env["COBRO_DATABASE_URL"] = f"postgres://postgres@127.0.0.1:{_closed_port()}/cobro"
    if ci is not None:
        env["CI"] = ci
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rs", "-p", "no:xdist",
                           *targets], cwd=TESTS.parent, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("ci", ["true"])
def test_under_ci_an_unreachable_postgresql_fails_the_run(ci):
    done = _pytest(ci, f"tests/{DB_TEST}")
    out = done.stdout + done.stderr
    assert done.returncode == 3, out
    assert "is unreachable" in out and f"Under CI (CI={ci!r}) this fails the run." in out
    assert "skipped" not in out and " passed" not in out


@pytest.mark.parametrize("ci", [None, "false"])
def test_elsewhere_its_tests_skip_saying_why(ci):
    done = _pytest(ci, f"tests/{DB_TEST}", f"tests/{PLAIN_TEST}")
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "SKIPPED [1]" in out and "is unreachable" in out and "its integration tests cannot run." in out
    # Only the database test; the others ran and passed.
    assert out.rstrip().splitlines()[-1].startswith(f"{MONEY_TESTS} passed, 1 skipped in "), out
