"""The customers list and the top bar's search in the browser: filter, tick two, assign an owner;
find a customer typed without accents; nothing wider than a phone."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from cobro.ledger import search
from cobro.ledger.models import Customer, TimelineEvent

pytestmark = pytest.mark.e2e

MANAGER = "supervisora@demo.cobro"


def test_filter_tick_two_and_assign_an_owner(demo, open_page, sign_in, shot):
    soto = get_user_model().objects.get(username="gestor2@demo.cobro")
    page = open_page("laptop")
    sign_in(page, MANAGER, demo.password)
    page.goto("/customers/")
    page.select_option("#f-segment", "corporativo")
    page.select_option("#f-country", "CL")
    with page.expect_navigation():
        page.click("#list-filters button[type=submit]")
    assert "segment=corporativo" in page.url and "country=CL" in page.url
    rows = page.locator("tbody tr[data-customer]")
    assert rows.count() >= 2
    ids = [int(rows.nth(i).get_attribute("data-customer")) for i in range(2)]
    listed = set(Customer.objects.filter(pk__in=[int(rows.nth(i).get_attribute("data-customer"))
                                                 for i in range(rows.count())]).values_list("segment", "country"))
    assert listed == {("corporativo", "CL")}
    for i in range(2):
        rows.nth(i).locator("input[name=customer]").check()
    page.select_option("#bulk-action", "owner")
    page.select_option("#bulk-owner", str(soto.pk))
    with page.expect_navigation():
        page.click("#bulk-bar button[type=submit]")
    assert "Responsable asignado a 2 clientes." in page.locator(".messages").inner_text()
    assert "segment=corporativo" in page.url  # back on the same filtered list
    for cid in ids:
        assert page.locator(f"tr[data-customer='{cid}'] .owner-cell").inner_text().strip() == "Valentina Soto"
    assert set(Customer.objects.filter(pk__in=ids).values_list("owner_id", flat=True)) == {soto.pk}
    assert TimelineEvent.objects.filter(customer_id__in=ids, kind="customer.owner_changed").count() == 2
    shot(page, "20-customers-bulk-owner", "laptop")


def test_top_bar_search_and_phone_width(demo, open_page, sign_in, shot):
    customer = Customer.objects.for_org(demo.org).exclude(tax_id="").order_by("ref").first()
    page = open_page("laptop")
    sign_in(page, MANAGER, demo.password)
    page.goto("/today/")
    words = search.fold(customer.name).split()
    page.fill("#top-search", " ".join(words[:2]).upper())
    with page.expect_navigation():
        page.press("#top-search", "Enter")
    link = page.locator(f"[data-group=customers] a[href='/customers/{customer.pk}/']")
    assert link.count() == 1
    page.goto(f"/search/?q={customer.tax_id}")
    assert page.locator(f"[data-group=customers] a[href='/customers/{customer.pk}/']").count() == 1
    shot(page, "21-search", "laptop")
    phone = open_page("phone")
    sign_in(phone, MANAGER, demo.password)
    for path in ["/customers/", f"/search/?q={words[0]}"]:
        phone.goto(path)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (path, width)
    assert phone.locator("#top-search").is_visible()
    shot(phone, "22-customers", "phone")
