"""The admin site, scoped by tenant in one place (issue #10.3).

Every ``ModelAdmin`` registered on the site — Cobro's apps, apps written later, ``django.contrib.auth``'s
— is wrapped at registration in ``TenantScope``. For staff who are not superusers:

- a model with an ``organization`` shows and accepts only rows of the organizations the person is a
  member of; every foreign key and many-to-many choice is limited the same way (organizations to their
  own, users to their organizations' members, tenant rows to their organizations' rows); list filters
  on relations show only values found in the rows they may see;
- ``Organization`` shows only their own and cannot be added; users are those of their organizations,
  and their superuser status, staff status, groups and permissions cannot be changed by them;
- every other model (groups, permissions, installation-wide tables) is superuser-only.

``INSTALLED_APPS`` names ``cobro.ledger.admin_site.CobroAdminConfig`` instead of
``django.contrib.admin`` so this site is ``admin.site``.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied

_ORG_IDS = "_cobro_admin_org_ids"
#: Fields of the user model a tenant's staff never set (they would give powers beyond the tenant).
USER_POWER_FIELDS = ("is_superuser", "is_staff", "groups", "user_permissions")


def member_org_ids(request) -> list[int]:
    from cobro.ledger.models import Membership

    ids = getattr(request, _ORG_IDS, None)
    if ids is None:
        ids = list(Membership.objects.filter(user=request.user).values_list("organization_id", flat=True))
        setattr(request, _ORG_IDS, ids)
    return ids


def kind_of(model) -> str:
    """"org" (the tenant table), "user", "tenant" (has an organization) or "global"."""
    from cobro.ledger.models import Organization

    if model is Organization:
        return "org"
    if model is get_user_model():
        return "user"
    if any(getattr(f, "name", None) == "organization" and f.is_relation for f in model._meta.get_fields()):
        return "tenant"
    return "global"


def scope_queryset(qs, request):
    """``qs`` less every row outside the person's organizations (unchanged for superusers)."""
    if request.user.is_superuser:
        return qs
    ids = member_org_ids(request)
    kind = kind_of(qs.model)
    if kind == "org":
        return qs.filter(pk__in=ids)
    if kind == "user":
        return qs.filter(memberships__organization_id__in=ids).distinct()
    if kind == "tenant":
        return qs.filter(organization_id__in=ids)
    return qs.none()


def _scope_field(field, request):
    if field is not None and not request.user.is_superuser and hasattr(field, "queryset"):
        field.queryset = scope_queryset(field.queryset, request)
    return field


class _ScopedFields:
    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        return _scope_field(super().formfield_for_foreignkey(db_field, request, **kwargs), request)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        return _scope_field(super().formfield_for_manytomany(db_field, request, **kwargs), request)


class TenantScope(_ScopedFields):
    """Mixed in front of every registered ModelAdmin by ``CobroAdminSite.register``."""

    def _global_for_staff(self, request) -> bool:
        return not request.user.is_superuser and kind_of(self.model) == "global"

    def get_queryset(self, request):
        return scope_queryset(super().get_queryset(request), request)

    def has_module_permission(self, request):
        return not self._global_for_staff(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return not self._global_for_staff(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args):
        if not request.user.is_superuser and kind_of(self.model) in ("global", "org"):
            return False
        return super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return not self._global_for_staff(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if not request.user.is_superuser and kind_of(self.model) in ("global", "org"):
            return False
        return super().has_delete_permission(request, obj)

    def get_list_filter(self, request):
        filters = list(super().get_list_filter(request))
        if request.user.is_superuser:
            return filters
        out = []
        for item in filters:
            if isinstance(item, str) and "__" not in item:
                try:
                    field = self.model._meta.get_field(item)
                except Exception:
                    field = None
                if field is not None and field.is_relation:
                    # Only the values found among the rows this person may see (their organizations).
                    item = (item, admin.RelatedOnlyFieldListFilter)
            out.append(item)
        return out

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser and kind_of(self.model) == "user":
            fields += [f for f in USER_POWER_FIELDS if f not in fields]
        return fields

    def get_inlines(self, request, obj):
        return [_scoped_inline(i) for i in super().get_inlines(request, obj)]

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser and kind_of(self.model) == "tenant" \
                and obj.organization_id not in member_org_ids(request):
            raise PermissionDenied("That organization is not yours.")
        super().save_model(request, obj, form, change)


_inline_cache: dict[type, type] = {}


def _scoped_inline(inline):
    if issubclass(inline, _ScopedFields):
        return inline
    if inline not in _inline_cache:
        _inline_cache[inline] = type(inline.__name__, (_ScopedFields, inline), {"__module__": inline.__module__})
    return _inline_cache[inline]


class CobroAdminSite(admin.AdminSite):
    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, TenantScope):
            admin_class = type(admin_class.__name__, (TenantScope, admin_class), {"__module__": admin_class.__module__})
        return super().register(model_or_iterable, admin_class, **options)


class CobroAdminConfig(AdminConfig):
    default_site = "cobro.ledger.admin_site.CobroAdminSite"
