"""A day's work in the browser: sign in, call with a promise, see it everywhere, move a card, switch
language, open the dashboard; screenshots of each page at 1366×768 and 390×844."""

from __future__ import annotations

import datetime as dt

import pytest

from cobro.ledger.models import Customer, Task, TimelineEvent

pytestmark = pytest.mark.e2e

AGENT = "gestor1@demo.cobro"
MANAGER = "supervisora@demo.cobro"


def test_agent_calls_with_a_promise_and_sees_it_on_timeline_and_board(demo, open_page, sign_in, shot):
    page = open_page("laptop")
    page.goto("/today/")
    assert "/login/" in page.url
    shot(page, "01-sign-in", "laptop")
    sign_in(page, AGENT, demo.password)
    shot(page, "02-today", "laptop")

    first = page.locator(".work-item").first
    task_id = int(first.get_attribute("id").removeprefix("task-"))
    task = Task.objects.select_related("customer").get(pk=task_id)
    assert task.customer.name in first.inner_text()
    first.locator("label", has_text="Contactado").click()
    first.locator("select[name$=-reason]").select_option("cash_flow")
    first.locator("summary", has_text="Promesa, plan o reclamo").click()
    promised = demo.today + dt.timedelta(days=4)
    first.locator("input[name$=promise_date]").fill(promised.isoformat())
    first.locator("input[name$=promise_amount]").fill("10.000")
    first.locator("textarea[name$=-note]").fill("Paga el lunes, agradece el llamado")
    first.locator("button", has_text="Registrar llamada").click()
    page.locator(f"#task-{task_id}", has_text="Llamada registrada").wait_for()

    event = TimelineEvent.objects.get(kind="call.logged", customer=task.customer, data__outcome="reached")
    assert event.data["reason"] == "cash_flow" and event.actor.username == AGENT
    page.goto(f"/customers/{task.customer_id}/")
    timeline = page.locator("#timeline")
    assert "Contactado" in timeline.inner_text()
    assert "Promesa de pago" in timeline.inner_text() and "promise.made" not in timeline.inner_text()
    shot(page, "03-customer", "laptop")

    page.goto(f"/board/?q={task.customer.ref}")
    card = page.locator(".kcard", has_text=task.customer.name)
    assert card.locator(".badge", has_text="Promesa").count() == 1
    shot(page, "04-board-filtered", "laptop")


def test_card_drag_moves_stage_and_is_recorded(demo, open_page, sign_in, shot):
    page = open_page("laptop")
    sign_in(page, AGENT, demo.password)
    page.goto("/board/")
    shot(page, "05-board", "laptop")
    source = page.locator(".column-cards[data-stage=vencida] .kcard").first
    customer_id = int(source.get_attribute("data-id"))
    target = page.locator(".column-cards[data-stage=en_gestion]")
    with page.expect_response(lambda r: f"/board/move/{customer_id}/" in r.url) as moved:
        box, to = source.bounding_box(), target.bounding_box()
        page.mouse.move(box["x"] + 20, box["y"] + 15)
        page.mouse.down()
        page.mouse.move(box["x"] + 40, box["y"] + 40, steps=5)
        page.mouse.move(to["x"] + to["width"] / 2, to["y"] + 30, steps=15)
        page.mouse.up()
    assert moved.value.status == 204
    page.locator(f".column-cards[data-stage=en_gestion] .kcard[data-id='{customer_id}']").wait_for()
    event = TimelineEvent.objects.get(kind="stage.moved", customer_id=customer_id)
    assert event.data["to"] == "en_gestion" and event.actor.username == AGENT

    # Keyboard and phone users move a card with its "Mover a etapa" list instead of dragging.
    other = page.locator(".column-cards[data-stage=vencida] .kcard").first
    other_id = int(other.get_attribute("data-id"))
    with page.expect_navigation():
        other.locator("select[name=stage]").select_option("promesa")
    assert TimelineEvent.objects.filter(kind="stage.moved", customer_id=other_id, data__to="promesa").exists()


def test_language_switch_and_every_page_on_laptop_and_phone(demo, open_page, sign_in, shot):
    customer = Customer.objects.for_org(demo.org).filter(invoices__status="open").first()
    for viewport in ("phone", "laptop"):  # the laptop switches to English last
        page = open_page(viewport)
        sign_in(page, MANAGER, demo.password)
        if viewport == "phone":
            shot(page, "02-today", viewport)
            page.click("label.menu-button")
            shot(page, "00-menu", viewport)
        for path, name in (("/board/", "05-board"), (f"/customers/{customer.pk}/", "03-customer"),
                           ("/customers/", "06-customers"), ("/settings/scripts/", "07-settings-scripts"),
                           ("/settings/team/", "08-settings-team"), ("/settings/policies/", "08b-settings-policies"),
                           ("/settings/contact-rules/", "08c-settings-contact-rules"), ("/insights/", "09-dashboard")):
            response = page.goto(path)
            assert response.status == 200, path
            shot(page, name, viewport)
        if viewport == "phone":
            continue
        with page.expect_navigation():
            page.select_option("#lang-switch", "en")
        words = [w for w in page.locator("nav.nav").inner_text().split() if not w.isdigit()]  # counts
        assert words[:3] == ["Today", "Inbox", "Board"], words
        shot(page, "10-dashboard-english", viewport)
        page.goto("/today/")
        assert "Suggested script" in page.content()
        shot(page, "11-today-english", viewport)
