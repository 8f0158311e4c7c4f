"""The REST API through Django, on SQLite and PostgreSQL: what an ERP's nightly sync does."""


import pytest
from django.core.management import call_command
from django.test import Client, override_settings

from cobro.api.models import ApiKey
from cobro.ledger.models import Customer, Invoice, Payment

pytestmark = pytest.mark.django_db

CUSTOMER = {"ref": "C-100", "name": "Ferretería Andina SpA", "tax_id": "76.086.428-5", "country": "CL",
            "contacts": [{"email": "pagos@andina.cl", "phone": "+56912345678", "is_primary": True}]}


def sync_book(api):
    assert api.post("/customers", CUSTOMER).status_code == 201
    for ref, amount in (("F-1001", "450000"), ("F-1002", "120000")):
        answer = api.post("/invoices", {"ref": ref, "customer_ref": "C-100", "issue_date": "2026-10-01",
                                        "due_date": "2026-10-31", "currency": "CLP", "amount": amount})
        assert answer.status_code == 201, answer.content


def test_nightly_sync_creates_then_changes_nothing(writer, org):
    sync_book(writer)
    customer = Customer.objects.get(organization=org, ref="C-100")
    assert customer.tax_id == "76086428-5" or customer.tax_id.replace(".", "") == "76086428-5"
    assert customer.contacts.get().email == "pagos@andina.cl"
    assert Invoice.objects.get(organization=org, ref="F-1001").amount == 450000
    # The same night again: 200, nothing new, nothing changed.
    again = writer.post("/customers", CUSTOMER)
    assert again.status_code == 200
    assert writer.post("/invoices", {"ref": "F-1001", "customer_ref": "C-100", "issue_date": "2026-10-01",
                                     "due_date": "2026-10-31", "currency": "CLP", "amount": "450000"}
                       ).status_code == 200
    assert Customer.objects.filter(organization=org).count() == 1
    assert customer.contacts.count() == 1
    # A correction of the due date is an update.
    moved = writer.put("/invoices/F-1001", {"customer_ref": "C-100", "issue_date": "2026-10-01",
                                            "due_date": "2026-11-15", "currency": "CLP", "amount": "450000"})
    assert moved.status_code == 200 and moved.json()["due_date"] == "2026-11-15"


def test_payment_allocates_and_settles_and_money_is_exact(writer, org):
    sync_book(writer)
    paid = writer.post("/payments", {"ref": "P-1", "customer_ref": "C-100", "date": "2026-11-02",
                                     "currency": "CLP", "amount": "450000", "invoice_refs": ["F-1001"]})
    assert paid.status_code == 201, paid.content
    body = paid.json()
    assert body["allocations"] == [{"invoice_ref": "F-1001", "amount": "450000"}]
    assert body["provider"] == "api"
    assert Invoice.objects.get(organization=org, ref="F-1001").status == "paid"
    assert writer.get("/invoices/F-1001").json()["open_amount"] == "0"
    # Replaying the same payment records nothing twice.
    assert writer.post("/payments", {"ref": "P-1", "customer_ref": "C-100", "date": "2026-11-02",
                                     "currency": "CLP", "amount": "450000"}).status_code == 200
    assert Payment.objects.filter(organization=org).count() == 1


def test_usd_cents_and_too_many_decimals_name_the_field(writer):
    writer.post("/customers", {"ref": "US-1", "name": "Acme Inc", "country": "US"})
    ok = writer.post("/invoices", {"ref": "U-1", "customer_ref": "US-1", "issue_date": "2026-10-01",
                                   "due_date": "2026-10-31", "currency": "USD", "amount": "1234.56"})
    assert ok.status_code == 201 and ok.json()["amount"] == "1234.56"
    bad = writer.post("/invoices", {"ref": "C-1", "customer_ref": "US-1", "issue_date": "2026-10-01",
                                    "due_date": "2026-10-31", "currency": "CLP", "amount": "10.5"})
    assert bad.status_code == 422
    assert bad["Content-Type"] == "application/problem+json"
    assert bad.json()["errors"][0]["field"] == "amount"


def test_the_timeline_speaks_money_as_exact_strings(writer):
    writer.post("/customers", {"ref": "US-1", "name": "Acme Inc", "country": "US"})
    writer.post("/invoices", {"ref": "U-1", "customer_ref": "US-1", "issue_date": "2026-10-01",
                              "due_date": "2026-10-31", "currency": "USD", "amount": "1234.56"})
    writer.post("/payments", {"ref": "P-U1", "customer_ref": "US-1", "date": "2026-11-02", "currency": "USD",
                              "amount": "1300.05"})
    [paid] = [e for e in writer.get("/events", customer="US-1").json()["items"] if e["kind"] == "payment.received"]
    assert (paid["data"]["amount"], paid["data"]["credit"], paid["data"]["currency"]) == ("1300.05", "65.49", "USD")
    assert "allocated" not in paid["data"]  # internal ids; the payment's allocations are on /payments


def test_validation_errors_are_problem_details_with_the_field(writer):
    answer = writer.post("/invoices", {"ref": "X", "customer_ref": "nobody", "issue_date": "not a date",
                                       "due_date": "2026-10-31", "currency": "CLP", "amount": "1"})
    assert answer.status_code == 422
    problem = answer.json()
    assert problem["status"] == 422 and problem["title"]
    assert "issue_date" in [e["field"] for e in problem["errors"]]


def test_other_organizations_refs_answer_404_never_their_data(writer, other_writer, other):
    for path in ("/customers/SECRET-1", "/invoices/OTRA-9", "/customers/SECRET-1/contacts",
                 "/customers/SECRET-1/portal-link"):
        answer = writer.get(path)
        assert answer.status_code == 404, path
        assert b"Secreto" not in answer.content and b"2450000" not in answer.content
    listing = writer.get("/invoices").json()
    assert listing["items"] == []
    # Writing with another organization's ref creates our own row, never touches theirs.
    writer.post("/customers", {"ref": "SECRET-1", "name": "Mine"})
    assert Customer.objects.get(organization=other, ref="SECRET-1").name == "Cliente Secreto SAS"
    assert other_writer.get("/customers/SECRET-1").json()["name"] == "Cliente Secreto SAS"


def test_keys_read_scope_revoked_and_missing(reader, writer, org):
    assert reader.get("/customers").status_code == 200
    refused = reader.post("/customers", CUSTOMER)
    assert refused.status_code == 403 and not Customer.objects.filter(ref="C-100").exists()
    assert Client().get("/api/v1/customers").status_code == 401
    call_command("apikey", "revoke", reader.key.split("_")[1], "--org", "acme")
    assert reader.get("/customers").status_code == 401
    assert ApiKey.objects.filter(organization=org, revoked_at__isnull=True).count() == 1


def test_only_a_digest_is_stored(org):
    from io import StringIO

    out = StringIO()
    call_command("apikey", "create", "--org", "acme", "--name", "ERP", "--scope", "write", stdout=out)
    text = out.getvalue().strip()
    assert text.startswith("cobro_")
    key = ApiKey.objects.get(organization=org)
    assert text.split("_", 2)[2] not in (key.digest, key.prefix)


def test_cursor_pagination_walks_everything_once(writer):
    writer.post("/customers", {"ref": "C-1", "name": "Uno"})
    for n in range(7):
        writer.post("/invoices", {"ref": f"F-{n}", "customer_ref": "C-1", "issue_date": "2026-10-01",
                                  "due_date": "2026-10-31", "currency": "CLP", "amount": "1000"})
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = writer.get("/invoices", **params).json()
        seen += [i["ref"] for i in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == [f"F-{n}" for n in range(7)]
    assert writer.get("/invoices", cursor="!!!").status_code == 422


def test_updated_since_needs_an_offset(writer):
    assert writer.get("/customers", updated_since="2026-01-01T00:00:00").status_code == 422
    assert writer.get("/customers", updated_since="2026-01-01T00:00:00Z").status_code == 200


def test_idempotency_key_replays_and_refuses_another_body(writer, org):
    writer.post("/customers", {"ref": "C-1", "name": "Uno"})
    body = {"ref": "P-9", "customer_ref": "C-1", "date": "2026-11-02", "currency": "CLP", "amount": "1000"}
    first = writer.post("/payments", body, headers={"Idempotency-Key": "abc"})
    again = writer.post("/payments", body, headers={"Idempotency-Key": "abc"})
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    other = writer.post("/payments", {**body, "amount": "2000"}, headers={"Idempotency-Key": "abc"})
    assert other.status_code == 422
    assert Payment.objects.filter(organization=org).count() == 1


@override_settings(COBRO_API_RATE_LIMIT="3/60")
def test_rate_limit_answers_429_with_retry_after(reader):
    codes = [reader.get("/customers").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert int(reader.get("/customers")["Retry-After"]) >= 1


def test_agreements_through_their_services(writer, org):
    sync_book(writer)
    promise = writer.post("/promises", {"customer_ref": "C-100", "promised_date": "2099-01-10",
                                        "amount": "120000", "currency": "CLP", "invoice_refs": ["F-1002"]})
    assert promise.status_code == 201, promise.content
    assert promise.json()["invoice_refs"] == ["F-1002"] and promise.json()["status"] == "pending"
    reasons = writer.post("/disputes", {"invoice_ref": "F-1001", "reason": "nope"})
    assert reasons.status_code == 422 and reasons.json()["errors"][0]["field"] == "reason"
    from cobro.agreements.services import dispute_reasons

    code = dispute_reasons(org)[0].code
    opened = writer.post("/disputes", {"invoice_ref": "F-1001", "reason": code, "text": "No llegó"})
    assert opened.status_code == 201 and opened.json()["status"] == "open"
    assert writer.get(f"/disputes/{opened.json()['id']}").json() == opened.json()
    kinds = [e["kind"] for e in writer.get("/events", customer="C-100").json()["items"]]
    assert "promise.made" in kinds and "dispute.opened" in kinds


def test_promises_and_plans_are_read_and_called_off_through_their_services(writer, reader, org):
    from cobro.agreements.models import Plan, Promise

    sync_book(writer)
    made = writer.post("/promises", {"customer_ref": "C-100", "promised_date": "2099-01-10", "amount": "120000",
                                     "currency": "CLP", "invoice_refs": ["F-1002"]}).json()
    assert writer.get(f"/promises/{made['id']}").json() == made
    assert reader.post(f"/promises/{made['id']}/cancel", {}).status_code == 403
    cancelled = writer.post(f"/promises/{made['id']}/cancel", {"reason": "El ERP la anuló"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert Promise.objects.get(organization=org, pk=made["id"]).status == "cancelled"
    again = writer.post(f"/promises/{made['id']}/cancel", {})
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "status"
    plan = writer.post("/plans", {"customer_ref": "C-100", "invoice_refs": ["F-1001"], "count": 3}).json()
    assert writer.get(f"/plans/{plan['id']}").json()["instalments"] == plan["instalments"]
    ended = writer.post(f"/plans/{plan['id']}/cancel", {"reason": "Pagará de contado"})
    assert ended.status_code == 200 and ended.json()["status"] == "cancelled"
    assert Plan.objects.get(organization=org, pk=plan["id"]).status == "cancelled"
    assert writer.post(f"/plans/{plan['id']}/cancel", {}).status_code == 409
    kinds = [e["kind"] for e in writer.get("/events", customer="C-100").json()["items"]]
    assert "promise.cancelled" in kinds and "plan.cancelled" in kinds
    assert writer.get("/promises/999999").status_code == 404 and writer.get("/plans/999999").status_code == 404


def test_unknown_api_paths_are_problems_not_html(writer):
    answer = Client().post("/api/v2/whatever")
    assert answer.status_code == 404 and answer["Content-Type"] == "application/problem+json"


def test_openapi_is_3_1_and_documents_problems():
    spec = Client().get("/api/v1/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    answer = spec["paths"]["/api/v1/invoices"]["post"]["responses"]["422"]
    assert "application/problem+json" in answer["content"]
    assert Client().get("/api/v1/docs").status_code == 200


def test_einvoice_upload_imports_through_the_api(org):
    from pathlib import Path

    from django.core.files.uploadedfile import SimpleUploadedFile

    from cobro.api.keys import create_key

    org.tax_id, org.country = "EKU9003173C9", "MX"
    org.save()
    key = create_key(org, "ERP", "write")[1]
    fixtures = Path(__file__).resolve().parent.parent / "fixtures" / "einvoice"
    upload = [SimpleUploadedFile(n, (fixtures / n).read_bytes(), content_type="application/xml")
              for n in ("cfdi-ingreso.xml", "cfdi-pago.xml")]
    answer = Client().post("/api/v1/einvoices", {"files": upload}, HTTP_AUTHORIZATION=f"Bearer {key}")
    assert answer.status_code == 200, answer.content
    assert answer.json()["created"] == {"invoice": 1, "credit_note": 0, "payment": 1}
    assert Invoice.objects.get(organization=org, ref="A123").open_amount == 1160000 - 500000
    bad = Client().post("/api/v1/einvoices", {"files": [SimpleUploadedFile("x.xml", b"<Invoice")]},
                        HTTP_AUTHORIZATION=f"Bearer {key}")
    assert bad.status_code == 422 and "malformed XML" in bad.json()["errors"][0]["message"]
    # A file named .zip that is not a zip archive is the sender's mistake, not a server error.
    not_zip = Client().post("/api/v1/einvoices", {"files": [SimpleUploadedFile("lote.zip", b"0")]},
                            HTTP_AUTHORIZATION=f"Bearer {key}")
    assert not_zip.status_code == 422, not_zip.content
    assert not_zip.json()["errors"] == [{"field": "files", "message": "lote.zip: file: not a zip archive"}]


def test_text_the_database_cannot_store_is_refused_by_field_before_any_write(writer, org):
    """PostgreSQL refuses NUL and lone surrogates in text: the API names the field with 422, writes nothing."""
    bad = dict(CUSTOMER, name="Ferretería\x00Andina")
    answer = writer.post("/customers", bad)
    assert answer.status_code == 422
    assert answer.json()["errors"] == [{"field": "name", "message": "control characters are not allowed"}]
    hook = writer.post("/webhooks", {"url": "https://erp.example/\udaa2", "events": []})
    assert hook.status_code == 422
    assert hook.json()["errors"][0]["field"] == "url"
    assert "surrogate" in hook.json()["errors"][0]["message"]
    assert not Customer.objects.filter(organization=org).exists()
    # Tabs and new lines in free text are fine.
    assert writer.post("/customers", dict(CUSTOMER, name="Ferretería Andina\tSpA")).status_code == 201
