"""The reconciliation page: who may see it, what it shows, and the decisions it makes."""

import datetime as dt

import pytest
from django.test import Client

from cobro.ledger.models import Invoice, Membership, Organization, Role, TimelineEvent
from cobro.payments import services
from cobro.payments.models import StatementLine

DAY = "2026-03-02"
CSV = ("fecha;glosa;abono;cargo;ordenante\n"
       "02/03/2026;PAGO FACT 1001;150.000;;FERRETERIA ANDINA\n"
       "02/03/2026;TEF PANADERIA DEL SUR;100.000;;\n"
       "02/03/2026;DEPOSITO;110.000;;\n"
       "02/03/2026;COMISION MANTENCION;;7.500;\n")


@pytest.fixture
def lines(org, book):
    services.import_statement(org, CSV.encode(), account="CTA-1", as_of=dt.date(2026, 3, 3))
    return {ln.position: ln for ln in StatementLine.objects.all()}


def client_for(user):
    c = Client()
    c.force_login(user)
    return c


def test_page_by_status_and_menu(agent, lines):
    c = client_for(agent)
    html = c.get(f"/reconciliation/?day={DAY}&status=suggested").content.decode()
    assert 'href="/reconciliation/"' in html and "Conciliación" in html
    assert "TEF PANADERIA DEL SUR" in html and "PAGO FACT 1001" not in html
    assert 'data-tab="applied"' in html
    applied = c.get(f"/reconciliation/?day={DAY}&status=applied").content.decode()
    assert "PAGO FACT 1001" in applied and "Ferretería Andina SpA" in applied
    ignored = c.get(f"/reconciliation/?day={DAY}&status=ignored").content.decode()
    assert "COMISION MANTENCION" in ignored and "Es una comisión o gasto del banco." in ignored
    # The one account has no statement for the day: it says so, and nothing says "up to date".
    assert html.count("<span class=\"badge badge-warn\" data-missing>Falta el estado de cuenta</span>") == 1
    assert "badge-ok" not in html


def test_accept_in_one_click_records_the_payment_and_the_event(agent, lines, book):
    c = client_for(agent)
    sur = lines[2]
    response = c.post(f"/reconciliation/lines/{sur.pk}/accept/")
    assert response.status_code == 302
    sur.refresh_from_db()
    assert sur.status == "applied" and sur.decided_by == agent
    assert Invoice.objects.get(ref="F-3001").open_amount == 0
    ev = TimelineEvent.objects.get(kind="statement.applied", customer=book["sur"])
    assert ev.actor == agent and "aceptó la sugerencia" in ev.summary
    page = c.get(response["Location"]).content.decode()
    assert "Movimiento conciliado con Panadería del Sur EIRL." in page


def test_search_assign_split_and_undo(agent, lines, book):
    c = client_for(agent)
    deposit = lines[3]
    html = c.get(f"/reconciliation/lines/{deposit.pk}/?q=andes").content.decode()
    assert "Comercial Los Andes Ltda." in html and "F-2001" in html and "Ferretería" not in html
    c.post(f"/reconciliation/lines/{deposit.pk}/assign/", {
        "customer": [book["andes"].pk, book["andina"].pk], "invoice": [book["inv"]["F-2001"].pk, book["inv"]["F-1002"].pk],
        f"amount_{book['andes'].pk}": "50.000", f"amount_{book['andina'].pk}": "60.000"})
    deposit.refresh_from_db()
    assert deposit.status == "applied" and deposit.payments.count() == 2
    assert Invoice.objects.get(ref="F-2001").open_amount == 35000 and Invoice.objects.get(ref="F-1002").open_amount == 0
    c.post(f"/reconciliation/lines/{deposit.pk}/undo/", {"reason": "depósito de otro"})
    deposit.refresh_from_db()
    assert deposit.status == "unmatched" and Invoice.objects.get(ref="F-2001").open_amount == 85000
    assert TimelineEvent.objects.filter(kind="statement.undone", actor=agent, data__reason="depósito de otro").count() == 2
    # A split that does not add up is refused with a message, nothing written.
    r = c.post(f"/reconciliation/lines/{deposit.pk}/assign/", {
        "customer": [book["andes"].pk, book["andina"].pk], f"amount_{book['andes'].pk}": "1",
        f"amount_{book['andina'].pk}": "2"}, follow=True)
    assert "sumar exactamente $110.000" in r.content.decode()
    deposit.refresh_from_db()
    assert deposit.status == "unmatched" and deposit.payments.count() == 0


def test_viewer_and_outsider_may_not(org, other_org, lines, django_user_model):
    viewer = django_user_model.objects.create_user("vera", password="x")
    Membership.objects.create(user=viewer, organization=org, role=Role.VIEWER)
    assert client_for(viewer).get("/reconciliation/").status_code == 403
    outsider = django_user_model.objects.create_user("oscar", password="x")
    Membership.objects.create(user=outsider, organization=other_org, role=Role.ADMIN)
    c = client_for(outsider)
    assert c.get(f"/reconciliation/lines/{lines[2].pk}/").status_code == 404
    assert c.post(f"/reconciliation/lines/{lines[2].pk}/accept/").status_code == 404
    lines[2].refresh_from_db()
    assert lines[2].status == "suggested"
    assert "TEF PANADERIA" not in c.get(f"/reconciliation/?day={DAY}").content.decode()
    assert Organization.objects.count() == 2


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_catalogs_cover_every_string_of_the_app(lang):
    import ast
    import re
    from pathlib import Path

    from babel.messages.pofile import read_po

    import cobro.payments

    root = Path(cobro.payments.__file__).parent
    wanted = set()
    names = {"_", "N_", "gettext_lazy", "gettext_noop"}  # gettext_noop: the readers' texts, shown translated
    for p in root.rglob("*.py"):
        for node in ast.walk(ast.parse(p.read_text())):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) in names and node.args
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                wanted.add(node.args[0].value)
    for p in root.rglob("*.html"):
        wanted |= set(re.findall(r'{%\s*translate\s+"([^"]*)"', p.read_text()))
        wanted |= set(re.findall(r"{%\s*translate\s+'([^']*)'", p.read_text()))
    with (root / "locale" / lang / "LC_MESSAGES" / "django.po").open("rb") as f:
        catalog = {m.id: m.string for m in read_po(f) if m.id}
    assert not [w for w in wanted if not catalog.get(w)]


def test_page_in_english(agent, lines):
    c = client_for(agent)
    c.post("/language/", {"language": "en"})
    html = c.get(f"/reconciliation/?day={DAY}&status=ignored").content.decode()
    assert "Reconciliation" in html and "It is a bank charge or fee." in html and "Conciliación" not in html
