"""schemathesis over every operation of the live API (in-process WSGI, the real middleware stack), with
a write key of a seeded organization: no server error, no answer that breaks the published schema."""

import datetime as dt

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.modes import GenerationMode

from cobro.api.keys import create_key
from cobro.ledger import services as ledger
from cobro.ledger.models import Organization
from cobro.wsgi import application

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _one_connection_for_the_test():
    """Django closes the database connection at the end of each WSGI request; inside a test that
    connection holds the test's transaction (on PostgreSQL it would be gone), so, as Django's own test
    client does, requests here leave it open."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def seeded_key(db):
    org = Organization.objects.create(slug="acme", name="Acme SpA", country="CL", currency="CLP",
                                      timezone="America/Santiago")
    customer, _ = ledger.get_or_create_customer(org, "C-1", "Ferretería Andina", email="pagos@andina.cl")
    ledger.add_invoice(org, customer, "F-1", dt.date(2026, 10, 1), dt.date(2026, 10, 31), "CLP", 450000)
    return create_key(org, "schemathesis", "write")[1]


# The schema is read at collection (it needs no database); the examples run inside each test's transaction.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_keeps_its_schema(case, seeded_key):
    from django.core.cache import cache

    cache.clear()  # the rate limit is tested elsewhere; here every example must reach the operation
    # A case whose headers were made invalid on purpose (e.g. without Authorization) is sent as it was
    # made: adding the key would turn it into a valid request that the API rightly accepts.
    headers = case.meta.components.get(ParameterLocation.HEADER) if case.meta else None
    broken_headers = headers is not None and headers.mode == GenerationMode.NEGATIVE
    case.call_and_validate(headers=None if broken_headers else {"Authorization": f"Bearer {seeded_key}"},
                           excluded_checks=[schemathesis.checks.positive_data_acceptance])
