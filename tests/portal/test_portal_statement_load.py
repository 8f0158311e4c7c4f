"""The statement page under load (B4, issue #11): its queries do not grow with the book, and the HTML
shared between requests (portal.pagecache) is exactly the page, with each visitor's own CSRF token."""

import datetime as dt
import re

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cobro.ledger.models import Customer
from cobro.ledger.services import add_invoice, add_invoice_rows, apply_payment

TODAY = dt.date(2026, 3, 10)


def _queries(client, path) -> int:
    client.get(path)  # first use creates the dispute reasons
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


def _add_open(org, customer, prefix: str, n: int) -> None:
    add_invoice_rows(org, [(customer.pk, f"{prefix}-{i}", TODAY - dt.timedelta(days=90), TODAY - dt.timedelta(days=i % 60),
                            "CLP", 10_000 + i) for i in range(n)])


def test_query_count_does_not_grow_with_the_customers_or_the_organizations_invoices(book, client):
    small = Customer.objects.create(organization=book.org, ref="Q5", name="Cinco", country="CL",
                                    timezone="America/Santiago")
    big = Customer.objects.create(organization=book.org, ref="Q50", name="Cincuenta", country="CL",
                                  timezone="America/Santiago")
    _add_open(book.org, small, "Q5", 5)
    _add_open(book.org, big, "Q50", 50)
    five, fifty = _queries(client, book.path(small)), _queries(client, book.path(big))
    assert five == fifty
    others = [Customer.objects.create(organization=book.org, ref=f"O{i}", name=f"Otro {i}") for i in range(20)]
    for other in others:
        _add_open(book.org, other, other.ref, 10)  # 200 more invoices of the organization's
    assert _queries(client, book.path(small)) == five
    assert five == 3  # the customer with its organization and link version; its open invoices; its credit


def test_the_organizations_lists_are_cached_and_follow_each_save_at_once(book, client):
    """Providers, bank accounts and dispute reasons are read once per organization (portal.lists),
    and a save or a delete in any of them shows on the next request."""
    from cobro.agreements.models import DisputeReason
    from cobro.payments.models import BankAccount
    from cobro.providers import services as providers

    path = book.path(book.es)
    html = client.get(path).content.decode()
    assert 'value="stripe"' not in html and "Banco Santander" not in html
    providers.set_credentials(book.org, "stripe", secret_key="sk_test_x", webhook_secret="whsec_x")
    account = BankAccount.objects.create(organization=book.org, name="Santander", number="77-1", currency="CLP",
                                         country="CL", bank_name="Banco Santander", holder="Acme SpA",
                                         show_in_portal=True)
    reason = DisputeReason.objects.get(organization=book.org, code="wrong_amount")
    reason.label = "El monto no cuadra"
    reason.save()
    html = client.get(path).content.decode()
    assert 'value="stripe"' in html and "Banco Santander" in html and "El monto no cuadra" in html
    assert _queries(client, path) == 3
    account.delete()
    providers.remove_credentials(book.org, "stripe")
    html = client.get(path).content.decode()
    assert 'value="stripe"' not in html and "Banco Santander" not in html


def test_shared_page_is_the_page_and_follows_the_book_at_once(book, client, monkeypatch):
    from cobro.portal import pagecache

    path = book.path(book.es)

    def without_tokens(resp) -> str:
        return re.sub(r'(csrfmiddlewaretoken" value="|X-CSRFToken": ")[^"]+', r"\1T", resp.content.decode())

    first, again = client.get(path), Client().get(path)
    assert without_tokens(first) == without_tokens(again)
    with monkeypatch.context() as m:
        m.setattr(pagecache, "_personal", lambda request: True)  # rendered for this request alone
        plain = client.get(path)
    assert without_tokens(plain) == without_tokens(first)
    assert first["Vary"] == plain["Vary"] and first["Content-Type"] == plain["Content-Type"]
    # A payment or a new invoice shows on the next request: the content is the key.
    apply_payment(book.org, book.es, "P-1", TODAY, 1_200_000, "CLP", invoice=book.inv["a"])
    add_invoice(book.org, book.es, "F-104", TODAY, TODAY + dt.timedelta(days=30), "CLP", 55_000)
    html = client.get(path).content.decode()
    assert "F-101" not in html and "F-104" in html


def test_shared_page_carries_each_visitors_own_csrf_token(book):
    path = book.path(book.es)
    for _ in range(2):  # the second visitor gets the HTML the first one's request rendered
        visitor = Client(enforce_csrf_checks=True)
        html = visitor.get(path).content.decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        assert "cobro-csrf-placeholder" not in html and f'"X-CSRFToken": "{token}"' in html
        answer = visitor.post(path + "promise/", {"date": "2026-03-12", "csrfmiddlewaretoken": token})
        assert answer.status_code == 200, answer.status_code


def test_a_signed_in_visitor_gets_the_page_rendered_for_them(book, client, django_user_model):
    from cobro.ledger.models import Membership

    user = django_user_model.objects.create_user("ana", password="x-long-password-1")
    Membership.objects.create(organization=book.org, user=user, role="manager")
    client.force_login(user)
    html = client.get(book.path(book.es)).content.decode()
    assert 'class="topbar"' in html and "F-101" in html
    assert 'class="topbar"' not in Client().get(book.path(book.es)).content.decode()
