"""Kill the cycle with SIGKILL in the middle, several times, then let it finish: the result must equal
an uninterrupted run's — nothing duplicated, nothing lost. Real subprocesses on a real database."""

import json
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from subprocess_db import run as _run
from subprocess_db import subprocess_env as _env

HERE = Path(__file__).parent
WORKER = str(HERE / "crash_worker.py")


def _prepare(env):
    _run(env, "-m", "cobro", "migrate", "--noinput", "-v0")
    _run(env, WORKER, "build")


@pytest.mark.dbtest
def test_killing_the_cycle_midway_neither_duplicates_nor_loses(tmp_path, request):
    reference = _env(tmp_path, "ref", request.addfinalizer)
    crashed = _env(tmp_path, "kill", request.addfinalizer)
    _prepare(reference)
    _prepare(crashed)
    _run(reference, WORKER, "cycle", "0")
    expected = json.loads(_run(reference, WORKER, "dump").stdout)
    assert len(expected["actions"]) > 40 and expected["tasks"]

    rng = random.Random(7)
    partial = []
    for _ in range(4):
        proc = subprocess.Popen([sys.executable, WORKER, "cycle", "0.15"], env=crashed,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        # Kill it after a few committed batches, in the middle of the next one's sleep or write:
        # counted, not timed, so a slow machine cannot make every kill land before the first batch.
        for _ in range(rng.randint(1, 5)):
            if not proc.stdout.readline():
                break
        time.sleep(rng.uniform(0, 0.15))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        partial.append(len(json.loads(_run(crashed, WORKER, "dump").stdout)["actions"]))
    # The kills landed mid-run (some but not all actions written), else the test proves nothing.
    assert any(0 < n < len(expected["actions"]) for n in partial), partial
    _run(crashed, WORKER, "cycle", "0")
    got = json.loads(_run(crashed, WORKER, "dump").stdout)
    assert got == expected
    shutil.rmtree(tmp_path, ignore_errors=True)
