"""The inbox in the browser: an agent marks a debtor's reply handled; it leaves the list, the count
in the top bar drops, and the task and the timeline say so. The inbox and the team figures fit a phone."""

from __future__ import annotations

import pytest
from tests.e2e.conftest import OVERFLOWING

from cobro.ledger.models import Customer, Task, TimelineEvent

pytestmark = pytest.mark.e2e

AGENT = "gestor1@demo.cobro"
MANAGER = "supervisora@demo.cobro"


def _reply(demo, n: int) -> Task:
    from cobro.messaging.services import record_reply

    customer = Customer.objects.for_org(demo.org).order_by("id")[n]
    # An unbroken run of characters too: a long word must wrap, not widen the page on a phone.
    msg = record_reply(demo.org, customer, "whatsapp", address="+56900000000",
                       text="Hola, transferí ayer la mitad; el resto el viernes. " + "x" * 120,
                       provider_id=f"e2e-inbox-{n}")
    return Task.objects.get(organization=demo.org, kind="reply", source_key=f"reply:{msg.pk}")


@pytest.mark.parametrize("viewport", ["laptop", "phone"])
def test_marking_an_item_done_takes_it_off_the_list_and_the_count(demo, open_page, sign_in, shot, viewport):
    task = _reply(demo, 3 if viewport == "laptop" else 4)
    page = open_page(viewport)
    sign_in(page, AGENT, demo.password)
    page.goto("/inbox/")
    badge = page.locator("#inbox-badge")
    before = int(badge.text_content())
    listed = page.locator("#inbox-list .inbox-item").count()
    assert before >= 1 and listed == min(before, 50)
    item = page.locator(f"#inbox-{task.pk}")
    assert "transferí ayer la mitad" in item.inner_text()
    assert page.evaluate(OVERFLOWING) == []
    shot(page, "30-inbox", viewport)
    item.locator("button", has_text="Marcar atendido").click()
    page.locator("#inbox-status", has_text="Atendido:").wait_for()
    assert page.locator(f"#inbox-{task.pk}").count() == 0
    assert page.locator("#inbox-list .inbox-item").count() == listed - 1
    assert int(badge.text_content()) == before - 1
    assert page.locator("#inbox-sub").inner_text().startswith(f"{before - 1} elemento")
    shot(page, "31-inbox-done", viewport)
    task.refresh_from_db()
    assert (task.status, task.outcome) == (Task.Status.DONE, "handled")
    event = TimelineEvent.objects.get(organization=demo.org, kind="inbox.done", data__task_id=task.pk)
    assert event.actor.username == AGENT and event.customer_id == task.customer_id
    # A reload agrees with what the page showed.
    page.goto("/inbox/")
    assert page.locator(f"#inbox-{task.pk}").count() == 0 and int(page.locator("#inbox-badge").text_content()) == before - 1


@pytest.mark.parametrize("viewport", ["laptop", "phone"])
def test_team_figures_fit_the_screen(demo, open_page, sign_in, shot, viewport):
    page = open_page(viewport)
    sign_in(page, MANAGER, demo.password)
    page.goto("/team/")
    assert page.locator(".team-week").count() == 4
    # The demo's logged calls are made by its agents: the team counts them.
    totals = [int(t) for t in page.locator(".team-total th:nth-child(2)").all_inner_texts()]
    assert sum(totals) > 0, totals
    assert page.evaluate(OVERFLOWING) == []
    shot(page, "32-team", viewport)
