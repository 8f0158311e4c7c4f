"""A small book to run the cycle on: customers in several countries, open and paid invoices."""

import datetime as dt

import pytest

from cobro.ledger.models import Organization
from cobro.ledger.services import add_invoice, apply_payment, get_or_create_customer

D = dt.date


@pytest.fixture
def org(db):
    return Organization.objects.create(slug="acme", name="Acme", country="CL", currency="USD",
                                       timezone="America/Santiago")


@pytest.fixture
def book(org):
    """K-1 (Chile): I-1 paid, I-2 overdue; K-2 (Colombia): I-3 overdue; K-3 (Mexico): I-4 due
    yesterday; K-4 (Chile) with no contact data at all: I-5 overdue."""
    k1, _ = get_or_create_customer(org, "K-1", "Comercial Uno", country="CL", email="uno@example.com",
                                   phone="+56911111111")
    k2, _ = get_or_create_customer(org, "K-2", "Servicios Dos", country="CO", email="dos@example.com")
    k3, _ = get_or_create_customer(org, "K-3", "Tienda Tres", country="MX", email="tres@example.com")
    k4, _ = get_or_create_customer(org, "K-4", "Sin Datos", country="CL")
    i1 = add_invoice(org, k1, "I-1", D(2026, 1, 5), D(2026, 2, 4), "USD", 50000)
    add_invoice(org, k1, "I-2", D(2026, 1, 20), D(2026, 2, 19), "USD", 25000)
    add_invoice(org, k2, "I-3", D(2026, 1, 10), D(2026, 2, 9), "USD", 120000)
    add_invoice(org, k3, "I-4", D(2026, 2, 1), D(2026, 3, 3), "USD", 8050)
    add_invoice(org, k4, "I-5", D(2026, 1, 1), D(2026, 1, 31), "USD", 1000)
    apply_payment(org, k1, "P-1", D(2026, 2, 3), 50000, "USD", invoice=i1)
    return {"K-1": k1, "K-2": k2, "K-3": k3, "K-4": k4}
