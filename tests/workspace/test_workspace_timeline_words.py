"""Issue #13: timeline lines in the reader's language, dates in words, whatever language wrote them."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import formats, translation

from cobro.agreements import services as agreements
from cobro.ledger.models import TimelineEvent
from cobro.ledger.services import apply_payment

NUMERIC_DATE = re.compile(r"\b\d{2}-\d{2}-\d{4}\b|\b\d{4}-\d{2}-\d{2}\b")


def timeline(client, customer) -> str:
    response = client.get(f"/customers/{customer.pk}/")
    assert response.status_code == 200
    return response.content.decode().split('class="timeline', 1)[1]


def words(lang, day) -> str:
    with translation.override(lang):
        return formats.date_format(day, "DATE_FORMAT")


@pytest.fixture
def missed(book, today):
    """A plan whose first instalment went unpaid, a promise broken and a payment received."""
    customer = book.customers[0]
    start = today - dt.timedelta(days=70)
    plan = agreements.create_plan(book.org, customer, None, 3, "monthly", start, down_payment=0,
                                  created_by=book.agent, approved_by=book.manager)
    agreements.evaluate_agreements(book.org, today, [customer.pk])
    first = plan.instalments.order_by("number").filter(number__gt=0).first()
    other = book.customers[1]
    promise_day = today - dt.timedelta(days=20)
    agreements.create_promise(book.org, other, promise_day, 50_000, "CLP", made_on=today - dt.timedelta(days=25))
    agreements.evaluate_agreements(book.org, today, [other.pk])
    apply_payment(book.org, other, "TR-77", today, 12_345, "CLP")
    return customer, other, first.due_date, promise_day


@pytest.mark.parametrize(("lang", "instalment", "broken", "paid"), [
    ("es", "Cuota 1 del plan de pagos impaga (vencía el {d})", "Promesa de pago del {d} incumplida",
     "Pago TR-77 recibido ("),
    ("en", "Instalment 1 of the payment plan unpaid (was due {d})", "Promise to pay by {d} broken",
     "Payment TR-77 received ("),
    ("pt-br", "Parcela 1 do plano de pagamento não paga (vencia em {d})", "Promessa de pagamento para {d} descumprida",
     "Pagamento TR-77 recebido ("),
])
def test_timeline_lines_in_the_readers_words(login, book, missed, lang, instalment, broken, paid):
    customer, other, due, promised = missed
    assert TimelineEvent.objects.filter(customer=customer, kind="plan.instalment_missed").exists()
    client = login(book.agent)
    client.post("/language/", {"language": lang})
    text = timeline(client, customer)
    assert instalment.format(d=words(lang, due)) in text
    text = timeline(client, other)
    assert broken.format(d=words(lang, promised)) in text
    assert paid in text
    assert not NUMERIC_DATE.search(re.sub(r"<[^>]+>", " ", text)), NUMERIC_DATE.search(text)


def test_an_old_row_without_the_new_fields_still_reads_in_words(login, book, today):
    """Rows written before the event's data held the due date: the date comes from the old summary."""
    customer = book.customers[0]
    TimelineEvent.objects.create(organization=book.org, customer=customer, kind="plan.instalment_missed",
                                 summary="Cuota 3 del plan de pagos impaga (vencía el 26-11-2026)",
                                 data={"plan_id": 1, "number": 3, "amount": 1000, "paid": 0},
                                 at=dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC))
    TimelineEvent.objects.create(organization=book.org, customer=customer, kind="custom.thing",
                                 summary="Algo que otra app escribió", data={},
                                 at=dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC))
    client = login(book.agent)
    client.post("/language/", {"language": "en"})
    text = timeline(client, customer)
    assert "Instalment 3 of the payment plan unpaid (was due Nov. 26, 2026)" in text
    assert "Algo que otra app escribió" in text


def test_timeline_times_are_on_the_organizations_clock(login, book):
    """Stored in UTC, shown on the organization's clock (a Santiago team read 12:00 for its 09:00)."""
    from zoneinfo import ZoneInfo

    at = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
    TimelineEvent.objects.create(organization=book.org, customer=book.customers[0], kind="note.added",
                                 summary="Nota", data={}, at=at)
    client = login(book.agent)
    client.post("/language/", {"language": "es"})
    local = at.astimezone(ZoneInfo(book.org.timezone))
    with translation.override("es"):
        shown = formats.date_format(local, "j M Y, H:i")
    assert local.hour != 12 and f'<div class="when">{shown} ·' in timeline(client, book.customers[0])
