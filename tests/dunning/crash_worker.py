"""Run by the crash test in a real subprocess: builds a book, or runs the cycle slowly so it can be killed.

    python crash_worker.py build          # an organization with customers in several countries
    python crash_worker.py cycle SLOW     # the cycle for 2026-03-04 in small batches, sleeping SLOW s each
    python crash_worker.py dump           # the actions, tasks and outbox as JSON, to compare runs
"""

import datetime as dt
import json
import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cobro.settings")
import django  # noqa: E402

django.setup()

from cobro.dunning.cycle import run_cycle  # noqa: E402
from cobro.dunning.models import Action  # noqa: E402
from cobro.ledger.models import Organization, Task, TimelineEvent  # noqa: E402
from cobro.ledger.services import add_invoice, get_or_create_customer  # noqa: E402

AS_OF = dt.date(2026, 3, 4)
COUNTRIES = ["CL", "CO", "MX", "US", "ES", "PE"]


def build():
    org = Organization.objects.create(slug="crash", name="Crash", country="CL", currency="USD",
                                      timezone="America/Santiago")
    for n in range(80):
        country = COUNTRIES[n % len(COUNTRIES)]
        email = f"c{n}@example.com" if n % 7 else ""
        customer, _ = get_or_create_customer(org, f"K-{n}", f"Cliente {n}", country=country, email=email,
                                             phone=f"+5691{n:07d}" if n % 3 else "")
        for k in range(1 + n % 4):
            due = AS_OF - dt.timedelta(days=(n * 7 + k * 13) % 120 - 10)
            add_invoice(org, customer, f"F-{n}-{k}", due - dt.timedelta(days=30), due, "USD", 1000 + n * 10 + k)


def cycle(slow: float):
    org = Organization.objects.get(slug="crash")

    def after_batch(_n):
        # Tell the test a batch is committed (it kills us after a few), then go slowly.
        print("batch", flush=True)
        time.sleep(slow)

    run_cycle(org, AS_OF, batch_customers=3, on_batch=after_batch)


def dump():
    org = Organization.objects.get(slug="crash")
    actions = sorted([a.key, a.action, a.channel, a.step, a.invoice_ids, a.scheduled_for.isoformat(), a.status]
                     for a in Action.objects.for_org(org))
    tasks = sorted(Task.objects.for_org(org).values_list("source_key", flat=True))
    events = TimelineEvent.objects.for_org(org).count()
    from cobro.messaging.models import Message

    outbox = sorted(Message.objects.filter(organization=org).values_list("key", flat=True))
    print(json.dumps({"actions": actions, "tasks": tasks, "events": events, "outbox": outbox}))


if __name__ == "__main__":
    {"build": build, "dump": dump}.get(sys.argv[1], lambda: cycle(float(sys.argv[2])))()
