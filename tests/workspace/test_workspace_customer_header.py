"""Issue #13: the customer page names the debtor's language and place, not their codes."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

NOW = dt.datetime(2026, 12, 4, 21, 0, tzinfo=dt.UTC)  # 18:00 in Santiago (summer time, UTC−3)


@pytest.mark.parametrize(("lang", "expected"), [
    ("es", "· español · hora de Chile (Santiago de Chile), 18:00 (UTC−3)"),
    ("en", "· Spanish · Chile (Santiago) Time, 6 p.m. (UTC−3)"),
    ("pt-br", "· espanhol · Horário Chile (Santiago), 18:00 (UTC−3)"),
])
def test_language_and_zone_in_words(login, book, lang, expected):
    client = login(book.agent)
    client.post("/language/", {"language": lang})
    with time_machine.travel(NOW, tick=False):
        body = client.get(f"/customers/{book.customers[0].pk}/").content.decode()
    note = body.split("stat-note", 5)[-1].split("</div>", 1)[0]  # the owner card's line
    assert expected in note, note
    assert "America/Santiago" not in note and "· es ·" not in note


def test_a_customer_without_a_zone_is_placed_by_country(login, book):
    customer = book.customers[1]
    customer.timezone, customer.country = "", "MX"
    customer.save(update_fields=["timezone", "country"])
    client = login(book.agent)
    client.post("/language/", {"language": "es"})
    with time_machine.travel(NOW, tick=False):
        body = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "hora de México (Ciudad de México), 15:00 (UTC−6)" in body


@pytest.mark.parametrize(("lang", "place"), [("es", "hora de Chile (Santiago de Chile)"),
                                             ("en", "Chile (Santiago) Time")])
def test_the_explain_panel_names_the_zone_as_a_place(login, book, today, lang, place):
    from cobro.dunning.cycle import run_cycle

    run_cycle(book.org, today)
    client = login(book.agent)
    client.post("/language/", {"language": lang})
    lines = client.get(f"/customers/{book.customers[0].pk}/").context["explanation"]
    zones = [line for line in lines if place in line]
    assert zones and not any("America/Santiago" in line for line in lines), lines


@pytest.mark.parametrize(("lang", "country", "hold", "current"), [
    ("es", "· Chile ·", "Promesa de pago al {d}", ">al día<"),
    ("en", "· Chile ·", "promise to pay by {d}", ">current<"),
    ("pt-br", "· Chile ·", "promessa de pagamento até {d}", ">em dia<"),
])
def test_country_promise_hold_and_ageing_in_the_readers_words(login, book, today, lang, country, hold, current):
    import datetime as dt

    from django.utils import formats, translation

    from cobro.agreements import services as agreements

    customer = book.customers[2]  # due in five days: "current"
    promised = today + dt.timedelta(days=8)
    agreements.create_promise(book.org, customer, promised, 300_000, "CLP")
    client = login(book.agent)
    client.post("/language/", {"language": lang})
    response = client.get(f"/customers/{customer.pk}/")
    body = response.content.decode()
    sub = body.split('class="sub"', 1)[1].split("</p>", 1)[0]
    assert country in sub and "· CL ·" not in sub, sub
    with translation.override(lang):
        words = formats.date_format(promised, "DATE_FORMAT")
    text = "\n".join(response.context["explanation"])
    assert hold.format(d=words) in text, text
    assert current in body
