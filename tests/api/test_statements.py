"""Bank statements and their lines through the API: an upload is matched and applied as the command
line does it, each line once; what the bank said and what Cobro did can be read back, page by page."""

import datetime as dt
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from cobro.ledger import services as ledger
from cobro.ledger.models import Invoice, Payment
from cobro.payments.models import Statement, StatementLine

pytestmark = pytest.mark.django_db

CARTOLA = Path(__file__).parents[1] / "fixtures" / "statements" / "cartola_cl.csv"
ACCOUNT = "00-123-45678-09"
READ_ON = dt.datetime(2026, 3, 4, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def book(org):
    issued = dt.date(2026, 2, 1)
    andina = ledger.get_or_create_customer(org, "C1", "Ferretería Andina SpA", country="CL",
                                           tax_id="76.086.428-5")[0]
    andes = ledger.get_or_create_customer(org, "C2", "Comercial Los Andes Ltda.", country="CL",
                                          tax_id="77.123.456-9")[0]
    ledger.add_invoice(org, andina, "F-1001", issued, issued + dt.timedelta(days=30), "CLP", 150000)
    ledger.add_invoice(org, andes, "F-2001", issued, issued + dt.timedelta(days=30), "CLP", 85000)


def upload(api, path=CARTOLA, data=None, **query):
    params = "&".join(f"{k}={v}" for k, v in query.items())
    body = {"file": SimpleUploadedFile(path.name, data if data is not None else path.read_bytes())}
    with time_machine.travel(READ_ON, tick=False):
        return api.client.post(f"/api/v1/statements?{params}", body,
                               HTTP_AUTHORIZATION=f"Bearer {api.key}")


def test_upload_applies_what_it_proves_and_reads_back(writer, org, book):
    answer = upload(writer, account=ACCOUNT)
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert [ln["status"] for ln in body["lines"]] == ["applied", "applied", "ignored", "unmatched"]
    assert body["lines"][0]["amount"] == "150000" and body["lines"][0]["invoice_refs"] == ["F-1001"]
    stored = Statement.objects.get(organization=org)
    assert body["statement"] == writer.get(f"/statements/{stored.pk}").json()
    assert body["statement"]["account_number"] == ACCOUNT and body["statement"]["lines_new"] == 4
    # The applied lines are payments in the ledger, and the invoices they paid are settled.
    assert Invoice.objects.get(organization=org, ref="F-1001").open_amount == 0
    assert Payment.objects.filter(organization=org, provider="statement").count() == 2

    lines = writer.get(f"/statements/{stored.pk}/lines").json()["items"]
    assert [(ln["position"], ln["kind"], ln["amount"]) for ln in lines] == [
        (1, "credit", "150000"), (2, "credit", "85000"), (3, "fee", "-7500"), (4, "credit", "33333")]
    first = lines[0]
    assert first["customer_ref"] == "C1" and first["allocations"] == [{"invoice_ref": "F-1001", "amount": "150000"}]
    paid = Payment.objects.get(organization=org, provider_ref=StatementLine.objects.get(pk=first["id"]).key)
    assert first["payment_refs"] == [paid.ref]
    assert lines[3]["customer_ref"] is None and lines[3]["payment_refs"] == []
    unmatched = writer.get("/statement-lines", status="unmatched").json()["items"]
    assert [ln["id"] for ln in unmatched] == [lines[3]["id"]]
    assert [ln["id"] for ln in writer.get("/statement-lines", customer="C2").json()["items"]] == [lines[1]["id"]]
    assert writer.get("/statements", account=ACCOUNT).json()["items"][0]["id"] == stored.pk
    assert writer.get("/statements", account="nope").status_code == 422


def test_a_file_read_again_is_duplicates_and_writes_nothing(writer, org, book):
    upload(writer, account=ACCOUNT)
    again = upload(writer, account=ACCOUNT).json()
    assert [ln["status"] for ln in again["lines"]] == ["duplicate"] * 4
    assert again["statement"]["lines_new"] == 0
    assert StatementLine.objects.filter(organization=org).count() == 4
    assert Payment.objects.filter(organization=org).count() == 2
    # Pages walk every line once.
    first = writer.get("/statement-lines", limit=3).json()
    rest = writer.get("/statement-lines", limit=3, cursor=first["next_cursor"]).json()
    assert len(first["items"]) == 3 and len(rest["items"]) == 1 and rest["next_cursor"] is None


def test_dry_run_writes_nothing_and_a_reader_may_check_but_not_import(reader, org, book):
    checked = upload(reader, account=ACCOUNT, dry_run="true")
    assert checked.status_code == 200 and checked.json()["statement"] is None
    assert [ln["status"] for ln in checked.json()["lines"]] == ["applied", "applied", "ignored", "unmatched"]
    assert upload(reader, account=ACCOUNT).status_code == 403
    assert not Statement.objects.filter(organization=org).exists()
    assert not Payment.objects.filter(organization=org).exists()


def test_a_file_that_is_no_statement_names_its_line_and_writes_nothing(writer, org, book):
    bad = CARTOLA.read_bytes().replace(b"03/03/2026", b"32/03/2026")
    answer = upload(writer, data=bad, account=ACCOUNT)
    assert answer.status_code == 422 and answer["Content-Type"] == "application/problem+json"
    [error] = answer.json()["errors"]
    assert error["field"] == "file" and error["message"].startswith("line 7:")
    assert not StatementLine.objects.filter(organization=org).exists()
    assert not Payment.objects.filter(organization=org).exists()


def test_updated_since_finds_lines_new_or_decided_since(writer, org, book):
    upload(writer, account=ACCOUNT)
    after = "2026-03-05T00:00:00Z"
    assert writer.get("/statement-lines", updated_since=after).json()["items"] == []
    line = StatementLine.objects.get(organization=org, status="unmatched")
    StatementLine.objects.filter(pk=line.pk).update(decided_at=dt.datetime(2026, 3, 6, tzinfo=dt.UTC))
    assert [ln["id"] for ln in writer.get("/statement-lines", updated_since=after).json()["items"]] == [line.pk]
    assert writer.get("/statements", updated_since=after).json()["items"] == []
    assert len(writer.get("/statements", updated_since="2026-03-04T00:00:00Z").json()["items"]) == 1


def test_another_organizations_statements_are_404_and_never_listed(writer, other_writer, other, book):
    upload(other_writer, account="CTA-OTRA")
    theirs = Statement.objects.get(organization=other)
    assert writer.get(f"/statements/{theirs.pk}").status_code == 404
    assert writer.get(f"/statements/{theirs.pk}/lines").status_code == 404
    assert writer.get("/statements").json()["items"] == []
    assert writer.get("/statement-lines").json()["items"] == []
    assert writer.get("/statements", account="CTA-OTRA").status_code == 422  # not ours: unknown, as any
    assert Client().get("/api/v1/statements").status_code == 401
