"""Background tasks (django-tasks): ``cobro worker`` runs them from the database queue."""

from __future__ import annotations

from django_tasks import task

from cobro.ledger.models import Organization
from cobro.messaging import outbox


@task()
def deliver_outbox(org_slug: str | None = None) -> dict:
    """Deliver every due message (of one organization, or all) and return the counts."""
    org = Organization.objects.get(slug=org_slug) if org_slug else None
    return outbox.deliver(org).as_dict()
