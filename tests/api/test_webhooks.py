"""Outgoing webhooks against a real HTTP receiver on loopback, verified with the standardwebhooks
package's own verifier; retries travel in time with time-machine."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.core.management import call_command
from django.test import TestCase, override_settings
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from cobro.api import webhooks
from cobro.api.models import WebhookDelivery, WebhookEndpoint
from cobro.ledger import services as ledger
from cobro.ledger.models import Customer

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 11, 2, 12, 0, tzinfo=dt.UTC)


class Receiver:
    """An ERP's webhook URL: verifies each call, answers 200 (or 503 while ``down``)."""

    def __init__(self):
        self.calls, self.down, self.secret = [], False, None
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                headers = {k.lower(): v for k, v in self.headers.items()}
                verified = None
                try:
                    # The package checks the timestamp against the real clock; the test travels in
                    # time, so it verifies against the delivery's own timestamp.
                    wh = Webhook(outer.secret)
                    ts = dt.datetime.fromtimestamp(int(headers["webhook-timestamp"]), dt.UTC)
                    expected = wh.sign(headers["webhook-id"], ts, body).split(",", 1)[1]
                    verified = expected in [s.split(",", 1)[1] for s in headers["webhook-signature"].split()]
                except Exception:  # noqa: BLE001 - a bad signature is recorded, not raised
                    verified = False
                outer.calls.append({"id": headers["webhook-id"], "body": json.loads(body), "verified": verified,
                                    "down": outer.down})
                self.send_response(503 if outer.down else 200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/cobro"

    def delivered(self):
        return [c for c in self.calls if not c["down"]]


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()


@pytest.fixture
def endpoint(org, receiver):
    e = webhooks.create_endpoint(org, receiver.url, [])
    receiver.secret = e.secret
    return e


def pay(org, ref="P-1", amount=450000, when=dt.date(2026, 11, 2)):
    customer = Customer.objects.for_org(org).filter(ref="C-1").first()
    if customer is None:
        customer, _ = ledger.get_or_create_customer(org, "C-1", "Ferretería Andina")
        ledger.add_invoice(org, customer, "F-1", dt.date(2026, 10, 1), dt.date(2026, 10, 31), "CLP", 450000)
    with TestCase.captureOnCommitCallbacks(execute=True):  # the ledger tells others after commit
        return ledger.apply_payment(org, customer, ref, when, amount, "CLP")


def test_payment_and_settlement_are_delivered_signed(org, endpoint, receiver):
    with time_machine.travel(T0, tick=False):
        pay(org)
        counts = webhooks.deliver_due()
    types = sorted(c["body"]["type"] for c in receiver.calls)
    assert types == ["invoice.settled", "payment.received"]
    assert all(c["verified"] for c in receiver.calls)
    payment = next(c["body"] for c in receiver.calls if c["body"]["type"] == "payment.received")
    assert payment["data"]["amount"] == "450000" and payment["data"]["customer_ref"] == "C-1"
    assert counts["delivered"] == 2
    # Nothing is sent twice on the next pass.
    with time_machine.travel(T0 + dt.timedelta(minutes=5), tick=False):
        webhooks.deliver_due()
    assert len(receiver.calls) == 2


def test_the_packages_verifier_accepts_our_signature(org, endpoint):
    body = json.dumps({"type": "x"})
    now = dt.datetime.now(dt.UTC)
    headers = webhooks.sign(endpoint, "evt_1", body, now)
    assert Webhook(endpoint.secret).verify(body, headers) == {"type": "x"}
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint.secret).verify(body + " ", headers)


def test_receiver_down_for_an_hour_gets_every_event_once_back(org, endpoint, receiver):
    receiver.down = True
    with time_machine.travel(T0, tick=False) as clock:
        pay(org, "P-1", 100000)
        pay(org, "P-2", 350000)
        for _ in range(12):  # the worker every 5 minutes for an hour
            webhooks.deliver_due()
            clock.shift(dt.timedelta(minutes=5))
        assert receiver.calls and not receiver.delivered()
        receiver.down = False
        for _ in range(30):  # and on, until the back-off's next try for each
            webhooks.deliver_due()
            clock.shift(dt.timedelta(minutes=5))
    ids = [c["id"] for c in receiver.delivered()]
    assert sorted(c["body"]["type"] for c in receiver.delivered()) == [
        "invoice.settled", "payment.received", "payment.received"]
    assert len(ids) == len(set(ids))
    assert WebhookDelivery.objects.filter(status="delivered").count() == 3
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).active


def test_a_day_of_failures_disables_and_tells_the_admins(org, endpoint, receiver, settings):
    from django.contrib.auth import get_user_model

    from cobro.ledger.models import Membership

    inbox = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            inbox.append(envelope)
            return "250 OK"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    smtp = Controller(Handler(), hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        admin = get_user_model().objects.create_user("ana", "ana@acme.cl", "pw-123-xyz")
        Membership.objects.create(user=admin, organization=org, role="admin")
        receiver.down = True
        with override_settings(EMAIL_HOST="127.0.0.1", EMAIL_PORT=port,
                               EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend"), \
                time_machine.travel(T0, tick=False) as clock:
            pay(org)
            for _ in range(30):
                webhooks.deliver_due()
                clock.shift(dt.timedelta(hours=1))
    finally:
        smtp.stop()
    endpoint.refresh_from_db()
    assert not endpoint.active and endpoint.disabled_at is not None
    tries = {}
    for call in receiver.calls:
        tries[call["id"]] = tries.get(call["id"], 0) + 1
    # The first event was tried 8 times over about 22 hours, then the endpoint went off (the other
    # event's last try never happened).
    assert sorted(tries.values()) == [len(webhooks.BACKOFF), len(webhooks.BACKOFF) + 1]
    assert inbox and "ana@acme.cl" in inbox[0].rcpt_tos
    assert endpoint.url in inbox[0].content.decode()
    assert WebhookDelivery.objects.filter(status="failed").count() == 2


def test_endpoint_wants_only_its_events(org, receiver):
    e = webhooks.create_endpoint(org, receiver.url, ["invoice.settled"])
    receiver.secret = e.secret
    with time_machine.travel(T0, tick=False):
        pay(org)
        webhooks.deliver_due()
    assert [c["body"]["type"] for c in receiver.calls] == ["invoice.settled"]


def test_api_manages_endpoints_and_redelivers(writer, org, receiver):
    created = writer.post("/webhooks", {"url": receiver.url, "events": ["payment.received"]})
    assert created.status_code == 201
    receiver.secret = created.json()["secret"]
    assert "secret" not in writer.get(f"/webhooks/{created.json()['id']}").json()
    assert writer.post("/webhooks", {"url": receiver.url, "events": ["nope"]}).status_code == 422
    endpoint_id = created.json()["id"]
    with time_machine.travel(T0, tick=False):
        pay(org)
        call_command("webhooks", "deliver")
        deliveries = writer.get(f"/webhooks/{endpoint_id}/deliveries").json()["items"]
        assert [d["status"] for d in deliveries] == ["delivered"]
        again = writer.post(f"/webhooks/{endpoint_id}/deliveries/{deliveries[0]['id']}/redeliver")
    assert again.status_code == 200 and again.json()["attempts"] == 2
    assert [c["id"] for c in receiver.calls] == [deliveries[0]["event_id"]] * 2


def test_another_organizations_endpoint_is_404(writer, other_writer, receiver):
    theirs = other_writer.post("/webhooks", {"url": receiver.url}).json()["id"]
    assert writer.get(f"/webhooks/{theirs}").status_code == 404
    assert writer.patch(f"/webhooks/{theirs}", {"active": False}).status_code == 404
    assert WebhookEndpoint.objects.get(pk=theirs).active


def test_plans_are_heard_with_exact_amounts_also_once_approved(org, endpoint, receiver):
    from django.contrib.auth import get_user_model

    from cobro.agreements import services as agreements
    from cobro.ledger.models import Membership

    usd = ledger.get_or_create_customer(org, "US-1", "Acme Inc", country="US")[0]
    first = ledger.add_invoice(org, usd, "U-1", dt.date(2026, 10, 1), dt.date(2026, 10, 31), "USD", 123456)
    second = ledger.add_invoice(org, usd, "U-2", dt.date(2026, 10, 1), dt.date(2026, 10, 31), "USD", 50001)
    manager = get_user_model().objects.create_user("marta", "marta@acme.cl", "x")
    Membership.objects.create(user=manager, organization=org, role="manager")
    with time_machine.travel(T0, tick=False):
        agreements.create_plan(org, usd, [first], 3, "monthly", dt.date(2026, 11, 10), down_payment=12346)
        outside = agreements.create_plan(org, usd, [second], 12, "monthly", dt.date(2026, 11, 10))
        assert outside.status == "proposed"
        webhooks.deliver_due()
        assert [c["body"]["type"] for c in receiver.calls] == ["plan.created"]  # the proposal is not a plan yet
        agreements.approve_plan(org, outside, manager)
        webhooks.deliver_due()
    plans = [c["body"]["data"] for c in receiver.calls]
    assert [c["body"]["type"] for c in receiver.calls] == ["plan.created", "plan.created"]
    assert all(c["verified"] for c in receiver.calls)
    assert (plans[0]["currency"], plans[0]["principal"], plans[0]["down_payment"]) == ("USD", "1234.56", "123.46")
    assert (plans[1]["plan_id"], plans[1]["principal"], plans[1]["count"]) == (outside.pk, "500.01", 12)
    assert plans[1]["customer_ref"] == "US-1"
