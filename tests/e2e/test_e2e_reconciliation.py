"""Browser journey: an agent resolves the bank reconciliation queue (accept, assign by hand, undo)."""

import pytest

from cobro.ledger.models import Invoice, Payment, TimelineEvent
from cobro.payments.models import StatementLine

pytestmark = pytest.mark.e2e
AGENT = "gestor1@demo.cobro"


def test_agent_accepts_assigns_and_undoes(demo, open_page, sign_in, shot):
    lines = StatementLine.objects.for_org(demo.org)
    assert lines.filter(status="applied").exists()  # the demo's month of statements was matched
    suggestion = lines.filter(status="suggested", customer__isnull=False).order_by("booking_date", "pk").first()
    assert suggestion is not None
    day = suggestion.booking_date.isoformat()
    page = open_page("laptop")
    sign_in(page, AGENT, demo.password)
    page.click("nav a[href='/reconciliation/']")
    page.goto(f"/reconciliation/?day={day}&status=suggested")
    row = page.locator(f"#line-{suggestion.pk}")
    assert suggestion.customer.name in row.inner_text()
    shot(page, "40-reconciliation-suggested", "laptop")
    row.locator("button:has-text('Aceptar')").click()
    page.wait_for_selector(".msg-success")
    assert page.locator(f"#line-{suggestion.pk}").count() == 0
    suggestion.refresh_from_db()
    assert suggestion.status == "applied" and suggestion.payments.count() == 1
    payment = suggestion.payments.get()
    assert (payment.method, payment.provider, payment.provider_ref) == ("transfer", "statement", suggestion.key)
    assert TimelineEvent.objects.filter(kind="statement.applied", customer=suggestion.customer,
                                        actor__username=AGENT).exists()

    # Undo it from the applied list, saying why: the invoices open again.
    page.goto(f"/reconciliation/?day={day}&status=applied")
    applied_row = page.locator(f"#line-{suggestion.pk}")
    applied_row.locator("input[name=reason]").fill("no era de este cliente")
    applied_row.locator("button:has-text('Deshacer')").click()
    page.wait_for_selector(".msg-success")
    suggestion.refresh_from_db()
    assert suggestion.status == "suggested" and not Payment.objects.filter(pk=payment.pk).exists()
    assert TimelineEvent.objects.filter(kind="payment.reversed", data__reason="no era de este cliente").exists()

    # Assign it by hand: search the customer, tick an invoice, reconcile.
    invoice = Invoice.objects.for_org(demo.org).filter(customer=suggestion.customer, currency=suggestion.currency,
                                                     open_amount__gt=0).order_by("due_date").first()
    page.goto(f"/reconciliation/?day={day}&status=suggested")
    page.locator(f"#line-{suggestion.pk} a:has-text('Corregir o asignar')").click()
    page.fill("#q", suggestion.customer.ref)
    page.click("form[role=search] button")
    page.wait_for_selector(f"input[name=customer][value='{suggestion.customer.pk}']")
    page.check(f"input[name=customer][value='{suggestion.customer.pk}']")
    for box in page.locator("input[name=invoice]:checked").all():
        box.uncheck()
    page.check(f"input[name=invoice][value='{invoice.pk}']")
    shot(page, "41-reconciliation-assign", "laptop")
    before = invoice.open_amount
    page.click("#assign button[type=submit]")
    page.wait_for_selector(".msg-success")
    assert page.locator(f"#line-{suggestion.pk}").count() == 1  # now on the applied list
    invoice.refresh_from_db()
    suggestion.refresh_from_db()
    assert suggestion.status == "applied" and invoice.open_amount == max(0, before - suggestion.amount)
