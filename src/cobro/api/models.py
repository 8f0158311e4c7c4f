"""API keys, idempotent answers and outgoing webhooks, per organization."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from cobro.ledger.models import TenantModel


class ApiKey(TenantModel):
    """A key another program uses to act for one organization. Only its SHA-256 is stored."""

    class Scope(models.TextChoices):
        READ = "read", _("Lectura")
        WRITE = "write", _("Lectura y escritura")

    name = models.CharField(_("nombre"), max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    scope = models.CharField(_("alcance"), max_length=8, choices=Scope.choices, default=Scope.READ)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("clave de API")
        verbose_name_plural = _("claves de API")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"


class IdempotentAnswer(TenantModel):
    """The first answer to a POST with an ``Idempotency-Key``: the same key and body get it again."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)  # SHA-256 of method, path and body
    status = models.PositiveSmallIntegerField()
    content_type = models.CharField(max_length=100)
    body = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "api_key", "key"],
                                               name="uniq_idempotency_key")]


EVENT_TYPES = (
    "invoice.settled", "payment.received", "promise.created", "promise.broken", "plan.created",
    "plan.broken", "dispute.opened", "dispute.resolved", "message.delivered", "message.failed",
    "customer.opted_out", "stage.changed",
)


class WebhookEndpoint(TenantModel):
    """A URL of another program that hears of Cobro's events, signed as Standard Webhooks says."""

    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    #: Event types wanted; empty means all of them.
    events = models.JSONField(default=list, blank=True)
    secret = models.CharField(max_length=100)  # "whsec_" + base64, as the specification writes it
    active = models.BooleanField(default=True)
    #: Deliveries that failed in a row (reset by a success); at the limit the endpoint is disabled.
    failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        return not self.events or event_type in self.events


class WebhookDelivery(TenantModel):
    """One event for one endpoint, tried until it is accepted or its day of retries runs out."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pendiente")
        DELIVERED = "delivered", _("Entregado")
        FAILED = "failed", _("Fallido")  # given up after the retries (or the endpoint was disabled)

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.CharField(max_length=64)  # the webhook-id header: the same for every retry
    event_type = models.CharField(max_length=48)
    payload = models.JSONField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_response = models.TextField(blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["organization", "endpoint", "event_id"], name="uniq_delivery_event")]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_due")]


class EventCursor(TenantModel):
    """How far the webhook pump has read the organization's timeline (the outbox of events)."""

    last_event_id = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization"], name="uniq_event_cursor")]
