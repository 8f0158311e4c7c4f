"""Messaging in the admin: a read-only view of the outbox, templates and opt-outs.

Templates are edited on /messages/templates/ (with the preview and the tone check) and messages and
opt-outs change through ``messaging.services``, so the admin only shows them, scoped to the user's
organizations.
"""

from django.contrib import admin

from cobro.ledger.admin import ReadOnlyTenantAdmin
from cobro.messaging.models import Message, MessageTemplate, OptOut


@admin.register(Message)
class MessageAdmin(ReadOnlyTenantAdmin):
    list_display = ("created_at", "customer", "direction", "channel", "template", "status", "attempts", "to")
    list_filter = ("status", "channel", "direction")
    search_fields = ("key", "to", "customer__name", "customer__ref")
    raw_id_fields = ("customer",)


@admin.register(MessageTemplate)
class MessageTemplateAdmin(ReadOnlyTenantAdmin):
    list_display = ("code", "language", "channel", "tone", "updated_at")
    list_filter = ("language", "channel", "tone")
    search_fields = ("code", "subject", "body")


@admin.register(OptOut)
class OptOutAdmin(ReadOnlyTenantAdmin):
    list_display = ("at", "customer", "channel", "source", "address")
    list_filter = ("channel", "source")
    search_fields = ("customer__name", "address")
    raw_id_fields = ("customer",)
