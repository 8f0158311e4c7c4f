"""The customer page in the reader's words (#13): a promise logged from the call form reads on the
timeline with its date in words, the demo's missed instalments too, and the header names the debtor's
language and place; in Spanish and English, at 1366×768 and 390×844, no wider than the screen."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import formats, translation
from tests.e2e.conftest import OVERFLOWING

from cobro.engine.text import Country
from cobro.ledger.models import Customer, TimelineEvent

pytestmark = pytest.mark.e2e

AGENT = "gestor1@demo.cobro"
NUMERIC_DATE = re.compile(r"\b\d{2}-\d{2}-\d{4}\b|\b\d{4}-\d{2}-\d{2}\b")


def _words(lang: str, day: dt.date) -> str:
    with translation.override(lang):
        return formats.date_format(day, "DATE_FORMAT")


@pytest.mark.parametrize("viewport", ["laptop", "phone"])
def test_promise_and_missed_instalment_read_in_words_in_spanish_and_english(demo, open_page, sign_in, shot, viewport):
    missed = TimelineEvent.objects.filter(organization=demo.org, kind="plan.instalment_missed").first()
    assert missed is not None, "the demo has a broken plan"
    customer = Customer.objects.get(pk=missed.customer_id)
    due = dt.date.fromisoformat(missed.data["due_date"])
    page = open_page(viewport)
    sign_in(page, AGENT, demo.password)
    page.goto(f"/customers/{customer.pk}/")
    form = page.locator("form.outcome-form")
    form.locator("label", has_text="Contactado").click()
    form.locator("summary", has_text="Promesa, plan o reclamo").click()
    promised = demo.today + dt.timedelta(days=6)
    form.locator("input[name$=promise_date]").fill(promised.isoformat())
    form.locator("input[name$=promise_amount]").fill("100")
    with page.expect_navigation():
        form.locator("button", has_text="Registrar llamada").click()

    made = TimelineEvent.objects.filter(customer=customer, kind="promise.made").latest("id")
    assert made.data["promised_date"] == promised.isoformat() and made.actor.username == AGENT
    timeline = page.locator("#timeline").inner_text()
    assert f"para el {_words('es', promised)}" in timeline, timeline[:600]
    assert "Promesa de pago por " in timeline
    assert f"impaga (vencía el {_words('es', due)})" in timeline
    assert not NUMERIC_DATE.search(timeline), NUMERIC_DATE.search(timeline)
    header = page.locator(".stat-note", has_text="Canal preferido").inner_text()
    assert "America/" not in header and "hora de" in header, header
    assert page.evaluate(OVERFLOWING) == []
    shot(page, "30-customer-timeline-words", viewport)

    if viewport == "phone":
        page.click("label.menu-button")  # the language switch is in the menu
    with page.expect_navigation():
        page.select_option("#lang-switch", "en")
    page.goto(f"/customers/{customer.pk}/")
    timeline = page.locator("#timeline").inner_text()
    assert "Promise to pay " in timeline and f"by {_words('en', promised)}" in timeline, timeline[:600]
    assert f"of the payment plan unpaid (was due {_words('en', due)})" in timeline
    assert "Promesa" not in timeline and "impaga" not in timeline
    header = page.locator(".stat-note", has_text="Preferred channel").inner_text()
    assert " Time, " in header and "(UTC" in header and "America/" not in header, header
    with translation.override("en"):
        country = Country(customer.country).localized()
    sub = page.locator("p.sub").inner_text()
    assert f"· {country} ·" in sub and f"· {customer.country} ·" not in sub, sub
    assert "Promesa" not in page.locator(".card", has_text="What Cobro will do and why").last.inner_text()
    assert page.evaluate(OVERFLOWING) == []
    shot(page, "31-customer-timeline-words-english", viewport)
