"""The admin is scoped by tenant in one place, the site (issue #10.3): staff who are not superusers
see and change only their organizations' rows and users, pick only their organizations, see only
their organizations in filters, and never reach installation-wide tables."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group, Permission

from cobro.agreements import services as agreements
from cobro.ledger import services
from cobro.ledger.models import Membership


@pytest.fixture
def staff(client, django_user_model, org, other_org):
    user = django_user_model.objects.create_user("staff@acme.cl", password="x", is_staff=True, email="s@acme.cl")
    user.user_permissions.set(Permission.objects.all())
    Membership.objects.create(user=user, organization=org, role="admin")
    client.force_login(user)
    return user


@pytest.fixture
def stranger(django_user_model, other_org):
    user = django_user_model.objects.create_user("ajeno@other.co", password="x", email="ajeno@other.co")
    Membership.objects.create(user=user, organization=other_org, role="admin")
    return user


def test_membership_cannot_name_another_organization(client, staff, org, other_org, stranger):
    form = client.get("/admin/ledger/membership/add/").content.decode()
    assert "Acme SpA" in form and "Other SA" not in form and "ajeno@other.co" not in form
    client.post("/admin/ledger/membership/add/", {"user": staff.pk, "organization": other_org.pk, "role": "admin"})
    assert not Membership.objects.filter(user=staff, organization=other_org).exists()
    theirs = Membership.objects.get(user=stranger)
    assert client.get(f"/admin/ledger/membership/{theirs.pk}/change/").status_code in (302, 404)


def test_users_are_only_their_organizations_and_gain_no_powers(client, staff, org, stranger, django_user_model):
    colleague = django_user_model.objects.create_user("colega@acme.cl", password="x")
    Membership.objects.create(user=colleague, organization=org, role="agent")
    page = client.get("/admin/auth/user/").content.decode()
    assert "colega@acme.cl" in page and "ajeno@other.co" not in page
    assert client.get(f"/admin/auth/user/{stranger.pk}/change/").status_code in (302, 404)
    client.post(f"/admin/auth/user/{stranger.pk}/change/", {"username": "robado", "is_superuser": "on"})
    stranger.refresh_from_db()
    assert stranger.username == "ajeno@other.co" and not stranger.is_superuser
    change = client.get(f"/admin/auth/user/{colleague.pk}/change/").content.decode()
    assert 'name="is_superuser"' not in change and 'name="is_staff"' not in change
    client.post(f"/admin/auth/user/{colleague.pk}/change/", {
        "username": "colega@acme.cl", "is_superuser": "on", "is_staff": "on", "is_active": "on",
        "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"})
    colleague.refresh_from_db()
    assert not colleague.is_superuser and not colleague.is_staff


@pytest.mark.parametrize("model", ["promise", "plan", "dispute", "fee", "discount", "customerterms",
                                   "disputereason", "membership"])
def test_organization_filters_list_only_their_organizations(client, staff, org, other_org, stranger, model):
    mine, _ = services.get_or_create_customer(org, "M-1", "Propio")
    theirs, _ = services.get_or_create_customer(other_org, "T-1", "Ajeno")
    for o, c in ((org, mine), (other_org, theirs)):
        inv = services.add_invoice(o, c, f"F-{o.pk}", dt.date(2026, 2, 1), dt.date(2026, 3, 1), "CLP", 5000)
        agreements.create_promise(o, c, dt.date(2026, 3, 20), 1000, "CLP", [inv], made_on=dt.date(2026, 3, 10))
        agreements.open_dispute(o, inv, "other", "revisar")
    page = client.get(f"/admin/{'ledger' if model == 'membership' else 'agreements'}/{model}/")
    assert page.status_code == 200
    assert "Other SA" not in page.content.decode()


def test_global_tables_are_for_superusers_only(client, staff, admin_client):
    Group.objects.create(name="global-group")
    assert client.get("/admin/auth/group/").status_code == 403
    assert client.post("/admin/auth/group/add/", {"name": "nuevo"}).status_code == 403
    assert client.get("/admin/ledger/organization/add/").status_code == 403
    assert "global-group" in admin_client.get("/admin/auth/group/").content.decode()
    assert not Group.objects.filter(name="nuevo").exists()
