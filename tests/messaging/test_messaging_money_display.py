"""The debtor's statement and the team's pages never leave a currency to be guessed (issue 9.3)."""

import datetime as dt

from django.conf import settings

from cobro.ledger.services import add_invoice
from cobro.messaging import links


def test_statement_with_two_currencies_names_both(book, client):
    html = client.get(links.url(book.org.pk, book.es.pk, "pay", 1).removeprefix(settings.COBRO_BASE_URL)
                      ).content.decode()
    assert "$1.234.567" in html  # F-101, in the organization's own CLP: the local way
    assert "EUR 1.234,56" in html  # F-102, in euros
    assert "CLP 1.234.567" in html  # the totals mix currencies: each names its own


def test_statement_in_the_home_currency_only_keeps_the_local_symbol(book, client):
    html = client.get(links.url(book.org.pk, book.en.pk, "pay", 1).removeprefix(settings.COBRO_BASE_URL)
                      ).content.decode()
    assert "USD 2,500.00" in html and "$2,500.00" not in html  # USD in a CLP organization, in English


def test_customer_page_shows_iso_code_for_foreign_invoices(book, client):
    add_invoice(book.org, book.es, "F-103", book.today - dt.timedelta(days=5), book.today + dt.timedelta(days=25),
                "COP", 245_000_050)
    client.force_login(book.manager)
    html = client.get(f"/customers/{book.es.pk}/").content.decode()
    assert "COP 2.450.000,50" in html
    assert "$2.450.000,50" not in html
