"""Payment providers: each organization's credentials, the checkouts started, the webhooks received."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from cobro.ledger.models import Customer, Invoice, Organization, Payment, TenantModel


class Provider(models.TextChoices):
    STRIPE = "stripe", "Stripe"
    MERCADOPAGO = "mercadopago", "Mercado Pago"
    TRANSBANK = "transbank", "Transbank Webpay Plus"


#: The credential fields each provider needs, in the order `cobro provider set` asks for them.
FIELDS = {
    Provider.STRIPE: ("secret_key", "webhook_secret"),
    Provider.MERCADOPAGO: ("access_token", "webhook_secret"),
    Provider.TRANSBANK: ("commerce_code", "api_key"),
}


class ProviderAccount(TenantModel):
    """One organization's credentials for one provider, encrypted (cobro.providers.crypto)."""

    provider = models.CharField(max_length=16, choices=Provider.choices)
    secret = models.TextField()  # Fernet token of a JSON object with FIELDS[provider]
    #: A non-secret hint shown on the Settings page (last four characters of the main key).
    hint = models.CharField(max_length=16, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "provider"], name="uniq_provider_account")]

    def credentials(self) -> dict:
        from cobro.providers.crypto import decrypt

        return decrypt(self.secret)


class PaymentRequest(TenantModel):
    """A checkout started from the portal. Its id travels to the provider (Stripe's
    client_reference_id, Mercado Pago's external_reference, Transbank's session_id) and comes back."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pendiente")
        PAID = "paid", _("pagado")
        FAILED = "failed", _("rechazado")
        CANCELLED = "cancelled", _("cancelado")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    invoices = models.ManyToManyField(Invoice, related_name="+")
    invoice_refs = models.CharField(max_length=500)  # comma-joined, as sent to the provider
    amount = models.BigIntegerField()  # ISO 4217 minor units
    currency = models.CharField(max_length=3)
    provider = models.CharField(max_length=16, choices=Provider.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    #: The provider's id for the checkout: Stripe session, Mercado Pago preference, Transbank token.
    checkout_id = models.CharField(max_length=128, blank=True, db_index=True)
    checkout_url = models.URLField(max_length=1000, blank=True)
    #: The provider's id for the money once paid (payment intent, payment, buy order).
    provider_payment_id = models.CharField(max_length=128, blank=True)
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    success_url = models.URLField(max_length=1000)
    cancel_url = models.URLField(max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    @property
    def buy_order(self) -> str:
        """Transbank's buy_order (at most 26 characters)."""
        return self.id.hex[:26]


OUTCOMES = {
    "recorded": _("pago registrado"),
    "duplicate": _("repetido: ya estaba registrado"),
    "ignored": _("ignorado"),
    "not_paid": _("sin pago"),
    "unknown_request": _("cobro desconocido en esta organización"),
    "bad_signature": _("firma inválida: rechazado"),
    "not_configured": _("medio sin configurar"),
    "error": _("error"),
}


class WebhookLog(models.Model):
    """Every webhook call (and Transbank return), with what Cobro did about it."""

    organization = models.ForeignKey(Organization, null=True, on_delete=models.CASCADE, related_name="+")
    provider = models.CharField(max_length=16, choices=Provider.choices)
    event_id = models.CharField(max_length=128, blank=True)
    outcome = models.CharField(max_length=32)  # a key of OUTCOMES
    detail = models.CharField(max_length=300, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["organization", "received_at"], name="webhooklog_org_time")]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_id} {self.outcome}"

    @property
    def outcome_label(self) -> str:
        return str(OUTCOMES.get(self.outcome, self.outcome))
