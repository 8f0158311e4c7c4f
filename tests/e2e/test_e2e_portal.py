"""Browser journey through the debtor portal at phone and laptop sizes: the statement, a promise, a
plan inside the limits, a dispute with an attachment, the survey; and the start page for a lost link."""

import datetime as dt

import pytest

from cobro.agreements.models import Dispute, Plan, Promise
from cobro.ledger.models import Customer, Invoice
from cobro.portal.access import portal_url
from cobro.portal.models import Survey

pytestmark = pytest.mark.e2e


def _debtor(org, min_open=3):
    for c in Customer.objects.for_org(org).order_by("ref"):
        open_ = list(Invoice.objects.for_org(org).filter(customer=c, status="open", currency=org.currency)
                     .exclude(promises__status="pending").exclude(plans__status__in=["active", "proposed"])
                     .exclude(disputes__status__in=["open", "answered"]).distinct().order_by("due_date"))
        if len(open_) >= min_open:
            return c, open_
    pytest.skip("no demo customer with three free open invoices")


@pytest.mark.parametrize("viewport", ["phone", "laptop"])
def test_debtor_sees_promises_plans_disputes_and_answers_the_survey(demo, open_page, shot, viewport, tmp_path):
    customer, invoices = _debtor(demo.org)
    Customer.objects.filter(pk=customer.pk).update(language="es")
    path = portal_url(customer).split("8000", 1)[1]
    page = open_page(viewport)
    page.goto(path)
    body = page.content()
    assert "Estado de cuenta" in body and all(i.ref in body for i in invoices)
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"] + 1
    sources = page.eval_on_selector_all("script[src]", "els => els.map(e => e.src)")
    assert all(src.startswith(page.url.split("/portal/")[0]) for src in sources)  # no third-party scripts
    shot(page, "60-portal-statement", viewport)
    # Promise a date (the promise covers every open invoice).
    day = (demo.today + dt.timedelta(days=7)).isoformat()
    page.fill("#promise-date", day)
    page.click("text=Comprometer la fecha")
    assert "Registramos su compromiso de pago" in page.content()
    shot(page, "61-portal-promise", viewport)
    assert Promise.objects.filter(customer=customer, channel="portal", promised_date=day).exists()
    # A dispute with a PDF attachment on the last invoice.
    pdf = tmp_path / "guia.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n")
    page.select_option("#d-inv", invoices[-1].ref)
    page.fill("#d-text", "La mercadería llegó dañada")
    page.set_input_files("#d-file", str(pdf))
    page.click("text=Enviar el reclamo")
    assert "Pausamos la cobranza de esa factura" in page.content()
    assert Dispute.objects.filter(invoice=invoices[-1], status="open").exists()
    shot(page, "62-portal-dispute", viewport)
    # The thank-you page and its survey.
    page.goto(path + "thanks/")
    page.check("input[name=rating][value='5']")
    page.fill("#comment", "Fácil")
    page.click("button[type=submit]")
    assert "Gracias por su opinión" in page.content()
    shot(page, "63-portal-thanks", viewport)
    assert Survey.objects.filter(customer=customer, rating=5, comment="Fácil").exists()


def test_plan_inside_limits_and_the_start_page_in_portuguese(demo, open_page, shot):
    customer, invoices = _debtor(demo.org, min_open=1)
    Customer.objects.filter(pk=customer.pk).update(language="pt-BR")
    before = set(Plan.objects.filter(customer=customer).values_list("pk", flat=True))  # earlier, ended plans
    page = open_page("phone", locale="pt-BR")
    page.goto(portal_url(customer).split("8000", 1)[1])
    assert "Faturas em aberto" in page.content() and "Facturas" not in page.content()
    page.fill("#plan-count", "3")
    page.click("text=Propor o plano")
    assert "Seu plano de pagamento foi aceito" in page.content()
    shot(page, "64-portal-plan-pt", "phone")
    new = Plan.objects.filter(customer=customer).exclude(pk__in=before)
    assert [p.status for p in new] == ["active"]
    page.goto("/portal/")
    page.fill("#tax_id", "12.345.678-5")
    page.click("button[type=submit]")
    shot(page, "65-portal-start", "phone")
