"""Every day by itself: each bank account's folder is read before the organization's cycle runs.

The bank (or a small job that fetches from the bank's SFTP, see docs/cash-application.md) leaves
statement files in ``BankAccount.folder``. Each file is imported once: afterwards it moves to
``imported/`` beside it, or to ``failed/`` with a ``.error.txt`` naming the line at fault (nothing of a
bad file is written). Re-delivered files cost nothing: their lines are duplicates.

``dunning.cycle.run_cycle`` calls ``read_statements(org, as_of)`` first, so a payment that arrived by
statement this morning stops today's reminder.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from django.utils import translation

from cobro.ledger.models import Organization
from cobro.payments import services
from cobro.payments.formats import StatementError
from cobro.payments.models import BankAccount

log = logging.getLogger(__name__)
SUFFIXES = {".xml", ".053", ".camt", ".sta", ".940", ".mt940", ".txt", ".ofx", ".qfx", ".n43", ".aeb", ".csb",
            ".csv", ".xlsx"}


@dataclass
class FolderResult:
    imported: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    lines: int = 0


def read_statements(org: Organization, as_of: dt.date | None = None) -> FolderResult:
    """Import every statement waiting in the organization's account folders, oldest file first."""
    result = FolderResult()
    for account in BankAccount.objects.for_org(org).exclude(folder=""):
        folder = Path(account.folder)
        if not folder.is_dir():
            log.warning("statement folder of %s is missing: %s", account.number, folder)
            continue
        files = sorted((p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES),
                       key=lambda p: (p.stat().st_mtime, p.name))
        for path in files:
            try:
                outcome = services.import_statement(org, path.read_bytes(), account=account.number,
                                                    filename=str(path), as_of=as_of)
            except StatementError as exc:
                _move(path, folder / "failed")
                with translation.override(org.language or "es"):  # read by the organization's people
                    said = exc.localized()
                (folder / "failed" / f"{path.name}.error.txt").write_text(f"{path.name}: {said}\n", encoding="utf-8")
                result.failed.append((path.name, str(exc)))
                log.warning("statement %s refused: %s", path, exc)
                continue
            _move(path, folder / "imported")
            result.imported.append(path.name)
            result.lines += len(outcome.lines)
    return result


def _move(path: Path, target: Path) -> None:
    target.mkdir(exist_ok=True)
    dest = target / path.name
    n = 1
    while dest.exists():  # the same name delivered again keeps both copies
        dest = target / f"{path.stem}.{n}{path.suffix}"
        n += 1
    shutil.move(str(path), dest)
