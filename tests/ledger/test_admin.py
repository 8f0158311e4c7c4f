"""The admin covers every model of Cobro and shows staff only their own organizations' rows."""

import pytest
from django.apps import apps
from django.contrib import admin

from cobro.ledger import services
from cobro.ledger.models import Membership, Organization


def test_every_cobro_model_is_in_the_admin():
    missing = [m.__name__ for m in apps.get_models()
               if m.__module__.startswith("cobro.") and not m._meta.abstract and m not in admin.site._registry
               and m.__name__ not in {"Allocation", "Contact", "Instalment", "DisputeAttachment",  # inlines
                                   "LinkVersion",  # an internal counter that revokes links
                                   "IdempotentAnswer", "EventCursor",  # the API's internal bookkeeping
                                   "DailyTotal", "AppliedTotal",  # derived sums: `cobro insights rebuild`
                                   "SearchKey"}]  # derived index: `cobro reindex_search`
    assert not missing, missing


@pytest.fixture
def staff(client, django_user_model, org, other_org):
    user = django_user_model.objects.create_user("staff@acme.cl", password="x", is_staff=True,
                                                 is_superuser=False)
    from django.contrib.auth.models import Permission

    user.user_permissions.set(Permission.objects.filter(content_type__app_label="ledger"))
    Membership.objects.create(user=user, organization=org, role="admin")
    client.force_login(user)
    return user


def test_admin_lists_only_the_members_organizations(client, staff, org, other_org):
    mine, _ = services.get_or_create_customer(org, "MINE-1", "Cliente Propio")
    theirs, _ = services.get_or_create_customer(other_org, "THEIRS-1", "Cliente Ajeno")
    page = client.get("/admin/ledger/customer/")
    assert page.status_code == 200
    assert b"MINE-1" in page.content and b"THEIRS-1" not in page.content
    assert client.get(f"/admin/ledger/customer/{theirs.pk}/change/").status_code in (302, 404)
    assert client.get("/admin/ledger/organization/").content.count(b"Other SA") == 0
    assert Organization.objects.count() == 2


def test_timeline_is_read_only_in_the_admin(client, staff, org):
    customer, _ = services.get_or_create_customer(org, "K-1", "Uno")
    event = services.record_event(org, customer, "note.added", "Nota")
    assert client.post(f"/admin/ledger/timelineevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
