"""Writes to the ledger's tables. Other apps and views change ledger rows only through these."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from cobro.ledger.models import Customer, Organization, Task, TimelineEvent


def record_event(org: Organization, customer: Customer | int, kind: str, summary: str, *,
                 data: dict | None = None, actor=None, invoice=None, at: dt.datetime | None = None
                 ) -> TimelineEvent:
    """Append one event to a customer's timeline (the audit trail)."""
    return TimelineEvent.objects.create(
        organization=org, customer_id=getattr(customer, "pk", customer), kind=kind, summary=summary[:300],
        data=data or {}, actor=actor, invoice=invoice, at=at or timezone.now())


def record_events(events: Iterable[TimelineEvent], batch_size: int = 2000) -> None:
    """Append many events at once (imports, the cycle). Each must have organization and customer set."""
    TimelineEvent.objects.bulk_create(events, batch_size=batch_size)


def create_task(org: Organization, customer: Customer | int, kind: str, title: str, due_on: dt.date, *,
                source_key: str | None = None, data: dict | None = None, assignee=None) -> Task:
    """Open a task for the team; with ``source_key``, the same cause opens it only once."""
    customer_id = getattr(customer, "pk", customer)
    if source_key:
        existing = Task.objects.for_org(org).filter(source_key=source_key).first()
        if existing:
            return existing
    # By default the task goes to the customer's owner (their account manager), if any.
    assignee_id = getattr(assignee, "pk", None) or (
        Customer.objects.for_org(org).filter(pk=customer_id).values_list("owner_id", flat=True).first())
    with transaction.atomic():
        return Task.objects.create(organization=org, customer_id=customer_id, kind=kind, title=title[:200],
                                   due_on=due_on, source_key=source_key, data=data or {},
                                   assignee_id=assignee_id)


def complete_task(task: Task, outcome: str = "", actor=None) -> Task:
    task.status = Task.Status.DONE
    task.outcome = outcome
    task.done_at = timezone.now()
    task.save(update_fields=["status", "outcome", "done_at"])
    return task
