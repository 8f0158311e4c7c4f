"""The customers list: filters, sorting, pages, saved views, export and bulk actions, with their
exact effects in the database."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest

from cobro.ledger.models import Customer, Task, TimelineEvent
from cobro.workspace.models import SavedView


def names(response):
    return [r.customer.name for r in response.context["rows"]]


@pytest.fixture
def c1(book):
    return book.customers[0]  # Ferretería Los Andes: 45 days late, 1,250,000, corporativo, the agent's


@pytest.mark.parametrize("params,expected", [
    ({}, ["Ferretería Los Andes", "Panadería Sol", "Transportes Sur"]),
    ({"stage": "vencida"}, ["Ferretería Los Andes", "Panadería Sol"]),
    ({"stage": "por_vencer"}, ["Transportes Sur"]),
    ({"bucket": "31-60"}, ["Ferretería Los Andes"]),
    ({"bucket": "1-30"}, ["Panadería Sol"]),
    ({"bucket": "current"}, ["Transportes Sur"]),
    ({"owner": "none"}, ["Panadería Sol", "Transportes Sur"]),
    ({"segment": "pyme"}, ["Panadería Sol", "Transportes Sur"]),
    ({"country": "cl", "segment": "corporativo"}, ["Ferretería Los Andes"]),
    ({"min": "100.000"}, ["Ferretería Los Andes"]),
    ({"min": "1", "max": "100000"}, ["Panadería Sol"]),
    ({"sort": "-overdue"}, ["Ferretería Los Andes", "Panadería Sol", "Transportes Sur"]),
    ({"sort": "overdue"}, ["Transportes Sur", "Panadería Sol", "Ferretería Los Andes"]),
    ({"sort": "-name"}, ["Transportes Sur", "Panadería Sol", "Ferretería Los Andes"]),
    ({"q": "PANADERIA"}, ["Panadería Sol"]),
    ({"q": "c3"}, ["Transportes Sur"]),
])
def test_filters_and_sorting(book, login, params, expected):
    assert names(login(book.viewer).get("/customers/", params)) == expected


def test_mine_and_another_owner(book, login):
    assert names(login(book.agent).get("/customers/", {"owner": "me"})) == ["Ferretería Los Andes"]
    assert names(login(book.viewer).get("/customers/", {"owner": str(book.agent.pk)})) == ["Ferretería Los Andes"]


def test_another_organization_is_never_listed(book, login):
    page = login(book.viewer).get("/customers/", {"q": "secreto"})
    assert names(page) == [] and "Cliente Secreto" not in page.content.decode()
    assert names(login(book.outsider).get("/customers/")) == ["Cliente Secreto"]


def test_an_unreadable_amount_is_named(book, login):
    page = login(book.viewer).get("/customers/", {"min": "abc"}, follow=True).content.decode()
    assert "Vencido desde: «abc» no es un monto" in page


def test_pages_keep_the_filter(book, login):
    for i in range(55):
        Customer.objects.create(organization=book.org, ref=f"P{i:02d}", name=f"Pyme {i:02d}", country="CL",
                                segment="pyme")
    client = login(book.viewer)
    first = client.get("/customers/", {"segment": "pyme"})
    assert first.context["page"].paginator.count == 57 and len(first.context["rows"]) == 50
    assert "segment=pyme&amp;page=2" in first.content.decode()
    second = client.get("/customers/", {"segment": "pyme", "page": "2"})
    assert names(second) == [f"Pyme {i}" for i in range(49, 55)] + ["Transportes Sur"]


def test_saved_views_are_per_person(book, login):
    client = login(book.agent)
    client.post("/customers/views/", {"name": "Mis vencidos", "query": "stage=vencida&owner=me&page=3"})
    view = SavedView.objects.get(user=book.agent)
    assert (view.name, view.query, view.organization_id) == ("Mis vencidos", "stage=vencida&owner=me", book.org.pk)
    page = client.get("/customers/").content.decode()
    assert 'href="/customers/?stage=vencida&amp;owner=me"' in page
    client.post("/customers/views/", {"name": "Mis vencidos", "query": "stage=por_vencer"}, follow=True)
    assert list(SavedView.objects.filter(user=book.agent).values_list("query", flat=True)) == ["stage=por_vencer"]
    other = login(book.manager)
    assert "Mis vencidos" not in other.get("/customers/").content.decode()
    assert other.post(f"/customers/views/{view.pk}/delete/").status_code == 404
    login(book.agent).post(f"/customers/views/{view.pk}/delete/")
    assert not SavedView.objects.exists()


def test_csv_export_of_the_filtered_list(book, login, c1):
    Customer.objects.filter(pk=c1.pk).update(name='=HYPERLINK("http://x")')
    response = login(book.agent).get("/customers/export.csv", {"stage": "vencida", "sort": "-overdue"})
    assert response["Content-Disposition"].endswith('.csv"')
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Código", "Razón social", "Identificador tributario"]
    assert [r[:2] for r in rows[1:]] == [["C1", "'=HYPERLINK(\"http://x\")"], ["C2", "Panadería Sol"]]
    assert rows[1][6:] == ["Vencida", "45", "CLP", "1250000", "1250000"]
    assert rows[2][5:] == ["", "Vencida", "10", "CLP", "80000", "80000"]
    assert login(book.viewer).get("/customers/export.csv").status_code == 403


def test_xlsx_export_is_never_a_formula(book, login, c1):
    from openpyxl import load_workbook

    Customer.objects.filter(pk=c1.pk).update(name="=1+1")
    response = login(book.agent).get("/customers/export.xlsx", {"segment": "corporativo"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert len(values) == 2 and values[1][:2] == ["C1", "=1+1"]
    assert sheet.cell(2, 2).data_type == "s" and values[1][9] == 1250000


def _bulk(client, action, customers=(), **extra):
    return client.post("/customers/bulk/", {"action": action, "customer": [c.pk for c in customers],
                                             "query": "", **extra}, follow=True)


def test_bulk_assign_owner(book, login):
    _c1, c2, c3 = book.customers
    page = _bulk(login(book.manager), "owner", [c2, c3], owner=str(book.agent.pk)).content.decode()
    assert "Responsable asignado a 2 clientes." in page
    assert set(Customer.objects.filter(organization=book.org, owner=book.agent).values_list("ref", flat=True)) == {
        "C1", "C2", "C3"}
    events = TimelineEvent.objects.filter(kind="customer.owner_changed")
    assert sorted(events.values_list("customer_id", flat=True)) == sorted([c2.pk, c3.pk])
    assert all(e.actor_id == book.manager.pk for e in events)


def test_read_only_and_agents_cannot_do_what_is_not_theirs(book, login):
    c2 = book.customers[1]
    assert _bulk(login(book.viewer), "pause", [c2], **{"pause-days": "3", "pause-reason": "x"}).status_code == 403
    assert _bulk(login(book.agent), "owner", [c2], owner=str(book.agent.pk)).status_code == 403
    assert _bulk(login(book.agent), "approve", [c2]).status_code == 403
    assert not TimelineEvent.objects.filter(customer=c2).exclude(kind__startswith="invoice").exists()
    assert Customer.objects.get(pk=c2.pk).owner is None
    assert 'id="bulk-bar"' not in login(book.viewer).get("/customers/").content.decode()


def test_bulk_move_stage_reports_each_refusal(book, login):
    c1, c2, c3 = book.customers
    client = login(book.agent)
    page = _bulk(client, "stage", [c1, c2], stage="en_gestion").content.decode()
    assert "2 clientes cambiaron de etapa." in page
    moved = TimelineEvent.objects.filter(kind="stage.moved")
    assert sorted(moved.values_list("customer_id", flat=True)) == sorted([c1.pk, c2.pk])
    page = _bulk(client, "stage", [c1, c3], stage="legal").content.decode()
    assert "Ferretería Los Andes está en «En gestión» y no puede pasar a «Legal»" in page
    assert "Transportes Sur está en «Por vencer» y no puede pasar a «Legal»" in page
    assert "cambiaron de etapa" not in page and "cambió de etapa" not in page
    assert TimelineEvent.objects.filter(kind="stage.moved").count() == 2
    assert names(client.get("/customers/", {"stage": "en_gestion"})) == ["Ferretería Los Andes", "Panadería Sol"]


def test_bulk_pause_for_every_customer_matching_the_filter(book, login):
    from cobro.dunning.models import Pause

    client = login(book.agent)
    page = client.post("/customers/bulk/", {"action": "pause", "scope": "all", "query": "segment=pyme",
                                            "pause-days": "5", "pause-reason": "Cierre contable"},
                       follow=True).content.decode()
    assert "para 2 clientes" in page
    pauses = Pause.objects.filter(organization=book.org)
    assert sorted(pauses.values_list("customer__ref", flat=True)) == ["C2", "C3"]
    from cobro.workspace.views import org_today

    assert {p.until for p in pauses} == {org_today(book.org) + dt.timedelta(days=5)}
    assert TimelineEvent.objects.filter(kind="collection.paused").count() == 2
    page = _bulk(client, "pause", [book.customers[0]], **{"pause-days": "500", "pause-reason": "x"}).content.decode()
    assert "Días de pausa" in page and pauses.count() == 2


def test_bulk_approve(book, login):
    from tests.workspace.test_workspace_today import _approval

    c1, c2, c3 = book.customers
    a1, t1 = _approval(book, c1, "bk1")
    page = _bulk(login(book.manager), "approve", [c1, c3]).content.decode()
    a1.refresh_from_db(), t1.refresh_from_db()
    assert a1.status == "approved" and t1.status == Task.Status.DONE
    assert "1 paso aprobado." in page and "Transportes Sur no tiene pasos esperando aprobación." in page


def test_nothing_ticked(book, login):
    page = _bulk(login(book.manager), "owner", [], owner="").content.decode()
    assert "Marque al menos un cliente." in page


@pytest.mark.parametrize(("lang", "words", "absent"), [
    ("en", ["Clear filters", "Days-late bucket", "Save this view", "Apply to the ticked ones", "Overdue"],
     ["Quitar filtros", "Tramo de atraso", "Guardar esta vista"]),
    ("pt-br", ["Limpar filtros", "Faixa de atraso", "Salvar esta visão", "Aplicar aos marcados"],
     ["Quitar filtros", "Tramo de atraso", "Guardar esta vista"]),
    ("es", ["Quitar filtros", "Tramo de atraso", "Guardar esta vista", "Aplicar a los marcados"], ["Clear filters"]),
])
def test_the_list_and_the_search_speak_the_readers_language(book, login, lang, words, absent):
    client = login(book.manager)
    client.post("/language/", {"language": lang})
    body = client.get("/customers/", {"segment": "pyme"}).content.decode()
    assert all(w in body for w in words) and not any(w in body for w in absent)
    found = client.get("/search/", {"q": "panaderia"}).content.decode()
    title = {"en": "Customers", "pt-br": "Clientes", "es": "Clientes"}[lang]
    assert f'<h2 id="g-customers">{title}' in found
    empty = client.get("/search/", {"q": "qqqq"}).content.decode()
    assert {"en": "Nothing matches", "pt-br": "Nada corresponde", "es": "Nada coincide"}[lang] in empty


def _other_orgs_rows(book):
    """Every row of the other organization in every tenant table (issue #10: forged ids change nothing)."""
    from django.apps import apps

    return {m._meta.label: list(m.objects.filter(organization=book.other).order_by("pk").values())
            for m in apps.get_models() if m.__module__.startswith("cobro.")
            and any(f.name == "organization" for f in m._meta.get_fields())}


@pytest.mark.parametrize("role", ["admin", "manager", "agent", "viewer"])
def test_bulk_actions_with_another_organizations_ids_change_nothing(book, login, role):
    """Forged customer ids, a filter naming the other organization's customer and its user as owner: every
    action of every role of this organization leaves the other organization's rows as they were."""
    before = _other_orgs_rows(book)
    client = login(getattr(book, role))
    secret = [book.secret]
    answers = [
        _bulk(client, "owner", secret, owner=str(book.outsider.pk)),
        _bulk(client, "owner", secret, owner=str(book.agent.pk)),
        _bulk(client, "stage", secret, stage="legal"),
        _bulk(client, "pause", secret, **{"pause-days": "3", "pause-reason": "x"}),
        _bulk(client, "approve", secret),
        client.post("/customers/bulk/", {"action": "pause", "scope": "all", "query": "q=secreto",
                                         "pause-days": "3", "pause-reason": "x"}, follow=True),
        client.post("/customers/bulk/", {"action": "stage", "scope": "all", "query": "", "stage": "legal"},
                    follow=True),
    ]
    for answer in answers:
        assert "Cliente Secreto" not in answer.content.decode() and "Óscar" not in answer.content.decode()
    assert _other_orgs_rows(book) == before
    assert Customer.objects.get(pk=book.secret.pk).owner_id is None


def test_saved_views_and_search_of_another_organization_are_out_of_reach(book, login):
    theirs = SavedView.objects.create(organization=book.other, user=book.outsider, name="Vista secreta",
                                      query="q=secreto")
    for role in ("admin", "manager", "agent", "viewer"):
        client = login(getattr(book, role))
        assert client.post(f"/customers/views/{theirs.pk}/delete/").status_code == 404
        client.post("/customers/views/", {"name": "Vista secreta", "query": "q=otra"})
        page = client.get("/customers/").content.decode()
        assert "Vista secreta" in page and "q=secreto" not in page  # their own view, not the other's
        found = client.get("/search/", {"q": "secreto"}).content.decode()
        # the other customer's code as a whole word: a random CSRF token may well contain "X1"
        assert "Cliente Secreto" not in found and not re.search(r"\bX1\b", found)
    theirs.refresh_from_db()
    assert theirs.query == "q=secreto" and SavedView.objects.filter(organization=book.other).count() == 1
    assert "Cliente Secreto" in login(book.outsider).get("/search/", {"q": "secreto"}).content.decode()
