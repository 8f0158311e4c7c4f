"""Outgoing webhooks: the organization's timeline is the outbox; each event is delivered to every
endpoint that wants it, at least once, signed as the Standard Webhooks specification says.

- ``pump`` reads new timeline events (and re-reads a trailing window, so an event whose transaction
  committed late is not skipped; a delivery is unique per endpoint and event id, so nothing doubles);
  ``enqueue`` adds events that are not on the timeline (``invoice.settled``).
- ``deliver`` POSTs one delivery with ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature``;
  a 2xx answer is success. A failure is retried with exponential back-off over about 22 hours
  (``BACKOFF``); then the delivery is given up and, when the endpoint has had no success since, the
  endpoint is disabled and the organization's admins are told by e-mail.
- ``deliver_due`` is what ``cobro webhooks deliver`` (and the worker) runs.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import secrets

import requests
from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone
from standardwebhooks import Webhook

from cobro.api.models import EventCursor, WebhookDelivery, WebhookEndpoint
from cobro.engine.money import MoneyError, from_minor
from cobro.ledger.models import Customer, Invoice, Membership, Organization, TimelineEvent

log = logging.getLogger("cobro.webhooks")

#: Seconds to wait before each retry: 1 min, 5 min, 15 min, 1 h, 3 h, 6 h, 12 h (about 22 h in all).
BACKOFF = (60, 300, 900, 3600, 3 * 3600, 6 * 3600, 12 * 3600)
#: Timeline kinds and the webhook event type each one is.
TIMELINE_TYPES = {
    "payment.received": "payment.received", "promise.made": "promise.created",
    "promise.broken": "promise.broken", "plan.created": "plan.created", "plan.broken": "plan.broken",
    "plan.approved": "plan.created",  # a plan outside the limits exists for the customer once approved
    "dispute.opened": "dispute.opened", "dispute.resolved": "dispute.resolved",
    "message.delivered": "message.delivered", "message.failed": "message.failed",
    "optout.recorded": "customer.opted_out", "stage.moved": "stage.changed",
}
#: How far back each pump re-reads, in events: a transaction that commits later than newer ones.
REREAD = 1000
BATCH = 2000


def create_endpoint(org: Organization, url: str, events: list[str], description: str = "") -> WebhookEndpoint:
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    return WebhookEndpoint.objects.create(organization=org, url=url, events=list(events),
                                          description=description, secret=secret)


def _money_fields(data: dict) -> dict:
    """Amounts in the timeline are minor units; webhooks speak the API's exact decimal strings."""
    out = dict(data)
    currency = data.get("currency")
    for key in ("amount", "credit", "paid_amount", "paid", "principal", "interest", "down_payment"):
        if currency and isinstance(data.get(key), int):
            try:
                out[key] = str(from_minor(data[key], currency))
            except MoneyError:
                pass
    out.pop("allocated", None)
    return out


def enqueue(org: Organization, event_type: str, event_id: str, data: dict, at: dt.datetime | None = None,
            endpoints: list[WebhookEndpoint] | None = None) -> int:
    """One delivery per active endpoint that wants ``event_type``; returns how many were new."""
    endpoints = endpoints if endpoints is not None else list(
        WebhookEndpoint.objects.for_org(org).filter(active=True))
    wanted = [e for e in endpoints if e.active and e.wants(event_type)]
    if not wanted:
        return 0
    at = at or timezone.now()
    payload = {"type": event_type, "timestamp": at.isoformat(), "data": data}
    now = timezone.now()
    rows = [WebhookDelivery(organization=org, endpoint=e, event_id=event_id, event_type=event_type,
                            payload=payload, next_attempt_at=now) for e in wanted]
    before = WebhookDelivery.objects.filter(event_id=event_id, endpoint__in=wanted).count()
    WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    return WebhookDelivery.objects.filter(event_id=event_id, endpoint__in=wanted).count() - before


def _plans(org: Organization, events: list[TimelineEvent]) -> dict[int, dict]:
    """What every plan event carries, whatever the timeline wrote: its currency (so its amounts become
    exact strings), principal, interest, down payment, count and frequency."""
    from cobro.agreements.models import Plan

    ids = {e.data.get("plan_id") for e in events if e.kind.startswith("plan.") and isinstance(e.data, dict)}
    fields = ("currency", "principal", "interest", "down_payment", "count", "frequency")
    return {row["pk"]: {k: row[k] for k in fields}
            for row in Plan.objects.for_org(org).filter(pk__in=ids - {None}).values("pk", *fields)}


def public_data(org: Organization, events: list[TimelineEvent]) -> dict[int, dict]:
    """Each event's data as the API and the webhooks speak it: amounts as exact strings (plan events
    with their plan's currency and terms), no internal ids of allocations."""
    plans = _plans(org, events)
    return {e.pk: _money_fields({**plans.get(e.data.get("plan_id"), {}), **e.data}) for e in events}


def pump(org: Organization) -> int:
    """Turn the timeline's new events into deliveries; returns how many deliveries were added."""
    endpoints = list(WebhookEndpoint.objects.for_org(org).filter(active=True))
    cursor, _ = EventCursor.objects.get_or_create(organization=org)
    if not endpoints:
        top = TimelineEvent.objects.for_org(org).order_by("-pk").values_list("pk", flat=True).first()
        EventCursor.objects.filter(pk=cursor.pk).update(last_event_id=top or 0)
        return 0
    start = max(0, cursor.last_event_id - REREAD)
    added, last = 0, cursor.last_event_id
    while True:
        events = list(TimelineEvent.objects.for_org(org).filter(pk__gt=start, kind__in=TIMELINE_TYPES)
                      .order_by("pk")[:BATCH])
        if not events:
            break
        customers = dict(Customer.objects.for_org(org).filter(pk__in={e.customer_id for e in events})
                         .values_list("pk", "ref"))
        invoices = dict(Invoice.objects.for_org(org).filter(pk__in={e.invoice_id for e in events if e.invoice_id})
                        .values_list("pk", "ref"))
        public = public_data(org, events)
        for e in events:
            data = {"customer_ref": customers.get(e.customer_id), "summary": e.summary, **public[e.pk]}
            if e.invoice_id:
                data["invoice_ref"] = invoices.get(e.invoice_id)
            added += enqueue(org, TIMELINE_TYPES[e.kind], f"evt_{e.pk}", data, at=e.at, endpoints=endpoints)
        start = events[-1].pk
        last = max(last, start)
    EventCursor.objects.filter(pk=cursor.pk).update(last_event_id=last)
    return added


def settled(org: Organization, invoice_ids: list[int], on_date: dt.date | None) -> int:
    """``invoice.settled`` for each invoice that reached zero."""
    endpoints = list(WebhookEndpoint.objects.for_org(org).filter(active=True))
    if not endpoints:
        return 0
    added = 0
    for inv in Invoice.objects.for_org(org).filter(pk__in=invoice_ids).select_related("customer"):
        data = {"invoice_ref": inv.ref, "customer_ref": inv.customer.ref, "currency": inv.currency,
                "amount": str(from_minor(inv.amount, inv.currency)), "status": inv.status,
                "settled_on": (inv.closed_on or on_date).isoformat() if (inv.closed_on or on_date) else None}
        added += enqueue(org, "invoice.settled", f"settled_{inv.pk}_{inv.closed_on or on_date}", data,
                         endpoints=endpoints)
    return added


def sign(endpoint: WebhookEndpoint, event_id: str, body: str, at: dt.datetime) -> dict[str, str]:
    signature = Webhook(endpoint.secret).sign(event_id, at, body)
    return {"webhook-id": event_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": signature, "content-type": "application/json",
            "user-agent": "Cobro-Webhooks/1"}


def deliver(delivery: WebhookDelivery, now: dt.datetime | None = None) -> bool:
    """Try one delivery once; schedules the next try or gives up. Returns whether it was accepted."""
    now = now or timezone.now()
    endpoint = delivery.endpoint
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False)
    headers = sign(endpoint, delivery.event_id, body, now)
    code, text, error = None, "", ""
    try:
        answer = requests.post(endpoint.url, data=body.encode(), headers=headers,
                               timeout=settings.COBRO_WEBHOOK_TIMEOUT, allow_redirects=False)
        code, text = answer.status_code, answer.text[:2000]
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"[:300]
    delivery.attempts += 1
    delivery.last_status_code, delivery.last_response, delivery.last_error = code, text, error
    ok = code is not None and 200 <= code < 300
    if ok:
        delivery.status, delivery.delivered_at = WebhookDelivery.Status.DELIVERED, now
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failures=0)
    elif delivery.attempts > len(BACKOFF):
        delivery.status = WebhookDelivery.Status.FAILED
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failures=endpoint.failures + 1)
        _maybe_disable(endpoint, delivery, now)
    else:
        delivery.next_attempt_at = now + dt.timedelta(seconds=BACKOFF[delivery.attempts - 1])
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failures=endpoint.failures + 1)
    delivery.save(update_fields=["attempts", "status", "delivered_at", "next_attempt_at", "last_status_code",
                                 "last_response", "last_error"])
    log.info("webhook %s %s to %s: %s", delivery.event_type, delivery.event_id, endpoint.url,
             code if code is not None else error)
    return ok


def _maybe_disable(endpoint: WebhookEndpoint, delivery: WebhookDelivery, now: dt.datetime) -> None:
    """Given up after a day of retries, with no success since: the endpoint is off until an admin acts."""
    if WebhookDelivery.objects.filter(endpoint=endpoint, delivered_at__gte=delivery.created_at).exists():
        return
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=False, disabled_at=now)
    WebhookDelivery.objects.filter(endpoint=endpoint, status=WebhookDelivery.Status.PENDING).update(
        status=WebhookDelivery.Status.FAILED, last_error="endpoint disabled")
    admins = list(Membership.objects.filter(organization_id=endpoint.organization_id, role="admin")
                  .exclude(user__email="").values_list("user__email", flat=True))
    log.warning("webhook endpoint %s disabled after a day of failures", endpoint.url)
    if admins:
        org = Organization.objects.get(pk=endpoint.organization_id)
        send_mail(f"Cobro: webhook desactivado ({org.name})",
                  f"El webhook {endpoint.url} no respondió durante un día de reintentos "
                  f"(último error: {delivery.last_error or delivery.last_status_code}). Quedó desactivado: "
                  f"corrija el receptor y actívelo de nuevo en Configuración o con la API "
                  f"(PATCH /api/v1/webhooks/{endpoint.pk} con active=true).\n",
                  settings.DEFAULT_FROM_EMAIL, admins, fail_silently=True)


def deliver_due(now: dt.datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Pump every organization with endpoints, then try every delivery that is due."""
    now = now or timezone.now()
    counts = {"queued": 0, "delivered": 0, "failed": 0}
    for org in Organization.objects.filter(pk__in=WebhookEndpoint.objects.filter(active=True)
                                           .values("organization_id")):
        counts["queued"] += pump(org)
    due = (WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now,
                                          endpoint__active=True)
           .select_related("endpoint").order_by("next_attempt_at", "id")[:limit])
    for delivery in due:
        # Claim it by moving its time forward: of two workers, only one update matches.
        lease = now + dt.timedelta(seconds=settings.COBRO_WEBHOOK_TIMEOUT * 2 + 30)
        if not WebhookDelivery.objects.filter(pk=delivery.pk, status=WebhookDelivery.Status.PENDING,
                                              next_attempt_at=delivery.next_attempt_at).update(
                next_attempt_at=lease):
            continue
        counts["delivered" if deliver(delivery, now) else "failed"] += 1
    return counts
