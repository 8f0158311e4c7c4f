"""Run by the delivery crash test in real subprocesses, on a database of their own.

    python send_worker.py build N                   # an organization with N e-mails queued, one per debtor
    python send_worker.py dump                      # each message's status, and the tasks, as JSON
    python send_worker.py later SECONDS ARGS...     # the `cobro` command ARGS with the clock moved on
    python send_worker.py claim BATCH DIR NAME      # claim batches until none is left; print the keys taken
"""

import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cobro.settings")
import django  # noqa: E402

django.setup()

from django.utils import timezone  # noqa: E402

from cobro.ledger.models import Contact, Customer, Organization, Task  # noqa: E402
from cobro.ledger.services import add_invoice  # noqa: E402
from cobro.messaging import services  # noqa: E402
from cobro.messaging.models import Message  # noqa: E402

DUE = dt.date(2026, 2, 27)


def build(n: int) -> None:
    org = Organization.objects.create(slug="envios", name="Envíos SpA", country="CL", currency="CLP",
                                      tax_id="76.123.456-7", email="cobranza@envios.cl", phone="+56 2 2345 6789",
                                      options={"transfer_instructions": "Banco Estado, cuenta 123-456"})
    services.install_default_templates(org)
    now = timezone.now()
    for i in range(n):
        customer = Customer.objects.create(organization=org, ref=f"D{i}", name=f"Deudor {i}", country="CL",
                                           language="es", timezone="America/Santiago", preferred_channel="email")
        Contact.objects.create(organization=org, customer=customer, name=f"Persona {i}", email=f"d{i}@example.com")
        invoice = add_invoice(org, customer, f"F-{i}", DUE - dt.timedelta(days=30), DUE, "CLP", 10_000 + i)
        Message.objects.create(organization=org, customer=customer, key=f"m{i}", template="overdue_friendly",
                               channel="email", invoice_ids=[invoice.pk], scheduled_for=now, next_attempt_at=now)


def dump() -> None:
    messages = {m.key: {"status": m.status, "to": m.to, "error": m.last_error, "attempts": m.attempts,
                        "claim": m.claim}
                for m in Message.objects.filter(organization__slug="envios")}
    keys = dict(Message.objects.filter(organization__slug="envios").values_list("pk", "key"))
    tasks = sorted(keys[t.data["message_id"]] for t in Task.objects.filter(organization__slug="envios",
                                                                           kind="message_failed"))
    print(json.dumps({"messages": messages, "tasks": tasks}))


def later(seconds: float, args: list[str]) -> None:
    import time_machine
    from django.core.management import execute_from_command_line

    with time_machine.travel(timezone.now() + dt.timedelta(seconds=seconds), tick=True):
        execute_from_command_line(["cobro", *args])


def claim(batch: int, folder: Path, name: str) -> None:
    """One claiming worker: says it is ready (``DIR/NAME.ready``), waits for ``DIR/go`` so that the
    workers start together, then claims ``BATCH`` rows at a time until nothing is due, and prints
    every claimed key, in order, as a JSON list. Nothing is sent: only the claim is under test."""
    from django.db import connection

    from cobro.messaging import outbox

    connection.ensure_connection()  # connected before the start, so both begin claiming at once
    (folder / f"{name}.ready").touch()
    deadline = time.monotonic() + 60
    while not (folder / "go").exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"{name}: no start signal ({folder / 'go'}) within 60 s")
        time.sleep(0.005)
    keys: list[str] = []
    while claimed := outbox.claim(limit=batch):
        keys.extend(m.key for m in claimed)
    print(json.dumps(keys))


if __name__ == "__main__":
    if sys.argv[1] == "build":
        build(int(sys.argv[2]))
    elif sys.argv[1] == "dump":
        dump()
    elif sys.argv[1] == "claim":
        claim(int(sys.argv[2]), Path(sys.argv[3]), sys.argv[4])
    else:
        later(float(sys.argv[2]), sys.argv[3:])
