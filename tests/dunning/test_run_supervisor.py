"""`cobro run` (what `make run` starts): the web server and the worker as one process tree, stopped
with Ctrl-C. Real subprocesses: the server answers, the worker beats, and after SIGINT (or when one
child dies) no child is left running."""

from __future__ import annotations

import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from tests.subprocess_db import subprocess_env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    try:
        state = stat.read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2) as r:
            return r.status == 200
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except OSError:
        return False


def _beats(data_dir: Path) -> int:
    db = data_dir / "cobro.sqlite3"
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=1) as conn:
            return conn.execute("SELECT COALESCE(SUM(passes), 0) FROM dunning_workerbeat").fetchone()[0]
    except sqlite3.Error:
        return 0


def _start(tmp_path):
    env = subprocess_env(tmp_path, "run")
    env.pop("COBRO_DATABASE_URL", None)  # SQLite in the test's own folder, whatever the pass
    port = _free_port()
    log = tmp_path / "run.log"
    proc = subprocess.Popen([sys.executable, "-m", "cobro", "run", f"127.0.0.1:{port}", "--no-demo", "--every", "1",
                             "--grace", "8"], env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    pids: dict[str, int] = {}
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and proc.poll() is None:
        text = log.read_text(errors="replace")
        pids = {m[0]: int(m[1]) for m in re.findall(r"started (web|worker) \(pid (\d+)\)", text)}
        if len(pids) == 2 and _answers(port) and _beats(tmp_path / "run") >= 2:
            return proc, pids, log
        time.sleep(0.5)
    proc.kill()
    pytest.fail(f"cobro run did not come up: {log.read_text(errors='replace')[-2000:]}")


def _cleanup(proc, pids):
    import os

    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    for pid in pids.values():
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_sigint_stops_the_server_and_the_worker(tmp_path):
    proc, pids, log = _start(tmp_path)
    try:
        assert all(_alive(pid) for pid in pids.values())
        proc.send_signal(signal.SIGINT)  # to the supervisor alone: it must stop its children itself
        assert proc.wait(timeout=60) == 0, log.read_text(errors="replace")[-2000:]
        assert not [name for name, pid in pids.items() if _alive(pid)], "an orphan was left running"
        text = log.read_text(errors="replace")
        assert "SIGINT: stopping web, worker" in text and "cobro run: stopped" in text
    finally:
        _cleanup(proc, pids)


def test_a_child_that_dies_stops_the_other_and_the_exit_code_says_so(tmp_path):
    import os

    proc, pids, log = _start(tmp_path)
    try:
        os.kill(pids["worker"], signal.SIGKILL)
        assert proc.wait(timeout=60) != 0
        assert not _alive(pids["web"])
        assert "worker stopped (exit code -9): stopping the others" in log.read_text(errors="replace")
    finally:
        _cleanup(proc, pids)
