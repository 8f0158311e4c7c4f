"""API keys: made once, shown once, stored as a digest, checked in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.utils import timezone

from cobro.api.models import ApiKey
from cobro.ledger.models import Organization

PREFIX = "cobro_"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(org: Organization, name: str, scope: str = ApiKey.Scope.READ) -> tuple[ApiKey, str]:
    """A new key for ``org``; returns the row and the key text, which is never stored nor shown again."""
    if scope not in ApiKey.Scope.values:
        raise ValueError(f"unknown scope {scope!r}: use read or write")
    if not name.strip():
        raise ValueError("a key needs a name (what uses it: 'ERP nightly sync')")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey.objects.create(organization=org, name=name.strip()[:100], prefix=prefix,
                                digest=_digest(secret), scope=scope)
    return key, f"{PREFIX}{prefix}_{secret}"


def authenticate(text: str) -> ApiKey | None:
    """The live key that ``text`` is, or None (unknown, malformed, revoked)."""
    if not text.startswith(PREFIX):
        return None
    prefix, _, secret = text[len(PREFIX):].partition("_")
    if not prefix or not secret:
        return None
    key = ApiKey.objects.select_related("organization").filter(prefix=prefix, revoked_at=None).first()
    if key is None or not hmac.compare_digest(key.digest, _digest(secret)):
        return None
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)  # at most once a minute
    return key


def revoke(org: Organization, prefix: str) -> bool:
    return bool(ApiKey.objects.for_org(org).filter(prefix=prefix, revoked_at=None)
                .update(revoked_at=timezone.now()))
