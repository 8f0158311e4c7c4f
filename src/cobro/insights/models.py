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
