"""Bank accounts, the statements read from them, each statement line once, and what people taught.

Only ``payments.services`` writes these tables. Amounts are signed int minor units of ``currency``
(positive: money in).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cobro.ledger.models import Customer, Payment, TenantModel


class BankAccount(TenantModel):
    """One of the organization's bank accounts, as its statements name it (IBAN, number, CLABE)."""

    name = models.CharField(_("nombre"), max_length=100)
    number = models.CharField(_("número de cuenta"), max_length=64)
    currency = models.CharField(_("moneda"), max_length=3)
    #: Where the bank (or a script that fetches from its SFTP) leaves each day's statement.
    folder = models.CharField(_("carpeta de estados de cuenta"), max_length=500, blank=True)
    #: Saved column mapping for CSV/XLSX exports of this bank: {"date": "Fecha Contable", ...}.
    csv_mapping = models.JSONField(default=dict, blank=True)
    #: Days without a statement after which the dashboard warns (weekends count).
    expected_every_days = models.PositiveIntegerField(default=3)
    last_statement_date = models.DateField(null=True, blank=True)
    # What debtors read to pay by transfer (the portal and its PDFs): shown only to customers of
    # ``country`` owing in ``currency``, and only when ``show_in_portal`` (accounts created by a
    # statement import start hidden).
    show_in_portal = models.BooleanField(_("mostrar a los deudores"), default=False)
    country = models.CharField(_("país de los deudores"), max_length=2, blank=True)
    bank_name = models.CharField(_("banco"), max_length=100, blank=True)
    account_type = models.CharField(_("tipo de cuenta"), max_length=60, blank=True)
    holder = models.CharField(_("titular"), max_length=200, blank=True)
    holder_tax_id = models.CharField(_("identificador tributario del titular"), max_length=32, blank=True)
    swift = models.CharField(_("SWIFT/BIC"), max_length=11, blank=True)
    instructions = models.TextField(_("indicaciones para el deudor"), blank=True, max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "number"], name="uniq_bank_account")]
        verbose_name = _("cuenta bancaria")
        verbose_name_plural = _("cuentas bancarias")

    def __str__(self) -> str:
        return f"{self.name} ({self.number})"


class Statement(TenantModel):
    """One file read: which account, what day it covers, how many lines were new."""

    account = models.ForeignKey(BankAccount, on_delete=models.CASCADE, related_name="statements")
    format = models.CharField(max_length=12)
    filename = models.CharField(max_length=300, blank=True)
    sha256 = models.CharField(max_length=64)
    statement_date = models.DateField(null=True, blank=True)
    lines_total = models.PositiveIntegerField(default=0)
    lines_new = models.PositiveIntegerField(default=0)
    imported_at = models.DateTimeField(auto_now_add=True)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["-imported_at"]
        verbose_name = _("estado de cuenta")
        verbose_name_plural = _("estados de cuenta")


class StatementLine(TenantModel):
    """One movement of a bank account, stored once whatever file it arrives in again."""

    class Status(models.TextChoices):
        APPLIED = "applied", _("Aplicada")
        SUGGESTED = "suggested", _("Sugerida")
        UNMATCHED = "unmatched", _("Sin conciliar")
        IGNORED = "ignored", _("Ignorada")

    class Kind(models.TextChoices):
        CREDIT = "credit", _("Abono")
        DEBIT = "debit", _("Cargo")
        FEE = "fee", _("Comisión")
        REVERSAL = "reversal", _("Reversa")
        PENDING = "pending", _("Pendiente")

    account = models.ForeignKey(BankAccount, on_delete=models.CASCADE, related_name="lines")
    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="lines")
    #: The bank's entry reference, else "h:" + a hash of account, date, amount, text and the
    #: line's position among identical ones (see ``services.line_keys``).
    key = models.CharField(max_length=100)
    position = models.PositiveIntegerField()  # 1-based, in the file it first came in
    booking_date = models.DateField(_("fecha"))
    value_date = models.DateField(null=True, blank=True)
    amount = models.BigIntegerField(_("monto"))
    currency = models.CharField(max_length=3)
    text = models.CharField(_("glosa"), max_length=500, blank=True)
    counterparty = models.CharField(_("ordenante"), max_length=200, blank=True)
    counterparty_account = models.CharField(max_length=64, blank=True)
    counterparty_tax_id = models.CharField(max_length=32, blank=True)
    reference = models.CharField(max_length=140, blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    #: The proposal or what was applied: [[invoice id, minor units], ...]
    allocations = models.JSONField(default=list, blank=True)
    confidence = models.FloatField(default=0)
    reasons = models.JSONField(default=list, blank=True)  # [[code, {params}], ...] for the sentence
    payments = models.ManyToManyField(Payment, blank=True, related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["booking_date", "statement_id", "position"]
        constraints = [models.UniqueConstraint(fields=["organization", "account", "key"], name="uniq_statement_line")]
        indexes = [models.Index(fields=["organization", "status", "booking_date"], name="statement_line_queue")]
        verbose_name = _("movimiento bancario")
        verbose_name_plural = _("movimientos bancarios")

    @property
    def ref(self) -> str:
        """The line's reference as payments carry it (``Payment.provider_ref``)."""
        return self.key


class PayerAlias(TenantModel):
    """A payer's name or account that a person assigned to a customer: later lines match by it."""

    class Kind(models.TextChoices):
        NAME = "name", _("Nombre del ordenante")
        ACCOUNT = "account", _("Cuenta de origen")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    value = models.CharField(max_length=200)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "kind", "value"], name="uniq_payer_alias")]
        verbose_name = _("alias de pagador")
        verbose_name_plural = _("alias de pagadores")
