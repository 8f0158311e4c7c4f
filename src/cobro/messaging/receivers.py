"""What messaging does when other parts of Cobro act (connected in MessagingConfig.ready)."""

from __future__ import annotations

from django.dispatch import receiver

from cobro.dunning.signals import actions_created
from cobro.ledger.signals import invoices_settled
from cobro.messaging import outbox, services


@receiver(actions_created, dispatch_uid="messaging.queue_actions")
def on_actions_created(sender, organization, actions, **kwargs):
    outbox.queue_actions(organization, actions)


@receiver(invoices_settled, dispatch_uid="messaging.thank_you")
def on_invoices_settled(sender, organization, customer_ids=(), on_date=None, at=None, **kwargs):
    from django.utils import timezone

    at = at or timezone.now()
    services.queue_thank_you(organization, list(customer_ids or ()), on_date or timezone.localdate(at), at=at)
