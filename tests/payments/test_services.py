"""Statements into the ledger: stored once, matched, applied through ledger.services, decisions undone."""

import datetime as dt
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from cobro.ledger.models import Invoice, Payment, TimelineEvent
from cobro.payments import services
from cobro.payments.formats import StatementError
from cobro.payments.models import BankAccount, PayerAlias, StatementLine

FIX = Path(__file__).parent.parent / "fixtures" / "statements"
TODAY = dt.date(2026, 3, 3)


def run_json(*args, capsys):
    call_command("import", "statement", *args, "--json")
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]


def test_camt053_applies_what_it_can_prove(org, book, capsys):
    rows = run_json(str(FIX / "camt053_v02.xml"), "--org", "andes", capsys=capsys)
    assert [(r["line"], r["status"], r["customer_ref"], r["invoice_refs"], r["amount"]) for r in rows] == [
        (1, "applied", "C1", ["F-1001"], "150000"), (2, "applied", "C2", ["F-2001"], "85000"),
        (3, "ignored", None, [], "-7500")]
    assert rows[0]["why"] == ("El nombre del ordenante es el de Ferretería Andina SpA; la glosa menciona F-1001 de "
                              "Ferretería Andina SpA; el monto es el saldo de F-1001.")
    assert "77.123.456-9" in rows[1]["why"] and rows[2]["why"] == "Es una comisión o gasto del banco."
    assert all(0 <= r["confidence"] <= 1 and r["currency"] == "CLP" and r["date"] == "2026-03-02" for r in rows)
    paid = Invoice.objects.get(ref="F-1001")
    assert paid.open_amount == 0 and paid.status == "paid"
    payment = Payment.objects.get(provider_ref="b:CL01-20260302-000101")
    assert (payment.method, payment.provider, payment.amount, payment.customer.ref) == ("transfer", "statement", 150000, "C1")
    assert Invoice.objects.get(ref="F-2001").open_amount == 0 and Invoice.objects.get(ref="F-2002").open_amount == 40000
    assert StatementLine.objects.filter(status="ignored", kind="fee").count() == 1
    assert BankAccount.objects.get(number="00-123-45678-09").last_statement_date == dt.date(2026, 3, 2)
    assert TimelineEvent.objects.filter(kind="statement.applied", customer__ref="C1").exists()

    # The export shows where the payment came from.
    call_command("export", "payments", "--org", "andes")
    exported = capsys.readouterr().out
    assert "transfer" in exported and "CL01-20260302-000101" in exported


def test_same_or_overlapping_statement_creates_nothing_new(org, book, capsys, tmp_path):
    path = FIX / "cartola_cl.csv"
    first = run_json(str(path), "--org", "andes", "--account", "00-123-45678-09", capsys=capsys)
    assert [r["status"] for r in first] == ["applied", "applied", "ignored", "unmatched"]
    again = run_json(str(path), "--org", "andes", "--account", "00-123-45678-09", capsys=capsys)
    assert [r["status"] for r in again] == ["duplicate"] * 4
    assert again[0]["customer_ref"] == "C1" and again[0]["invoice_refs"] == ["F-1001"]
    # The next day's file repeats the last two lines and adds one: only that one is new.
    lines = path.read_text().splitlines()
    later = tmp_path / "cartola2.csv"
    later.write_text("\n".join(lines[:3] + lines[5:] + ["04/03/2026;PAGO FACT 3002 PANADERIA;7745199;;70.000;1.330.833"]) + "\n")
    rows = run_json(str(later), "--org", "andes", "--account", "00-123-45678-09", capsys=capsys)
    assert [r["status"] for r in rows] == ["duplicate", "duplicate", "applied"]
    assert StatementLine.objects.count() == 5 and Payment.objects.count() == 3


def test_two_identical_transfers_are_two_lines(org, book, tmp_path, capsys):
    path = tmp_path / "twins.csv"
    path.write_text("fecha;glosa;abono\n02/03/2026;PAGO FACT 3001;70.000\n02/03/2026;PAGO FACT 3001;70.000\n")
    rows = run_json(str(path), "--org", "andes", "--account", "CTA-1", capsys=capsys)
    assert [r["status"] for r in rows] == ["applied", "suggested"]  # the second finds F-3001 already paid
    assert rows[0]["key"] != rows[1]["key"]
    assert [r["status"] for r in run_json(str(path), "--org", "andes", "--account", "CTA-1", capsys=capsys)] == [
        "duplicate", "duplicate"]


def test_dry_run_prints_the_same_and_writes_nothing(org, book, capsys):
    dry = run_json(str(FIX / "mt940.sta"), "--org", "andes", "--dry-run", capsys=capsys)
    assert (StatementLine.objects.count(), Payment.objects.count(), BankAccount.objects.count()) == (0, 0, 0)
    real = run_json(str(FIX / "mt940.sta"), "--org", "andes", capsys=capsys)
    strip = lambda rows: [{k: v for k, v in r.items()} for r in rows]  # noqa: E731
    assert strip(dry) == strip(real) and [r["status"] for r in real] == ["applied", "applied", "ignored"]


def test_bad_file_exit_2_line_and_nothing_written(org, book, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("fecha;glosa;abono\n02/03/2026;PAGO FACT 1001;150.000\n32/03/2026;X;1\n")
    with pytest.raises(SystemExit) as exit_:
        call_command("import", "statement", str(bad), "--org", "andes", "--account", "CTA-1")
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    # In the organization's language: Spanish here, then English and Portuguese.
    assert "línea 3: '32/03/2026' no es una fecha" in err and "No se importó nada" in err
    assert (StatementLine.objects.count(), Payment.objects.count(), BankAccount.objects.count()) == (0, 0, 0)
    for language, said in (("en", "line 3: '32/03/2026' is not a date"), ("pt_BR", "linha 3: '32/03/2026' não é")):
        org.language = language
        org.save(update_fields=["language"])
        with pytest.raises(SystemExit):
            call_command("import", "statement", str(bad), "--org", "andes", "--account", "CTA-1")
        assert said in capsys.readouterr().err


def test_currency_must_match_and_date_after_issue(org, book, tmp_path):
    path = tmp_path / "usd.csv"
    path.write_text("fecha;glosa;abono;moneda\n02/03/2026;PAGO FACT 1001;150;USD\n15/01/2026;PAGO FACT 2002;40.000;CLP\n")
    out = services.import_statement(org, path.read_bytes(), account="CTA-1", as_of=TODAY)
    assert [(o.status, o.invoice_refs) for o in out.lines] == [("unmatched", []), ("unmatched", [])]
    assert "USD" in out.lines[0].why


def test_accept_assign_learn_split_and_undo(org, book, agent, tmp_path):
    path = tmp_path / "day.csv"
    path.write_text("fecha;glosa;abono;ordenante;cuenta origen\n"
                    "02/03/2026;TRANSFERENCIA;55.000;JUAN PEREZ ROJAS;0011223344\n"
                    "02/03/2026;TEF PANADERIA DEL SUR;100.000;;\n"
                    "02/03/2026;DEPOSITO;110.000;;\n")
    services.import_statement(org, path.read_bytes(), account="CTA-1", as_of=TODAY)
    juan, sur, split = StatementLine.objects.order_by("position")
    assert (juan.status, sur.status, sur.customer.ref) == ("unmatched", "suggested", "C3")

    # Accept the suggestion (a partial payment for Panadería del Sur) in one step.
    services.accept(org, sur, agent)
    sur.refresh_from_db()
    assert sur.status == "applied" and Invoice.objects.get(ref="F-3001").open_amount == 0
    assert Invoice.objects.get(ref="F-3002").open_amount == 40000

    # Assign Juan Pérez's transfer to Comercial Los Andes by hand: Cobro learns his name and account.
    services.assign(org, juan, [(book["andes"], [book["inv"]["F-2002"]], None)], agent)
    assert Invoice.objects.get(ref="F-2002").open_amount == 0
    assert set(PayerAlias.objects.values_list("kind", "value")) == {
        ("name", "panaderia sur"), ("name", "juan perez rojas"), ("account", "0011223344")}
    ev = TimelineEvent.objects.get(kind="statement.applied", customer=book["andes"])
    assert "Felipe Araya lo asignó a mano" in ev.summary and ev.actor == agent

    # Split one deposit across two customers: the amounts must add up exactly.
    with pytest.raises(services.PaymentsError, match="sumar exactamente"):
        services.assign(org, split, [(book["andina"], [], 100000), (book["andes"], [], 5000)], agent)
    services.assign(org, split, [(book["andina"], [book["inv"]["F-1002"]], 60000),
                                 (book["andes"], [book["inv"]["F-2001"]], 50000)], agent)
    split.refresh_from_db()
    assert split.status == "applied" and split.payments.count() == 2
    assert Invoice.objects.get(ref="F-1002").open_amount == 0 and Invoice.objects.get(ref="F-2001").open_amount == 35000

    # Undo reverses the allocations and logs who and why.
    with pytest.raises(services.PaymentsError):
        services.undo(org, split, agent, "")
    services.undo(org, split, agent, "era un préstamo del socio")
    split.refresh_from_db()
    assert split.status == "unmatched" and split.payments.count() == 0
    assert Invoice.objects.get(ref="F-1002").open_amount == 60000 and Invoice.objects.get(ref="F-2001").open_amount == 85000
    reversed_ = TimelineEvent.objects.filter(kind="payment.reversed")
    assert reversed_.count() == 2 and all(e.actor == agent and e.data["reason"] == "era un préstamo del socio"
                                          for e in reversed_)

    # A later line from Juan matches Comercial Los Andes by what was learnt.
    later = tmp_path / "later.csv"
    later.write_text("fecha;glosa;abono;ordenante;cuenta origen\n05/03/2026;TRANSFERENCIA;85.000;JUAN PÉREZ ROJAS;;\n")
    out = services.import_statement(org, later.read_bytes(), account="CTA-1", as_of=TODAY)
    assert (out.lines[0].status, out.lines[0].customer_ref) == ("applied", "C2")
    assert "fue asignado antes a Comercial Los Andes" in out.lines[0].why


def test_fee_deducted_is_forgiven_and_undo_takes_it_back(org, book, agent, tmp_path):
    path = tmp_path / "fee.csv"
    path.write_text("fecha;glosa;abono\n02/03/2026;PAGO F-1001 RUT 76086428-5;149.000\n")
    out = services.import_statement(org, path.read_bytes(), account="CTA-1", as_of=TODAY)
    assert out.lines[0].status == "applied" and "comisión bancaria" in out.lines[0].why
    inv = Invoice.objects.get(ref="F-1001")
    assert inv.open_amount == 0 and inv.credit_notes.get().amount == 1000
    services.undo(org, StatementLine.objects.get(), agent, "no era de este cliente")
    inv.refresh_from_db()
    assert inv.open_amount == 150000 and not inv.credit_notes.exists()


def test_language_of_the_organization(org, book):
    org.language = "en"
    org.save()
    out = services.import_statement(org, (FIX / "camt053_v02.xml").read_bytes(), dry_run=True, as_of=TODAY)
    assert out.lines[2].why == "It is a bank charge or fee."


def test_missing_account_and_unknown_org(org, capsys, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("fecha;glosa;abono\n02/03/2026;X;1\n")
    with pytest.raises(StatementError, match="line 1: the file does not say which account"):
        services.import_statement(org, path.read_bytes())


def _ledger_state(org):
    from cobro.insights import totals
    from cobro.ledger.models import Allocation

    return (sorted(Invoice.objects.for_org(org).values_list("ref", "open_amount", "status", "closed_on")),
            sorted(Payment.objects.for_org(org).values_list("ref", "amount", "unallocated", "method", "provider")),
            sorted(Allocation.objects.for_org(org).values_list("payment__ref", "invoice__ref", "amount", "date")),
            sorted(TimelineEvent.objects.for_org(org).filter(kind="payment.received").values_list(
                "customer__ref", "summary", "at")), totals.kept(org))


def test_payments_in_one_batch_are_the_same_as_one_by_one(org, other_org, book):
    """``ledger.apply_payments`` (a statement's applied lines) = ``apply_payment`` called for each, in order."""
    from cobro.ledger import services as ledger
    from cobro.ledger.models import Customer

    other_org.currency, other_org.country = "CLP", "CL"
    other_org.save()
    twin = {}
    for inv in Invoice.objects.for_org(org).select_related("customer").order_by("pk"):
        c = ledger.get_or_create_customer(other_org, inv.customer.ref, inv.customer.name)[0]
        twin[inv.ref] = ledger.add_invoice(other_org, c, inv.ref, inv.issue_date, inv.due_date, "CLP", inv.amount)
    customers = dict(Customer.objects.for_org(other_org).values_list("ref", "pk"))
    d = dt.date(2026, 3, 2)
    # (customer, amount, invoices named): exact, oldest first across two, over-payment, a second payment
    # to an invoice the first one already half paid, an invoice named that is paid by now, a repeated ref.
    plan = [("andina", 150000, ["F-1001"]), ("andes", 100000, []), ("sur", 200000, ["F-3002"]),
            ("andes", 20000, ["F-2002"]), ("andina", 1000, ["F-1001"]), ("andes", 5000, [])]
    batch = []
    for n, (who, amount, refs) in enumerate(plan):
        cust = book[who]
        ledger.apply_payment(org, cust, f"P{n}", d + dt.timedelta(days=n), amount, "CLP", "transfer",
                             invoices=[book["inv"][r] for r in refs] or None, provider="statement", provider_ref=f"k{n}")
        batch.append(ledger.NewPayment(customers[cust.ref], f"P{n}", d + dt.timedelta(days=n), amount, "CLP",
                                       "transfer", tuple(twin[r].pk for r in refs), "statement", f"k{n}"))
    batch.append(batch[0])  # the same reference again: nothing new
    made = ledger.apply_payments(other_org, batch)
    assert made[0].pk == made[-1].pk and len({p.pk for p in made}) == len(plan)
    assert _ledger_state(org) == _ledger_state(other_org)
    with pytest.raises(ledger.LedgerError):
        ledger.apply_payments(other_org, [ledger.NewPayment(twin["F-1001"].customer_id, "BAD", d, 10, "CLP",
                                                            invoice_ids=(twin["F-2001"].pk,))])
