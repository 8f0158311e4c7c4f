"""How the portal hears about payments (connected in ``apps.ready``): a transfer the debtor reported
with "I have paid" is confirmed when a payment to those invoices is recorded (a bank statement
line, the team's entry, a provider) or they are settled; its pause then lifts at once and the
team's task to confirm it closes."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from cobro.dunning.models import PausedInvoice
from cobro.dunning.services import lift_pause
from cobro.ledger.models import Allocation, Task
from cobro.ledger.services import complete_task
from cobro.ledger.signals import invoices_settled, payments_recorded
from cobro.portal.models import TransferNotice

log = logging.getLogger(__name__)
CHUNK = 10_000  # ids per query (SQLite's parameter limit)


def confirm_transfers(org, invoice_ids) -> list[int]:
    """Lift the live "I have paid" pauses that name any of ``invoice_ids`` and close their tasks;
    returns the notices confirmed."""
    wanted = set(invoice_ids)
    notices = list(_live_notices(org).select_related("pause"))
    if not wanted or not notices:
        return []
    links = PausedInvoice.objects.for_org(org).filter(pause_id__in=[n.pause_id for n in notices])
    covered = {}
    for pause_id, inv_id in links.values_list("pause_id", "invoice_id"):
        covered.setdefault(pause_id, set()).add(inv_id)
    done = []
    for notice in notices:
        if not covered.get(notice.pause_id, set()) & wanted:
            continue
        with transaction.atomic():
            if lift_pause(org, notice.pause, reason="pago registrado"):
                for task in Task.objects.for_org(org).filter(source_key=f"portal-transfer-{notice.pk}",
                                                             status=Task.Status.OPEN):
                    complete_task(task, "paid")
                done.append(notice.pk)
    return done


def _live_notices(org):
    """Notices whose pause still holds (a day of slack for the debtor's zone); an ended one is left be."""
    since = timezone.now().date() - dt.timedelta(days=1)
    return TransferNotice.objects.for_org(org).filter(pause__isnull=False, pause__lifted_at__isnull=True,
                                                      pause__until__gte=since)


def _has_live_notices(org) -> bool:
    return _live_notices(org).exists()


@receiver(payments_recorded, dispatch_uid="portal.transfers_paid")
def on_payments(sender, organization, payment_ids, **kwargs):
    # After the payment committed: a failure is logged and the pause still ends on its last day.
    try:
        if not _has_live_notices(organization):
            return
        ids = list(payment_ids)
        invoice_ids = set()
        for start in range(0, len(ids), CHUNK):
            invoice_ids.update(Allocation.objects.for_org(organization).filter(payment_id__in=ids[start:start + CHUNK])
                               .values_list("invoice_id", flat=True))
        confirm_transfers(organization, invoice_ids)
    except Exception:
        log.exception("portal: could not confirm transfers for payments %s of %s", payment_ids, organization.slug)


@receiver(invoices_settled, dispatch_uid="portal.transfers_settled")
def on_settled(sender, organization, invoice_ids, **kwargs):
    try:
        if _has_live_notices(organization):
            confirm_transfers(organization, invoice_ids)
    except Exception:
        log.exception("portal: could not confirm transfers for invoices %s of %s", invoice_ids, organization.slug)
