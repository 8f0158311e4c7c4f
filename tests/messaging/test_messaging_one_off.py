"""One-off messages a person sends from the customer page: same outbox, same checks, never twice."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cobro.ledger.models import TimelineEvent
from cobro.messaging import outbox, services
from cobro.messaging.models import Message, MessageTemplate, OptOut


def test_agent_queues_a_one_off_that_the_outbox_delivers(book):
    msg = services.queue_one_off(book.org, book.es, "overdue_friendly", "email", book.agent, token="abc123")
    assert msg.created and msg.status == Message.Status.QUEUED
    assert msg.to == "rosa@andes.cl" and "F-101" in msg.body_text  # what the preview showed, until it leaves
    assert msg.key.startswith(f"oneoff:{book.es.pk}:overdue_friendly:email:") and msg.key.endswith(":abc123")
    event = TimelineEvent.objects.get(kind="message.queued", customer=book.es)
    assert event.actor == book.agent and event.data["message_id"] == msg.pk
    report = outbox.deliver(book.org, transport="demo")
    assert report.sent == 1
    msg.refresh_from_db()
    assert msg.status == Message.Status.SENT and msg.to == "rosa@andes.cl" and "F-101" in msg.body_text
    assert TimelineEvent.objects.filter(kind="message.sent", customer=book.es, data__message_id=msg.pk).exists()


def test_double_submit_sends_once_a_new_form_sends_again(book):
    first = services.queue_one_off(book.org, book.es, "overdue_friendly", "sms", book.agent, token="t1")
    again = services.queue_one_off(book.org, book.es, "overdue_friendly", "sms", book.agent, token="t1")
    assert again.pk == first.pk and not again.created
    second = services.queue_one_off(book.org, book.es, "overdue_friendly", "sms", book.agent, token="t2")
    assert second.pk != first.pk
    assert Message.objects.filter(customer=book.es, key__startswith="oneoff:").count() == 2
    assert TimelineEvent.objects.filter(kind="message.queued", customer=book.es).count() == 2


def test_without_a_token_the_same_minute_is_one_send(book):
    at = timezone.now().replace(second=5, microsecond=0)
    a = services.queue_one_off(book.org, book.es, "overdue_friendly", "email", book.agent, now=at)
    b = services.queue_one_off(book.org, book.es, "overdue_friendly", "email", book.agent,
                               now=at + dt.timedelta(seconds=40))
    c = services.queue_one_off(book.org, book.es, "overdue_friendly", "email", book.agent,
                               now=at + dt.timedelta(minutes=2))
    assert a.pk == b.pk != c.pk


@pytest.mark.parametrize("who", ["viewer", "outsider"])
def test_only_agents_of_the_organization_may_send(book, who):
    with pytest.raises(services.OneOffRefused, match="rol"):
        services.queue_one_off(book.org, book.es, "overdue_friendly", "email", getattr(book, who))
    assert not Message.objects.exists()


def test_customer_of_another_organization_is_refused(book):
    with pytest.raises(services.OneOffRefused):
        services.queue_one_off(book.org, book.secret, "overdue_friendly", "email", book.manager)


def test_opted_out_channel_and_missing_address_are_refused(book):
    services.opt_out(book.org, book.es, "whatsapp", OptOut.Source.MANUAL)
    assert "whatsapp" not in services.reachable_channels(book.org, book.es)
    with pytest.raises(services.OneOffRefused, match="no recibir"):
        services.queue_one_off(book.org, book.es, "overdue_friendly", "whatsapp", book.agent)
    # Padaria Sol has no phone for SMS.
    assert "sms" not in services.reachable_channels(book.org, book.pt)
    with pytest.raises(services.OneOffRefused, match="dirección"):
        services.queue_one_off(book.org, book.pt, "overdue_friendly", "sms", book.agent)
    assert not Message.objects.exists()
    assert not TimelineEvent.objects.filter(kind="message.queued").exists()


def test_tone_check_refuses_before_queueing(book):
    MessageTemplate.objects.filter(organization=book.org, code="overdue_friendly", language="es",
                                   channel="email").update(body="PAGUE YA O LO DEMANDAMOS!!! {{ total }}")
    with pytest.raises(services.OneOffRefused, match="tono"):
        services.queue_one_off(book.org, book.es, "overdue_friendly", "email", book.agent)
    assert not Message.objects.exists()


def test_invoices_must_be_the_customers(book):
    with pytest.raises(services.OneOffRefused, match="facturas"):
        services.queue_one_off(book.org, book.es, "overdue_friendly", "email", book.agent,
                               invoice_ids=[book.inv["en1"].pk])
    msg = services.queue_one_off(book.org, book.es, "overdue_friendly", "email", book.agent,
                                 invoice_ids=[book.inv["es1"].pk])
    assert msg.invoice_ids == [book.inv["es1"].pk]


def test_preview_uses_the_customers_real_data_and_stores_nothing(book):
    rendered, tpl = services.preview_one_off(book.org, book.en, "overdue_friendly", "sms")
    assert tpl.language == "en" and "$2,500.00" in rendered.text and "March 3, 2026" in rendered.text
    assert rendered.to == "+12025550143"
    assert not Message.objects.exists()
