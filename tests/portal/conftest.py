"""Two organizations with customers, contacts and invoices, and the clock on 2026-03-10 (Santiago)."""

from __future__ import annotations

import datetime as dt
import socket

import pytest
import time_machine

from cobro.ledger.models import Contact, Customer, Organization
from cobro.ledger.services import add_invoice
from cobro.portal.access import portal_url

TODAY = dt.date(2026, 3, 10)


@pytest.fixture
def clock():
    with time_machine.travel(dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC), tick=False) as traveller:
        yield traveller


@pytest.fixture
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def book(db, clock, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    org = Organization.objects.create(slug="acme", name="Acme SpA", country="CL", currency="CLP",
                                      email="cobranza@acme.cl",
                                      options={"transfer_instructions": "Banco Estado, cuenta 123-456",
                                               "promise_max_days": 15,
                                               "plan_limits": {"max_instalments": 6, "min_down_percent": "10"}})
    other = Organization.objects.create(slug="otra", name="Otra Ltda", country="CL", currency="CLP")
    ns = type("Book", (), {})()
    ns.org, ns.other = org, other
    ns.es = Customer.objects.create(organization=org, ref="C1", name="Ferretería Los Andes", country="CL",
                                    tax_id="76.086.428-5", language="es", timezone="America/Santiago")
    Contact.objects.create(organization=org, customer=ns.es, name="Rosa Díaz", email="rosa@andes.cl")
    ns.en = Customer.objects.create(organization=org, ref="C2", name="Harbor Supplies", country="US",
                                    language="en", timezone="America/New_York")
    ns.secret = Customer.objects.create(organization=other, ref="C1", name="Cliente Secreto", country="CL",
                                        timezone="America/Santiago")
    d = dt.timedelta
    ns.inv = {
        "a": add_invoice(org, ns.es, "F-101", TODAY - d(days=40), TODAY - d(days=10), "CLP", 1_200_000),
        "b": add_invoice(org, ns.es, "F-102", TODAY - d(days=20), TODAY + d(days=3), "CLP", 300_000),
        "c": add_invoice(org, ns.es, "F-103", TODAY - d(days=60), TODAY - d(days=30), "CLP", 90_000),
        "en": add_invoice(org, ns.en, "INV-7", TODAY - d(days=30), TODAY - d(days=7), "USD", 250_000),
        "x": add_invoice(other, ns.secret, "S-999", TODAY - d(days=30), TODAY - d(days=7), "CLP", 777_777),
    }
    ns.path = lambda customer, days=None: portal_url(customer, days).removeprefix(settings.COBRO_BASE_URL)
    return ns
