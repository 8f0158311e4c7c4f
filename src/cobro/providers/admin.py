"""Read-only views of the providers' rows; credentials change with `cobro provider set` or the
Settings page, and their encrypted value is never shown here."""

from django.contrib import admin

from cobro.ledger.admin import ReadOnlyTenantAdmin
from cobro.providers.models import PaymentRequest, ProviderAccount, WebhookLog


@admin.register(ProviderAccount)
class ProviderAccountAdmin(ReadOnlyTenantAdmin):
    list_display = ("organization", "provider", "hint", "updated_at")
    exclude = ("secret",)


@admin.register(PaymentRequest)
class PaymentRequestAdmin(ReadOnlyTenantAdmin):
    list_display = ("id", "organization", "customer", "provider", "amount", "currency", "status", "created_at")
    list_filter = ("provider", "status")
    exclude = ("invoices",)


@admin.register(WebhookLog)
class WebhookLogAdmin(ReadOnlyTenantAdmin):
    list_display = ("received_at", "organization", "provider", "event_id", "outcome")
    list_filter = ("provider", "outcome")
