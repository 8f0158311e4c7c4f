"""The inbox ("Bandeja"): replies, broken promises and plans, failed messages and open disputes,
newest first, filtered by kind, marked done by whoever handles them, counted in the top bar."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cobro.ledger.models import Invoice, Task, TimelineEvent
from cobro.ledger.services import create_task
from cobro.workspace import inbox


def _badge(body: str) -> int:
    found = re.search(r'id="inbox-badge"[^>]*>(\d+)<', body)
    assert found, "the top bar shows the inbox count"
    return int(found.group(1))


@pytest.fixture
def items(book):
    """One item of each kind, created in this order (so the newest is the dispute)."""
    from cobro.agreements.services import open_dispute
    from cobro.messaging.services import record_reply

    c0, c1, c2 = book.customers
    out = {}
    record_reply(book.org, c0, "sms", address="+56911111111", text="Pago el viernes sin falta", provider_id="in-1")
    out["reply"] = Task.objects.get(organization=book.org, kind="reply")
    out["promise"] = create_task(book.org, c1, "agreement_broken", "Llamar: promesa del 01-12-2026 incumplida",
                                 book.today, source_key="agreements:promise:41:broken",
                                 data={"promise_id": 41, "amount": 80_000, "paid": 0, "currency": "CLP",
                                       "promised_date": "2026-12-01"})
    out["plan"] = create_task(book.org, c2, "agreement_broken", "Llamar: plan de pagos incumplido", book.today,
                              source_key="agreements:plan:7:broken", data={"plan_id": 7, "paid": 0, "missed": [1, 2]})
    out["failed"] = create_task(book.org, c1, "message_failed", "Revisar mensaje no enviado (sms, overdue_firm)",
                                book.today, source_key="message_failed:9", data={"message_id": 9})
    invoice = Invoice.objects.get(organization=book.org, ref="F-1")
    dispute = open_dispute(book.org, invoice, "wrong_amount", "El monto no coincide con la orden de compra",
                           actor=book.agent)
    out["dispute"] = Task.objects.get(organization=book.org, kind="dispute")
    out["dispute_row"] = dispute
    # Creation order is the "newest first" order; make it strict whatever the clock's resolution.
    base = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
    for n, key in enumerate(["reply", "promise", "plan", "failed", "dispute"]):
        Task.objects.filter(pk=out[key].pk).update(created_at=base + dt.timedelta(minutes=n))
    return out


def test_the_list_holds_every_kind_newest_first_and_links_each_customer(login, book, items):
    body = login(book.agent).get("/inbox/").content.decode()
    order = [int(pk) for pk in re.findall(r'id="inbox-(\d+)" data-kind', body)]
    assert order == [items[k].pk for k in ["dispute", "failed", "plan", "promise", "reply"]]
    kinds = re.findall(r'data-kind="(\w+)"', body)
    assert kinds == ["dispute", "failed", "plan", "promise", "reply"]
    assert "«Pago el viernes sin falta»" in body
    assert "Prometió $80.000 para el 1 de diciembre de 2026." in body
    assert "2 cuotas impagas." in body
    assert "El monto no coincide con la orden de compra" in body
    assert "Atender reclamo sobre la factura F-1" in body
    # The apps' titles in words, without their codes.
    assert "Revisar mensaje no enviado (SMS, Atraso, tono firme)" in body and "overdue_firm" not in body
    assert "Responder a Ferretería Los Andes (SMS)" in body
    assert "Llamar: promesa del 1 de diciembre de 2026 incumplida" in body
    assert "Llamar: plan de pagos incumplido" in body
    for c in book.customers:
        assert f'href="/customers/{c.pk}/"' in body
    assert "Cliente Secreto" not in body
    assert body.count("Marcar atendido") == 5
    assert "5 elementos esperan a alguien" in body


@pytest.mark.parametrize(("kind", "expected"), [("reply", ["reply"]), ("promise", ["promise"]), ("plan", ["plan"]),
                                                ("failed", ["failed"]), ("dispute", ["dispute"])])
def test_filter_by_kind(login, book, items, kind, expected):
    body = login(book.agent).get(f"/inbox/?kind={kind}").content.decode()
    assert [int(pk) for pk in re.findall(r'id="inbox-(\d+)" data-kind', body)] == [items[k].pk for k in expected]
    assert f'href="?kind={kind}" aria-current="page"' in body


def test_badge_counts_with_one_query_and_drops_when_an_item_is_done(login, book, items):
    client = login(book.agent)
    assert _badge(client.get("/today/").content.decode()) == 5
    with CaptureQueriesContext(connection) as ctx:
        assert inbox.count(book.org) == 5
    assert len(ctx.captured_queries) == 1
    response = client.post(f"/inbox/{items['reply'].pk}/done/", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="inbox-badge" hx-swap-oob="true" class="nav-count">4<' in body
    assert "Atendido: Ferretería Los Andes." in body
    assert 'id="inbox-sub" hx-swap-oob="true">4 elementos esperan a alguien' in body
    task = Task.objects.get(pk=items["reply"].pk)
    assert (task.status, task.outcome) == (Task.Status.DONE, "handled") and task.done_at is not None
    event = TimelineEvent.objects.get(kind="inbox.done")
    assert (event.customer_id, event.actor_id, event.data["kind"], event.data["task_id"]) == (
        book.customers[0].pk, book.agent.pk, "reply", task.pk)
    page = client.get("/inbox/").content.decode()
    assert f'id="inbox-{task.pk}"' not in page and _badge(page) == 4
    timeline = client.get(f"/customers/{book.customers[0].pk}/").content.decode()
    assert "Atendido en la bandeja: Respuesta" in timeline


def test_a_filtered_list_redraws_its_own_count(login, book, items):
    body = login(book.agent).post(f"/inbox/{items['plan'].pk}/done/", {"kind": "plan"},
                                  HTTP_HX_REQUEST="true").content.decode()
    assert 'id="inbox-sub" hx-swap-oob="true">0 elementos esperan a alguien' in body
    assert 'id="inbox-badge" hx-swap-oob="true" class="nav-count">4<' in body


def test_marking_twice_changes_nothing_the_second_time(login, book, items):
    client = login(book.agent)
    client.post(f"/inbox/{items['failed'].pk}/done/")
    again = client.post(f"/inbox/{items['failed'].pk}/done/", HTTP_HX_REQUEST="true").content.decode()
    assert "Otra persona ya atendió este elemento." in again
    assert TimelineEvent.objects.filter(kind="inbox.done").count() == 1


def test_read_only_sees_but_cannot_mark_done(login, book, items):
    client = login(book.viewer)
    body = client.get("/inbox/").content.decode()
    assert len(re.findall(r'data-kind="', body)) == 5 and "Marcar atendido" not in body
    assert client.post(f"/inbox/{items['promise'].pk}/done/").status_code == 403
    assert Task.objects.get(pk=items["promise"].pk).status == Task.Status.OPEN
    assert not TimelineEvent.objects.filter(kind="inbox.done").exists()


def test_another_organization_cannot_touch_the_items(login, book, items):
    client = login(book.outsider)
    assert client.post(f"/inbox/{items['promise'].pk}/done/").status_code == 404
    assert Task.objects.get(pk=items["promise"].pk).status == Task.Status.OPEN
    assert "data-kind" not in client.get("/inbox/").content.decode()
    # An ordinary call task is not an inbox item, even in one's own organization.
    assert login(book.agent).post(f"/inbox/{book.task.pk}/done/").status_code == 404


def test_a_dispute_appears_when_opened_leaves_when_resolved_and_is_not_a_call(login, book, items):
    from cobro.agreements.services import resolve_dispute

    task = items["dispute"]
    assert (task.source_key, task.data["dispute_id"], task.due_on) == (
        f"dispute:{items['dispute_row'].pk}", items["dispute_row"].pk, task.due_on)
    today = login(book.agent).get("/today/").content.decode()
    assert "Atender reclamo" not in today
    resolve_dispute(book.org, items["dispute_row"], False, "El monto corresponde a la orden 55", actor=book.manager)
    task.refresh_from_db()
    assert (task.status, task.outcome) == (Task.Status.DONE, "resolved")
    assert inbox.count(book.org) == 4


@pytest.mark.parametrize(("lang", "words"), [
    ("en", ["Inbox", "Mark handled", "Broken promises", "Reply", "5 items need someone",
            "Check the message not sent (SMS, Overdue, firm tone)", "Call: promise of Dec. 1, 2026 broken",
            "Handle the dispute on invoice F-1", "Promised CLP 80,000 by Dec. 1, 2026."]),
    ("pt-br", ["Caixa de entrada", "Marcar como atendido", "Promessas descumpridas", "Resposta",
               "5 itens precisam de alguém", "Ligar: plano de pagamento descumprido"])])
def test_the_inbox_in_each_language(login, book, items, lang, words):
    client = login(book.agent)
    client.post("/language/", {"language": lang})
    body = client.get("/inbox/").content.decode()
    for word in words:
        assert word in body
    assert "Bandeja" not in body and "Marcar atendido" not in body
