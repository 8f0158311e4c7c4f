"""Insights in the admin, read-only: the stored cash forecasts (``cobro forecast --store``) and results
per step (``cobro insights results``)."""

from django.contrib import admin

from cobro.insights.models import CashForecastWeek, StepResult
from cobro.ledger.admin import ReadOnlyTenantAdmin


@admin.register(CashForecastWeek)
class CashForecastWeekAdmin(ReadOnlyTenantAdmin):
    list_display = ("organization", "currency", "made_on", "week", "week_start", "expected", "low", "high")
    list_filter = ("currency",)
    date_hierarchy = "made_on"


@admin.register(StepResult)
class StepResultAdmin(ReadOnlyTenantAdmin):
    list_display = ("organization", "currency", "made_on", "step", "channel", "template", "horizon", "contacts",
                    "paid", "expected_paid", "amount", "expected_amount")
    list_filter = ("currency", "horizon")
    date_hierarchy = "made_on"
