"""Run by the delivery crash test in real subprocesses, on a database of their own.

    python send_worker.py build N                   # an organization with N e-mails queued, one per debtor
    python send_worker.py dump                      # each message's status, and the tasks, as JSON
    python send_worker.py later SECONDS ARGS...     # the `cobro` command ARGS with the clock moved on
"""

import datetime as dt
import json
import os
import sys

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
    messages = {m.key: {"status": m.status, "to": m.to, "error": m.last_error}
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


if __name__ == "__main__":
    if sys.argv[1] == "build":
        build(int(sys.argv[2]))
    elif sys.argv[1] == "dump":
        dump()
    else:
        later(float(sys.argv[2]), sys.argv[3:])
