"""Demo data for messaging: the default templates, and today's outbox rendered and "sent" through
the demo transport (no network; the pages say so), with the providers' receipts, a few failures and a reply."""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

from cobro.ledger.models import Invoice, Organization
from cobro.messaging import outbox, services
from cobro.messaging.models import Message


def _today_bounds(org: Organization, today: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = ZoneInfo(org.timezone or "UTC")
    start = dt.datetime.combine(today, dt.time(0), tzinfo=zone)
    return start, start + dt.timedelta(days=1)


def populate(org: Organization, today: dt.date) -> None:
    # Idempotent: templates and messages are keyed; receipts never move a message backwards.
    services.install_default_templates(org)
    start, end = _today_bounds(org, today)
    todays = Message.objects.for_org(org).filter(direction="out", scheduled_for__gte=start, scheduled_for__lt=end)
    if not todays.exists():
        _queue_examples(org, today, start)
    # The demo's worker runs through the day: each message leaves at its own time, never before it.
    due = (Message.objects.for_org(org).filter(direction="out", status="queued", next_attempt_at__lt=end)
           .order_by("next_attempt_at").values_list("next_attempt_at", flat=True).distinct())
    for moment in sorted(set(due)):
        outbox.deliver(org, now=moment, transport="demo")
    _receipts(org, end)
    sent = todays.filter(transport="demo").order_by("id")
    shown = list(sent.exclude(template="thank_you")[:12]) or list(sent[:12])
    if shown:
        first = shown[0]
        services.record_reply(org, first.customer, first.channel, address=first.to,
                              text="Hola, pagaremos el viernes. ¿Me pueden enviar el detalle de la factura?",
                              provider_id=f"demo-reply-{today.isoformat()}",
                              at=min((first.sent_at or start) + dt.timedelta(hours=2), end - dt.timedelta(minutes=1)))


def _receipts(org: Organization, end: dt.datetime) -> None:
    """The providers' receipts, as a month of real sending brings them back: most messages delivered
    and many read minutes or hours later, a few still without news, a few failed (a full mailbox, a
    number no longer on WhatsApp). Each receipt comes by its own time, never after the demo's day."""
    rng = random.Random(1313)
    sent = (Message.objects.for_org(org).filter(direction="out", transport="demo", status="sent")
            .exclude(sent_at=None).order_by("id"))
    last = end - dt.timedelta(minutes=1)
    for msg in sent:
        roll = rng.random()
        delivered = min(msg.sent_at + dt.timedelta(minutes=rng.randint(1, 20)), last)
        if roll < 0.03:
            services.apply_receipt(msg.provider_id, "failed", at=delivered, error=rng.choice(FAILURES))
        elif roll < 0.90:
            services.apply_receipt(msg.provider_id, "delivered", at=delivered)
            if roll < 0.50 and msg.channel != "sms":  # SMS brings no read receipt
                read = min(delivered + dt.timedelta(minutes=rng.randint(5, 360)), last)
                services.apply_receipt(msg.provider_id, "read", at=read)


#: Why a demo message failed (the demo's own words; a real provider sends its own).
FAILURES = ["Ejemplo de la demostración: el buzón del destinatario está lleno",
            "Ejemplo de la demostración: el número ya no usa WhatsApp"]


def _queue_examples(org: Organization, today: dt.date, at: dt.datetime) -> None:
    """Without the cycle (a demo run without the dunning app), queue a message per overdue customer."""
    rows = {}
    for inv in (Invoice.objects.for_org(org).filter(status="open", due_date__lt=today)
                .select_related("customer").order_by("due_date")[:400]):
        rows.setdefault(inv.customer_id, (inv.customer, []))[1].append(inv.pk)
    msgs = []
    for customer, ids in list(rows.values())[:15]:
        channel = customer.preferred_channel if customer.preferred_channel in ("email", "sms", "whatsapp") else "email"
        msgs.append(Message(organization=org, customer=customer, key=f"demo:{customer.pk}:{today.isoformat()}",
                            template="overdue_friendly", channel=channel, tone="friendly", invoice_ids=ids,
                            scheduled_for=at + dt.timedelta(hours=10), next_attempt_at=at + dt.timedelta(hours=10)))
    Message.objects.bulk_create(msgs, ignore_conflicts=True)
