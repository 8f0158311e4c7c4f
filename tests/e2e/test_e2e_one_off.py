"""Browser journey: an agent sends a one-off message from the customer page, on a laptop and a phone."""

import pytest

from cobro.ledger.models import Contact, Customer, Invoice
from cobro.messaging.models import Message

pytestmark = pytest.mark.e2e
AGENT = "gestor1@demo.cobro"


@pytest.mark.parametrize("viewport", ["laptop", "phone"])
def test_agent_previews_and_sends_a_one_off_message(demo, open_page, sign_in, shot, viewport):
    # A customer with something overdue: an overdue reminder to someone who owes nothing yet is refused.
    customer = (Customer.objects.for_org(demo.org).filter(language="es", invoices__status=Invoice.Status.OPEN,
                                                          invoices__due_date__lt=demo.today,
                                                          pk__in=Contact.objects.exclude(email="")
                                                          .values("customer_id")).order_by("pk").first())
    page = open_page(viewport)
    sign_in(page, AGENT, demo.password)
    page.goto(f"/customers/{customer.pk}/")
    assert page.locator("nav a[href='/messages/']").count() == 1
    page.select_option("#one-off-channel", "email")
    page.select_option("#one-off-template", "overdue_friendly")
    page.wait_for_selector(".one-off-preview")
    page.locator("#one-off").scroll_into_view_if_needed()
    shot(page, "30-one-off-preview", viewport)
    before = Message.objects.filter(customer=customer, key__startswith="oneoff:").count()
    page.locator("#one-off button[type=submit]").dblclick()
    page.wait_for_selector("#one-off .msg-success")
    page.wait_for_selector("#timeline li:has-text('en cola')")
    shot(page, "31-one-off-sent", viewport)
    assert Message.objects.filter(customer=customer, key__startswith="oneoff:").count() == before + 1
