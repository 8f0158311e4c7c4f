"""How agreements hear about payments and the cycle's fee steps (connected in ``apps.ready``)."""

from __future__ import annotations

import logging

from django.dispatch import receiver

from cobro.agreements import services
from cobro.dunning.signals import actions_created
from cobro.ledger.models import Payment
from cobro.ledger.signals import invoices_settled, payments_recorded

log = logging.getLogger(__name__)


@receiver(actions_created, dispatch_uid="agreements.post_fees")
def post_fees_for_actions(sender, organization, actions, **kwargs):
    # Inside the cycle's transaction: a failure here must roll the cycle back, so no try/except.
    services.post_fees(organization, actions)


@receiver(payments_recorded, dispatch_uid="agreements.payments")
def on_payments(sender, organization, payment_ids, **kwargs):
    """Grant early-payment discounts and judge promises and plans as soon as the money is in.

    Runs after the payment committed; a failure is logged and the next cycle's evaluation catches
    up, so the payment itself is never lost because of an agreement.
    """
    try:
        services.apply_early_discounts(organization, payment_ids)
        rows = list(Payment.objects.for_org(organization).filter(pk__in=payment_ids)
                    .values_list("customer_id", "date"))
        if rows:
            services.evaluate_agreements(organization, max(d for _, d in rows), {c for c, _ in rows})
    except Exception:
        log.exception("agreements: could not process payments %s of %s", payment_ids, organization.slug)


@receiver(invoices_settled, dispatch_uid="agreements.settled")
def on_settled(sender, organization, invoice_ids, customer_ids=None, on_date=None, **kwargs):
    if not customer_ids or on_date is None:
        return
    try:
        services.evaluate_agreements(organization, on_date, customer_ids)
    except Exception:
        log.exception("agreements: could not evaluate settled invoices %s of %s", invoice_ids, organization.slug)
