"""Two workers in two real processes, each with its own database connection, claim from one outbox
at the same moment: every row is claimed exactly once, by one of them.

The in-process test (test_messaging_outbox.py) claims twice on one connection, one after the other;
this one races the claim itself (``outbox.claim``: SKIP LOCKED on PostgreSQL, an IMMEDIATE
transaction on SQLite, the conditional ``queued`` → ``sending`` update on both). It runs on the
database of the pass: SQLite (a file shared by the processes) and PostgreSQL (-m dbtest).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from subprocess_db import run, subprocess_env

WORKER = str(Path(__file__).parent / "send_worker.py")
TOTAL, BATCH, WORKERS = 150, 2, 2


@pytest.mark.dbtest
def test_two_worker_processes_never_claim_the_same_row(tmp_path, request):
    env = subprocess_env(tmp_path, "claim", request.addfinalizer)
    run(env, "-m", "cobro", "migrate", "--noinput", "-v0")
    run(env, WORKER, "build", str(TOTAL))
    folder = tmp_path / "signals"
    folder.mkdir()
    names = [f"w{i}" for i in range(WORKERS)]
    workers = [subprocess.Popen([sys.executable, WORKER, "claim", str(BATCH), str(folder), name], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for name in names]
    for w in workers:
        request.addfinalizer(lambda w=w: w.poll() is None and w.kill())
    deadline = time.monotonic() + 120
    while not all((folder / f"{name}.ready").exists() for name in names):
        assert time.monotonic() < deadline, [w.communicate(timeout=5) for w in workers if w.poll() is not None]
        time.sleep(0.02)
    (folder / "go").touch()  # both are connected and waiting: they start claiming together
    taken = {}
    for name, w in zip(names, workers, strict=True):
        out, err = w.communicate(timeout=120)
        assert w.returncode == 0, f"{name} exited {w.returncode}:\n{err}"
        taken[name] = json.loads(out)

    everything = [key for keys in taken.values() for key in keys]
    counts = Counter(everything)
    assert [k for k, n in counts.items() if n > 1] == []  # no row went to both workers
    assert set(counts) == {f"m{i}" for i in range(TOTAL)}  # and none was left behind
    # Both really raced: each took a share (one worker finishing before the other began proves nothing).
    assert all(taken[name] for name in names), {name: len(keys) for name, keys in taken.items()}
    # The database agrees: each row is claimed once (one attempt), by one claim token.
    rows = json.loads(run(env, WORKER, "dump").stdout)["messages"]
    assert {k: (r["status"], r["attempts"]) for k, r in rows.items()} == {
        f"m{i}": ("sending", 1) for i in range(TOTAL)}
    tokens = {name: {rows[k]["claim"] for k in keys} for name, keys in taken.items()}
    assert not set.intersection(*tokens.values())  # no claim token shared between the workers
