"""Agent and team figures per ISO week: calls, reach rate, promises made and kept, money collected
(exact, per currency, in the reader's format); managers and admins only."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cobro.ledger.models import Customer
from cobro.ledger.services import apply_payment, record_event
from cobro.workspace import team

# Wednesday 9 December 2026 (ISO week 50), noon in Santiago.
NOW = dt.datetime(2026, 12, 9, 15, 0, tzinfo=dt.UTC)
NBSP = "\xa0"


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _at(day: int, hour: int = 15, month: int = 12) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, 0, tzinfo=dt.UTC)


@pytest.fixture
def week(book):
    from cobro.agreements.models import Promise

    c0, c1, _c2 = book.customers
    calls = [(book.agent, _at(7), "reached"), (book.agent, _at(8), "reached"), (book.agent, _at(9), "no_answer"),
             # 02:00 UTC on Monday the 7th is Sunday 23:00 in Santiago: the week before.
             (book.agent, _at(7, hour=2), "no_answer"),
             (book.manager, _at(8), "reached")]
    for actor, at, outcome in calls:
        record_event(book.org, c0, "call.logged", "Llamada", data={"outcome": outcome}, actor=actor, at=at)
    record_event(book.org, c0, "note.added", "No es una llamada", actor=book.agent, at=_at(8))
    for made, status in [(dt.date(2026, 12, 7), "kept"), (dt.date(2026, 12, 8), "pending"),
                         (dt.date(2026, 12, 2), "kept")]:
        Promise.objects.create(organization=book.org, customer=c0, made_on=made, promised_date=made + dt.timedelta(3),
                               amount=100_000, currency="CLP", taken_by=book.agent, status=status)
    apply_payment(book.org, c0, "P-1", dt.date(2026, 12, 8), 250_000, "CLP")   # the agent's customer
    apply_payment(book.org, c0, "P-2", dt.date(2026, 12, 9), 123_456, "USD")   # a credit in dollars: USD 1,234.56
    apply_payment(book.org, c1, "P-3", dt.date(2026, 12, 9), 80_000, "CLP")    # no owner
    apply_payment(book.org, c0, "P-4", dt.date(2026, 11, 20), 5_000, "CLP")    # before the weeks shown
    apply_payment(book.other, book.secret, "S-P", dt.date(2026, 12, 8), 999_000, "CLP")  # another organization
    return book


def _row(body: str, week: str, agent_id: int) -> list[str]:
    card = body.split(f'id="week-{week}"', 1)[1].split('class="card team-week"', 1)[0]
    row = card.split(f'data-agent="{agent_id}"', 1)[1].split("</tr>", 1)[0]
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def _total(body: str, week: str) -> list[str]:
    card = body.split(f'id="week-{week}"', 1)[1].split('class="card team-week"', 1)[0]
    row = card.split('class="team-total"', 1)[1].split("</tr>", 1)[0]
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<th[^>]*>(.*?)</th>", row, re.S)]


def test_figures_per_agent_and_week(clock, week):
    with CaptureQueriesContext(connection) as ctx:
        weeks = team.figures(week.org, dt.date(2026, 12, 9), 2)
    assert len(ctx.captured_queries) == 4
    assert [(w.year, w.number, w.monday, w.sunday) for w in weeks] == [
        (2026, 50, dt.date(2026, 12, 7), dt.date(2026, 12, 13)), (2026, 49, dt.date(2026, 11, 30), dt.date(2026, 12, 6))]
    rows = {r.user_id: r.figures for r in weeks[0].rows}
    agent = rows[week.agent.pk]
    assert (agent.calls, agent.reached, agent.promises_made, agent.promises_kept) == (3, 2, 2, 1)
    assert agent.collected == {"CLP": 250_000, "USD": 123_456}
    assert (rows[week.manager.pk].calls, rows[week.manager.pk].reached, rows[week.manager.pk].collected) == (1, 1, {})
    assert rows[team.NO_OWNER].collected == {"CLP": 80_000}
    assert week.viewer.pk not in rows  # read-only people make no calls
    total = weeks[0].total
    assert (total.calls, total.reached, total.promises_made, total.promises_kept) == (4, 3, 2, 1)
    assert total.collected == {"CLP": 330_000, "USD": 123_456}
    before = {r.user_id: r.figures for r in weeks[1].rows}[week.agent.pk]
    assert (before.calls, before.reached, before.promises_made, before.promises_kept, before.collected) == (
        1, 0, 1, 1, {})


def test_the_page_shows_them_in_the_readers_format(clock, login, week):
    client = login(week.manager)
    body = client.get("/team/?weeks=2").content.decode()
    assert "Semana 50 de 2026" in body and "Semana 49 de 2026" in body and "Semana 48" not in body
    assert _row(body, "2026-50", week.agent.pk) == ["Agustina", "3", f"67{NBSP}%", "2", "1",
                                                    "CLP 250.000 · USD 1.234,56"]
    assert _row(body, "2026-50", week.manager.pk) == ["Mario", "1", f"100{NBSP}%", "0", "0", "—"]
    assert _row(body, "2026-50", team.NO_OWNER) == ["Clientes sin responsable", "0", "—", "0", "0", "$80.000"]
    assert _total(body, "2026-50") == ["Equipo", "4", f"75{NBSP}%", "2", "1", "CLP 330.000 · USD 1.234,56"]
    assert _row(body, "2026-49", week.agent.pk) == ["Agustina", "1", f"0{NBSP}%", "1", "1", "—"]
    assert "999.000" not in body and "Cliente Secreto" not in body
    client.post("/language/", {"language": "en"})
    english = client.get("/team/?weeks=2").content.decode()
    assert "Week 50 of 2026" in english and "Reach rate" in english
    assert _total(english, "2026-50") == ["Team", "4", "75%", "2", "1", "CLP 330,000 · USD 1,234.56"]
    client.post("/language/", {"language": "pt-br"})
    portuguese = client.get("/team/?weeks=2").content.decode()
    assert "Semana 50 de 2026" in portuguese and "Taxa de contato" in portuguese
    assert _total(portuguese, "2026-50") == ["Equipe", "4", "75%", "2", "1", "CLP 330.000 · USD 1.234,56"]


def test_only_managers_and_admins_see_the_team(clock, login, week):
    assert login(week.agent).get("/team/").status_code == 403
    assert login(week.viewer).get("/team/").status_code == 403
    assert 'href="/team/"' not in login(week.agent).get("/today/").content.decode()
    for user in (week.manager, week.admin):
        page = login(user).get("/team/")
        assert page.status_code == 200 and 'href="/team/"' in page.content.decode()


def test_weeks_are_bounded_and_a_bad_value_falls_back(clock, login, week):
    client = login(week.manager)
    assert client.get("/team/?weeks=500").content.decode().count('class="card team-week"') == team.MAX_WEEKS
    assert client.get("/team/?weeks=abc").content.decode().count('class="card team-week"') == team.DEFAULT_WEEKS


def test_a_customer_reassigned_moves_its_collections_with_it(clock, week):
    Customer.objects.filter(pk=week.customers[0].pk).update(owner=week.manager)
    rows = {r.user_id: r.figures for r in team.figures(week.org, dt.date(2026, 12, 9), 1)[0].rows}
    assert rows[week.manager.pk].collected == {"CLP": 250_000, "USD": 123_456}
    assert rows[week.agent.pk].collected == {}
    assert rows[week.agent.pk].calls == 3  # calls stay with whoever made them
