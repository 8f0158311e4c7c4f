import datetime as dt

import pytest
from django.contrib.auth import get_user_model

from cobro.ledger import services as ledger
from cobro.ledger.models import Membership, Organization, Role

ISSUED = dt.date(2026, 2, 1)


@pytest.fixture
def org(db):
    return Organization.objects.create(slug="andes", name="Distribuidora Andes SpA", country="CL", currency="CLP",
                                       timezone="America/Santiago")


@pytest.fixture
def other_org(db):
    return Organization.objects.create(slug="otra", name="Otra SA", country="CO", currency="COP",
                                       timezone="America/Bogota")


@pytest.fixture
def book(org):
    """The customers and invoices the fixtures in tests/fixtures/statements/ pay."""
    def customer(ref, name, tax_id, country="CL"):
        return ledger.get_or_create_customer(org, ref, name, country=country, tax_id=tax_id)[0]

    andina = customer("C1", "Ferretería Andina SpA", "76.086.428-5")
    andes = customer("C2", "Comercial Los Andes Ltda.", "77.123.456-9")
    sur = customer("C3", "Panadería del Sur EIRL", "96.512.340-7")
    inv = {}
    for c, ref, amount in [(andina, "F-1001", 150000), (andina, "F-1002", 60000), (andes, "F-2001", 85000),
                           (andes, "F-2002", 40000), (sur, "F-3001", 70000), (sur, "F-3002", 70000)]:
        inv[ref] = ledger.add_invoice(org, c, ref, ISSUED, ISSUED + dt.timedelta(days=30), "CLP", amount)
    return {"andina": andina, "andes": andes, "sur": sur, "inv": inv}


@pytest.fixture
def agent(org):
    user = get_user_model().objects.create_user("gestor@andes.cl", "gestor@andes.cl", "x", first_name="Felipe",
                                                last_name="Araya")
    Membership.objects.create(user=user, organization=org, role=Role.AGENT)
    return user
