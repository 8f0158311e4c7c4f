"""No page is wider than the screen it is read on (issue 13, phone): the main pages at 1366×768 and
390×844, with the demo's real content (a timeline whose message carries an unbroken portal link, the
dashboard's figures, a board of nine columns). What overflows must scroll inside its own box."""

from __future__ import annotations

import pytest
from tests.e2e.conftest import OVERFLOWING

from cobro.messaging.models import Message

pytestmark = pytest.mark.e2e

MANAGER = "supervisora@demo.cobro"

def _pages(demo):
    linked = (Message.objects.for_org(demo.org).filter(direction="out", channel="sms", body_text__contains="/portal/")
              .exclude(sent_at=None).order_by("id").first())
    assert linked is not None, "the demo sends messages with a portal link"
    return ["/today/", "/board/", "/customers/", f"/customers/{linked.customer_id}/", "/messages/", "/insights/",
            "/reconciliation/", "/settings/"], linked


@pytest.mark.parametrize("viewport", ["phone", "laptop"])
def test_no_page_is_wider_than_its_viewport(demo, open_page, sign_in, shot, viewport):
    pages, linked = _pages(demo)
    page = open_page(viewport)
    sign_in(page, MANAGER, demo.password)
    too_wide = {}
    for url in pages:
        page.goto(url)
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > page.viewport_size["width"]:
            too_wide[url] = (width, page.evaluate(OVERFLOWING))
        shot(page, "20-width" + url.replace("/", "-").rstrip("-"), viewport)
    assert too_wide == {}, too_wide

    # The long link is on the page once its message is opened (the line names the message in words, its
    # text folds under it), wrapped, and the balance column is whole.
    page.goto(f"/customers/{linked.customer_id}/")
    link = linked.body_text[linked.body_text.index("http"):].split()[0]
    for summary in page.locator("#timeline details > summary").all():
        summary.click()
    assert link[:40] in page.locator("#timeline").inner_text().replace("\n", "")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    balance = page.locator("th", has_text="Saldo").first
    assert balance.is_visible()
    box = balance.bounding_box()
    assert box["x"] + box["width"] <= page.viewport_size["width"]


def test_board_scrolls_inside_itself_on_a_phone(demo, open_page, sign_in):
    page = open_page("phone")
    sign_in(page, MANAGER, demo.password)
    page.goto("/board/")
    board = page.locator("#board")
    assert board.evaluate("b => b.scrollWidth > b.clientWidth")  # columns to swipe through...
    page.mouse.wheel(2000, 0)
    assert page.evaluate("window.scrollX") == 0  # ...without the page panning into blank space
    last = page.locator(".column").last
    last.scroll_into_view_if_needed()
    assert page.evaluate("window.scrollX") == 0 and board.evaluate("b => b.scrollLeft") > 0
