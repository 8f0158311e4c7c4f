from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time

import pytest
import time_machine
from tests.providers.fakes import FakeProviders

from cobro.ledger import services as ledger
from cobro.ledger.models import Membership, Organization
from cobro.providers import services

D = dt.date
STRIPE_WHSEC = "whsec_test_cobro"
MP_SECRET = "mp-webhook-secret"
NOW = dt.datetime(2026, 5, 4, 15, 0, tzinfo=dt.UTC)  # 11:00 in Santiago


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=True):
        yield NOW


@pytest.fixture
def fake(settings):
    server = FakeProviders()
    settings.COBRO_STRIPE_API_BASE = server.base
    settings.COBRO_MERCADOPAGO_API_BASE = server.base
    settings.COBRO_TRANSBANK_API_BASE = server.base
    settings.COBRO_BASE_URL = "http://testserver"
    yield server
    server.close()


def _org(slug, fake, currency="CLP"):
    org = Organization.objects.create(slug=slug, name=slug.title(), country="CL", currency=currency,
                                      timezone="America/Santiago")
    services.set_credentials(org, "stripe", secret_key=fake.stripe_key, webhook_secret=STRIPE_WHSEC)
    services.set_credentials(org, "mercadopago", access_token=fake.mp_token, webhook_secret=MP_SECRET)
    services.set_credentials(org, "transbank", commerce_code=fake.tbk_code, api_key=fake.tbk_key)
    return org


@pytest.fixture
def org(db, fake, clock):
    return _org("acme", fake)


@pytest.fixture
def other_org(db, fake, clock):
    return _org("otra", fake)


@pytest.fixture
def customer(org):
    return ledger.get_or_create_customer(org, "C-1", "Ferretería Los Andes", country="CL",
                                        email="pagos@losandes.cl")[0]


@pytest.fixture
def invoices(org, customer):
    """CLP 100.000 (F-1, due 1 March) and 50.000 (F-2, due 15 March); USD 1.234,56 (U-1)."""
    return {ref: ledger.add_invoice(org, customer, ref, D(2026, 2, 1), due, cur, amount)
            for ref, due, cur, amount in (("F-1", D(2026, 3, 1), "CLP", 100_000), ("F-2", D(2026, 3, 15), "CLP", 50_000),
                                          ("U-1", D(2026, 3, 10), "USD", 123_456))}


@pytest.fixture
def admin(org, django_user_model):
    user = django_user_model.objects.create_user(username="admin1", password="x")
    Membership.objects.create(user=user, organization=org, role="admin")
    return user


URLS = {"success_url": "http://testserver/pay/ok", "cancel_url": "http://testserver/pay/cancel"}


def stripe_signed(event: dict, secret: str = STRIPE_WHSEC) -> tuple[bytes, str]:
    """Stripe's documented scheme: t=<unix>,v1=HMAC-SHA256(secret, "<t>.<payload>")."""
    payload = json.dumps(event).encode()
    ts = int(time.time())
    sig = hmac.new(secret.encode(), f"{ts}.".encode() + payload, hashlib.sha256).hexdigest()
    return payload, f"t={ts},v1={sig}"


def mp_signed(data_id: str, request_id: str = "req-1", secret: str = MP_SECRET) -> dict:
    ts = str(int(time.time() * 1000))
    manifest = f"id:{data_id};request-id:{request_id};ts:{ts};"
    v1 = hmac.new(secret.encode(), manifest.encode(), hashlib.sha256).hexdigest()
    return {"HTTP_X_SIGNATURE": f"ts={ts},v1={v1}", "HTTP_X_REQUEST_ID": request_id}
