"""Error pages in the product's style and the reader's language, a 403 logged without a traceback, the
read-only role kept out of Mensajes by URL as by menu, and the demo's admin let into the Django admin
(scoped to its organization)."""

from __future__ import annotations

import logging

import pytest
from django.test import RequestFactory
from django.utils import translation

from cobro.ledger.models import Customer
from cobro.messaging.models import MessageTemplate

PAGES = {  # status: (Spanish heading, English heading, Portuguese heading)
    403: ("No tiene acceso a esta página", "You do not have access to this page", "Você não tem acesso a esta página"),
    404: ("No encontramos esta página", "We could not find this page", "Não encontramos esta página"),
}


@pytest.mark.parametrize("language, column", [("es", 0), ("en", 1), ("pt-br", 2)])
def test_403_and_404_are_product_pages_in_the_readers_language(book, client, language, column):
    client.cookies["django_language"] = language
    client.force_login(book.viewer)
    forbidden = client.get("/settings/team/")
    missing = client.get("/customers/999999/")
    for resp, status in ((forbidden, 403), (missing, 404)):
        text = resp.content.decode()
        assert resp.status_code == status
        assert f'data-status="{status}"' in text and "cobro.css" in text and 'class="brand"' in text
        assert PAGES[status][column] in text
        assert f'lang="{language}"' in text
        assert "Forbidden" not in text and "Not Found" not in text


def test_400_and_500_pages(client, settings):
    from django.views.defaults import server_error

    settings.ALLOWED_HOSTS = ["testserver"]
    bad = client.get("/login/", HTTP_HOST="evil.example")
    assert bad.status_code == 400 and "Solicitud no válida" in bad.content.decode()
    with translation.override("en"):
        failed = server_error(RequestFactory().get("/"))
    assert failed.status_code == 500 and "Something went wrong on our side" in failed.content.decode()


def test_a_403_is_logged_in_one_line_without_traceback(book, client, caplog):
    client.force_login(book.viewer)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get("/settings/team/").status_code == 403
    records = [r for r in caplog.records if r.name == "django.request"]
    assert len(records) == 1 and "Forbidden" in records[0].getMessage()
    assert records[0].exc_info is None and "Traceback" not in caplog.text


def test_read_only_user_gets_403_on_every_messages_url(book, client):
    from cobro.messaging.services import install_default_templates

    install_default_templates(book.org)
    tpl = MessageTemplate.objects.for_org(book.org).first()
    client.force_login(book.viewer)
    for url in ("/messages/", "/messages/templates/", f"/messages/templates/{tpl.pk}/"):
        resp = client.get(url)
        assert resp.status_code == 403, url
        assert "No tiene acceso a esta página" in resp.content.decode()
    before = (tpl.subject, tpl.body)
    assert client.post(f"/messages/templates/{tpl.pk}/", {"do": "save", "subject": "x", "body": "Hola",
                                                          "tone": "friendly"}).status_code == 403
    tpl.refresh_from_db()
    assert (tpl.subject, tpl.body) == before
    today = client.get("/today/").content.decode()
    assert 'href="/messages/"' not in today  # the menu agrees
    client.force_login(book.agent)
    assert client.get("/messages/").status_code == 200


def test_demo_admin_enters_the_django_admin_scoped_to_its_organization(transactional_db, client):
    from cobro.ledger.demo import DEMO_PASSWORD, ensure_demo
    from cobro.ledger.models import Organization
    from cobro.workspace.views import org_today

    other = Organization.objects.create(slug="ajena", name="Ajena SA", country="CL", currency="CLP")
    Customer.objects.create(organization=other, ref="AJ-1", name="Cliente Ajeno Único", country="CL")
    org, _ = ensure_demo(org_today(Organization(timezone="America/Santiago")), customers=5)
    assert client.login(username="admin@demo.cobro", password=DEMO_PASSWORD)
    index = client.get("/admin/")
    assert index.status_code == 200 and "/admin/ledger/customer/" in index.content.decode()
    listing = client.get("/admin/ledger/customer/")
    text = listing.content.decode()
    assert listing.status_code == 200
    assert Customer.objects.for_org(org).first().name in text and "Cliente Ajeno Único" not in text
    assert client.get("/admin/auth/group/").status_code == 403  # installation-wide: superusers only
    customer = Customer.objects.for_org(org).order_by("pk").first()
    page = client.get(f"/admin/ledger/customer/{customer.pk}/change/")
    assert page.status_code == 200
    # The other roles stay out of the admin.
    client.logout()
    assert client.login(username="gestor1@demo.cobro", password=DEMO_PASSWORD)
    assert client.get("/admin/").status_code == 302
