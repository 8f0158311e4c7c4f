"""The board tells the truth: moves stick or are refused in words, filters list each option once,
stages follow the agreements, and nothing the request sends comes back as markup."""

from __future__ import annotations

import datetime as dt

from cobro.ledger.models import Customer, TimelineEvent
from cobro.ledger.services import add_invoice


def test_rejected_stage_name_is_not_echoed_as_markup(login, book):
    customer = book.customers[0]
    client = login(book.agent)
    response = client.post(f"/board/move/{customer.pk}/", {"stage": "<script>alert(1)</script>"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    assert "<script>" not in body and "&lt;script&gt;" in body
    assert not TimelineEvent.objects.filter(kind="stage.moved").exists()


def test_refused_move_is_a_translated_sentence_and_list_offers_only_allowed(login, book):
    customer = book.customers[0]  # overdue: "Vencida"
    client = login(book.agent)
    assert client.post(f"/board/move/{customer.pk}/", {"stage": "en_gestion"}, HTTP_HX_REQUEST="true").status_code == 204
    refused = client.post(f"/board/move/{customer.pk}/", {"stage": "legal"}, HTTP_HX_REQUEST="true")
    body = refused.content.decode()
    assert refused.status_code == 409
    assert "en_gestion" not in body and "cannot" not in body
    assert "«En gestión»" in body and "«Legal»" in body
    client.cookies["django_language"] = "en"
    english = client.post(f"/board/move/{customer.pk}/", {"stage": "legal"}, HTTP_HX_REQUEST="true").content.decode()
    assert "«In progress»" in english and "cannot move to «Legal»" in english
    del client.cookies["django_language"]
    page = client.get("/board/").content.decode()
    vencida = page.split('data-stage="vencida"')[1].split('data-stage="en_gestion"')[0]
    gestion = page.split('data-stage="en_gestion"')[1].split("</section>")[0]
    # From "Vencida" legal is not offered; from "En gestión" neither legal nor por_vencer.
    assert 'value="legal"' not in vencida and 'value="mediacion"' in vencida
    assert 'value="legal"' not in gestion and 'value="por_vencer"' not in gestion and 'value="vencida"' in gestion


def test_move_back_to_vencida_sticks_and_untrue_moves_are_refused(login, book):
    overdue, upcoming = book.customers[0], book.customers[2]
    client = login(book.agent)
    client.post(f"/board/move/{overdue.pk}/", {"stage": "en_gestion"})
    response = client.post(f"/board/move/{overdue.pk}/", {"stage": "vencida", "next": "/board/"}, follow=True)
    assert "pasó a «Vencida»" in response.content.decode()
    page = client.get("/board/").content.decode()
    vencida = page.split('data-stage="vencida"')[1].split("</section>")[0]
    assert overdue.name in vencida
    # Transportes Sur owes nothing overdue: "Vencida" would be a lie, so the move is refused, not faked.
    refused = client.post(f"/board/move/{upcoming.pk}/", {"stage": "vencida"}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 409
    assert "no tiene facturas vencidas" in refused.content.decode()
    assert not TimelineEvent.objects.filter(kind="stage.moved", customer=upcoming).exists()


def test_filters_list_each_segment_and_country_once(login, book, today):
    for i in range(4):
        c = Customer.objects.create(organization=book.org, ref=f"S{i}", name=f"Otra pyme {i}", country="CL",
                                    timezone="America/Santiago", segment="pyme")
        add_invoice(book.org, c, f"S-{i}", today - dt.timedelta(days=40), today - dt.timedelta(days=10), "CLP", 100)
    page = login(book.viewer).get("/board/").content.decode()
    segment = page.split('id="f-segment"')[1].split("</select>")[0]
    country = page.split('id="f-country"')[1].split("</select>")[0]
    assert segment.count(">pyme<") == 1 and segment.count(">corporativo<") == 1
    assert country.count(">CL<") == 1


def test_a_promise_logged_on_a_call_moves_the_card_to_promesa(login, book, today):
    customer = book.customers[0]
    client = login(book.agent)
    client.post(f"/board/move/{customer.pk}/", {"stage": "en_gestion"})
    data = {"call-outcome": "reached", "call-reason": "cash_flow", "call-note": "",
            "call-promise_date": (today + dt.timedelta(days=3)).isoformat(), "call-promise_amount": "100.000"}
    client.post(f"/customers/{customer.pk}/call/", data)
    page = client.get("/board/").content.decode()
    promesa = page.split('data-stage="promesa"')[1].split("</section>")[0]
    assert customer.name in promesa
    assert TimelineEvent.objects.filter(kind="stage.moved", customer=customer, data__to="promesa").exists()
    # A derived "Vencida" with a pending promise shows in Promesa too, and cannot be moved back while it holds.
    refused = client.post(f"/board/move/{customer.pk}/", {"stage": "vencida"}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 409 and "acuerdo vigente" in refused.content.decode()
