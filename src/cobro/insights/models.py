"""Daily totals of each organization's book, kept with the ledger's facts (see ``cobro.engine.daybook``).

Written only by ``cobro.insights.totals`` (called by the ledger's services and importer inside their
own transactions) and rebuilt from scratch by ``cobro insights rebuild``. Amounts are minor units.
"""

from __future__ import annotations

from django.db import models

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
