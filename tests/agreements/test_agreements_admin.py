"""Agreements are visible in the admin (read-only where services own the writes)."""

from __future__ import annotations

import datetime as dt

import pytest

from cobro.agreements import services

D = dt.date


@pytest.mark.parametrize("model", ["promise", "plan", "dispute", "fee", "discount", "customerterms",
                                   "disputereason"])
def test_admin_lists_render(org, customer, invoices, admin_client, model):
    services.create_promise(org, customer, D(2026, 3, 20), 1000, "CLP", made_on=D(2026, 3, 10))
    plan = services.create_plan(org, customer, [invoices[2]], 2, "monthly", D(2026, 3, 10))
    services.open_dispute(org, invoices[1], "other", "revisar")
    response = admin_client.get(f"/admin/agreements/{model}/")
    assert response.status_code == 200
    if model == "plan":
        page = admin_client.get(f"/admin/agreements/plan/{plan.pk}/change/")
        assert page.status_code == 200 and "cuota" in page.content.decode().lower()


def test_agreements_cannot_be_added_in_the_admin(admin_client, db):
    assert admin_client.get("/admin/agreements/promise/add/").status_code == 403


def test_staff_see_only_their_organizations_agreements(org, other_org, customer, invoices, client,
                                                      django_user_model):
    from cobro.ledger import services as ledger
    from cobro.ledger.models import Membership

    services.create_promise(org, customer, D(2026, 3, 20), 1000, "CLP", made_on=D(2026, 3, 10))
    stranger = ledger.get_or_create_customer(other_org, "X-1", "Cliente Ajeno")[0]
    inv = ledger.add_invoice(other_org, stranger, "X-F1", D(2026, 2, 1), D(2026, 3, 1), "CLP", 5000)
    services.create_promise(other_org, stranger, D(2026, 3, 20), 1000, "CLP", [inv], made_on=D(2026, 3, 10))
    staff = django_user_model.objects.create_user("staff", password="x", is_staff=True)
    from django.contrib.auth.models import Permission

    staff.user_permissions.add(Permission.objects.get(codename="view_promise"))
    Membership.objects.create(user=staff, organization=org, role="manager")
    client.force_login(staff)
    page = client.get("/admin/agreements/promise/").content.decode()
    assert "Ferretería Los Andes" in page and "Cliente Ajeno" not in page
