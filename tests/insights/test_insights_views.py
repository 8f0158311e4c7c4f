"""The Dashboard page, its downloads and `cobro report`: who may see what, and what they see."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone
from openpyxl import load_workbook

from cobro.insights import services
from cobro.ledger import services as ledger
from cobro.ledger.models import Membership, Organization

pytestmark = pytest.mark.django_db


@pytest.fixture
def today():
    org_zone_today = timezone.localdate(timezone=dt.timezone(dt.timedelta(hours=-3)))
    return org_zone_today


@pytest.fixture
def world(today):
    acme = Organization.objects.create(slug="acme", name="Acme", currency="CLP", timezone="America/Santiago")
    other = Organization.objects.create(slug="other", name="Other", currency="USD", timezone="America/New_York")
    c, _ = ledger.get_or_create_customer(acme, "C1", "Ferretería Los Andes")
    old = ledger.add_invoice(acme, c, "F1", today - dt.timedelta(days=70), today - dt.timedelta(days=40),
                             "CLP", 1_234_567)
    ledger.add_invoice(acme, c, "F2", today - dt.timedelta(days=5), today + dt.timedelta(days=25), "CLP", 500_000)
    ledger.apply_payment(acme, c, "P1", today - dt.timedelta(days=1), 234_567, "CLP", invoice=old)
    o, _ = ledger.get_or_create_customer(other, "X1", "Outsider Inc.")
    ledger.add_invoice(other, o, "X1", today - dt.timedelta(days=10), today - dt.timedelta(days=3), "USD", 98_765)
    users = {}
    User = get_user_model()
    for name, org, role in [("viewer", acme, "viewer"), ("agent", acme, "agent"), ("outsider", other, "admin")]:
        users[name] = User.objects.create_user(name, password="pw")
        Membership.objects.create(user=users[name], organization=org, role=role)
    users["nobody"] = User.objects.create_user("nobody", password="pw")
    return {"acme": acme, "other": other, "users": users}


def _client(client, world, who):
    client.force_login(world["users"][who])
    return client


def test_anonymous_is_sent_to_sign_in(client, world):
    response = client.get("/insights/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert client.get("/insights/export.csv").status_code == 302


def test_a_user_of_no_organization_is_refused(client, world):
    assert _client(client, world, "nobody").get("/insights/").status_code == 403
    assert client.get("/insights/export.xlsx").status_code == 403


@pytest.mark.parametrize("who", ["viewer", "agent"])
def test_members_see_their_organizations_figures(client, world, who):
    response = _client(client, world, who).get("/insights/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Panel de cobranza" in html
    assert "$1.500.000" in html.replace("\xa0", "").replace(" ", "")  # open: 1,000,000 + 500,000
    assert "DSO" in html and "chart-ageing" in html
    assert "98.765" not in html and "987,65" not in html and "USD" not in html
    data = response.context["chart"]
    assert data["currency"] == "CLP"
    assert data["ageing"]["values"] == [500000.0, 0.0, 1000000.0, 0.0, 0.0]


def test_the_outsider_sees_only_their_own_book(client, world):
    html = _client(client, world, "outsider").get("/insights/?currency=CLP").content.decode()
    assert "Ferretería" not in html and "1.500.000" not in html and "1,500,000" not in html
    assert '<td class="num"><strong>$987.65</strong>' in html  # their own USD total
    rows = list(csv.reader(io.StringIO(client.get("/insights/export.csv").content.decode())))
    assert {r[1] for r in rows[1:]} <= {"USD", ""}


def test_csv_and_xlsx_downloads_carry_the_same_figures(client, world):
    c = _client(client, world, "viewer")
    response = c.get("/insights/export.csv?period=30d")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["section", "currency", "metric", "value"]
    assert ["receivables", "CLP", "open", "1500000"] in rows
    assert ["ageing", "CLP", "31_60", "1000000"] in rows
    assert ["collections", "CLP", "collected", "234567"] in rows
    response = c.get("/insights/export.xlsx?period=30d")
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert cells[0] == ["section", "currency", "metric", "value"]
    assert ["receivables", "CLP", "open", 1500000] in cells
    assert len(cells) == len(rows)


def test_a_bad_filter_is_explained_and_the_default_period_shown(client, world):
    response = _client(client, world, "viewer").get("/insights/?start=2026-13-01&end=2026-01-01")
    assert response.status_code == 200
    assert "is not a date" in response.content.decode()
    assert response.context["period"].code == services.DEFAULT_PERIOD


def test_a_custom_period_in_the_past(client, world, today):
    start, end = today - dt.timedelta(days=60), today - dt.timedelta(days=30)
    response = _client(client, world, "viewer").get(f"/insights/?start={start}&end={end}")
    figures = response.context["figures"]
    # On that day only F1 existed, not yet paid, 0–10 days past due.
    assert figures.ageing.total == 1_234_567
    assert response.context["period"].code == "custom"


def test_an_organization_without_invoices_gets_a_friendly_empty_page(client, world):
    empty = Organization.objects.create(slug="empty", name="Empty")
    Membership.objects.create(user=world["users"]["nobody"], organization=empty, role="viewer")
    html = _client(client, world, "nobody").get("/insights/").content.decode()
    assert "Aún no hay facturas" in html


def test_the_page_speaks_english_and_portuguese(client, world):
    c = _client(client, world, "viewer")
    assert "Collections dashboard" in c.get("/insights/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Painel de cobrança" in c.get("/insights/", HTTP_ACCEPT_LANGUAGE="pt-br").content.decode()


def test_cobro_report_prints_the_same_figures(world, capsys, today):
    call_command("report", "--org", "acme", "--period", "30d", "--as-of", today.isoformat())
    data = json.loads(capsys.readouterr().out)
    assert data["organization"] == "acme"
    assert data["period"]["days"] == 30 and data["period"]["end"] == today.isoformat()
    clp = data["currencies"]["CLP"]
    assert clp["open"] == "1500000" and clp["overdue"] == "1000000"
    assert clp["ageing"]["31_60"] == {"amount": "1000000", "invoices": 1}
    assert clp["collected"] == "234567"
    assert set(data["currencies"]) == {"CLP"}
    with pytest.raises(CommandError, match="no organization 'nope'"):
        call_command("report", "--org", "nope")
    with pytest.raises(CommandError, match="before it starts"):
        call_command("report", "--org", "acme", "--from", "2026-02-01", "--to", "2026-01-01")
