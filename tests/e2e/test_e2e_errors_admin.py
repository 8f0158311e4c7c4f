"""In the browser: the read-only user typing a Mensajes URL meets the product's 403 page in its language,
an unknown page the product's 404, both within a phone's width; the demo admin signs into the Django
admin and changes one of its customers there (scoped to its organization)."""

from __future__ import annotations

import pytest

from cobro.ledger.models import Customer

pytestmark = pytest.mark.e2e

VIEWER = "lectura@demo.cobro"
ADMIN = "admin@demo.cobro"


@pytest.mark.parametrize("viewport", ["phone", "laptop"])
def test_viewer_meets_styled_403_and_404_in_english(demo, open_page, sign_in, shot, viewport):
    page = open_page(viewport, locale="en-US")
    sign_in(page, VIEWER, demo.password)
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": page.url}])
    assert page.locator("nav a", has_text="Mensajes").count() == 0 and page.locator("nav a", has_text="Messages").count() == 0
    resp = page.goto("/messages/")
    assert resp.status == 403
    assert page.locator("h1").inner_text() == "You do not have access to this page"
    assert page.locator(".brand").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    shot(page, "30-error-403", viewport)
    resp = page.goto("/no-such-page/")
    assert resp.status == 404 and page.locator("h1").inner_text() == "We could not find this page"
    shot(page, "31-error-404", viewport)
    page.locator("a.btn-primary").click()
    page.wait_for_url("**/today/")


def test_demo_admin_changes_a_customer_in_the_django_admin(demo, open_page, shot):
    customer = Customer.objects.for_org(demo.org).order_by("pk").first()
    page = open_page("laptop")
    page.goto("/admin/login/")
    page.fill("#id_username", ADMIN)
    page.fill("#id_password", demo.password)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    page.goto(f"/admin/ledger/customer/{customer.pk}/change/")
    page.fill("#id_name", customer.name + " (revisado)")
    page.click("input[name=_save]")
    page.wait_for_url("**/admin/ledger/customer/")
    shot(page, "32-admin-customers", "laptop")
    customer.refresh_from_db()
    assert customer.name.endswith("(revisado)")
    assert customer.name in page.content()
