"""The organization's short lists every statement request reads (benchmark B4, issue #11): the
payment providers it takes, the bank accounts shown in the portal, the dispute reasons. They change
when a manager edits Settings, not between two debtors' visits, so each is kept in the ``portal``
cache per organization instead of asked of the database on every request.

Saving or deleting a row drops that organization's list at once in the process that saved it (the
team's Settings, the admin, ``cobro provider``); every other process holds a list at most
``COBRO_PORTAL_LISTS_SECONDS`` (10) seconds. What acts on a list (paying, opening a dispute) reads
the database, never this cache: a provider removed a moment ago may still show its button, and
answers the debtor that it is not available.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import caches
from django.db.models.signals import post_delete, post_save

CACHE = "portal"
_MISSING = object()


def _key(kind: str, org_id: int) -> str:
    return f"portal-list:{kind}:{org_id}"


def _cached(kind: str, org, load):
    cache = caches[CACHE]
    found = cache.get(_key(kind, org.pk), _MISSING)
    if found is _MISSING:
        found = load()
        cache.set(_key(kind, org.pk), found, settings.COBRO_PORTAL_LISTS_SECONDS)
    return found


def providers(org) -> list[str]:
    """The providers the organization has credentials for (``providers.services.configured``)."""
    from cobro.providers.services import configured

    return _cached("providers", org, lambda: configured(org))


def bank_accounts(org) -> list:
    """Every account the organization shows in the portal, for any country and currency."""
    from cobro.payments.models import BankAccount

    return _cached("accounts", org, lambda: list(BankAccount.objects.for_org(org).filter(show_in_portal=True)
                                                 .order_by("name", "pk")))


def dispute_reasons(org) -> list:
    """The organization's active dispute reasons (``agreements.services.dispute_reasons``)."""
    from cobro.agreements.services import dispute_reasons as reasons

    return _cached("reasons", org, lambda: reasons(org))


def forget(org_id: int, *kinds: str) -> None:
    caches[CACHE].delete_many([_key(kind, org_id) for kind in kinds or ("providers", "accounts", "reasons")])


def connect() -> None:
    """Drop an organization's list whenever one of its rows is saved or deleted."""
    from cobro.agreements.models import DisputeReason
    from cobro.payments.models import BankAccount

    models = [(BankAccount, "accounts"), (DisputeReason, "reasons")]
    try:
        from cobro.providers.models import ProviderAccount
    except ImportError:  # the providers app is not installed in this build
        pass
    else:
        models.append((ProviderAccount, "providers"))
    for model, kind in models:
        def drop(sender, instance, kind=kind, **kwargs):
            forget(instance.organization_id, kind)

        for signal in (post_save, post_delete):
            signal.connect(drop, sender=model, weak=False, dispatch_uid=f"portal-list-{kind}-{signal is post_save}")
