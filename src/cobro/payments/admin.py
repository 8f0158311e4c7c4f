"""Bank accounts are settings (edited here); statements, their lines and learnt aliases are read-only:
they change through ``payments.services`` so every decision lands on the customer's timeline."""

from django.contrib import admin

from cobro.ledger.admin import ReadOnlyTenantAdmin, TenantAdmin
from cobro.payments.models import BankAccount, PayerAlias, Statement, StatementLine


@admin.register(BankAccount)
class BankAccountAdmin(TenantAdmin):
    list_display = ("name", "number", "currency", "country", "show_in_portal", "organization", "folder",
                    "last_statement_date")
    list_filter = ("show_in_portal", "currency", "country")
    search_fields = ("name", "number", "bank_name", "holder")


@admin.register(Statement)
class StatementAdmin(ReadOnlyTenantAdmin):
    list_display = ("id", "organization", "account", "format", "statement_date", "lines_total", "lines_new",
                    "imported_at")


@admin.register(StatementLine)
class StatementLineAdmin(ReadOnlyTenantAdmin):
    list_display = ("booking_date", "organization", "account", "amount", "currency", "text", "status", "customer",
                    "confidence")
    list_filter = ("status", "kind")
    search_fields = ("text", "counterparty", "key")


@admin.register(PayerAlias)
class PayerAliasAdmin(ReadOnlyTenantAdmin):
    list_display = ("kind", "value", "customer", "organization", "created_by", "created_at")
