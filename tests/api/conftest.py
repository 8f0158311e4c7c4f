import datetime as dt
import json

import pytest
from django.core.cache import cache
from django.test import Client

from cobro.api.keys import create_key
from cobro.ledger import services as ledger
from cobro.ledger.models import Organization


class ApiClient:
    """Django's test client speaking JSON with a bearer key."""

    def __init__(self, key: str):
        self.client, self.key = Client(), key

    def _headers(self, extra):
        return {"HTTP_AUTHORIZATION": f"Bearer {self.key}", **{f"HTTP_{k.upper().replace('-', '_')}": v
                                                                for k, v in (extra or {}).items()}}

    def get(self, path, headers=None, **params):
        return self.client.get(f"/api/v1{path}", params, **self._headers(headers))

    def send(self, method, path, body=None, headers=None):
        data = body if isinstance(body, (str, bytes)) else json.dumps(body)
        return getattr(self.client, method)(f"/api/v1{path}", data=data, content_type="application/json",
                                            **self._headers(headers))

    def post(self, path, body=None, headers=None):
        return self.send("post", path, body, headers)

    def put(self, path, body=None, headers=None):
        return self.send("put", path, body, headers)

    def patch(self, path, body=None, headers=None):
        return self.send("patch", path, body, headers)


@pytest.fixture(autouse=True)
def _fresh_rate_counters():
    cache.clear()


@pytest.fixture
def org(db):
    return Organization.objects.create(slug="acme", name="Acme SpA", country="CL", currency="CLP",
                                       timezone="America/Santiago")


@pytest.fixture
def other(db):
    org = Organization.objects.create(slug="other", name="Otra SAS", country="CO", currency="COP",
                                      timezone="America/Bogota")
    customer, _ = ledger.get_or_create_customer(org, "SECRET-1", "Cliente Secreto SAS", country="CO",
                                                email="secreto@example.co")
    ledger.add_invoice(org, customer, "OTRA-9", dt.date(2026, 1, 5), dt.date(2026, 2, 4), "COP", 245000050)
    return org


@pytest.fixture
def writer(org):
    return ApiClient(create_key(org, "ERP", "write")[1])


@pytest.fixture
def reader(org):
    return ApiClient(create_key(org, "BI", "read")[1])


@pytest.fixture
def other_writer(other):
    return ApiClient(create_key(other, "ERP", "write")[1])
