"""Tenancy on every endpoint: another organization holds one of everything the API serves, and a key of
ours probes each operation of the published schema with their references. Each answer is 404 (or, for a
write naming their rows, 422 "unknown"), never 403 and never a byte of their data; nothing of theirs
changes. An operation added without a probe here fails the test."""

import datetime as dt
import json
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from cobro.agreements import services as agreements
from cobro.agreements.models import Dispute, Plan, Promise
from cobro.api import webhooks
from cobro.api.models import WebhookDelivery, WebhookEndpoint
from cobro.dunning.models import Action
from cobro.ledger import services as ledger
from cobro.ledger.models import Contact, CreditNote, Customer, Invoice, Payment, TimelineEvent
from cobro.messaging.models import Message
from cobro.payments import services as statements
from cobro.payments.models import Statement, StatementLine

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parents[1] / "fixtures"
NOW = dt.datetime(2026, 3, 4, 15, 0, tzinfo=dt.UTC)
#: Words only the other organization's rows contain: no answer to our key may carry one.
SECRETS = (b"SECRET-1", b"Secreto", b"OTRA-9", b"NC-SECRETA", b"PAG-SECRETO", b"secreto.example",
           b"CTA-OTRA", b"BANCO SECRETO")


@pytest.fixture
def theirs(other):
    """One of everything in the other organization, through the owning apps' services."""
    with time_machine.travel(NOW, tick=False):  # the whole test runs on this day
        customer = Customer.objects.get(organization=other, ref="SECRET-1")
        invoice = Invoice.objects.get(organization=other, ref="OTRA-9")
        ledger.add_invoice(other, customer, "OTRA-10", dt.date(2026, 1, 5), dt.date(2026, 2, 4), "COP", 100000000)
        ledger.add_credit_note(other, invoice, "NC-SECRETA", dt.date(2026, 2, 1), 100000, "ajuste")
        ledger.apply_payment(other, customer, "PAG-SECRETO", dt.date(2026, 2, 10), 500000, "COP", "transfer",
                             invoice=invoice)
        promise = agreements.create_promise(other, customer, dt.date(2026, 3, 20), 1000000, "COP", [invoice])
        plan = agreements.create_plan(other, customer, [Invoice.objects.get(organization=other, ref="OTRA-10")], 3,
                               "monthly", dt.date(2026, 3, 10))
        reason = agreements.dispute_reasons(other)[0].code
        dispute = agreements.open_dispute(other, invoice, reason, "Secreto: no recibimos la mercadería")
        action = Action.objects.create(organization=other, customer=customer, key="secreto-1", as_of=NOW.date(),
                                       step="d+7", action="send", channel="email", invoice_refs=["OTRA-9"],
                                       scheduled_for=NOW)
        message = Message.objects.create(organization=other, customer=customer, key="secreto-1", channel="email",
                                         to="secreto@example.co", subject="Secreto", body_text="Secreto",
                                         scheduled_for=NOW, next_attempt_at=NOW)
        endpoint = webhooks.create_endpoint(other, "http://127.0.0.1:9/secreto.example", [])
        webhooks.pump(other)
        statements.import_statement(other, b"fecha;glosa;abono\n02/03/2026;BANCO SECRETO PAGO;70.000\n",
                                    account="CTA-OTRA", filename="secreto.csv", as_of=NOW.date())
        delivery = WebhookDelivery.objects.filter(organization=other).first()
        assert delivery is not None, "the pump made no delivery to probe"
        yield {"promise": promise.pk, "plan": plan.pk, "dispute": dispute.pk, "endpoint": endpoint.pk, "delivery": delivery.pk, "action": action.pk,
                "message": message.pk, "statement": Statement.objects.get(organization=other).pk}


def snapshot(org):
    """Everything of theirs a probe could change."""
    rows = [(m.__name__, sorted(json.dumps(v, default=str) for v in m.objects.filter(organization=org).values()))
            for m in (Customer, Contact, Invoice, CreditNote, Payment, Promise, Plan, Dispute, Action, Message,
                      WebhookEndpoint, Statement, StatementLine)]
    deliveries = sorted(WebhookDelivery.objects.filter(organization=org).values_list("pk", "status", "attempts"))
    return rows, deliveries, TimelineEvent.objects.filter(organization=org).count()


INVOICE = {"customer_ref": "SECRET-1", "issue_date": "2026-03-01", "due_date": "2026-03-31", "currency": "CLP",
           "amount": "1000"}


def probes(t):
    """(method, path, body, statuses allowed): their ids in the path, their refs in the body."""
    d, e, dl, s = t["dispute"], t["endpoint"], t["delivery"], t["statement"]
    not_found, unknown = {404}, {422}
    return {
        ("GET", "/customers"): ("get", "/customers", None, {200}),
        ("GET", "/customers/{ref}"): ("get", "/customers/SECRET-1", None, not_found),
        ("GET", "/customers/{ref}/contacts"): ("get", "/customers/SECRET-1/contacts", None, not_found),
        ("POST", "/customers/{ref}/contacts"): ("post", "/customers/SECRET-1/contacts",
                                                 {"email": "x@example.cl"}, not_found),
        ("GET", "/customers/{ref}/portal-link"): ("get", "/customers/SECRET-1/portal-link", None, not_found),
        ("GET", "/invoices"): ("get", "/invoices", None, {200}),
        ("POST", "/invoices"): ("post", "/invoices", {"ref": "OTRA-9", **INVOICE, "customer_ref": "SECRET-1"},
                                unknown),
        ("GET", "/invoices/{ref}"): ("get", "/invoices/OTRA-9", None, not_found),
        ("PUT", "/invoices/{ref}"): ("put", "/invoices/OTRA-9", {**INVOICE, "customer_ref": "SECRET-1"}, unknown),
        ("GET", "/credit-notes"): ("get", "/credit-notes", None, {200}),
        ("POST", "/credit-notes"): ("post", "/credit-notes", {"ref": "NC-SECRETA", "invoice_ref": "OTRA-9",
                                                              "date": "2026-03-01", "amount": "1"}, unknown),
        ("GET", "/payments"): ("get", "/payments", None, {200}),
        ("POST", "/payments"): ("post", "/payments", {"ref": "PAG-SECRETO", "customer_ref": "SECRET-1",
                                                      "date": "2026-03-01", "currency": "COP", "amount": "1"},
                                unknown),
        ("GET", "/payments/{ref}"): ("get", "/payments/PAG-SECRETO", None, not_found),
        ("GET", "/promises"): ("get", "/promises", None, {200}),
        ("POST", "/promises"): ("post", "/promises", {"customer_ref": "SECRET-1", "promised_date": "2026-03-20",
                                                      "amount": "1", "currency": "COP"}, unknown),
        ("GET", "/promises/{promise_id}"): ("get", f"/promises/{t['promise']}", None, not_found),
        ("POST", "/promises/{promise_id}/cancel"): ("post", f"/promises/{t['promise']}/cancel", {}, not_found),
        ("GET", "/plans/{plan_id}"): ("get", f"/plans/{t['plan']}", None, not_found),
        ("POST", "/plans/{plan_id}/cancel"): ("post", f"/plans/{t['plan']}/cancel", {}, not_found),
        ("GET", "/disputes/{dispute_id}"): ("get", f"/disputes/{d}", None, not_found),
        ("GET", "/plans"): ("get", "/plans", None, {200}),
        ("POST", "/plans"): ("post", "/plans", {"customer_ref": "SECRET-1", "count": 3}, unknown),
        ("GET", "/disputes"): ("get", "/disputes", None, {200}),
        ("POST", "/disputes"): ("post", "/disputes", {"invoice_ref": "OTRA-9", "reason": "monto"}, unknown),
        ("POST", "/disputes/{dispute_id}/resolve"): ("post", f"/disputes/{d}/resolve",
                                                     {"valid": True, "resolution": "x"}, not_found),
        ("GET", "/actions"): ("get", "/actions", None, {200}),
        ("GET", "/messages"): ("get", "/messages", None, {200}),
        ("GET", "/events"): ("get", "/events", None, {200}),
        ("POST", "/einvoices"): ("upload", "/einvoices", ("files", FIXTURES / "einvoice" / "dte-envio.xml"),
                                 unknown),  # issued by another company than ours: refused
        ("GET", "/webhooks"): ("get", "/webhooks", None, {200}),
        ("GET", "/webhooks/{endpoint_id}"): ("get", f"/webhooks/{e}", None, not_found),
        ("PATCH", "/webhooks/{endpoint_id}"): ("patch", f"/webhooks/{e}", {"active": False}, not_found),
        ("DELETE", "/webhooks/{endpoint_id}"): ("delete", f"/webhooks/{e}", None, not_found),
        ("GET", "/webhooks/{endpoint_id}/deliveries"): ("get", f"/webhooks/{e}/deliveries", None, not_found),
        ("POST", "/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver"): (
            "post", f"/webhooks/{e}/deliveries/{dl}/redeliver", None, not_found),
        ("GET", "/statements"): ("get", "/statements", None, {200}),
        ("GET", "/statements/{statement_id}"): ("get", f"/statements/{s}", None, not_found),
        ("GET", "/statements/{statement_id}/lines"): ("get", f"/statements/{s}/lines", None, not_found),
        ("GET", "/statement-lines"): ("get", "/statement-lines", None, {200}),
    }


#: Writes that make a row of our own under a reference they also use: run after every other probe (then
#: the reference is ours), and their answers echo our row, so only their data (not the words) must stay out.
OWN_ROWS = {
    ("POST", "/customers"): ("post", "/customers", {"ref": "SECRET-1", "name": "Mine"}, {201}),
    ("PUT", "/customers/{ref}"): ("put", "/customers/SECRET-1", {"name": "Mine too"}, {200}),
    ("POST", "/webhooks"): ("post", "/webhooks", {"url": "http://127.0.0.1:9/secreto.example"}, {201}),
    ("POST", "/statements"): ("upload", "/statements?account=CTA-OTRA",
                              ("file", FIXTURES / "statements" / "cartola_cl.csv"), {200}),
}


def call(api, method, path, body):
    if method == "get":
        return api.client.get(f"/api/v1{path}", **api._headers(None))
    if method == "delete":
        return api.client.delete(f"/api/v1{path}", **api._headers(None))
    if method == "upload":
        field, file = body
        return api.client.post(f"/api/v1{path}", {field: SimpleUploadedFile(file.name, file.read_bytes())},
                               **api._headers(None))
    return api.send(method, path, body)


def test_every_operation_keeps_to_its_own_organization(org, writer, other_writer, other, theirs):
    org.tax_id = "77123456-9"  # not the issuer of the DTE fixture: its upload must be refused
    org.save(update_fields=["tax_id"])
    with time_machine.travel(NOW, tick=False):
        schema = writer.get("/openapi.json").json()
        operations = {(m.upper(), p.removeprefix("/api/v1")) for p, ops in schema["paths"].items() for m in ops}
        table = probes(theirs)
        probed = set(table) | set(OWN_ROWS)
        assert operations == probed, f"operations without a tenancy probe: {sorted(operations - probed)}"
        # They can see their own rows: each probe below would find them if tenancy were broken.
        assert other_writer.get("/customers/SECRET-1").status_code == 200
        for listing in ("/promises", "/plans", "/disputes", "/actions", "/messages", "/events", "/credit-notes",
                        "/payments", "/webhooks", "/statements", "/statement-lines"):
            assert other_writer.get(listing).json()["items"], listing
        before = snapshot(other)
        for operation, (method, path, body, allowed) in sorted(table.items()):
            answer = call(writer, method, path, body)
            assert answer.status_code in allowed, (operation, answer.status_code, answer.content[:300])
            asked = f"{path} {json.dumps(body, default=str)}".encode()  # a 404 may name what was asked for
            leaked = [word for word in SECRETS if word in answer.content and word not in asked]
            assert not leaked, (operation, leaked)
            if method == "get" and answer.status_code == 200:
                assert answer.json()["items"] == [], operation  # we have nothing yet: all we see is theirs
        for operation, (method, path, body, allowed) in OWN_ROWS.items():
            answer = call(writer, method, path, body)
            assert answer.status_code in allowed, (operation, answer.status_code, answer.content[:300])
            assert b"Secreto" not in answer.content and b"BANCO SECRETO" not in answer.content, operation
        assert snapshot(other) == before
    # What our writes made is ours: a customer SECRET-1, a webhook and a bank account CTA-OTRA of our own.
    assert Customer.objects.get(organization=org, ref="SECRET-1").name == "Mine too"
    assert WebhookEndpoint.objects.filter(organization=org).count() == 1
    assert Statement.objects.get(organization=org).account.organization_id == org.pk
