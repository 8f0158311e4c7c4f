"""Provider credentials encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256).

Keys come from ``COBRO_CREDENTIALS_KEY``: one or more comma-separated secrets. The first encrypts,
every one decrypts, so a key is rotated by putting the new one first, running
``cobro provider rotate`` (re-encrypts every row with it) and then dropping the old one. Each secret
may be a Fernet key or any passphrase (it is stretched with SHA-256). Without the setting the key is
derived from ``SECRET_KEY``: changing SECRET_KEY then makes stored credentials unreadable.
"""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class CredentialsError(ValueError):
    """Stored credentials cannot be decrypted with the configured keys."""


def _fernet_key(secret: str) -> bytes:
    raw = secret.strip().encode()
    try:
        if len(base64.urlsafe_b64decode(raw)) == 32:
            return raw
    except ValueError:
        pass
    return base64.urlsafe_b64encode(hashlib.sha256(b"cobro-credentials:" + raw).digest())


def _fernet() -> MultiFernet:
    secrets = [s for s in (settings.COBRO_CREDENTIALS_KEY or "").split(",") if s.strip()]
    if not secrets:
        secrets = [settings.SECRET_KEY]
    return MultiFernet([Fernet(_fernet_key(s)) for s in secrets])


def encrypt(values: dict) -> str:
    return _fernet().encrypt(json.dumps(values, sort_keys=True).encode()).decode()


def decrypt(token: str) -> dict:
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken as exc:
        raise CredentialsError("the stored credentials cannot be decrypted with COBRO_CREDENTIALS_KEY "
                               "(or SECRET_KEY): was the key changed without `cobro provider rotate`?") from exc


def rotate(token: str) -> str:
    """The same credentials encrypted with the first (newest) key."""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise CredentialsError("credentials encrypted with a key that is no longer configured") from exc
