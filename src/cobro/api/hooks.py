"""Webhook endpoints of the organization, their deliveries, and redelivery by hand."""

from __future__ import annotations

from typing import Literal

from django.http import Http404
from django.utils import timezone
from ninja import Query, Router, Status

from cobro.api import schemas as s
from cobro.api import webhooks
from cobro.api.models import WebhookDelivery, WebhookEndpoint
from cobro.api.resources import Paging, answers, org, page, writable

router = Router(tags=["webhooks"])


def _out(e: WebhookEndpoint) -> dict:
    return {"id": e.pk, "url": e.url, "description": e.description, "events": e.events, "active": e.active,
            "failures": e.failures, "disabled_at": e.disabled_at, "created_at": e.created_at}


def _endpoint(request, endpoint_id: int) -> WebhookEndpoint:
    found = WebhookEndpoint.objects.for_org(org(request)).filter(pk=endpoint_id).first()
    if found is None:
        raise Http404("no such webhook endpoint")
    return found


@router.get("/webhooks", response=answers(s.WebhookPage))
def list_endpoints(request, paging: Query[Paging]):
    return page(WebhookEndpoint.objects.for_org(org(request)), paging, lambda rows: [_out(e) for e in rows])


@router.post("/webhooks", response=answers({201: s.WebhookCreated}))
def create_endpoint(request, payload: s.WebhookIn):
    """Register a URL for events. The answer carries the signing secret, once."""
    writable(request)
    endpoint = webhooks.create_endpoint(org(request), payload.url, payload.events, payload.description)
    return Status(201, {**_out(endpoint), "secret": endpoint.secret})


@router.get("/webhooks/{endpoint_id}", response=answers(s.WebhookOut))
def get_endpoint(request, endpoint_id: int):
    return _out(_endpoint(request, endpoint_id))


@router.patch("/webhooks/{endpoint_id}", response=answers(s.WebhookOut))
def update_endpoint(request, endpoint_id: int, payload: s.WebhookPatch):
    """Change the URL, events or description; ``active: true`` enables a disabled endpoint again."""
    writable(request)
    endpoint = _endpoint(request, endpoint_id)
    for field in ("url", "description", "events"):
        value = getattr(payload, field)
        if value is not None:
            setattr(endpoint, field, value)
    if payload.active is not None:
        endpoint.active = payload.active
        if payload.active:
            endpoint.failures, endpoint.disabled_at = 0, None
    endpoint.save()
    return _out(endpoint)


@router.delete("/webhooks/{endpoint_id}", response=answers({204: None}))
def delete_endpoint(request, endpoint_id: int):
    writable(request)
    _endpoint(request, endpoint_id).delete()
    return Status(204, None)


@router.get("/webhooks/{endpoint_id}/deliveries", response=answers(s.DeliveryPage))
def list_deliveries(request, endpoint_id: int, paging: Query[Paging],
                    status: Literal[tuple(WebhookDelivery.Status.values)] | None = None):
    qs = WebhookDelivery.objects.for_org(org(request)).filter(endpoint=_endpoint(request, endpoint_id))
    if status:
        qs = qs.filter(status=status)
    return page(qs, paging, lambda rows: [_delivery(d) for d in rows], updated_field="created_at")


def _delivery(d: WebhookDelivery) -> dict:
    return {f: getattr(d, f) for f in ("id", "event_id", "event_type", "status", "attempts", "next_attempt_at",
                                       "last_status_code", "last_response", "last_error", "delivered_at",
                                       "created_at", "payload")}


@router.post("/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver", response=answers(s.DeliveryOut))
def redeliver(request, endpoint_id: int, delivery_id: int):
    """Send a delivery again now (after the receiver was fixed), whatever its status."""
    writable(request)
    delivery = WebhookDelivery.objects.for_org(org(request)).filter(
        pk=delivery_id, endpoint=_endpoint(request, endpoint_id)).first()
    if delivery is None:
        raise Http404("no such delivery")
    delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.PENDING, timezone.now()
    delivery.save(update_fields=["status", "next_attempt_at"])
    webhooks.deliver(delivery)
    delivery.refresh_from_db()
    return _delivery(delivery)
