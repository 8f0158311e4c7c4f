from django.contrib import admin

from cobro.einvoice.models import Document
from cobro.ledger.admin import ReadOnlyTenantAdmin


@admin.register(Document)
class DocumentAdmin(ReadOnlyTenantAdmin):
    """Imported e-invoices, read-only: they change only by importing (`cobro import einvoice`)."""

    list_display = ("key", "organization", "format", "kind", "ref", "receiver_tax_id", "created_at")
    list_filter = ("format", "kind")
    search_fields = ("key", "ref", "receiver_tax_id")
