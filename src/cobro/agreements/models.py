"""Agreements with a customer: promises to pay, payment plans, disputes, terms, fees and discounts.

Only ``agreements.services`` writes these tables. Amounts are int minor units of ``currency``;
rates are Decimal percentages ("2.00" is 2 %).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cobro.ledger.models import Channel, Customer, Invoice, TenantModel


class CustomerTerms(TenantModel):
    """The payment terms agreed with one customer: the contractual basis of fees and discounts.

    A customer without a row here gets the organization's defaults (``options["terms"]``), and
    without those, no fee and no discount: a charge is never made without a basis.
    """

    class FeeKind(models.TextChoices):
        NONE = "none", _("Sin cargo por mora")
        FIXED = "fixed", _("Cargo fijo")
        PERCENT = "percent", _("Porcentaje del saldo vencido")
        DAILY_INTEREST = "daily_interest", _("Interés diario (tasa anual)")

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="terms")
    late_fee_kind = models.CharField(_("cargo por mora"), max_length=16, choices=FeeKind.choices,
                                     default=FeeKind.NONE)
    late_fee_rate = models.DecimalField(_("tasa (%)"), max_digits=7, decimal_places=4, default=0)
    late_fee_fixed = models.BigIntegerField(_("cargo fijo"), default=0,
                                            help_text=_("En unidades menores de la moneda"))
    grace_days = models.PositiveIntegerField(_("días de gracia"), default=0)
    early_discount_percent = models.DecimalField(_("descuento por pronto pago (%)"), max_digits=6,
                                                 decimal_places=3, default=0)
    early_discount_days = models.PositiveIntegerField(_("días para el descuento"), default=0)
    #: Spain's €40 compensation and statutory interest apply between businesses only (Ley 3/2004).
    business = models.BooleanField(_("cliente empresa"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("condiciones de pago")
        verbose_name_plural = _("condiciones de pago")

    def __str__(self) -> str:
        return f"{self.customer}: {self.late_fee_kind}"


class Promise(TenantModel):
    """A promise to pay an amount by a date, taken on a call, in a message or in the portal."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pendiente")
        KEPT = "kept", _("Cumplida")
        BROKEN = "broken", _("Incumplida")
        CANCELLED = "cancelled", _("Anulada")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="promises")
    invoices = models.ManyToManyField(Invoice, related_name="promises", blank=True)
    made_on = models.DateField(_("fecha del compromiso"))
    promised_date = models.DateField(_("fecha prometida"))
    amount = models.BigIntegerField(_("monto"))
    currency = models.CharField(max_length=3)
    #: Days after the promised date before the promise counts as broken (the organization's option
    #: at the time it was made, kept here so a later change does not rewrite old promises).
    grace_days = models.PositiveIntegerField(default=0)
    channel = models.CharField(_("canal"), max_length=16, choices=Channel.choices + [("portal", "Portal")],
                               default=Channel.CALL)
    taken_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+", verbose_name=_("registrada por"))
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    paid_amount = models.BigIntegerField(_("pagado a la fecha"), default=0)
    resolved_on = models.DateField(null=True, blank=True)
    note = models.CharField(_("nota"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-promised_date", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="promise_amount_positive")]
        indexes = [models.Index(fields=["organization", "status", "promised_date"])]
        verbose_name = _("promesa de pago")
        verbose_name_plural = _("promesas de pago")

    def __str__(self) -> str:
        return f"{self.customer} → {self.promised_date}"


class Plan(TenantModel):
    """A payment plan (convenio de pago): open invoices restructured into a down payment and instalments."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Por aprobar")
        ACTIVE = "active", _("Vigente")
        COMPLETED = "completed", _("Pagado")
        BROKEN = "broken", _("Incumplido")
        CANCELLED = "cancelled", _("Anulado")

    class Frequency(models.TextChoices):
        WEEKLY = "weekly", _("Semanal")
        FORTNIGHTLY = "fortnightly", _("Quincenal")
        MONTHLY = "monthly", _("Mensual")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="plans")
    invoices = models.ManyToManyField(Invoice, related_name="plans", blank=True)
    currency = models.CharField(max_length=3)
    principal = models.BigIntegerField(_("monto reprogramado"))
    down_payment = models.BigIntegerField(_("pie"), default=0)
    interest = models.BigIntegerField(_("intereses"), default=0)
    annual_rate = models.DecimalField(_("tasa anual (%)"), max_digits=7, decimal_places=4, default=0)
    count = models.PositiveIntegerField(_("número de cuotas"))
    frequency = models.CharField(_("periodicidad"), max_length=12, choices=Frequency.choices)
    start_date = models.DateField(_("inicio"))
    #: Missed instalments that break the plan (the organization's option when it was agreed).
    max_missed = models.PositiveIntegerField(default=2)
    grace_days = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    within_limits = models.BooleanField(default=True)
    limit_notes = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    paid_amount = models.BigIntegerField(default=0)
    ended_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-start_date", "-id"]
        indexes = [models.Index(fields=["organization", "status"])]
        verbose_name = _("plan de pagos")
        verbose_name_plural = _("planes de pago")

    def __str__(self) -> str:
        return f"{self.customer}: {self.count} × {self.frequency}"

    @property
    def total(self) -> int:
        return self.principal + self.interest


class Instalment(TenantModel):
    """One payment of a plan; ``number`` 0 is the down payment."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="instalments")
    number = models.PositiveIntegerField()
    due_date = models.DateField(_("vencimiento"))
    amount = models.BigIntegerField(_("monto"))
    paid_amount = models.BigIntegerField(_("pagado"), default=0)
    paid_on = models.DateField(null=True, blank=True)
    #: Set once when the instalment is first found past due plus grace and short, so the timeline
    #: records each missed instalment once however often the cycle runs.
    missed = models.BooleanField(default=False)

    class Meta:
        ordering = ["plan", "number"]
        constraints = [models.UniqueConstraint(fields=["organization", "plan", "number"], name="uniq_instalment_number")]
        verbose_name = _("cuota")
        verbose_name_plural = _("cuotas")

    def __str__(self) -> str:
        return f"{self.plan_id}#{self.number}"


class DisputeReason(TenantModel):
    """A reason a customer may give for disputing an invoice; each organization edits its list."""

    code = models.SlugField(max_length=40)
    label = models.CharField(_("motivo"), max_length=120)
    active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "code"]
        constraints = [models.UniqueConstraint(fields=["organization", "code"], name="uniq_dispute_reason")]
        verbose_name = _("motivo de disputa")
        verbose_name_plural = _("motivos de disputa")

    def __str__(self) -> str:
        return self.label


class Dispute(TenantModel):
    """A customer's objection to an invoice. Collection of that invoice pauses while it is open."""

    class Status(models.TextChoices):
        OPEN = "open", _("Abierta")
        ANSWERED = "answered", _("Respondida")
        VALID = "valid", _("Resuelta: procede")
        INVALID = "invalid", _("Resuelta: no procede")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="disputes")
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="disputes")
    reason = models.CharField(_("motivo"), max_length=40)
    text = models.TextField(_("detalle"), blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="assigned_disputes", verbose_name=_("responsable"))
    answer = models.TextField(_("respuesta"), blank=True)
    resolution = models.TextField(_("resolución"), blank=True)
    credit_note_ref = models.CharField(max_length=64, blank=True)
    opened_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    #: Seconds from opening to resolution, kept for the figures (time to resolve a dispute).
    resolution_seconds = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["organization", "status"])]
        verbose_name = _("disputa")
        verbose_name_plural = _("disputas")

    def __str__(self) -> str:
        return f"{self.invoice} ({self.reason})"

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.OPEN, self.Status.ANSWERED)


def dispute_upload_to(instance: DisputeAttachment, filename: str) -> str:
    return f"disputes/{instance.organization_id}/{instance.dispute_id}/{filename}"


class DisputeAttachment(TenantModel):
    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=dispute_upload_to)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("adjunto")
        verbose_name_plural = _("adjuntos")

    def __str__(self) -> str:
        return self.name


class Fee(TenantModel):
    """A late fee or interest posted on an overdue invoice, with the basis and the cap applied.

    The charge itself is a ledger invoice (``fee_invoice``, ref "CM-<invoice ref>"), so it is owed,
    shown and paid like any other; this row keeps why it is that amount. One per overdue invoice.
    """

    class Status(models.TextChoices):
        POSTED = "posted", _("Cargado")
        WAIVED = "waived", _("Condonado")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="fees")
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="fees")
    fee_invoice = models.OneToOneField(Invoice, null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="fee_of")
    action_key = models.CharField(max_length=200, blank=True)
    posted_on = models.DateField()
    currency = models.CharField(max_length=3)
    kind = models.CharField(max_length=16)
    days_overdue = models.PositiveIntegerField()
    requested = models.BigIntegerField()
    cap = models.BigIntegerField(null=True, blank=True)
    amount = models.BigIntegerField()
    basis = models.JSONField(default=dict, blank=True)
    reason = models.CharField(max_length=300)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.POSTED)
    waived_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    waived_reason = models.CharField(max_length=300, blank=True)
    waived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "invoice"], name="uniq_fee_per_invoice"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="fee_amount_positive"),
        ]
        verbose_name = _("cargo por mora")
        verbose_name_plural = _("cargos por mora")

    def __str__(self) -> str:
        return f"{self.invoice}: {self.amount}"


class Discount(TenantModel):
    """An early-payment discount granted when a payment arrived inside the window (a credit note)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="discounts")
    invoice = models.OneToOneField(Invoice, on_delete=models.CASCADE, related_name="early_discount")
    paid_on = models.DateField()
    percent = models.DecimalField(max_digits=6, decimal_places=3)
    amount = models.BigIntegerField()
    credit_note_ref = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("descuento por pronto pago")
        verbose_name_plural = _("descuentos por pronto pago")

    def __str__(self) -> str:
        return f"{self.invoice}: −{self.amount}"
