"""Files of the import page kept between its two steps (check, then import), on the server.

A checked upload is written under ``COBRO_IMPORT_STAGING_DIR`` (default ``<data dir>/import-staging``)
in a folder named by the organization and the person (``<org id>-<user id>``) and a random token,
files named by their position (never by what the browser said). The session remembers the token;
the second step finds the files only with that session, that person and that organization, so a
token copied to another account or another organization finds nothing. One upload a person and an
organization at a time: a new check removes the previous one; folders older than a day go too.
"""

from __future__ import annotations

import json
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

SESSION_KEY = "cobro_import_staged"
MAX_AGE_SECONDS = 24 * 3600


@dataclass
class Staged:
    token: str
    kind: str
    account: str
    files: list[tuple[str, bytes]]


def _root() -> Path:
    configured = getattr(settings, "COBRO_IMPORT_STAGING_DIR", "")
    return Path(configured) if configured else Path(settings.DATA_DIR) / "import-staging"


def _owner_dir(org, user) -> Path:
    return _root() / f"{int(org.pk)}-{int(user.pk)}"


def _sweep(root: Path) -> None:
    if not root.is_dir():
        return
    limit = time.time() - MAX_AGE_SECONDS
    for owner in root.iterdir():
        for folder in owner.iterdir() if owner.is_dir() else []:
            if folder.stat().st_mtime < limit:
                shutil.rmtree(folder, ignore_errors=True)


def stage(request, kind: str, account: str, files: list[tuple[str, bytes]]) -> str:
    """Keep ``files`` for the second step; returns the token the confirm form sends back."""
    discard(request)
    _sweep(_root())
    token = secrets.token_hex(16)
    folder = _owner_dir(request.org, request.user) / token
    folder.mkdir(parents=True, mode=0o700)
    for n, (_name, data) in enumerate(files):
        (folder / str(n)).write_bytes(data)
    (folder / "meta.json").write_text(json.dumps({"kind": kind, "account": account,
                                                  "names": [name for name, _ in files]}))
    request.session[SESSION_KEY] = {"token": token, "org": request.org.pk}
    return token


def load(request, token: str) -> Staged | None:
    """The files staged by this session for this person and organization under ``token``, or None."""
    remembered = request.session.get(SESSION_KEY) or {}
    if not token or remembered.get("token") != token or remembered.get("org") != request.org.pk:
        return None
    folder = _owner_dir(request.org, request.user) / token
    try:
        meta = json.loads((folder / "meta.json").read_text())
        files = [(name, (folder / str(n)).read_bytes()) for n, name in enumerate(meta["names"])]
    except (OSError, ValueError, KeyError):
        return None
    return Staged(token, meta["kind"], meta["account"], files)


def discard(request) -> None:
    remembered = request.session.pop(SESSION_KEY, None) or {}
    token = remembered.get("token")
    if token and remembered.get("org") == request.org.pk and token.isalnum():
        shutil.rmtree(_owner_dir(request.org, request.user) / token, ignore_errors=True)
