"""Run by tests/integration/test_replica.py in a subprocess whose COBRO_DATABASE_URL is a throwaway
primary and COBRO_DATABASE_REPLICA_URL its streaming replica.

``seed AMOUNT``: the organization, its admin and one customer (first call), and one invoice of AMOUNT
pesos, written through the ledger's services. ``dashboard``: the admin opens the Dashboard; prints a
JSON line with the SELECTs each database answered, the open book the page shows and the lag note.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from cobro.ledger import services as ledger  # noqa: E402
from cobro.ledger.models import Membership, Organization  # noqa: E402

DAY = dt.date(2026, 3, 10)


def seed(amount: int) -> None:
    org, _ = Organization.objects.get_or_create(slug="acme", defaults={"name": "Acme", "currency": "CLP",
                                                                       "timezone": "America/Santiago"})
    user, made = get_user_model().objects.get_or_create(username="ana", defaults={"email": "ana@acme.cl"})
    if made:
        Membership.objects.create(organization=org, user=user, role="admin")
    customer, _ = ledger.get_or_create_customer(org, "C1", "Ferretería Los Andes")
    ledger.add_invoice(org, customer, f"F-{amount}", DAY - dt.timedelta(days=40), DAY - dt.timedelta(days=10),
                       "CLP", amount)


def dashboard() -> None:
    setup_test_environment()  # the test client's host name
    selects = {"default": 0, "replica": 0}

    def counter(alias):
        def wrapper(execute, sql, params, many, context):
            if sql.lstrip().upper().startswith("SELECT"):
                selects[alias] += 1
            return execute(sql, params, many, context)
        return wrapper

    client = Client()
    client.force_login(get_user_model().objects.get(username="ana"))
    with connections["default"].execute_wrapper(counter("default")), \
            connections["replica"].execute_wrapper(counter("replica")):
        page = client.get("/insights/", {"start": "2026-03-01", "end": DAY.isoformat()})
    html = page.content.decode()
    note = re.search(r"<p[^>]*data-replica-lag>([^<]*)</p>", html)
    amounts = sorted(set(re.findall(r"\$\s?[\d.]+", html)), key=lambda a: -int(re.sub(r"\D", "", a)))
    print(json.dumps({"status": page.status_code, "selects": selects, "largest_amount": amounts[0] if amounts else "",
                      "note": note.group(1).strip() if note else ""}))


if __name__ == "__main__":
    if sys.argv[1] == "seed":
        seed(int(sys.argv[2]))
    else:
        dashboard()
