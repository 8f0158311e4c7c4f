"""Agreements in the admin, until the team workspace shows them.

Promises, plans, disputes, fees and discounts are read-only here: they change through
``agreements.services`` so that every change lands on the customer's timeline. Terms and the
dispute reasons are plain settings and are edited here. Staff see only their organizations
(``ledger.admin.TenantAdmin``).
"""

from django.contrib import admin

from cobro.agreements.models import (
    CustomerTerms,
    Discount,
    Dispute,
    DisputeAttachment,
    DisputeReason,
    Fee,
    Instalment,
    Plan,
    Promise,
)
from cobro.ledger.admin import ReadOnlyTenantAdmin as ReadOnlyAdmin
from cobro.ledger.admin import TenantAdmin


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Promise)
class PromiseAdmin(ReadOnlyAdmin):
    list_display = ("id", "organization", "customer", "promised_date", "amount", "currency", "paid_amount",
                    "status", "channel", "taken_by")
    list_filter = ("organization", "status", "channel")
    search_fields = ("customer__ref", "customer__name")
    date_hierarchy = "promised_date"


class InstalmentInline(ReadOnlyInline):
    model = Instalment
    fields = ("number", "due_date", "amount", "paid_amount", "paid_on", "missed")


@admin.register(Plan)
class PlanAdmin(ReadOnlyAdmin):
    list_display = ("id", "organization", "customer", "status", "count", "frequency", "principal", "interest",
                    "paid_amount", "currency", "within_limits", "start_date")
    list_filter = ("organization", "status", "frequency", "within_limits")
    search_fields = ("customer__ref", "customer__name")
    inlines = [InstalmentInline]


class AttachmentInline(ReadOnlyInline):
    model = DisputeAttachment
    fields = ("name", "file", "created_at")
    readonly_fields = fields


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdmin):
    list_display = ("id", "organization", "invoice", "customer", "reason", "status", "assignee", "opened_at",
                    "resolved_at", "resolution_seconds")
    list_filter = ("organization", "status", "reason")
    search_fields = ("invoice__ref", "customer__ref", "customer__name", "text")
    inlines = [AttachmentInline]


@admin.register(Fee)
class FeeAdmin(ReadOnlyAdmin):
    list_display = ("id", "organization", "invoice", "fee_invoice", "amount", "requested", "cap", "currency",
                    "status", "posted_on", "waived_by", "waived_reason")
    list_filter = ("organization", "status", "kind")
    search_fields = ("invoice__ref", "customer__ref")


@admin.register(Discount)
class DiscountAdmin(ReadOnlyAdmin):
    list_display = ("invoice", "organization", "customer", "percent", "amount", "paid_on", "credit_note_ref")
    list_filter = ("organization",)


@admin.register(CustomerTerms)
class CustomerTermsAdmin(TenantAdmin):
    list_display = ("customer", "organization", "late_fee_kind", "late_fee_rate", "late_fee_fixed", "grace_days",
                    "early_discount_percent", "early_discount_days", "business")
    list_filter = ("organization", "late_fee_kind", "business")
    search_fields = ("customer__ref", "customer__name")
    raw_id_fields = ("customer",)


@admin.register(DisputeReason)
class DisputeReasonAdmin(TenantAdmin):
    list_display = ("code", "label", "organization", "active", "position")
    list_filter = ("organization", "active")
    list_editable = ("label", "active", "position")
