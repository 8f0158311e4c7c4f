"""Browser journey: a manager adds a step to the policy in the form, sees the preview, saves, and the
page and the database both show the new step; a wrong day is refused on its row."""

import pytest

from cobro.dunning.models import Policy, PolicyChange

pytestmark = pytest.mark.e2e
MANAGER = "supervisora@demo.cobro"


@pytest.mark.parametrize("viewport", ["laptop", "phone"])
def test_manager_adds_a_step_and_saves(demo, open_page, sign_in, shot, viewport):
    page = open_page(viewport)
    sign_in(page, MANAGER, demo.password)
    page.goto("/settings/policies/")
    page.click("a:has-text('Editar pasos')")
    page.wait_for_selector("#steps-table")
    policy = Policy.objects.for_org(demo.org).get(is_default=True)
    before_rows = page.locator("#steps-body tr[data-step-row]").count()
    assert before_rows == len(policy.definition["steps"])
    page.click("button[data-step-op=add]")  # the script adds the row in place, numbered
    rows = page.locator("#steps-body tr[data-step-row]")
    assert rows.count() == before_rows + 1
    n = before_rows
    assert page.input_value("#steps-total") == str(before_rows + 1)
    page.fill(f"#s-{n}-offset", "20")
    page.fill(f"#s-{n}-name", "Llamada de seguimiento")
    page.select_option(f"#s-{n}-action", "call_task")
    page.select_option(f"#s-{n}-channel", "call")
    page.select_option(f"#s-{n}-template", "overdue_firm")
    page.select_option(f"#s-{n}-tone", "firm")
    page.click(f"button[data-step-op=up] >> nth={n}")  # moved up one place, renumbered
    assert page.input_value(f"#s-{n - 1}-offset") == "20"
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate("""Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.tabs, .table-wrap')).slice(0, 8).map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))""")
    assert width <= page.viewport_size["width"], f"page {width}px wide at {viewport}: {wide}"
    shot(page, "60-policy-step-added", viewport)
    page.click("#policy-save")
    page.wait_for_selector(".msg-success")
    assert page.locator(f"#s-{n - 1}-offset").input_value() == "20"
    assert "añadió el paso del día +20" in page.locator("#policy-changes").inner_text()
    assert page.locator("#policy-preview tr", has_text="Llamada de seguimiento").count() == 1
    shot(page, "61-policy-saved", viewport)
    policy.refresh_from_db()
    assert policy.version == 2
    codes = [s["code"] for s in policy.definition["steps"]]
    assert codes[n - 1] == "+20" and len(codes) == before_rows + 1
    step = policy.definition["steps"][n - 1]
    assert (step["action"], step["channel"], step["template"]) == ("call_task", "call", "overdue_firm")
    change = PolicyChange.objects.for_org(demo.org).get(policy=policy)
    assert change.actor.username == MANAGER and {"kind": "added", "step": "+20", "offset": 20} in change.changes


def test_a_day_out_of_range_is_refused_on_its_row(demo, open_page, sign_in, shot):
    page = open_page("laptop")
    sign_in(page, MANAGER, demo.password)
    policy = Policy.objects.for_org(demo.org).get(is_default=True)
    page.goto(f"/settings/policies/{policy.code}/edit/")
    page.fill("#s-1-offset", "400")
    page.click("#policy-save")
    page.wait_for_selector("#s-1-errors")
    assert "fuera de rango" in page.locator("#s-1-errors").inner_text()
    assert "Fila 2" in page.locator("#s-1-errors").inner_text()
    assert page.locator("#policy-errors").is_visible()
    shot(page, "62-policy-row-error", "laptop")
    policy.refresh_from_db()
    assert policy.version == 1 and policy.definition["steps"][1]["offset"] == 0
