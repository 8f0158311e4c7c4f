"""Browser journey: a manager starts an A/B test of two reminders from the Dashboard; the cycles of
the next days send B's text to half the customers and nothing to the hold-out; once the payments are
in and the horizon is over, the result page gives the verdict in words, and "Aplicar ganadora" makes
B the step's text in a new version of the policy."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from tests.e2e.conftest import OVERFLOWING

from cobro.dunning.cycle import run_cycle
from cobro.dunning.demo import at_local
from cobro.dunning.models import Action, Policy
from cobro.insights.models import AbExposure, AbTest
from cobro.ledger.services import add_invoice, apply_payment, get_or_create_customer

pytestmark = pytest.mark.e2e
MANAGER = "supervisora@demo.cobro"
N = 160


def test_manager_starts_a_test_reads_the_verdict_and_applies_the_winner(demo, open_page, sign_in, shot):
    org, today = demo.org, demo.today
    page = open_page("laptop")
    sign_in(page, MANAGER, demo.password)
    page.goto("/insights/")
    page.click("a:has-text('Pruebas A/B')")
    page.wait_for_selector("#abtest-form")
    page.fill("#ab-name", "Primer recordatorio más directo")
    page.select_option("#ab-step", "estandar|+3")
    page.select_option("#ab-template", "overdue_neutral")
    page.select_option("#ab-metric", "paid")
    page.select_option("#ab-horizon", "7")
    page.select_option("#ab-holdout", "0.1")
    shot(page, "80-abtest-form", "laptop")
    page.click("#abtest-start")
    page.wait_for_selector("#abtest-verdict")
    assert page.inner_text("#abtest-verdict") == "Sin conclusión todavía"
    assert page.inner_text("#abtest-status") == "En curso"
    test = AbTest.objects.for_org(org).get()
    assert (test.step, test.template_a, test.template_b, test.status) == ("+3", "overdue_friendly",
                                                                          "overdue_neutral", "running")
    assert test.starts_on == today + dt.timedelta(days=1) and test.created_by.username == MANAGER

    # New customers whose invoice's "+3" step falls on the test's first day.
    invoices = {}
    for n in range(N):
        c, _ = get_or_create_customer(org, f"AB-{n}", f"Cliente Prueba {n}", country="CL", email=f"ab{n}@example.com")
        invoices[c.pk] = (c, add_invoice(org, c, f"AB-F{n}", today - dt.timedelta(days=32), today - dt.timedelta(days=2),
                                         "CLP", 150_000))
    first = today + dt.timedelta(days=1)
    run_cycle(org, first, now=at_local(org, first, 6))
    exposed = dict(AbExposure.objects.for_org(org).filter(test=test, customer_id__in=invoices)
                   .values_list("customer_id", "variant"))
    assert set(exposed) == set(invoices) and set(exposed.values()) == {"A", "B", "H"}
    sent = dict(Action.objects.for_org(org).filter(as_of=first, step="+3", customer_id__in=invoices)
                .values_list("customer_id", "template"))
    assert {cid: t for cid, t in sent.items()} == {
        cid: "overdue_neutral" if v == "B" else "overdue_friendly" for cid, v in exposed.items() if v != "H"}
    # B's customers all pay two days later; one A customer in four does.
    a_ids = sorted(cid for cid, v in exposed.items() if v == "A")
    payers = [cid for cid, v in exposed.items() if v == "B"] + a_ids[::4]
    for cid in payers:
        c, inv = invoices[cid]
        apply_payment(org, c, f"AB-P{cid}", first + dt.timedelta(days=2), inv.amount, "CLP", invoice=inv)
    for k in range(2, 9):
        day = today + dt.timedelta(days=k)
        run_cycle(org, day, now=at_local(org, day, 6))

    with time_machine.travel(at_local(org, today + dt.timedelta(days=9), 11), tick=True):
        page.goto(f"/insights/abtests/{test.pk}/")
        verdict = page.inner_text("#abtest-verdict")
        assert verdict.startswith("B cobra más: +") and "IC 95 %" in verdict
        rows = {r.get_attribute("data-variant"): r.inner_text() for r in page.locator("#abtest-groups tbody tr").all()}
        assert str(len(a_ids)) in rows["A"] and "100,0 %" in rows["B"] and "0,0 %" in rows["H"]
        shot(page, "81-abtest-verdict", "laptop")
        page.click("#abtest-apply")
        page.wait_for_selector("#abtest-applied")
        assert "Ganadora aplicada" in page.inner_text(".messages")
        assert page.inner_text("#abtest-status") == "Ganadora aplicada"
        shot(page, "82-abtest-applied", "laptop")
    policy = Policy.objects.for_org(org).get(code="estandar")
    assert next(s for s in policy.definition["steps"] if s["code"] == "+3")["template"] == "overdue_neutral"
    test.refresh_from_db()
    assert (test.status, test.winner, test.applied_version) == ("applied", "B", policy.version)


def test_the_pages_fit_a_phone_and_an_agent_cannot_start(demo, open_page, sign_in):
    page = open_page("phone")
    sign_in(page, MANAGER, demo.password)
    page.goto("/insights/abtests/")
    page.select_option("#ab-step", "estandar|+7")
    page.select_option("#ab-template", "overdue_firm")
    page.select_option("#ab-metric", "optout")
    page.click("#abtest-start")
    page.wait_for_selector("#abtest-verdict")
    test = AbTest.objects.for_org(demo.org).get()
    assert (test.step, test.template_b, test.metric, test.holdout) == ("+7", "overdue_firm", "optout", 0.0)
    for url in ("/insights/abtests/", f"/insights/abtests/{test.pk}/"):
        page.goto(url)
        assert page.evaluate(OVERFLOWING) == [], url
    agent = open_page("laptop")
    sign_in(agent, "gestor1@demo.cobro", demo.password)
    agent.goto(f"/insights/abtests/{test.pk}/")
    assert agent.inner_text("#abtest-verdict") == "Sin conclusión todavía"
    assert agent.locator("#abtest-stop").count() == 0
    agent.goto("/insights/abtests/")
    assert agent.locator("#abtest-form").count() == 0
