"""A small book for the workspace tests: two organizations, one person per role, and an outsider."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model

from cobro.ledger.models import Contact, Customer, Membership, Organization
from cobro.ledger.services import add_invoice, create_task

PASSWORD = "s3cret-pass-123"


def make_user(username, org=None, role=None, first_name=""):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD, first_name=first_name)
    if org is not None:
        Membership.objects.create(user=user, organization=org, role=role)
    return user


@pytest.fixture
def today():
    from cobro.workspace.views import org_today

    return org_today(Organization(timezone="America/Santiago"))


@pytest.fixture
def book(db, today):
    """Returns a namespace: org, other (another organization), users by role, customers."""
    org = Organization.objects.create(slug="acme", name="Acme SpA", country="CL", currency="CLP")
    other = Organization.objects.create(slug="otra", name="Otra Ltda", country="CL", currency="CLP")
    ns = type("Book", (), {})()
    ns.org, ns.other, ns.today = org, other, today
    ns.admin = make_user("ana", org, "admin", "Ana")
    ns.manager = make_user("mario", org, "manager", "Mario")
    ns.agent = make_user("agustina", org, "agent", "Agustina")
    ns.viewer = make_user("vera", org, "viewer", "Vera")
    ns.outsider = make_user("oscar", other, "admin", "Óscar")
    ns.customers = []
    for i, (name, days, amount) in enumerate([("Ferretería Los Andes", 45, 1_250_000), ("Panadería Sol", 10, 80_000),
                                              ("Transportes Sur", -5, 300_000)]):
        c = Customer.objects.create(organization=org, ref=f"C{i + 1}", name=name, country="CL", language="es",
                                    timezone="America/Santiago", segment="pyme" if i else "corporativo",
                                    owner=ns.agent if i == 0 else None)
        Contact.objects.create(organization=org, customer=c, name=f"Contacto {i + 1}", phone="+56911111111",
                               email=f"c{i + 1}@example.cl")
        add_invoice(org, c, f"F-{i + 1}", today - dt.timedelta(days=days + 30), today - dt.timedelta(days=days),
                    "CLP", amount)
        ns.customers.append(c)
    ns.secret = Customer.objects.create(organization=other, ref="X1", name="Cliente Secreto", country="CL",
                                        timezone="America/Santiago")
    add_invoice(other, ns.secret, "S-1", today - dt.timedelta(days=60), today - dt.timedelta(days=30), "CLP", 999_000)
    ns.task = create_task(org, ns.customers[0], "call", "Llamar por F-1", today, source_key="t-1")
    ns.task2 = create_task(org, ns.customers[1], "call", "Llamar por F-2", today, source_key="t-2")
    ns.secret_task = create_task(other, ns.secret, "call", "Llamar secreto", today, source_key="s-1")
    return ns


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user)
        return client

    return _login
