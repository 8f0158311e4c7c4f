"""Policies, stages, pauses and the actions the daily cycle decides.

Only ``cobro.dunning.services`` and ``cobro.dunning.cycle`` write these tables. ``Action.key`` is the
exactly-once guarantee: it is deterministic from (organization, customer, step, date) and unique per
organization, so a second run of the cycle for the same day, or a run after a crash, adds nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cobro.ledger.models import Customer, TenantModel


class Policy(TenantModel):
    """An ordered list of steps relative to the due date (see ``cobro.engine.policy``).

    ``definition`` holds the steps and stages exactly as exported to YAML, so a policy round-trips
    through a file unchanged. ``segment`` empty and ``is_default`` true: the organization's policy.
    """

    code = models.SlugField(_("código"), max_length=50)
    name = models.CharField(_("nombre"), max_length=200)
    is_default = models.BooleanField(_("por defecto"), default=False)
    segment = models.CharField(_("segmento"), max_length=64, blank=True)
    definition = models.JSONField(default=dict)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "code"], name="uniq_policy_code")]
        verbose_name = _("política de cobranza")
        verbose_name_plural = _("políticas de cobranza")

    def __str__(self) -> str:
        return self.name


class PolicyAssignment(TenantModel):
    """A policy chosen for one customer, overriding the segment's and the organization's."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="+")
    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="assignments")

    class Meta:
        verbose_name = _("política asignada")


class CustomerStage(TenantModel):
    """Where a customer sits on the board when a person or the cycle put them there.

    Customers without a row get a stage derived from their open invoices (see ``services``).
    """

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="+")
    stage = models.CharField(max_length=24)
    since = models.DateTimeField()
    moved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        indexes = [models.Index(fields=["organization", "stage"])]


class Pause(TenantModel):
    """A pause of collection for one customer, until a date or lifted: of every open invoice, or,
    when ``invoices`` names some (the portal's "I have paid"), of those invoices only."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    invoices = models.ManyToManyField("ledger.Invoice", blank=True, related_name="pauses", through="PausedInvoice")
    until = models.DateField(null=True, blank=True)
    reason = models.CharField(max_length=300)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    lifted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "customer"])]


class PausedInvoice(TenantModel):
    """One invoice a pause names: a row of its organization (every table is, so a sharded database can
    keep a pause and its invoices together)."""

    pause = models.ForeignKey(Pause, on_delete=models.CASCADE, related_name="+")
    invoice = models.ForeignKey("ledger.Invoice", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "pause", "invoice"],
                                               name="uniq_paused_invoice")]


class ContactRuleChange(TenantModel):
    """An organization's change to the contact-rule preset of one debtor country ("*": all).

    Tightening is free; loosening must come from an admin with a reason, kept here for the audit.
    """

    country = models.CharField(max_length=2)
    params = models.JSONField(default=dict)
    loosens = models.BooleanField(default=False)
    reason = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]


class Action(TenantModel):
    """One decision of the cycle: a message, a call task, a letter, a fee or a stage move."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Programada")
        PENDING_APPROVAL = "pending_approval", _("Espera aprobación")
        APPROVED = "approved", _("Aprobada")
        REJECTED = "rejected", _("Rechazada")
        DONE = "done", _("Hecha")
        CANCELLED = "cancelled", _("Cancelada")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    as_of = models.DateField()
    step = models.CharField(max_length=64)
    action = models.CharField(max_length=16)
    channel = models.CharField(max_length=16)
    template = models.CharField(max_length=64, blank=True)
    tone = models.CharField(max_length=16, blank=True)
    invoice_ids = models.JSONField(default=list)
    invoice_refs = models.JSONField(default=list)
    scheduled_for = models.DateTimeField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PLANNED)
    #: Why (the engine's sentences), the policy used, and agreement items merged into a message.
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["scheduled_for", "id"]
        constraints = [models.UniqueConstraint(fields=["organization", "key"], name="uniq_action_key")]
        indexes = [models.Index(fields=["organization", "as_of"]),
                   models.Index(fields=["organization", "scheduled_for"]),
                   models.Index(fields=["organization", "customer"])]
        verbose_name = _("acción")
        verbose_name_plural = _("acciones")

    def __str__(self) -> str:
        return self.key


class CycleRun(TenantModel):
    """One run of the cycle for one day. A row without ``finished_at`` is a run that died midway."""

    as_of = models.DateField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    created = models.PositiveIntegerField(default=0)
    fingerprint = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "as_of"], name="uniq_cycle_run")]


class PolicyChange(TenantModel):
    """One save of a policy: who, when, the version it made, and what changed step by step.

    ``changes`` holds one entry per difference, {"kind": "added"|"removed"|"changed"|"moved"|"renamed",
    "step": code, "fields": [...]}; ``before`` and ``after`` are the definitions, for the audit.
    """

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="changes")
    version = models.PositiveIntegerField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    source = models.CharField(max_length=16, default="form")
    changes = models.JSONField(default=list)
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "policy"])]


class WorkerBeat(models.Model):
    """The background worker's heartbeat: one row per worker name, touched on every pass.

    Not per organization: one worker serves every organization of the installation. The settings
    pages read ``beat_at`` to say when the worker last ran, and warn when it has not for a while.
    """

    name = models.CharField(max_length=64, unique=True)
    pid = models.PositiveIntegerField(default=0)
    host = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField()
    passes = models.PositiveIntegerField(default=0)
    #: The last pass's counts (messages sent, failed, cycles enqueued...).
    last = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.name} {self.beat_at:%Y-%m-%d %H:%M:%S}"


class Segment(TenantModel):
    """A named rule that routes the customers it holds to a policy (``cobro.engine.segments``).

    Every condition is optional; all that are set must hold. The first segment in ``priority`` order
    (then id) that holds a customer chooses their policy, unless the customer has one of their own.
    Amounts are minor units of ``currency``; ``bands``, ``countries`` and ``tags`` are lists.
    """

    name = models.CharField(_("nombre"), max_length=80)
    priority = models.PositiveIntegerField(_("prioridad"), default=0)
    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="segments",
                               verbose_name=_("política"))
    bands = models.JSONField(default=list, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    amount_min = models.BigIntegerField(null=True, blank=True)
    amount_max = models.BigIntegerField(null=True, blank=True)
    countries = models.JSONField(default=list, blank=True)
    tags = models.JSONField(default=list, blank=True)
    days_min = models.PositiveIntegerField(null=True, blank=True)
    days_max = models.PositiveIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["priority", "id"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="uniq_segment_name")]
        verbose_name = _("segmento")
        verbose_name_plural = _("segmentos")

    def __str__(self) -> str:
        return self.name


class CustomerRisk(TenantModel):
    """A customer's latest risk score and band, as ``cobro risk --store`` computed them on ``scored_on``.

    One row per customer with an open balance that day (the others' rows are dropped): the cycle reads
    the bands in one query when a segment asks about them.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    score = models.PositiveSmallIntegerField()
    band = models.CharField(max_length=8)
    scored_on = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "customer"], name="uniq_customer_risk")]


class RiskBandTotal(TenantModel):
    """Customers and open amount per risk band and currency on the day the scores were stored, for
    the Dashboard (minor units). Kept for every day stored, like the cash forecast."""

    scored_on = models.DateField()
    currency = models.CharField(max_length=3)
    band = models.CharField(max_length=8)
    customers = models.PositiveIntegerField()
    open_amount = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "scored_on", "currency", "band"],
                                               name="uniq_risk_band_total")]


class CycleShard(TenantModel):
    """One part of a day's cycle split by customer (``dunning.shards``): customers whose hash falls in
    part ``index`` of ``count`` equal ranges. A worker holds it while ``heartbeat_at`` is fresh; a shard
    whose worker stopped beating (killed, machine lost) is handed to another (``shards.requeue_stale``).
    """

    as_of = models.DateField()
    count = models.PositiveSmallIntegerField()
    index = models.PositiveSmallIntegerField()
    #: The book's fingerprint when the day was split: the day's run takes it when every shard is done.
    fingerprint = models.CharField(max_length=200, blank=True)
    #: Who holds it ("host:pid"; who finished it, once finished), empty while nobody does.
    worker = models.CharField(max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "as_of", "count", "index"],
                                               name="uniq_cycle_shard")]
