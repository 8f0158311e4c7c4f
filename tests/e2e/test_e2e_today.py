"""Today in the browser: a call form with an error shows it in place, a promise beyond the debt is
refused, and a manager approves steps in bulk."""

from __future__ import annotations

import datetime as dt

import pytest

from cobro.ledger.models import Task, TimelineEvent

pytestmark = pytest.mark.e2e

AGENT = "gestor1@demo.cobro"
MANAGER = "supervisora@demo.cobro"


@pytest.mark.parametrize("viewport", ["laptop", "phone"])
def test_call_form_errors_show_and_promise_is_capped(demo, open_page, sign_in, shot, viewport):
    page = open_page(viewport)
    sign_in(page, AGENT, demo.password)
    first = page.locator(".work-item").first
    task_id = int(first.get_attribute("id").removeprefix("task-"))
    first.locator("label", has_text="Contactado").click()
    first.locator("summary", has_text="Promesa, plan o reclamo").click()
    first.locator("input[name$=promise_date]").fill((demo.today + dt.timedelta(days=3)).isoformat())
    first.locator("input[name$=promise_amount]").fill("999.999.999.999")
    first.locator("button", has_text="Registrar llamada").click()
    error = page.locator(f"#task-{task_id} .errorlist")
    error.wait_for()
    assert "supera lo que el cliente debe" in error.inner_text()
    # The item keeps its customer name: only the form was replaced.
    assert page.locator(f"#task-{task_id} .work-title").count() == 1
    shot(page, "15-today-call-error", viewport)
    first.locator("input[name$=promise_amount]").fill("abc")
    first.locator("button", has_text="Registrar llamada").click()
    page.locator(f"#task-{task_id} .errorlist", has_text="no es un monto").wait_for()
    assert not TimelineEvent.objects.filter(kind="call.logged", data__task_id=task_id).exists()
    assert Task.objects.get(pk=task_id).status == Task.Status.OPEN


def test_manager_approves_in_bulk(demo, open_page, sign_in, shot):
    page = open_page("laptop")
    sign_in(page, MANAGER, demo.password)
    boxes = page.locator("input[form=bulk-approve]")
    if boxes.count() < 2:
        pytest.fail("the demo gives the manager fewer than two approvals to try bulk approval on")
    ids = [int(boxes.nth(i).get_attribute("value")) for i in range(2)]
    for i in range(2):
        boxes.nth(i).check()
    shot(page, "16-today-bulk-approve", "laptop")
    with page.expect_navigation():
        page.locator("#bulk-approve button", has_text="Aprobar los marcados").click()
    done = list(Task.objects.filter(pk__in=ids).select_related("customer"))
    assert len(done) == 2 and all(t.status == Task.Status.DONE for t in done), [(t.pk, t.status, t.outcome) for t in done]
    # Each one approved, or closed as moot (the debtor promised meanwhile): the page says which.
    approved = [t for t in done if t.outcome == "approved"]
    moot = [t for t in done if t.outcome == "moot"]
    assert len(approved) + len(moot) == 2, [t.outcome for t in done]
    said = page.locator(".messages").inner_text()
    if approved:
        assert {1: "1 paso aprobado.", 2: "2 pasos aprobados."}[len(approved)] in said, said
    for t in moot:
        assert f"{t.customer.name} prometió pagar o acordó un plan después de proponerse este paso" in said, said
    for pk in ids:
        assert page.locator(f"#task-{pk}").count() == 0
