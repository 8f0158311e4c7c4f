"""The portal in the admin: read-only survey answers and transfer notices, scoped to the user's
organizations (they are written by the debtor through the portal only)."""

from django.contrib import admin

from cobro.ledger.admin import ReadOnlyTenantAdmin
from cobro.portal.models import Survey, TransferNotice


@admin.register(Survey)
class SurveyAdmin(ReadOnlyTenantAdmin):
    list_display = ("created_at", "customer", "rating", "comment")
    list_filter = ("rating",)
    raw_id_fields = ("customer",)


@admin.register(TransferNotice)
class TransferNoticeAdmin(ReadOnlyTenantAdmin):
    list_display = ("created_at", "customer", "invoice_refs", "receipt_name")
    raw_id_fields = ("customer",)
