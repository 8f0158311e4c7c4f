"""The ledger: who owes what to whom, exactly.

Every amount is an integer count of the currency's minor unit (see ``cobro.engine.money``). An
invoice's ``open_amount`` is kept equal to amount − credit notes − allocated payments by
``ledger.services`` (never written anywhere else), so the daily cycle can read the open book with a
single query instead of summing allocations for every invoice.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrador")
    MANAGER = "manager", _("Supervisor")
    AGENT = "agent", _("Gestor de cobranza")
    VIEWER = "viewer", _("Solo lectura")


#: What each role may do, from least to most. Views and services ask ``membership.can(...)``.
ROLE_RANK = {Role.VIEWER: 0, Role.AGENT: 1, Role.MANAGER: 2, Role.ADMIN: 3}


class Channel(models.TextChoices):
    EMAIL = "email", _("Correo")
    SMS = "sms", "SMS"
    WHATSAPP = "whatsapp", "WhatsApp"
    CALL = "call", _("Llamada")
    LETTER = "letter", _("Carta")


class Organization(models.Model):
    """A creditor company: the tenant. An agency runs one per client it collects for."""

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(_("nombre"), max_length=200)
    country = models.CharField(_("país"), max_length=2, default="CL")
    currency = models.CharField(_("moneda"), max_length=3, default="CLP")
    timezone = models.CharField(_("zona horaria"), max_length=64, default="America/Santiago")
    language = models.CharField(_("idioma"), max_length=8, default="es")
    tax_id = models.CharField(_("identificador tributario"), max_length=32, blank=True)
    email = models.EmailField(_("correo de contacto"), blank=True)
    phone = models.CharField(_("teléfono de contacto"), max_length=20, blank=True)
    #: Small options other apps read (thank-you messages on/off, promise grace days...). Each app
    #: documents its keys; unknown keys are ignored.
    options = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organización")
        verbose_name_plural = _("organizaciones")

    def __str__(self) -> str:
        return self.name

    def option(self, key: str, default=None):
        return (self.options or {}).get(key, default)


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organization"], name="uniq_membership")]
        verbose_name = _("miembro")
        verbose_name_plural = _("miembros")

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.role})"

    def can(self, role: str) -> bool:
        """True when this member's role is ``role`` or above (admin > manager > agent > viewer)."""
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[Role(role)]


class TenantQuerySet(models.QuerySet):
    def for_org(self, org: Organization | int) -> TenantQuerySet:
        return self.filter(organization=org)


class TenantModel(models.Model):
    """A row that belongs to one organization. Every query goes through ``.for_org(org)``.

    The ledger's big tables override ``organization`` with ``_org_key()``: their composite indexes
    all start with the organization, so a separate index on it would only slow down every insert.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True


def _org_key():
    return models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", db_index=False)


class Customer(TenantModel):
    """A debtor: a company or a person who owes the organization money."""

    organization = _org_key()
    ref = models.CharField(_("código"), max_length=64)
    name = models.CharField(_("razón social"), max_length=200)
    tax_id = models.CharField(_("identificador tributario"), max_length=32, blank=True)
    country = models.CharField(_("país"), max_length=2)
    language = models.CharField(_("idioma"), max_length=8, default="es")
    #: The customer's own zone; empty when unknown: the cycle then takes every zone the customer may be
    #: in, from their contacts' phones, their address's region or their country (``cobro.engine.zones``).
    timezone = models.CharField(_("zona horaria"), max_length=64, blank=True,
                                help_text=_("vacía: según los teléfonos de sus contactos, la región de su dirección "
                                            "o su país"))
    #: The billing address. ``region`` (state, province, autonomous community: a code such as "TX" or
    #: "US-TX", or a name) places a customer of a country with several zones when neither their own
    #: zone nor their phones do (``cobro.engine.zones.region_zones``); the rest goes on letters.
    # ``db_default``: the importers' plain-row inserts that predate these columns leave them empty.
    address = models.CharField(_("dirección"), max_length=200, blank=True, default="", db_default="")
    city = models.CharField(_("ciudad"), max_length=100, blank=True, default="", db_default="")
    region = models.CharField(_("región"), max_length=100, blank=True, default="", db_default="",
                              help_text=_("estado, provincia o comunidad; en un país con varias zonas "
                                          "horarias dice en cuál está el cliente"))
    postal_code = models.CharField(_("código postal"), max_length=16, blank=True, default="", db_default="")
    preferred_channel = models.CharField(_("canal preferido"), max_length=16, choices=Channel.choices,
                                         default=Channel.EMAIL)
    segment = models.CharField(_("segmento"), max_length=64, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="owned_customers", verbose_name=_("responsable"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "ref"], name="uniq_customer_ref")]
        # The API's cursor pages walk an organization's rows by id without sorting them.
        indexes = [models.Index(fields=["organization", "id"], name="customer_by_org_id")]
        verbose_name = _("cliente")
        verbose_name_plural = _("clientes")

    def __str__(self) -> str:
        return f"{self.name} ({self.ref})"

    @property
    def home_zone(self) -> str:
        """The zone that dates this customer's day: their own, else their country's first (most populous)."""
        from cobro.engine.zones import country_zones

        return self.timezone or next(iter(country_zones(self.country)), "") or self.organization.timezone


class Contact(TenantModel):
    """A way to reach a customer. Only the debtor and co-debtors or guarantors, never third parties."""

    organization = _org_key()

    class Kind(models.TextChoices):
        DEBTOR = "debtor", _("Deudor")
        CO_DEBTOR = "co_debtor", _("Codeudor")
        GUARANTOR = "guarantor", _("Aval")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("nombre"), max_length=200, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.DEBTOR)
    email = models.EmailField(_("correo"), blank=True)
    phone = models.CharField(_("teléfono (E.164)"), max_length=20, blank=True)
    whatsapp = models.CharField(_("WhatsApp (E.164)"), max_length=20, blank=True)
    is_primary = models.BooleanField(default=True)
    # Consent per channel, as the debtor gave it (Colombia's Ley 2300: only authorised channels).
    consent_email = models.BooleanField(default=True)
    consent_sms = models.BooleanField(default=True)
    consent_whatsapp = models.BooleanField(default=True)
    consent_call = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("contacto")
        verbose_name_plural = _("contactos")

    def __str__(self) -> str:
        return self.name or self.email or self.phone


class Invoice(TenantModel):
    organization = _org_key()
    class Status(models.TextChoices):
        OPEN = "open", _("Abierta")
        PAID = "paid", _("Pagada")
        CREDITED = "credited", _("Anulada por nota de crédito")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="invoices")
    ref = models.CharField(_("número"), max_length=64)
    issue_date = models.DateField(_("fecha de emisión"))
    due_date = models.DateField(_("fecha de vencimiento"))
    currency = models.CharField(_("moneda"), max_length=3)
    amount = models.BigIntegerField(_("monto"), help_text=_("En unidades menores de la moneda"))
    open_amount = models.BigIntegerField(_("saldo"))
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    #: The day the balance reached zero (the last payment or credit that closed it).
    closed_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_date", "ref"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "ref"], name="uniq_invoice_ref"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="invoice_amount_positive"),
            models.CheckConstraint(condition=Q(open_amount__gte=0) & Q(open_amount__lte=models.F("amount")),
                                   name="invoice_open_within_amount"),
        ]
        # Both cover what the cycle and the dashboard read (benchmark B3): the open book by due date,
        # and sales by issue date, without touching the table itself.
        indexes = [models.Index(fields=["organization", "status", "due_date", "currency", "issue_date",
                                        "open_amount"], name="invoice_open_book"),
                   models.Index(fields=["organization", "issue_date", "currency", "amount"], name="invoice_sales"),
                   models.Index(fields=["organization", "id"], name="invoice_by_org_id")]
        verbose_name = _("factura")
        verbose_name_plural = _("facturas")

    def __str__(self) -> str:
        return self.ref

    @property
    def terms_days(self) -> int:
        return (self.due_date - self.issue_date).days


class CreditNote(TenantModel):
    organization = _org_key()
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="credit_notes")
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="credit_notes")
    ref = models.CharField(_("número"), max_length=64)
    date = models.DateField(_("fecha"))
    currency = models.CharField(max_length=3)
    amount = models.BigIntegerField(_("monto"))
    reason = models.CharField(_("motivo"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "ref"], name="uniq_credit_note_ref"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="credit_note_amount_positive"),
        ]
        verbose_name = _("nota de crédito")
        verbose_name_plural = _("notas de crédito")

    def __str__(self) -> str:
        return self.ref


class Payment(TenantModel):
    organization = _org_key()
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="payments")
    ref = models.CharField(_("referencia"), max_length=64)
    date = models.DateField(_("fecha"))
    currency = models.CharField(max_length=3)
    amount = models.BigIntegerField(_("monto"))
    method = models.CharField(_("medio de pago"), max_length=32, blank=True)
    #: Where the payment came from when not typed or imported: a payment provider ("stripe",
    #: "mercadopago", "transbank") or a bank statement ("statement"), and that source's own id
    #: (the provider's payment id, the statement line's reference).
    provider = models.CharField(_("origen"), max_length=32, blank=True, default="", db_default="")
    provider_ref = models.CharField(_("referencia del origen"), max_length=128, blank=True, default="",
                                    db_default="")
    #: What is left after allocation: the customer's credit in this currency.
    unallocated = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "ref"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "ref"], name="uniq_payment_ref"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(condition=Q(unallocated__gte=0) & Q(unallocated__lte=models.F("amount")),
                                   name="payment_unallocated_within_amount"),
        ]
        indexes = [models.Index(fields=["organization", "date", "currency", "amount"], name="payment_collections"),
                   models.Index(fields=["organization", "id"], name="payment_by_org_id")]
        verbose_name = _("pago")
        verbose_name_plural = _("pagos")

    def __str__(self) -> str:
        return self.ref


class Allocation(TenantModel):
    """Part of a payment applied to an invoice."""

    organization = _org_key()

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="allocations")
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="allocations")
    amount = models.BigIntegerField()
    date = models.DateField()

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_amount_positive")]
        indexes = [models.Index(fields=["organization", "date"], name="allocation_by_date")]
        verbose_name = _("imputación")
        verbose_name_plural = _("imputaciones")

    def __str__(self) -> str:
        return f"{self.payment_id} -> {self.invoice_id}: {self.amount}"


class TimelineEvent(TenantModel):
    """Something that happened to a customer. Append-only: the audit trail and the analytics source.

    ``kind`` is a dotted name owned by the app that records it ("payment.received", "message.sent",
    "promise.broken", "stage.moved"...); ``data`` holds its details as JSON.
    """

    organization = _org_key()

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    kind = models.CharField(max_length=48)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    summary = models.CharField(max_length=300)
    data = models.JSONField(default=dict, blank=True)
    invoice = models.ForeignKey(Invoice, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["organization", "customer", "at"]),
                   models.Index(fields=["organization", "kind", "at"])]
        verbose_name = _("evento")
        verbose_name_plural = _("eventos")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d} {self.kind}: {self.summary}"


class Task(TenantModel):
    """Work for a person: a call to make, a reply to read, a failed message to fix.

    Created by the cycle (call steps, customers with no way to reach them), by messaging (replies,
    messages that failed for good) and by agreements (broken promises). ``source_key`` makes creation
    idempotent: the same cause never opens the same task twice.
    """

    organization = _org_key()

    class Status(models.TextChoices):
        OPEN = "open", _("Pendiente")
        DONE = "done", _("Hecha")
        CANCELLED = "cancelled", _("Cancelada")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="tasks")
    kind = models.CharField(max_length=32)  # "call", "reply", "message_failed", "promise_broken", ...
    title = models.CharField(_("tarea"), max_length=200)
    due_on = models.DateField(_("fecha"))
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="tasks")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    # NULL, not "": the uniqueness applies only to tasks that have a cause to deduplicate.
    source_key = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    data = models.JSONField(default=dict, blank=True)
    outcome = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [models.UniqueConstraint(fields=["organization", "source_key"], name="uniq_task_source",
                                               condition=Q(source_key__isnull=False))]
        indexes = [models.Index(fields=["organization", "status", "due_on"])]
        verbose_name = _("tarea")
        verbose_name_plural = _("tareas")

    def __str__(self) -> str:
        return self.title


class SearchKey(models.Model):
    """One normalised word start of a searchable value (``cobro.ledger.search``): the top bar's
    search is a prefix match on ``(organization, key)`` instead of a LIKE over four tables."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", db_index=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+", db_index=False)
    #: "name", "ref", "tax_id" (the customer's), "invoice", "contact", "email", "phone".
    kind = models.CharField(max_length=8)
    key = models.CharField(max_length=100)
    label = models.CharField(max_length=200)
    #: The contact or invoice the key was taken from (none for the customer's own fields).
    source_id = models.BigIntegerField(null=True)

    class Meta:
        # PostgreSQL: varchar_pattern_ops serves LIKE 'prefix%' whatever the database's collation;
        # other databases ignore the operator classes and get a plain index the range query uses.
        indexes = [models.Index(fields=["organization", "key"], opclasses=["int8_ops", "varchar_pattern_ops"],
                                name="searchkey_prefix"),
                   models.Index(fields=["customer", "kind"], name="searchkey_customer")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.key}"
