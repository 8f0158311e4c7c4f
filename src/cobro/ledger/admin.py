"""Django admin for the ledger, scoped: staff see only the organizations they are members of.

``TenantAdmin`` is the base for every tenant-owned model's admin in every app.
"""

from __future__ import annotations

from django.contrib import admin

from cobro.ledger import models


def member_org_ids(request) -> list[int]:
    return list(models.Membership.objects.filter(user=request.user).values_list("organization_id", flat=True))


class TenantAdmin(admin.ModelAdmin):
    list_select_related = True

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(organization_id__in=member_org_ids(request))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if request.user.is_superuser or field is None:
            return field
        ids = member_org_ids(request)
        related = db_field.related_model
        if related is models.Organization:
            field.queryset = field.queryset.filter(pk__in=ids)
        elif any(f.name == "organization" for f in related._meta.get_fields()):
            field.queryset = field.queryset.filter(organization_id__in=ids)
        return field


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

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.filter(pk__in=member_org_ids(request))


@admin.register(models.Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "organization", "role")
    list_filter = ("role",)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.filter(organization_id__in=member_org_ids(request))


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
