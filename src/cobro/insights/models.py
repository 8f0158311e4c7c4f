"""Daily totals of each organization's book, kept with the ledger's facts (see ``cobro.engine.daybook``).

Written only by ``cobro.insights.totals`` (called by the ledger's services and importer inside their
own transactions) and rebuilt from scratch by ``cobro insights rebuild``. Amounts are minor units.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cobro.engine.daybook import COLUMNS
from cobro.ledger.models import Organization, TenantModel


def _org_key():
    return models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", db_index=False)


class DailyTotal(TenantModel):
    """One organization's totals for one currency and calendar day (columns: ``daybook.COLUMNS``)."""

    organization = _org_key()
    currency = models.CharField(max_length=3)
    day = models.DateField()
    locals().update({name: models.BigIntegerField(default=0) for name in COLUMNS})

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "day", "currency"],
                                               name="uniq_daily_total")]


class AppliedTotal(TenantModel):
    """What payments and credit notes applied on one day to the invoices due on one date."""

    organization = _org_key()
    currency = models.CharField(max_length=3)
    day = models.DateField()
    due_date = models.DateField()
    amount = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "day", "due_date", "currency"],
                                               name="uniq_applied_total")]


class CashForecastWeek(TenantModel):
    """One week of the 13-week cash forecast made on ``made_on`` (``cobro forecast --store``): what the
    open book of that day was expected to bring in that week, and its 80 % range, in minor units.
    Kept for every day a forecast was stored, so a past week's forecast can be set beside what was
    actually collected (``cobro.engine.cashflow`` has the maths)."""

    organization = _org_key()
    currency = models.CharField(max_length=3)
    made_on = models.DateField()
    week = models.PositiveSmallIntegerField()
    week_start = models.DateField()
    week_end = models.DateField()
    expected = models.BigIntegerField()
    low = models.BigIntegerField()
    high = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "currency", "made_on", "week"],
                                               name="uniq_cash_forecast_week")]


class StepResult(TenantModel):
    """What one (step, channel, template) achieved at one horizon (3, 7 or 30 days), as computed on
    ``made_on`` by ``cobro insights results`` (sums of ``cobro.engine.results``; minor units)."""

    organization = _org_key()
    currency = models.CharField(max_length=3)
    made_on = models.DateField()
    step = models.CharField(max_length=64)
    channel = models.CharField(max_length=16)
    template = models.CharField(max_length=64, blank=True)
    horizon = models.PositiveSmallIntegerField()
    contacts = models.PositiveIntegerField()
    customers = models.PositiveIntegerField()
    matched = models.PositiveIntegerField()
    paid = models.PositiveIntegerField()
    expected_paid = models.FloatField()
    amount = models.BigIntegerField()
    expected_amount = models.BigIntegerField()
    balance = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["organization", "currency", "made_on", "step", "channel", "template", "horizon"],
            name="uniq_step_result")]


class AbTest(TenantModel):
    """An A/B test of the wording of one step of one policy (``cobro.engine.abtest`` has the maths).

    A is the step's template when the test started (``template_a``), B ``template_b``; a ``holdout``
    share of the customers gets no message for that step. ``metric``, ``horizon_days`` and ``alpha``
    are fixed at creation: the result never lets them be chosen after seeing the data. The test
    changes the cycle's days from ``starts_on`` (the day after it was started) to the day before
    ``ends_on`` (the day after it was stopped or its winner applied).
    """

    class Status(models.TextChoices):
        RUNNING = "running", _("En curso")
        STOPPED = "stopped", _("Detenida")
        APPLIED = "applied", _("Ganadora aplicada")
        DRAFT = "draft", _("Borrador")

    class Metric(models.TextChoices):
        PAID = "paid", _("Clientes que pagan")
        AMOUNT = "amount", _("Monto cobrado por cliente")
        REPLY = "reply", _("Clientes que responden")
        OPTOUT = "optout", _("Clientes que se dan de baja")

    organization = _org_key()
    name = models.CharField(_("nombre"), max_length=120)
    policy_code = models.CharField(_("política"), max_length=50)
    step = models.CharField(_("paso"), max_length=64)
    template_a = models.CharField(_("plantilla A"), max_length=64)
    template_b = models.CharField(_("plantilla B"), max_length=64)
    metric = models.CharField(_("métrica"), max_length=12, choices=Metric.choices, default=Metric.PAID)
    horizon_days = models.PositiveSmallIntegerField(_("días de horizonte"), default=7)
    holdout = models.FloatField(_("grupo de control"), default=0.0)
    alpha = models.FloatField(default=0.05)
    salt = models.CharField(max_length=64)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    started_at = models.DateTimeField(null=True, blank=True)
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    winner = models.CharField(max_length=1, blank=True)
    applied_version = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "status"])]
        verbose_name = _("prueba A/B")
        verbose_name_plural = _("pruebas A/B")

    def __str__(self) -> str:
        return self.name


class AbExposure(TenantModel):
    """A customer entering a test: the variant they got and the cycle day the tested step fired for
    them (hold-out customers too, though nothing was sent). One row per customer and test: the
    result counts each customer once, from their first exposure."""

    organization = _org_key()
    test = models.ForeignKey(AbTest, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey("ledger.Customer", on_delete=models.CASCADE, related_name="+")
    variant = models.CharField(max_length=1)
    day = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "test", "customer"],
                                               name="uniq_ab_exposure")]
