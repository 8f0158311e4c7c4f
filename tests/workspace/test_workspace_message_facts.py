"""A one-off message states only facts that hold: the real promise, something really overdue, a
dispute really resolved with a total to pay; otherwise it is refused with the reason."""

from __future__ import annotations

import datetime as dt

import pytest

from cobro.messaging import services as messaging
from cobro.messaging.models import Message


@pytest.fixture
def templates(book):
    messaging.install_default_templates(book.org)
    return book


def _send(client, customer, template, token):
    return client.post(f"/customers/{customer.pk}/message/", {"template": template, "channel": "email",
                                                              "token": token}, HTTP_HX_REQUEST="true")


def test_overdue_reminder_refused_when_nothing_is_overdue(login, templates):
    upcoming = templates.customers[2]  # Transportes Sur: due in five days
    body = _send(login(templates.agent), upcoming, "overdue_friendly", "a1").content.decode()
    assert "no tiene facturas vencidas" in body
    assert not Message.objects.filter(customer=upcoming).exists()
    preview = login(templates.agent).get(f"/customers/{upcoming.pk}/message/preview/",
                                         {"template": "overdue_friendly", "channel": "email"}).content.decode()
    assert "no tiene facturas vencidas" in preview


def test_promise_reminder_quotes_the_real_promise_or_is_refused(login, templates, today):
    from cobro.agreements.services import create_promise

    customer = templates.customers[0]
    client = login(templates.agent)
    assert "promesa de pago pendiente" in _send(client, customer, "promise_reminder", "p0").content.decode()
    assert not Message.objects.exists()
    promised = today + dt.timedelta(days=6)
    create_promise(templates.org, customer, promised, 345_000, "CLP", made_on=today)
    _send(client, customer, "promise_reminder", "p1")
    msg = Message.objects.get(customer=customer, template="promise_reminder")
    assert msg.data["amount"] == 345_000 and msg.data["date"] == promised.isoformat()
    assert "$345.000" in msg.body_text and "1.250.000" not in msg.body_text


def test_dispute_resolved_needs_a_resolution_and_a_total(login, templates):
    customer = templates.customers[1]
    body = _send(login(templates.agent), customer, "dispute_resolved", "d1").content.decode()
    assert "reclamo resuelto" in body
    assert not Message.objects.exists()
