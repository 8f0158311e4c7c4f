"""API keys and webhooks in the admin: read-only (keys are made by `cobro apikey` or Settings, which show
them once), scoped to the staff member's organizations. Idempotent answers and the event cursor are
internal bookkeeping and stay out of sight."""

from django.contrib import admin

from cobro.api.models import ApiKey, WebhookDelivery, WebhookEndpoint
from cobro.ledger.admin import ReadOnlyTenantAdmin


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyTenantAdmin):
    list_display = ("name", "organization", "prefix", "scope", "created_at", "last_used_at", "revoked_at")
    exclude = ("digest",)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyTenantAdmin):
    list_display = ("url", "organization", "active", "failures", "disabled_at")
    exclude = ("secret",)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyTenantAdmin):
    list_display = ("event_id", "event_type", "organization", "status", "attempts", "last_status_code",
                    "delivered_at")
    list_filter = ("status",)
