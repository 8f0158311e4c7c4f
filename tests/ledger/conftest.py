import pytest

from cobro.ledger.models import Organization


@pytest.fixture
def org(db):
    return Organization.objects.create(slug="acme", name="Acme SpA", country="CL", currency="USD",
                                       timezone="America/Santiago")


@pytest.fixture
def other_org(db):
    return Organization.objects.create(slug="other", name="Other SA", country="CO", currency="COP",
                                       timezone="America/Bogota")
