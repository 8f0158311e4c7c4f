"""Settings → API y webhooks, as an admin uses it: a key is shown once and works; another role is refused."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from cobro.api.models import ApiKey, WebhookEndpoint
from cobro.ledger.models import Membership

pytestmark = pytest.mark.django_db


def member(org, name, role):
    user = get_user_model().objects.create_user(name, f"{name}@acme.cl", "pw-123-xyz")
    Membership.objects.create(user=user, organization=org, role=role)
    client = Client()
    client.force_login(user)
    return client


def test_admin_creates_a_key_that_works_and_revokes_it(org):
    admin = member(org, "ana", "admin")
    page = admin.post("/settings/api/", {"form": "key", "name": "ERP nocturno", "scope": "write"})
    assert page.status_code == 200
    text = page.content.decode()
    key = text.split('data-testid="new-key">', 1)[1].split("<", 1)[0]
    assert key.startswith("cobro_") and "Cópiela ahora" in text
    assert Client().get("/api/v1/customers", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    # Shown once: the list shows the name and prefix only.
    listing = admin.get("/settings/api/").content.decode()
    assert "ERP nocturno" in listing and key not in listing
    row = ApiKey.objects.get(organization=org)
    admin.post(f"/settings/api/keys/{row.pk}/revoke/")
    assert Client().get("/api/v1/customers", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 401


def test_admin_adds_a_webhook_and_a_bad_url_shows_its_error(org):
    admin = member(org, "ana", "admin")
    bad = admin.post("/settings/api/", {"form": "endpoint", "url": "no es una url"})
    assert bad.status_code == 400 and "URL" in bad.content.decode()
    assert not WebhookEndpoint.objects.exists()
    ok = admin.post("/settings/api/", {"form": "endpoint", "url": "https://erp.example.cl/hooks",
                                       "events": ["payment.received", "invoice.settled"]})
    assert "whsec_" in ok.content.decode()
    assert WebhookEndpoint.objects.get(organization=org).events == ["payment.received", "invoice.settled"]


def test_agents_cannot_open_it(org):
    agent = member(org, "agus", "agent")
    assert agent.get("/settings/api/").status_code == 403
    assert agent.post("/settings/api/", {"form": "key", "name": "x", "scope": "write"}).status_code == 403
    assert not ApiKey.objects.exists()


def test_admin_sets_the_organizations_tax_id_and_a_wrong_one_is_named(org):
    from django.utils import translation

    admin = member(org, "ana", "admin")
    bad = admin.post("/settings/api/", {"form": "tax_id", "tax_id": "76.086.428-4"})  # wrong check digit
    assert bad.status_code == 400 and "no es un RUT válido" in bad.content.decode()
    org.refresh_from_db()
    assert org.tax_id == ""
    saved = admin.post("/settings/api/", {"form": "tax_id", "tax_id": "76086428-5"}, follow=True)
    text = saved.content.decode()
    assert "Identificador tributario guardado." in text and 'value="76.086.428-5"' in text
    org.refresh_from_db()
    assert org.tax_id == "76.086.428-5"  # formatted as the SII writes it
    with translation.override("en"):
        assert translation.gettext("Identificador tributario guardado.") == "Tax id saved."
    agent = member(org, "agus", "agent")
    assert agent.post("/settings/api/", {"form": "tax_id", "tax_id": ""}).status_code == 403
    org.refresh_from_db()
    assert org.tax_id == "76.086.428-5"
