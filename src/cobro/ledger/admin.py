"""Django admin for the ledger.

Tenancy is enforced for every admin of every app in one place, the site itself
(``cobro.ledger.admin_site.CobroAdminSite``): staff who are not superusers see and edit only their
organizations' rows and users. ``TenantAdmin`` stays the common base of tenant-owned models' admins.
"""

from __future__ import annotations

from django.contrib import admin

from cobro.ledger import models
from cobro.ledger.admin_site import member_org_ids  # noqa: F401  (kept importable for other apps)


class TenantAdmin(admin.ModelAdmin):
    list_select_related = True


class ReadOnlyTenantAdmin(TenantAdmin):
    """For rows that change only through an app's services (so the timeline records every change)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(models.Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "country", "currency", "timezone")
    search_fields = ("name", "slug")


@admin.register(models.Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "organization", "role")
    list_filter = ("role", "organization")


class ContactInline(admin.TabularInline):
    model = models.Contact
    extra = 0
    exclude = ("organization",)


@admin.register(models.Customer)
class CustomerAdmin(TenantAdmin):
    list_display = ("ref", "name", "country", "preferred_channel", "segment", "owner", "organization")
    list_filter = ("country", "preferred_channel", "segment")
    search_fields = ("ref", "name", "tax_id")
    inlines = [ContactInline]
    raw_id_fields = ("owner",)


@admin.register(models.Invoice)
class InvoiceAdmin(TenantAdmin):
    list_display = ("ref", "customer", "issue_date", "due_date", "currency", "amount", "open_amount", "status")
    list_filter = ("status", "currency")
    search_fields = ("ref", "customer__name", "customer__ref")
    raw_id_fields = ("customer",)
    date_hierarchy = "due_date"
    # Balances are kept by ledger.services; editing them here would break the rule that they add up.
    readonly_fields = ("open_amount", "status", "closed_on")


@admin.register(models.CreditNote)
class CreditNoteAdmin(TenantAdmin):
    list_display = ("ref", "invoice", "date", "currency", "amount", "reason")
    search_fields = ("ref", "invoice__ref")
    raw_id_fields = ("customer", "invoice")


class AllocationInline(admin.TabularInline):
    model = models.Allocation
    extra = 0
    exclude = ("organization",)
    raw_id_fields = ("invoice",)
    can_delete = False


@admin.register(models.Payment)
class PaymentAdmin(TenantAdmin):
    list_display = ("ref", "customer", "date", "currency", "amount", "unallocated", "method")
    search_fields = ("ref", "customer__name")
    raw_id_fields = ("customer",)
    inlines = [AllocationInline]
    readonly_fields = ("unallocated",)


@admin.register(models.TimelineEvent)
class TimelineEventAdmin(ReadOnlyTenantAdmin):
    """The timeline is append-only: it is the audit trail."""

    list_display = ("at", "customer", "kind", "summary", "actor")
    list_filter = ("kind",)
    search_fields = ("summary", "customer__name")
    raw_id_fields = ("customer", "invoice", "actor")


@admin.register(models.Task)
class TaskAdmin(TenantAdmin):
    list_display = ("due_on", "title", "customer", "kind", "assignee", "status")
    list_filter = ("status", "kind")
    raw_id_fields = ("customer", "assignee")
