"""A small book for messaging tests: an organization per role, customers with contacts and invoices."""

from __future__ import annotations

import datetime as dt
import json
import socket

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from cobro.ledger.models import Contact, Customer, Membership, Organization
from cobro.ledger.services import add_invoice
from cobro.messaging import services
from cobro.messaging.models import Message


@pytest.fixture
def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (yet)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_user(username, org=None, role=None):
    user = get_user_model().objects.create_user(username=username, password="pw-123-xyz")
    if org is not None:
        Membership.objects.create(user=user, organization=org, role=role)
    return user


@pytest.fixture
def book(db):
    today = dt.date(2026, 3, 10)
    org = Organization.objects.create(slug="acme", name="Acme SpA", country="CL", currency="CLP",
                                      tax_id="76.123.456-7", email="cobranza@acme.cl", phone="+56 2 2345 6789",
                                      options={"transfer_instructions": "Banco Estado, cuenta 123-456"})
    other = Organization.objects.create(slug="otra", name="Otra Ltda", country="CL", currency="CLP")
    ns = type("Book", (), {})()
    ns.org, ns.other, ns.today = org, other, today
    ns.manager = make_user("mario", org, "manager")
    ns.agent = make_user("agustina", org, "agent")
    ns.viewer = make_user("vera", org, "viewer")
    ns.outsider = make_user("oscar", other, "admin")
    ns.es = Customer.objects.create(organization=org, ref="C1", name="Ferretería Los Andes", country="CL",
                                    language="es", timezone="America/Santiago", preferred_channel="email")
    Contact.objects.create(organization=org, customer=ns.es, name="Rosa Díaz", email="rosa@andes.cl",
                           phone="+56911111111", whatsapp="+56911111111")
    ns.en = Customer.objects.create(organization=org, ref="C2", name="Harbor Supplies", country="US",
                                    language="en", timezone="America/New_York", preferred_channel="sms")
    Contact.objects.create(organization=org, customer=ns.en, name="John Smith", email="john@harbor.us",
                           phone="+12025550143")
    ns.pt = Customer.objects.create(organization=org, ref="C3", name="Padaria Sol", country="BR",
                                    language="pt-BR", timezone="America/Sao_Paulo", preferred_channel="whatsapp")
    Contact.objects.create(organization=org, customer=ns.pt, name="Ana Souza", email="ana@sol.com.br",
                           whatsapp="+5511988887777")
    ns.inv = {
        "es1": add_invoice(org, ns.es, "F-101", today - dt.timedelta(days=40), today - dt.timedelta(days=10),
                           "CLP", 1_234_567),
        "es2": add_invoice(org, ns.es, "F-102", today - dt.timedelta(days=20), today + dt.timedelta(days=3),
                           "EUR", 123_456),
        "en1": add_invoice(org, ns.en, "INV-7", today - dt.timedelta(days=30), today - dt.timedelta(days=7),
                           "USD", 250_000),
        "pt1": add_invoice(org, ns.pt, "NF-9", today - dt.timedelta(days=30), today, "BRL", 98_765),
    }
    ns.secret = Customer.objects.create(organization=other, ref="X1", name="Cliente Secreto", country="CL",
                                        timezone="America/Santiago")
    services.install_default_templates(org)
    return ns


def _queue(org, customer, template, channel, invoices=(), key=None, at=None, data=None):
    at = at or timezone.now()
    return Message.objects.create(organization=org, customer=customer,
                                  key=key or f"t:{customer.pk}:{template}:{channel}", template=template,
                                  channel=channel, invoice_ids=[i.pk for i in invoices], scheduled_for=at,
                                  next_attempt_at=at, data=data or {})


@pytest.fixture
def queue():
    """queue(org, customer, template, channel, invoices=(), key=None, at=None, data=None) -> Message"""
    return _queue


class FakeProvider:
    """A local HTTP server on 127.0.0.1 that speaks a provider's API as documented.

    ``replies`` is a list of (status, json_body, headers) answered in order (the last one repeats);
    every request is kept in ``requests`` as (method, path, headers, body bytes).
    """

    def __init__(self, responder):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        provider = self
        self.requests: list[tuple[str, str, dict, bytes]] = []
        self.responder = responder

        class Handler(BaseHTTPRequestHandler):
            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                provider.requests.append((self.command, self.path, dict(self.headers), body))
                status, payload, headers = provider.responder(self.command, self.path, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _handle

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_provider():
    servers = []

    def start(responder):
        srv = FakeProvider(responder)
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        srv.close()
