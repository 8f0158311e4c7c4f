"""Messaging's tables: templates, the outbox, opt-outs and the per-customer link version.

Only ``cobro.messaging.services`` and ``cobro.messaging.outbox`` write them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cobro.ledger.models import Customer, TenantModel

CHANNELS = ("email", "sms", "whatsapp", "letter")


class Tone(models.TextChoices):
    FRIENDLY = "friendly", _("Amable")
    NEUTRAL = "neutral", _("Neutro")
    FIRM = "firm", _("Firme")
    FORMAL = "formal", _("Formal")


class MessageChannel(models.TextChoices):
    EMAIL = "email", _("Correo")
    SMS = "sms", "SMS"
    WHATSAPP = "whatsapp", "WhatsApp"
    LETTER = "letter", _("Carta")


class MessageTemplate(TenantModel):
    """The words of one message: per organization, code (a policy step), language and channel."""

    code = models.CharField(_("código"), max_length=48)
    language = models.CharField(_("idioma"), max_length=8)
    channel = models.CharField(_("canal"), max_length=12, choices=MessageChannel.choices)
    tone = models.CharField(_("tono"), max_length=12, choices=Tone.choices, default=Tone.FRIENDLY)
    subject = models.CharField(_("asunto"), max_length=200, blank=True)
    body = models.TextField(_("texto"))
    #: The name of the template approved by Meta for WhatsApp (it is sent with parameters, not text).
    whatsapp_name = models.CharField(max_length=120, blank=True)
    #: Tone-check findings at the last save, and who accepted them with what reason (a manager).
    findings = models.JSONField(default=list, blank=True)
    override_reason = models.TextField(blank=True)
    override_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code", "language", "channel"]
        constraints = [models.UniqueConstraint(fields=["organization", "code", "language", "channel"],
                                               name="uniq_message_template")]
        verbose_name = _("plantilla")
        verbose_name_plural = _("plantillas")

    def __str__(self) -> str:
        return f"{self.code} · {self.language} · {self.channel}"


class Message(TenantModel):
    """One message in the outbox (out) or one reply that came in (in).

    ``key`` is the idempotency key: the dunning action's key for cycle messages, a derived key for
    thank-you messages. The unique constraint makes a second insert of the same message a no-op.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("En cola")
        SENDING = "sending", _("Enviando")
        SENT = "sent", _("Enviado")
        DELIVERED = "delivered", _("Entregado")
        READ = "read", _("Leído")
        FAILED = "failed", _("Fallido")
        HELD = "held", _("Retenido")
        CANCELLED = "cancelled", _("Cancelado")
        RECEIVED = "received", _("Recibido")

    class Direction(models.TextChoices):
        OUT = "out", _("Saliente")
        IN = "in", _("Entrante")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="messages")
    key = models.CharField(max_length=200)
    direction = models.CharField(max_length=3, choices=Direction.choices, default=Direction.OUT)
    action_id = models.BigIntegerField(null=True, blank=True)  # dunning.Action, when the cycle caused it
    template = models.CharField(_("plantilla"), max_length=48, blank=True)
    channel = models.CharField(_("canal"), max_length=12, choices=MessageChannel.choices)
    tone = models.CharField(max_length=12, blank=True)
    language = models.CharField(max_length=8, blank=True)
    invoice_ids = models.JSONField(default=list, blank=True)
    to = models.CharField(_("destinatario"), max_length=254, blank=True)
    subject = models.CharField(_("asunto"), max_length=250, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    segments = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    scheduled_for = models.DateTimeField()
    next_attempt_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    claim = models.CharField(max_length=32, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    transport = models.CharField(max_length=16, blank=True)
    provider_id = models.CharField(max_length=128, blank=True)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-scheduled_for", "-id"]
        constraints = [models.UniqueConstraint(fields=["organization", "key"], name="uniq_message_key")]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["organization", "customer", "scheduled_for"]),
            models.Index(fields=["provider_id"]),
        ]
        verbose_name = _("mensaje")
        verbose_name_plural = _("mensajes")

    def __str__(self) -> str:
        return f"{self.channel} {self.template} → {self.to or self.customer_id}"


class OptOut(TenantModel):
    """A customer asked not to be contacted on a channel. Immediate, recorded with its source."""

    class Source(models.TextChoices):
        LINK = "link", _("Enlace en el mensaje")
        ONE_CLICK = "one_click", _("Botón de baja del correo")
        KEYWORD = "keyword", _("Respuesta con palabra clave")
        MANUAL = "manual", _("Registrado por el equipo")
        PROVIDER = "provider", _("Aviso del proveedor")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="opt_outs")
    channel = models.CharField(max_length=12, choices=MessageChannel.choices)
    source = models.CharField(max_length=12, choices=Source.choices)
    address = models.CharField(max_length=254, blank=True)
    note = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "customer", "channel"],
                                               name="uniq_opt_out")]
        verbose_name = _("baja")
        verbose_name_plural = _("bajas")


class LinkVersion(TenantModel):
    """The version signed into a customer's pay and opt-out links; bumping it revokes every old link."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="+")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(version__gte=1), name="link_version_positive")]
