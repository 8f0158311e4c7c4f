"""Today's list: promises within the debt, approvals in bulk and never once moot, priority across
currencies through the organization's rates, and each customer once."""

from __future__ import annotations

import datetime as dt

from cobro.ledger.models import Customer, Task, TimelineEvent
from cobro.ledger.services import add_invoice, create_task
from cobro.workspace.models import ExchangeRate
from cobro.workspace.worklist import worklist


def test_a_promise_beyond_the_debt_is_refused(login, book):
    client = login(book.agent)
    p = f"t{book.task.pk}-"
    response = client.post(f"/tasks/{book.task.pk}/log/", {
        p + "outcome": "reached", p + "promise_date": (book.today + dt.timedelta(days=3)).isoformat(),
        p + "promise_amount": "999.999.999.999"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "supera lo que el cliente debe" in body and "$1.250.000" in body
    assert not TimelineEvent.objects.filter(kind="call.logged").exists()


def test_priority_converts_currencies_with_the_org_rates(book, today):
    eur = Customer.objects.create(organization=book.org, ref="EU1", name="Cliente Europeo", country="ES",
                                  timezone="Europe/Madrid")
    add_invoice(book.org, eur, "EU-1", today - dt.timedelta(days=82), today - dt.timedelta(days=52), "EUR", 432_400)
    create_task(book.org, eur, "call", "Llamar EU", today, source_key="eu")
    before = [i.task.customer.name for i in worklist(book.org, book.agent, today)]
    assert before.index("Cliente Europeo") > before.index("Ferretería Los Andes")  # 4,324 "units" < 1.25 M CLP
    ExchangeRate.objects.create(organization=book.org, currency="EUR", rate="1020.5")
    items = worklist(book.org, book.agent, today)
    assert items[0].task.customer.name == "Cliente Europeo"
    assert "≈" in items[0].explanation


def test_exchange_rates_are_edited_in_settings(login, book):
    client = login(book.manager)
    response = client.post("/settings/rates/", {"currency": "usd", "rate": "950,25"}, follow=True)
    assert ExchangeRate.objects.get(organization=book.org, currency="USD").rate == 950.25
    assert "USD" in response.content.decode()
    bad = client.post("/settings/rates/", {"currency": "EUR", "rate": "abc"}, follow=True).content.decode()
    assert "no es un tipo de cambio" in bad and not ExchangeRate.objects.filter(currency="EUR").exists()
    assert login(book.agent).get("/settings/rates/").status_code == 403
    assert not ExchangeRate.objects.filter(organization=book.other).exists()


def test_same_customer_once_and_one_call_closes_its_tasks(login, book, today):
    extra = create_task(book.org, book.customers[0], "promise_broken", "Promesa incumplida", today, source_key="x")
    items = worklist(book.org, book.agent, today)
    names = [i.task.customer_id for i in items if not i.is_approval]
    assert names.count(book.customers[0].pk) == 1
    page = login(book.agent).get("/today/").content.decode()
    assert page.count(f'href="/customers/{book.customers[0].pk}/"') <= 2  # name link + "Ficha", once
    p = f"t{book.task.pk}-"
    login(book.agent).post(f"/tasks/{book.task.pk}/log/", {p + "outcome": "no_answer"})
    extra.refresh_from_db()
    assert extra.status == Task.Status.DONE


def _approval(book, customer, key):
    from cobro.dunning.models import Action

    action = Action.objects.create(organization=book.org, customer=customer, key=key, as_of=book.today,
                                   step="+60", action="stage", channel="letter", status="pending_approval",
                                   scheduled_for=dt.datetime.combine(book.today, dt.time(12), tzinfo=dt.UTC), data={"to_stage": "mediacion"})
    return action, create_task(book.org, customer, "approval", "Aprobar mediación", book.today,
                               source_key=f"approval:{key}", data={"action_key": key})


def test_bulk_approval_and_moot_review(login, book, today):
    from cobro.agreements.services import create_promise

    a1, t1 = _approval(book, book.customers[0], "k1")
    a2, t2 = _approval(book, book.customers[1], "k2")
    client = login(book.manager)
    page = client.get("/today/").content.decode()
    assert 'id="bulk-approve"' in page and page.count('form="bulk-approve"') == 2
    assert 'id="bulk-approve"' not in login(book.agent).get("/today/").content.decode()
    client = login(book.manager)
    # The second customer promises to pay: its mediation step is moot.
    create_promise(book.org, book.customers[1], today + dt.timedelta(days=5), 50_000, "CLP")
    assert t2.pk not in {i.task.pk for i in worklist(book.org, book.manager, today, approvals=True)}
    response = client.post("/tasks/approve/", {"task": [t1.pk, t2.pk]}, follow=True).content.decode()
    a1.refresh_from_db(), a2.refresh_from_db(), t1.refresh_from_db(), t2.refresh_from_db()
    assert a1.status == "approved" and t1.status == Task.Status.DONE
    assert a2.status == "pending_approval" and t2.outcome == "moot"
    assert "1 paso aprobado" in response and "ya no corresponde" in response
