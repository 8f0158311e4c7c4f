"""Kill the sending loop with SIGKILL while the SMTP server holds a message, restart it, count every e-mail.

The outbox is at most once (src/cobro/messaging/outbox.py, docs/channels.md "When a worker dies"):
no e-mail may reach the server twice; every message that was not claimed when the worker died goes
out exactly once after the restart; the claimed ones that had not been marked sent (the one in
flight among them) are never sent again, and once their lease runs out each is failed with a task
for a person to check. Real subprocesses (`cobro outbox deliver`), a real SMTP server on loopback.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from email import message_from_bytes
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from subprocess_db import run, subprocess_env

WORKER = str(Path(__file__).parent / "send_worker.py")
TOTAL, BATCH, HOLD = 9, 3, 3  # the server holds the 3rd e-mail it receives until the worker is dead


class Server:
    """Keeps every e-mail whose data it received completely (what a recipient would get), by recipient.

    The ``HOLD``-th one is kept but not answered until ``release`` is set: the worker is killed while
    it waits for the "250 OK" of a message the server already has.
    """

    def __init__(self):
        self.received: list[str] = []
        self.lock = threading.Lock()
        self.holding, self.release = threading.Event(), threading.Event()

    async def handle_DATA(self, server, session, envelope):
        mail = message_from_bytes(envelope.content)
        with self.lock:
            self.received.append(envelope.rcpt_tos[0])
            hold = len(self.received) == HOLD
        assert "X-Cobro-Message" in mail
        if hold:
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
        return "250 OK"


def address(key: str) -> str:
    """send_worker.py's debtor of message ``m<i>`` is d<i>@example.com."""
    return f"d{key[1:]}@example.com"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.dbtest
def test_a_worker_killed_mid_delivery_sends_no_email_twice(tmp_path, request):
    server, port = Server(), _port()
    smtp = Controller(server, hostname="127.0.0.1", port=port)
    smtp.start()
    request.addfinalizer(smtp.stop)
    env = subprocess_env(tmp_path, "send", request.addfinalizer, COBRO_EMAIL_HOST="127.0.0.1",
                         COBRO_EMAIL_PORT=str(port), COBRO_EMAIL_USE_TLS="false", COBRO_EMAIL_ENABLED="true",
                         COBRO_EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend")
    run(env, "-m", "cobro", "migrate", "--noinput", "-v0")
    run(env, WORKER, "build", str(TOTAL))

    def state() -> dict:
        return json.loads(run(env, WORKER, "dump").stdout)

    worker = subprocess.Popen([sys.executable, "-m", "cobro", "outbox", "deliver", "--batch", str(BATCH),
                               "--interval", "0.2"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    request.addfinalizer(lambda: worker.poll() is None and worker.kill())
    assert server.holding.wait(120), worker.stderr.read1().decode() if worker.poll() is not None else "no e-mail"
    time.sleep(0.5)  # the e-mails answered before the held one get their "sent" committed (or not: both are fine)
    worker.send_signal(signal.SIGKILL)
    worker.wait(30)
    server.release.set()

    at_kill = state()["messages"]
    held = server.received[HOLD - 1]
    in_flight = {k for k, m in at_kill.items() if m["status"] == "sending"}
    assert in_flight and len(in_flight) <= BATCH  # at most one claimed batch
    assert held in {address(k) for k in in_flight}  # the server has it, the worker never heard
    not_claimed = {k for k, m in at_kill.items() if m["status"] == "queued"}
    assert not_claimed, "the kill came after every message was claimed: the test proves nothing"

    # Restarted: everything not claimed goes out; the claimed rows wait for their lease (10 minutes).
    run(env, "-m", "cobro", "outbox", "deliver", "--once", "--batch", str(BATCH))
    after = state()["messages"]
    assert {k for k, m in after.items() if m["status"] == "sending"} == in_flight
    # Later, past the lease: the claimed rows are failed with a task each, and not sent again.
    run(env, WORKER, "later", "660", "outbox", "deliver", "--once")
    final = state()

    counts = Counter(server.received)
    assert max(counts.values()) == 1, counts  # no e-mail twice, the held one included
    sent = {k for k, m in final["messages"].items() if m["status"] == "sent"}
    failed = {k for k, m in final["messages"].items() if m["status"] == "failed"}
    assert sent | failed == set(final["messages"]) and failed == in_flight
    assert not_claimed <= sent and sorted(final["tasks"]) == sorted(failed)
    assert {address(k) for k in sent} <= set(counts)  # each one marked sent is on the server, once
    assert set(counts) <= {address(k) for k in sent | failed}  # and nothing else is there
    assert counts[held] == 1 and all("worker stopped while sending" in final["messages"][k]["error"] for k in failed)
