"""An organization with customers, invoices and users of each role, built through the ledger's services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from cobro.ledger import services as ledger
from cobro.ledger.models import Membership, Organization

D = dt.date


@pytest.fixture
def org(db):
    return Organization.objects.create(slug="acme", name="Acme", country="CL", currency="CLP",
                                       timezone="America/Santiago",
                                       options={"promise_grace_days": 2, "plan_grace_days": 3, "plan_max_missed": 2})


@pytest.fixture
def other_org(db):
    return Organization.objects.create(slug="other", name="Other", country="CL", currency="CLP")


@pytest.fixture
def users(org, django_user_model):
    out = {}
    for role in ("manager", "agent"):
        user = django_user_model.objects.create_user(username=role, password="x")
        Membership.objects.create(user=user, organization=org, role=role)
        out[role] = user
    return out


@pytest.fixture
def customer(org):
    return ledger.get_or_create_customer(org, "C-1", "Ferretería Los Andes", country="CL",
                                        email="pagos@losandes.cl")[0]


@pytest.fixture
def invoices(org, customer):
    """Three open CLP invoices: 100,000 due 1 March, 50,000 due 15 March, 30,000 due 1 April 2026."""
    return [ledger.add_invoice(org, customer, ref, D(2026, 2, 1), due, "CLP", amount)
            for ref, due, amount in (("F-1", D(2026, 3, 1), 100_000), ("F-2", D(2026, 3, 15), 50_000),
                                     ("F-3", D(2026, 4, 1), 30_000))]



@pytest.fixture
def pay(org, customer):
    """Record a payment through the ledger, running its after-commit receivers as production does."""
    from django.test import TestCase

    def _pay(ref, day, amount, invoice=None, currency="CLP"):
        with TestCase.captureOnCommitCallbacks(execute=True):
            return ledger.apply_payment(org, customer, ref, day, amount, currency, invoice=invoice)
    return _pay


@pytest.fixture
def kinds(org, customer):
    from cobro.ledger.models import TimelineEvent

    return lambda: list(TimelineEvent.objects.for_org(org).filter(customer=customer).order_by("at", "id")
                        .values_list("kind", flat=True))


@dataclass
class FeeStep:
    """The fields of a ``dunning.Action`` the fee receiver reads (the cycle's contract)."""

    as_of: dt.date
    invoice_ids: list[int]
    key: str
    action: str = "fee"


@pytest.fixture
def fee_step(org):
    """Send ``actions_created`` with one fee step, as the cycle does when a policy's fee step is due."""
    from cobro.dunning.signals import actions_created

    def _send(as_of, invoices):
        actions_created.send(sender=None, organization=org,
                             actions=[FeeStep(as_of, [i.pk for i in invoices], key=f"fee:{as_of}")])
    return _send
