"""The ``cobro promise|plan|dispute|fee`` commands: JSON lines out, exit status 2 on bad input."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from cobro.agreements import services
from cobro.agreements.models import Dispute, Fee, Plan, Promise
from cobro.agreements.pdf import plan_schedule_html

D = dt.date


def run(*args) -> list[dict]:
    out = StringIO()
    call_command(*args, "--json", stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


def test_promise_add_list_and_evaluate(org, customer, invoices):
    [row] = run("promise", "add", "--org", "acme", "--customer", "C-1", "--date", "2026-03-20",
                "--amount", "120.000", "--made-on", "2026-03-10", "--invoice", "F-1", "--invoice", "F-2")
    assert row["amount"] == "120000" and row["invoice_refs"] == ["F-1", "F-2"] and row["status"] == "pending"
    assert [r["id"] for r in run("promise", "list", "--org", "acme", "--status", "pending")] == [row["id"]]
    [counts] = run("promise", "evaluate", "--org", "acme", "--as-of", "2026-03-23")
    assert counts["promises_broken"] == 1
    assert Promise.objects.get().status == "broken"


@pytest.mark.parametrize("args, message", [
    (["--customer", "NOPE", "--date", "2026-03-20", "--amount", "10"], "no customer 'NOPE'"),
    (["--customer", "C-1", "--date", "2026-03-20", "--amount", "diez"], "--amount"),
    (["--customer", "C-1", "--date", "2026-03-20", "--amount", "10", "--invoice", "F-9"], "no invoice F-9"),
    (["--customer", "C-1", "--date", "2026-03-01", "--amount", "10", "--made-on", "2026-03-10"], "in the past"),
])
def test_promise_bad_input_exits_2_and_writes_nothing(org, customer, invoices, args, message):
    with pytest.raises(CommandError, match=message) as caught:
        call_command("promise", "add", "--org", "acme", *args, stdout=StringIO())
    assert caught.value.returncode == 2 and not Promise.objects.exists()


def test_unknown_organization(db):
    with pytest.raises(CommandError, match="no organization 'nope'"):
        call_command("dispute", "list", "--org", "nope")


def test_plan_add_show_approve_and_pdf(org, customer, invoices, users, tmp_path):
    [row] = run("plan", "add", "--org", "acme", "--customer", "C-1", "--instalments", "3", "--start", "2026-03-10",
                "--down", "18000")
    assert row["status"] == "active" and row["total"] == "180000" and len(row["instalments"]) == 4
    assert [i["amount"] for i in row["instalments"]] == ["18000", "54000", "54000", "54000"]
    options = run("plan", "options", "--org", "acme", "--customer", "C-1", "--start", "2026-03-10")
    assert [o["count"] for o in options] == [2, 3, 4, 5, 6]
    pdf = tmp_path / "plan.pdf"
    call_command("plan", "pdf", str(row["id"]), "--org", "acme", "--out", str(pdf), stdout=StringIO())
    assert pdf.read_bytes().startswith(b"%PDF-") and pdf.stat().st_size > 2000


def test_plan_outside_limits_then_approved_by_a_manager(org, customer, invoices, users):
    [row] = run("plan", "add", "--org", "acme", "--customer", "C-1", "--instalments", "12", "--frequency", "weekly",
                "--start", "2026-03-10", "--down", "0")
    assert row["status"] == "proposed" and len(row["outside_limits"]) == 3
    with pytest.raises(CommandError, match="manager"):
        call_command("plan", "approve", str(row["id"]), "--org", "acme", "--by", "agent")
    [approved] = run("plan", "approve", str(row["id"]), "--org", "acme", "--by", "manager")
    assert approved["status"] == "active"


def test_plan_schedule_document_speaks_the_customers_language(org, customer, invoices):
    plan = services.create_plan(org, customer, None, 2, "monthly", D(2026, 3, 10))
    html = plan_schedule_html(plan)
    assert "Plan de pagos" in html and "Pie" in html and "F-3" in html and "$18.000" in html
    assert Plan.objects.count() == 1


def test_dispute_open_resolve_and_list(org, customer, invoices, tmp_path):
    note = tmp_path / "guia.txt"
    note.write_text("guía de despacho 55")
    [row] = run("dispute", "open", "--org", "acme", "--invoice", "F-2", "--reason", "not_received",
                "--text", "No llegó", "--attach", str(note))
    assert row["status"] == "open" and Dispute.objects.get().attachments.count() == 1
    [done] = run("dispute", "resolve", str(row["id"]), "--org", "acme", "--valid", "--note", "Se anula",
                 "--credit", "20000")
    assert done["status"] == "valid" and done["credit_note_ref"] == f"NC-D{row['id']}"
    assert done["open_amount"] == "30000"
    with pytest.raises(CommandError, match="unknown dispute reason"):
        call_command("dispute", "open", "--org", "acme", "--invoice", "F-1", "--reason", "x")
    assert [r["code"] for r in run("dispute", "reasons", "--org", "acme")][0] == "wrong_amount"


def test_fee_list_and_waive(org, customer, invoices, users, fee_step):
    services.set_terms(org, customer, late_fee_kind="fixed", late_fee_fixed=3_000)
    fee_step(D(2026, 4, 30), [invoices[0]])
    [row] = run("fee", "list", "--org", "acme")
    assert (row["amount"], row["fee_ref"], row["status"]) == ("3000", "CM-F-1", "posted")
    [waived] = run("fee", "waive", str(row["id"]), "--org", "acme", "--by", "manager", "--reason", "buen cliente")
    assert waived["status"] == "waived" and Fee.objects.get().waived_reason == "buen cliente"


def test_plan_schedule_document_in_english_and_portuguese(org, customer, invoices):
    plan = services.create_plan(org, customer, None, 2, "monthly", D(2026, 3, 10))
    assert "Down payment" in plan_schedule_html(plan, "en") and "Payment schedule" in plan_schedule_html(plan, "en")
    assert "Cronograma de pagamentos" in plan_schedule_html(plan, "pt-br")
