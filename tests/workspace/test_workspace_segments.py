"""Segments on the policies page: rules in words, customers held today, the form's errors, reorder and
delete, managers only, other organizations' segments not found, and a query count that does not grow."""

from __future__ import annotations

import pytest
from django.test.utils import CaptureQueriesContext

from cobro.dunning import segments as lib
from cobro.dunning import services
from cobro.dunning.models import CustomerRisk, Segment
from cobro.ledger.models import Customer

NEW = "/settings/segments/new/"


@pytest.fixture
def manager(login, book):
    services.ensure_default_policy(book.org)
    return login(book.manager)


def _form(**fields):
    return {"name": "", "policy": "estandar", "currency": "CLP", "amount_min": "", "amount_max": "",
            "countries": "", "tags": "", "days_min": "", "days_max": "", **fields}


def test_only_managers_see_and_change_segments(login, book):
    services.ensure_default_policy(book.org)
    seg = lib.save_segment(book.org, {"name": "Pymes", "policy": "estandar", "bands": [], "tags": ["pyme"]})
    for user in (book.agent, book.viewer):
        client = login(user)
        assert client.get(NEW).status_code == 403
        assert client.post(NEW, _form(name="Otro")).status_code == 403
        assert client.post(f"/settings/segments/{seg.pk}/delete/").status_code == 403
        assert client.post(f"/settings/segments/{seg.pk}/edit/", _form(name="Cambiado")).status_code == 403
    assert list(Segment.objects.values_list("name", flat=True)) == ["Pymes"]


def test_creating_a_segment_lists_its_rules_in_words_and_its_customers_today(manager, book):
    page = manager.post(NEW, _form(name="Pymes grandes", tags="Pyme", amount_min="50.000", amount_max="1.000.000",
                                   countries="cl", days_min="10"))
    assert page.status_code == 302
    seg = Segment.objects.get(organization=book.org)
    assert (seg.tags, seg.countries, seg.currency, seg.amount_min, seg.amount_max, seg.days_min, seg.days_max) == (
        ["pyme"], ["CL"], "CLP", 50_000, 1_000_000, 10, None)
    body = manager.get("/settings/policies/").content.decode()
    row = body.split(f'data-segment="{seg.pk}"')[1].split("</tr>")[0]
    assert "Etiqueta: pyme" in row and "País: Chile" in row and "Primera factura hace 10 días o más" in row
    assert "Deuda abierta desde $50.000 y menos de $1.000.000" in row
    # Panadería Sol (80.000, pyme) is held; Transportes Sur owes 300.000 but its first invoice is 25 days
    # old (held too); Ferretería Los Andes is corporate: the default.
    assert '<td class="num" data-count>2</td>' in row
    assert "1 cliente no está en ningún segmento" in body and "0 clientes tienen su propia política" in body


def test_the_form_says_what_is_wrong_in_the_readers_language(manager, book):
    page = manager.post(NEW, _form(name="Malo", amount_min="mucho", days_max="-3"))
    assert page.status_code == 422
    body = page.content.decode()
    assert "Monto ilegible" in body and "Escriba un número entero de días" in body and 'aria-invalid="true"' in body
    page = manager.post(NEW, _form(name="", amount_min="500", amount_max="100", countries="Chile"))
    body = page.content.decode()
    assert page.status_code == 422
    assert "El segmento necesita un nombre." in body and "El monto máximo debe ser mayor que el mínimo." in body
    assert "Chile" in body and 'value="500"' in body  # what was typed stays in the form
    manager.cookies["django_language"] = "en"
    page = manager.post(NEW, _form(name="", policy="nada"), HTTP_ACCEPT_LANGUAGE="en")
    body = page.content.decode()
    assert "The segment needs a name." in body and "Choose the policy the segment sends its customers to." in body
    assert not Segment.objects.exists()


def test_edit_reorder_and_delete(manager, book):
    services.import_policies(book.org, "code: firme\nname: Firme\nsteps:\n  - {code: '+1', offset: 1, action: message, "
                                       "channel: email, template: overdue_firm, tone: firm}\n")
    a = lib.save_segment(book.org, {"name": "Todos", "policy": "estandar", "bands": []})
    b = lib.save_segment(book.org, {"name": "Altos", "policy": "firme", "bands": ["high"]})
    CustomerRisk.objects.create(organization=book.org, customer=book.customers[0], score=80, band="high",
                                scored_on=book.today)
    assert lib.held_today(book.org, book.today)[0] == {a.pk: 3}
    assert manager.post(f"/settings/segments/{b.pk}/move/", {"direction": "up"}).status_code == 302
    assert list(Segment.objects.values_list("name", flat=True)) == ["Altos", "Todos"]
    body = manager.get("/settings/policies/").content.decode()
    assert body.index("Altos") < body.index("Todos") and "Riesgo: alto" in body
    assert lib.held_today(book.org, book.today)[0] == {b.pk: 1, a.pk: 2}
    form = manager.get(f"/settings/segments/{b.pk}/edit/").content.decode()
    assert 'value="high" checked' in form and 'value="Altos"' in form
    assert manager.post(f"/settings/segments/{b.pk}/edit/", _form(name="Altos y medios", policy="firme",
                                                                 bands=["high", "medium"])).status_code == 302
    b.refresh_from_db()
    assert (b.name, b.bands, b.policy.code) == ("Altos y medios", ["medium", "high"], "firme")
    assert manager.post(f"/settings/segments/{a.pk}/delete/").status_code == 302
    assert list(Segment.objects.values_list("name", flat=True)) == ["Altos y medios"]


def test_another_organizations_segment_is_not_found(manager, book):
    services.ensure_default_policy(book.other)
    theirs = lib.save_segment(book.other, {"name": "Secreto", "policy": "estandar", "bands": []})
    for url in (f"/settings/segments/{theirs.pk}/edit/",):
        assert manager.get(url).status_code == 404
    assert manager.post(f"/settings/segments/{theirs.pk}/edit/", _form(name="Mío")).status_code == 404
    assert manager.post(f"/settings/segments/{theirs.pk}/move/", {"direction": "up"}).status_code == 404
    assert manager.post(f"/settings/segments/{theirs.pk}/delete/").status_code == 404
    assert Segment.objects.get(pk=theirs.pk).name == "Secreto"
    assert "Secreto" not in manager.get("/settings/policies/").content.decode()


def test_the_policies_page_reads_the_same_number_of_queries_for_a_bigger_book(manager, book):
    from django.db import connection

    lib.save_segment(book.org, {"name": "Altos", "policy": "estandar", "bands": ["high"], "currency": "CLP",
                                "amount_min": 1, "days_min": 1})

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert manager.get("/settings/policies/").status_code == 200
        return len(ctx.captured_queries)

    small = queries()
    from cobro.ledger.services import add_invoice

    for i in range(30):
        c = Customer.objects.create(organization=book.org, ref=f"N{i}", name=f"Nuevo {i}", country="CL")
        add_invoice(book.org, c, f"N-{i}", book.today, book.today, "CLP", 1000 + i)
        CustomerRisk.objects.create(organization=book.org, customer=c, score=70, band="high", scored_on=book.today)
    assert queries() == small
    assert lib.held_today(book.org, book.today)[0] == {}  # first invoices issued today: 0 days old
    Segment.objects.update(days_min=0)
    assert lib.held_today(book.org, book.today)[0] == {Segment.objects.get().pk: 30}
