"""Insights in the admin, read-only: the stored cash forecasts (``cobro forecast --store``) and results
per step (``cobro insights results``), and the A/B tests with their exposures (changed only through
``cobro.insights.abtest``)."""

from django.contrib import admin

from cobro.insights.models import AbExposure, AbTest, CashForecastWeek, StepResult
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


@admin.register(AbTest)
class AbTestAdmin(ReadOnlyTenantAdmin):
    list_display = ("organization", "name", "policy_code", "step", "template_a", "template_b", "metric",
                    "horizon_days", "holdout", "status", "starts_on", "ends_on", "winner")
    list_filter = ("status", "metric")


@admin.register(AbExposure)
class AbExposureAdmin(ReadOnlyTenantAdmin):
    list_display = ("organization", "test", "customer", "variant", "day")
    list_filter = ("variant",)
    date_hierarchy = "day"
