"""Browser journey through messaging: today's outbox in Spanish, a message, a template preview with
its tone check, and the debtor's statement and opt-out pages reached from the message's links."""

import re

import pytest

from cobro.messaging.models import Message

pytestmark = pytest.mark.e2e
MANAGER = "supervisora@demo.cobro"


def test_outbox_message_template_and_debtor_pages(demo, open_page, sign_in, shot):
    msg = (Message.objects.for_org(demo.org).filter(direction="out", channel="email", status__in=["sent", "delivered", "read"])
           .exclude(template="thank_you").order_by("id").first())
    assert msg is not None, "the demo should have sent today's collection emails"
    page = open_page("laptop")
    sign_in(page, MANAGER, demo.password)
    page.goto("/messages/")
    assert page.locator("table.table tbody tr").count() >= 5
    assert "demo" in page.content()
    shot(page, "20-outbox", "laptop")
    page.goto(f"/messages/{msg.pk}/")
    frame = page.frame_locator("iframe").first
    assert "Estimado/a" in frame.locator("body").inner_text()
    assert "transporte de demostración" in page.content()
    shot(page, "21-message", "laptop")
    page.goto("/messages/templates/")
    page.locator("a", has_text="Firme").first.click()
    with page.expect_navigation():  # read the page once the preview has loaded (content() was '' mid-way)
        page.click("button[value=preview]")
    assert "sin observaciones" in page.content()
    shot(page, "22-template-preview", "laptop")
    pay = re.search(r"https?://[^/]+(/portal/[^\s]+/)", msg.body_text).group(1)
    optout = re.search(r"https?://[^/]+(/messages/u/[^\s]+/)", msg.body_text).group(1)
    phone = open_page("phone")
    phone.goto(pay)
    assert "Estado de cuenta" in phone.content() and "Total" in phone.content()
    shot(phone, "23-statement", "phone")
    phone.goto(optout)
    phone.click("button[type=submit]")
    assert "Listo" in phone.content()
    shot(phone, "24-opt-out", "phone")
    assert msg.customer.opt_outs.filter(channel="email", source="link").exists()
