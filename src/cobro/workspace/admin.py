"""Workspace settings in the admin (also editable on the settings pages), scoped by organization."""

from django.contrib import admin

from cobro.ledger.admin import TenantAdmin
from cobro.workspace.models import (
    CallScript,
    DelayReason,
    ExchangeRate,
    Invitation,
    LoginFailure,
    SavedView,
    UserPreference,
)


@admin.register(CallScript)
class CallScriptAdmin(TenantAdmin):
    list_display = ("situation", "language", "updated_at", "updated_by")
    list_filter = ("situation", "language")
    exclude = ("updated_by",)


@admin.register(DelayReason)
class DelayReasonAdmin(TenantAdmin):
    list_display = ("position", "code", "label", "active")
    list_filter = ("active",)


@admin.register(Invitation)
class InvitationAdmin(TenantAdmin):
    """Read-only trail of who was invited and what became of it; invitations are sent from Settings."""

    list_display = ("email", "role", "created_at", "accepted_at", "revoked_at")
    list_filter = ("role",)
    readonly_fields = ("email", "role", "invited_by", "created_at", "accepted_at", "accepted_by", "revoked_at")

    def has_add_permission(self, request):
        return False


@admin.register(UserPreference)
class UserPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "language")

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.filter(user=request.user)


@admin.register(LoginFailure)
class LoginFailureAdmin(admin.ModelAdmin):
    """Installation-wide (the admin site keeps it for superusers): who is being locked out, from where."""

    list_display = ("at", "username", "ip")
    search_fields = ("username", "ip")
    readonly_fields = ("at", "username", "ip")


@admin.register(ExchangeRate)
class ExchangeRateAdmin(TenantAdmin):
    """The organization's rates for ranking the day's work (also in Configuración → Tipos de cambio)."""

    list_display = ("currency", "rate", "organization", "updated_at", "updated_by")


@admin.register(SavedView)
class SavedViewAdmin(TenantAdmin):
    """People's named filters of the customers list (they keep and delete them on the list itself)."""

    list_display = ("name", "user", "query", "created_at")
    search_fields = ("name",)
