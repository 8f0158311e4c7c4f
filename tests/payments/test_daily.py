"""Every day by itself: the folder drop is read before the cycle, and a missing statement warns."""

import datetime as dt
from pathlib import Path

from django.core.management import call_command

from cobro.dunning.cycle import run_cycle
from cobro.ledger.models import Contact, Invoice
from cobro.payments import services
from cobro.payments.models import BankAccount, StatementLine

FIX = Path(__file__).parent.parent / "fixtures" / "statements"
AS_OF = dt.date(2026, 3, 10)


def test_statement_in_the_folder_stops_todays_reminder(org, book, tmp_path, capsys):
    for c in (book["andina"], book["andes"]):
        Contact.objects.create(organization=org, customer=c, email=f"{c.ref.lower()}@example.cl")
    drop = tmp_path / "drop"
    drop.mkdir()
    call_command("bankaccount", "add", "--org", "andes", "--number", "00-123-45678-09", "--currency", "clp",
                 "--name", "Banco de Chile", "--folder", str(drop))
    (drop / "2026-03-09.xml").write_bytes((FIX / "camt053_v02.xml").read_bytes().replace(
        b"PAGO FACT 1001", b"PAGO FACT 1001 Y 1002").replace(b'<Amt Ccy="CLP">150000</Amt>', b'<Amt Ccy="CLP">210000</Amt>'))
    (drop / "broken.csv").write_text("fecha;glosa;abono\nayer;PAGO;10\n")

    result = run_cycle(org, AS_OF)

    who = {o["customer_ref"] for o in result.created}
    assert "C1" not in who and "C2" in who  # C1 paid both invoices by this morning's statement; C2 owes F-2002
    assert Invoice.objects.get(ref="F-1002").open_amount == 0
    assert sorted(p.name for p in (drop / "imported").iterdir()) == ["2026-03-09.xml"]
    error = (drop / "failed" / "broken.csv.error.txt").read_text()
    assert "línea 2: 'ayer' no es una fecha" in error  # in the organization's language
    assert not any(drop.glob("*.xml")) and StatementLine.objects.count() == 3
    # The same file delivered again: its lines are duplicates, nothing new.
    (drop / "again.xml").write_bytes((drop / "imported" / "2026-03-09.xml").read_bytes())
    run_cycle(org, AS_OF + dt.timedelta(days=1))
    assert StatementLine.objects.count() == 3

    call_command("bankaccount", "list", "--org", "andes")
    assert "last statement: 2026-03-02" in capsys.readouterr().out


def test_missing_statement_warns(org, book):
    services.import_statement(org, (FIX / "camt053_v02.xml").read_bytes(), as_of=dt.date(2026, 3, 3))
    BankAccount.objects.create(organization=org, name="Sin estados", number="999", currency="CLP")
    health = {h["account"].number: h for h in services.accounts_health(org, dt.date(2026, 3, 4))}
    assert health["00-123-45678-09"]["missing"] is False and health["999"]["missing"] is True
    late = services.accounts_health(org, dt.date(2026, 3, 9))
    assert all(h["missing"] for h in late)
    assert health["00-123-45678-09"]["last"] == dt.date(2026, 3, 2)


def test_dashboard_shows_last_statement_and_warns(org, book, agent):
    from django.test import Client

    services.import_statement(org, (FIX / "camt053_v02.xml").read_bytes(), as_of=dt.date(2026, 3, 3))
    BankAccount.objects.create(organization=org, name="Cuenta dólares", number="USD-1", currency="USD")
    c = Client()
    c.force_login(agent)
    html = c.get("/insights/").content.decode()
    assert "Cuenta dólares" in html and "Falta el estado de cuenta" in html and "00-123-45678-09" in html
