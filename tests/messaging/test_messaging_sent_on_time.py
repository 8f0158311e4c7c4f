"""No message is sent before its time (#13: "Programado 13:00", "Enviado 06:12"): the outbox stamps the
clock it ran by, and the demo's worker sends each message at its own time."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest

from cobro.messaging import outbox
from cobro.messaging.models import Message


def test_sent_at_is_the_clock_the_batch_ran_by(book, queue):
    m = queue(book.org, book.es, "overdue_friendly", "email", [book.inv["es1"]])
    at = m.scheduled_for + dt.timedelta(minutes=7)
    outbox.deliver(book.org, now=at, transport="demo")
    m.refresh_from_db()
    assert m.status == "sent" and m.sent_at == at


@pytest.mark.django_db(transaction=True)
def test_the_demo_sends_nothing_before_its_time():
    from cobro.ledger.demo import ensure_demo
    from cobro.ledger.management.commands.demo import DEMO_APPS

    today = dt.date(2027, 3, 1)
    org, _ = ensure_demo(today, customers=30)
    for app in DEMO_APPS:
        try:
            importlib.import_module(f"cobro.{app}.demo").populate(org, today)
        except ModuleNotFoundError:
            continue
    sent = Message.objects.for_org(org).filter(direction="out").exclude(sent_at=None)
    assert sent.count() >= 5
    early = [(m.pk, m.scheduled_for, m.sent_at) for m in sent if m.sent_at < m.scheduled_for]
    assert early == []
