"""The ledger tells the webhooks what reached zero (``invoice.settled`` is not a timeline event)."""

from django.dispatch import receiver

from cobro.ledger.signals import invoices_settled


@receiver(invoices_settled, dispatch_uid="cobro.api.invoice_settled")
def _settled(sender, organization, invoice_ids, on_date=None, **kwargs):
    from cobro.api import webhooks

    webhooks.settled(organization, invoice_ids, on_date)
