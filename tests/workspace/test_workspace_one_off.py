"""The customer page's "send a message" form: who may, what it offers, and that a double click sends once."""

from __future__ import annotations

import pytest

from cobro.ledger.models import TimelineEvent
from cobro.messaging import services as messaging
from cobro.messaging.models import Message, OptOut


@pytest.fixture
def templates(book):
    messaging.install_default_templates(book.org)
    return book


def _send(client, customer, **data):
    return client.post(f"/customers/{customer.pk}/message/", data, HTTP_HX_REQUEST="true")


def test_form_offers_templates_and_reachable_channels_to_agents_only(login, templates):
    book, customer = templates, templates.customers[0]
    messaging.opt_out(book.org, customer, "sms", OptOut.Source.MANUAL)
    body = login(book.agent).get(f"/customers/{customer.pk}/").content.decode()
    assert "Enviar un mensaje" in body and 'value="overdue_friendly"' in body
    assert 'value="email"' in body and 'value="sms"' not in body  # opted out of SMS
    assert 'href="/messages/"' in body  # the outbox is in the navigation for agents
    body = login(book.viewer).get(f"/customers/{customer.pk}/").content.decode()
    assert "Enviar un mensaje" not in body and 'href="/messages/"' not in body


def test_preview_renders_the_customers_data(login, templates):
    customer = templates.customers[0]
    client = login(templates.agent)
    response = client.get(f"/customers/{customer.pk}/message/preview/",
                          {"template": "overdue_friendly", "channel": "email"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "c1@example.cl" in body and "Contacto 1" in body
    assert not Message.objects.exists()
    assert login(templates.viewer).get(f"/customers/{customer.pk}/message/preview/").status_code == 403


def test_agent_sends_once_and_it_is_on_the_timeline_and_outbox(login, templates):
    book, customer = templates, templates.customers[0]
    client = login(book.agent)
    form = {"template": "overdue_friendly", "channel": "email", "token": "f00d"}
    first = _send(client, customer, **form)
    assert first.status_code == 200 and "Mensaje en cola" in first.content.decode()
    second = _send(client, customer, **form)  # the double click
    assert "no se envía dos veces" in second.content.decode()
    msg = Message.objects.get(customer=customer)
    assert msg.key.startswith(f"oneoff:{customer.pk}:overdue_friendly:email:")
    event = TimelineEvent.objects.get(kind="message.queued", customer=customer)
    assert event.actor == book.agent
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    timeline = page.split('id="timeline"')[1].split("</ul>")[0]
    assert "Mensaje en cola: Atraso, tono amable" in timeline and "overdue_friendly" not in timeline, timeline
    assert f"/messages/{msg.pk}/" in client.get("/messages/").content.decode()


def test_opted_out_channel_is_refused_with_a_reason(login, templates):
    book, customer = templates, templates.customers[0]
    messaging.opt_out(book.org, customer, "email", OptOut.Source.MANUAL)
    response = _send(login(book.agent), customer, template="overdue_friendly", channel="email", token="x")
    assert response.status_code == 200 and "pidió no recibir mensajes" in response.content.decode()
    assert not Message.objects.filter(direction="out").exists()


def test_who_may_send(login, templates):
    book, customer = templates, templates.customers[0]
    form = {"template": "overdue_friendly", "channel": "email"}
    assert _send(login(book.viewer), customer, **form).status_code == 403
    assert _send(login(book.outsider), customer, **form).status_code == 404
    assert _send(login(book.agent), book.secret, **form).status_code == 404  # another organization's customer
    assert not Message.objects.exists()
    response = login(book.manager).post(f"/customers/{customer.pk}/message/", {**form, "token": "m1"})
    assert response.status_code == 302 and Message.objects.count() == 1


def test_form_and_refusals_speak_the_users_language(login, templates):
    book, customer = templates, templates.customers[0]
    messaging.opt_out(book.org, customer, "email", OptOut.Source.MANUAL)
    client = login(book.agent)
    client.post("/language/", {"language": "pt-br"})
    assert "Enviar uma mensagem" in client.get(f"/customers/{customer.pk}/").content.decode()
    client.post("/language/", {"language": "en"})
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "Send a message" in page and ">Messages</a>" in page
    body = _send(client, customer, template="overdue_friendly", channel="email", token="e1").content.decode()
    assert "The customer asked not to receive messages by" in body
