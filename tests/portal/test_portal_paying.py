"""Paying by transfer and the portal's PDFs: each debtor sees only the accounts of their own country
and currency (never another country's account or tax id), kindly told when there is none; the
statement and each invoice as PDF (WeasyPrint's laid-out text), in the debtor's formats, with the
creditor's name, logo and accounts; the statement page's queries do not grow with its invoices."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from cobro.ledger.models import Customer, Invoice
from cobro.ledger.services import add_invoice
from cobro.payments.models import BankAccount
from cobro.portal import paying, views
from cobro.portal.pdf import render_document

TODAY = dt.date(2026, 3, 10)  # the clock fixture (conftest)

# A 1×1 PNG: the logo.
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360f8cf00000301010018dd8db40000000049454e44ae426082")


def _account(org, **fields):
    return BankAccount.objects.create(organization=org, show_in_portal=True, **fields)


@pytest.fixture
def accounts(book):
    d = dt.timedelta
    book.mx = Customer.objects.create(organization=book.org, ref="MX1", name="Abarrotes Jalisco", country="MX",
                                      language="es", timezone="America/Mexico_City")
    book.mx_inv = add_invoice(book.org, book.mx, "M-1", TODAY - d(days=20), TODAY - d(days=5), "MXN", 1_234_550)
    book.mx_usd = Customer.objects.create(organization=book.org, ref="MX2", name="Importadora Bajío", country="MX",
                                          language="es", timezone="America/Mexico_City")
    add_invoice(book.org, book.mx_usd, "M-2", TODAY - d(days=20), TODAY - d(days=5), "USD", 50_000)
    book.cl_acc = _account(book.org, name="Estado CLP", number="00-123-45678", currency="CLP", country="CL",
                           bank_name="Banco Estado", account_type="Cuenta corriente", holder="Acme SpA",
                           holder_tax_id="76.086.428-5")
    _account(book.org, name="Chile USD", number="CL-USD-777", currency="USD", country="CL",
             bank_name="Banco de Chile", holder="Acme SpA", holder_tax_id="76.086.428-5")
    book.mx_acc = _account(book.org, name="BBVA MXN", number="012180001234567897", currency="MXN", country="MX",
                           bank_name="BBVA México", account_type="CLABE", holder="Acme México SA de CV",
                           holder_tax_id="AME100101AB1", instructions="Envíe el comprobante a pagos@acme.mx")
    BankAccount.objects.create(organization=book.org, name="Oculta", number="HIDDEN-1", currency="MXN", country="MX",
                               bank_name="Banco Oculto", holder="X")  # not shown in the portal
    return book


def _transfer_section(html: str) -> str:
    return html[html.index('id="h-transfer"'):html.index('id="h-promise"')]


def test_a_mexican_debtor_sees_the_mexican_account_and_never_the_chilean_one(accounts, client):
    html = client.get(accounts.path(accounts.mx)).content.decode()
    section = _transfer_section(html)
    for shown in ("BBVA México", "012180001234567897", "CLABE", "Acme México SA de CV", "AME100101AB1",
                  "Envíe el comprobante a pagos@acme.mx", "MX1"):
        assert shown in section
    for hidden in ("Banco Estado", "00-123-45678", "76.086.428-5", "CL-USD-777", "Banco Oculto",
                   "Banco Estado, cuenta 123-456"):
        assert hidden not in html
    assert '<td class="num" data-label="Monto">MXN 12.345,50</td>' in html
    assert '<strong>MXN 12.345,50</strong>' in html


def test_a_chilean_debtor_sees_the_chilean_account_and_never_the_mexican_one(accounts, client):
    section = _transfer_section(client.get(accounts.path(accounts.es)).content.decode())
    for shown in ("Banco Estado", "00-123-45678", "Cuenta corriente", "Acme SpA", "76.086.428-5"):
        assert shown in section
    for hidden in ("BBVA", "012180001234567897", "AME100101AB1", "CL-USD-777"):
        assert hidden not in section
    # With an account set for CLP in Chile, the old free-text instructions give way to it.
    assert "Banco Estado, cuenta 123-456" not in section


def test_no_account_for_the_debtors_country_and_currency_is_said_kindly(accounts, client):
    # A Mexican customer owing USD: the only USD account is Chilean, so none is shown.
    section = _transfer_section(client.get(accounts.path(accounts.mx_usd)).content.decode())
    assert "Todavía no tenemos una cuenta para recibir transferencias en USD desde su país (México)." in section
    assert "escríbanos" in section.lower()
    assert "CL-USD-777" not in section and "Banco de Chile" not in section and "76.086.428-5" not in section


def test_the_organizations_own_instructions_reach_only_its_home_country_and_currency(book, client):
    # No accounts at all: the option text (written for Chile and CLP) shows to the Chilean debtor only.
    assert "Banco Estado, cuenta 123-456" in _transfer_section(client.get(book.path(book.es)).content.decode())
    us = _transfer_section(client.get(book.path(book.en)).content.decode())
    assert "Banco Estado" not in us
    assert "We do not have an account yet to receive transfers in USD from your country (United States)." in us


def test_the_organizations_instructions_show_in_the_debtors_language_else_in_its_own(book, client):
    """A Chilean debtor reading English or Portuguese owes CLP and no account is set: the text the
    organization wrote in that language, else its Spanish one marked as Spanish."""
    from cobro.ledger.models import Customer
    from cobro.portal import paying

    paying.save_instructions(book.org, {"es": "Transfiera al Banco Estado 123-456", "en": "Transfer to Banco Estado "
                                        "account 123-456, quoting your invoice", "pt-BR": ""})
    assert "transfer_instructions" not in book.org.options  # the older single text is replaced
    es = _transfer_section(client.get(book.path(book.es)).content.decode())
    assert 'lang="es">Transfiera al Banco Estado 123-456' in es and "quoting" not in es
    Customer.objects.filter(pk=book.es.pk).update(language="en")
    en = _transfer_section(client.get(book.path(book.es)).content.decode())
    assert 'lang="en">Transfer to Banco Estado account 123-456, quoting your invoice' in en
    assert "Transfiera" not in en
    Customer.objects.filter(pk=book.es.pk).update(language="pt-BR")
    pt = _transfer_section(client.get(book.path(book.es)).content.decode())
    assert 'lang="es">Transfiera al Banco Estado 123-456' in pt  # no Portuguese text: the organization's own


def _pdf_text(doc) -> str:
    """The text WeasyPrint laid out on the PDF's pages, in reading order."""
    parts = []
    for page in doc.pages:
        for box in page._page_box.descendants():
            if hasattr(box, "text"):
                parts.append(box.text)
    return " ".join(parts)


def _has_image(doc) -> bool:
    return any(type(box).__name__.endswith("ReplacedBox") for page in doc.pages for box in page._page_box.descendants())


def _token(book, customer):
    return book.path(customer).strip("/").split("/")[-1]


def test_statement_pdf_in_spanish_with_logo_amounts_dates_and_the_right_account(accounts, client):
    paying.save_logo(accounts.org, PNG)
    resp = client.get(accounts.path(accounts.es) + "statement.pdf")
    assert resp.status_code == 200 and resp["Content-Type"] == "application/pdf"
    assert resp.content.startswith(b"%PDF-") and resp.content.rstrip().endswith(b"%%EOF")
    assert 'filename="estado-C1.pdf"' in resp["Content-Disposition"]
    with translation.override("es"):
        doc = render_document("portal/pdf.html", views.pdf_context(_token(accounts, accounts.es), accounts.org,
                                                                   accounts.es))
    text = _pdf_text(doc)
    for shown in ("Acme SpA", "Estado de cuenta", "Ferretería Los Andes", "F-101", "F-102", "F-103",
                  "$1.200.000", "$1.590.000", "28/02/2026", "Banco Estado", "00-123-45678", "Cuenta corriente",
                  "Pagar por transferencia", "C1", "Al 10/03/2026"):
        assert shown in text, shown
    assert "BBVA" not in text and "INV-7" not in text and "S-999" not in text
    assert _has_image(doc)


def test_invoice_pdf_in_english_for_a_us_customer(book, client):
    resp = client.get(book.path(book.en) + "invoice.pdf?ref=INV-7")
    assert resp.status_code == 200 and resp.content.startswith(b"%PDF-")
    with translation.override("en"):
        inv = Invoice.objects.get(ref="INV-7")
        doc = render_document("portal/pdf.html", views.pdf_context(_token(book, book.en), book.org, book.en, inv))
    text = _pdf_text(doc)
    # English month/day order, the ISO code for a currency that is not the creditor's, English words.
    for shown in ("Invoice INV-7", "Harbor Supplies", "As of 03/10/2026", "02/08/2026", "03/03/2026", "USD 2,500.00",
                  "Pay by bank transfer", "We do not have an account yet to receive transfers in USD"):
        assert shown in text, shown
    assert "Banco Estado" not in text and "F-101" not in text
    assert not _has_image(doc)  # no logo set


def test_an_invoice_pdf_of_another_customer_or_organization_is_not_found(book, client):
    for ref in ("F-101", "S-999", "nope"):
        resp = client.get(book.path(book.en) + "invoice.pdf?ref=" + ref)
        assert resp.status_code == 404 and resp["Content-Type"].startswith("text/html")
        assert "1.200.000" not in resp.content.decode() and "777.777" not in resp.content.decode()


def test_the_statement_page_links_the_pdfs_and_its_queries_do_not_grow_with_invoices(book, client):
    path = book.path(book.es)
    html = client.get(path).content.decode()
    assert f'href="{path}statement.pdf"' in html and f'href="{path}invoice.pdf?ref=F-101"' in html
    with CaptureQueriesContext(connection) as few:
        client.get(path)
    for n in range(30):
        add_invoice(book.org, book.es, f"G-{n}", TODAY - dt.timedelta(days=5), TODAY + dt.timedelta(days=n),
                    "CLP", 1000 + n)
    with CaptureQueriesContext(connection) as many:
        html = client.get(path).content.decode()
    assert "G-29" in html
    assert len(many) == len(few) <= 6, [q["sql"][:80] for q in many.captured_queries]


def test_logo_is_served_only_for_a_valid_link(book, client):
    assert client.get(book.path(book.es) + "logo").status_code == 404  # none set yet
    paying.save_logo(book.org, PNG)
    resp = client.get(book.path(book.es) + "logo")
    assert resp.status_code == 200 and resp["Content-Type"] == "image/png" and resp.content == PNG
    assert re.search(r'<img src="[^"]+/logo"', client.get(book.path(book.es)).content.decode())
    assert client.get("/portal/not-a-token/logo").status_code in (404, 410)
