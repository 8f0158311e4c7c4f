"""Callbacks: "call back Thursday after 15:00" becomes a task at that time on the debtor's clock,
shown on Today that day; a moment outside the country's contact rules is refused with the reason."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from cobro.ledger.models import Contact, Customer, Task, TimelineEvent

# Tuesday 1 December 2026, 10:00 in Santiago (UTC-3 in summer).
NOW = dt.datetime(2026, 12, 1, 13, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _post(client, task, day: str, time: str, outcome: str = "reached"):
    p = f"t{task.pk}-"
    return client.post(f"/tasks/{task.pk}/log/", {p + "outcome": outcome, p + "callback_date": day,
                                                  p + "callback_time": time}, HTTP_HX_REQUEST="true")


def test_a_callback_becomes_a_task_at_that_time_in_the_debtors_zone(clock, login, book):
    client = login(book.agent)
    response = _post(client, book.task, "2026-12-03", "15:00")
    assert "Llamada registrada. La tarea quedó hecha." in response.content.decode()
    task = Task.objects.get(organization=book.org, kind="callback")
    assert task.due_on == dt.date(2026, 12, 3)
    assert task.assignee_id == book.agent.pk and task.customer_id == book.customers[0].pk
    assert task.status == Task.Status.OPEN
    assert task.data["at"] == "2026-12-03T18:00:00+00:00"  # 15:00 in Santiago, summer time
    assert (task.data["local_time"], task.data["zone"]) == ("15:00", "America/Santiago")
    call = TimelineEvent.objects.get(kind="call.logged")
    assert task.source_key == f"callback:{call.pk}"
    event = TimelineEvent.objects.get(kind="callback.scheduled")
    assert (event.actor_id, event.data["task_id"]) == (book.agent.pk, task.pk)
    book.task.refresh_from_db()
    assert book.task.status == Task.Status.DONE  # the call itself closed its own task, not the callback
    page = client.get(f"/customers/{book.customers[0].pk}/").content.decode()
    assert "Volver a llamar el 3 de diciembre de 2026 a las 15:00 (hora de Santiago de Chile)" in page


def test_the_callback_is_on_today_on_that_day_only(clock, login, book):
    client = login(book.agent)
    _post(client, book.task, "2026-12-03", "15:00")
    clock.move_to(dt.datetime(2026, 12, 2, 13, 0, tzinfo=dt.UTC))
    assert "Volver a llamar a las 15:00" not in client.get("/today/").content.decode()
    clock.move_to(dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC))
    body = client.get("/today/").content.decode()
    assert "Volver a llamar a las 15:00 (hora de Santiago de Chile)" in body
    task = Task.objects.get(kind="callback")
    assert f'id="task-{task.pk}"' in body


@pytest.mark.parametrize(("day", "time", "reason"), [
    ("2026-12-06", "11:00", "Las reglas de contacto de Chile no permiten llamar los domingos (en Santiago de Chile sería "
                            "el 6 de diciembre de 2026): elija otro día."),
    ("2026-12-08", "11:00", "El 8 de diciembre de 2026 es feriado en Chile y las reglas de contacto no permiten llamar: "
                            "elija otro día."),
    ("2026-12-03", "21:00", "A las 21:00 en Santiago de Chile está fuera del horario de contacto de Chile para ese día "
                            "(de 08:00 a 20:00): elija otra hora."),
    ("2026-12-01", "09:30", "El 1 de diciembre de 2026 a las 09:30 (hora de Santiago de Chile) ya pasó: elija un "
                            "momento futuro."),
])
def test_a_moment_outside_the_rules_is_refused_with_the_reason_and_nothing_is_written(clock, login, book, day,
                                                                                       time, reason):
    response = _post(login(book.agent), book.task, day, time)
    body = response.content.decode()
    assert response.status_code == 200
    assert reason in body
    assert not Task.objects.filter(kind="callback").exists()
    assert not TimelineEvent.objects.filter(kind__in=["call.logged", "callback.scheduled"]).exists()
    book.task.refresh_from_db()
    assert book.task.status == Task.Status.OPEN


def test_every_zone_the_debtor_may_be_in_must_allow_it(clock, login, book):
    """A Mexican debtor without a zone of their own may be in any of Mexico's zones: 07:30 in Mexico
    City is 05:30 in Tijuana, before the window opens there."""
    mx = Customer.objects.create(organization=book.org, ref="MX1", name="Abarrotes Norte", country="MX",
                                 language="es", timezone="")
    Contact.objects.create(organization=book.org, customer=mx, name="Rosa", email="rosa@example.mx")
    client = login(book.agent)
    response = client.post(f"/customers/{mx.pk}/call/", {"call-outcome": "reached", "call-callback_date": "2026-12-03",
                                                          "call-callback_time": "07:30"}, follow=True)
    body = response.content.decode()
    assert ("A las 05:30 en Tijuana está fuera del horario de contacto de México para ese día (de 07:00 a 22:00), "
            "y el cliente puede estar en esa zona: llame entre las 09:00 y las 21:00, hora de Ciudad de México."
            in body)
    assert not Task.objects.filter(kind="callback").exists()
    client.post(f"/customers/{mx.pk}/call/", {"call-outcome": "reached", "call-callback_date": "2026-12-03",
                                              "call-callback_time": "11:00"})
    task = Task.objects.get(kind="callback", customer=mx)
    assert (task.data["zone"], task.data["local_time"], task.due_on) == ("America/Mexico_City", "11:00",
                                                                         dt.date(2026, 12, 3))
    assert task.data["at"] == "2026-12-03T17:00:00+00:00"


def test_a_day_without_a_time_is_refused_by_the_form(clock, login, book):
    p = f"t{book.task.pk}-"
    body = login(book.agent).post(f"/tasks/{book.task.pk}/log/", {p + "outcome": "no_answer",
                                                                   p + "callback_date": "2026-12-03"},
                                  HTTP_HX_REQUEST="true").content.decode()
    assert "Indique a qué hora volver a llamar." in body
    assert not TimelineEvent.objects.filter(kind="call.logged").exists()


def test_the_form_offers_the_callback_in_each_language(clock, login, book):
    client = login(book.agent)
    assert "Volver a llamar el" in client.get("/today/").content.decode()
    client.post("/language/", {"language": "en"})
    assert "Call back on" in client.get("/today/").content.decode()
    client.post("/language/", {"language": "pt-br"})
    assert "Ligar de volta em" in client.get("/today/").content.decode()
