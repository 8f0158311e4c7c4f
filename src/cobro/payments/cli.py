"""`cobro import statement PATH --org SLUG [--format ...] [--account ACCOUNT] [--dry-run] [--json]`."""

from __future__ import annotations

import json
import sys

from django.core.management.base import CommandError
from django.utils import translation
from django.utils.translation import gettext as _

from cobro.ledger.models import Organization
from cobro.ledger.tables import TableError, read_bytes
from cobro.payments.formats import FORMATS, StatementError

HELP = "a bank statement (CAMT.053, MT940, OFX, Norma 43, CSV/XLSX), matched to invoices"


def add_arguments(parser) -> None:
    parser.add_argument("path", help="the statement file, or - for standard input")
    parser.add_argument("--org", required=True, help="organization slug")
    parser.add_argument("--format", default="auto", choices=("auto",) + FORMATS,
                        help="the file's format (default: detected from its content)")
    parser.add_argument("--account", default=None,
                        help="the bank account (number or name) when the file does not say, or to use its "
                             "saved CSV column mapping and currency")
    parser.add_argument("--dry-run", action="store_true", help="match and print, write nothing")
    parser.add_argument("--json", action="store_true", help="one JSON object per statement line, in file order")


def handle(command, *, path, org, format="auto", account=None, dry_run=False, json=False, **_opts):  # noqa: A002
    from cobro.payments import services

    organization = Organization.objects.filter(slug=org).first()
    if organization is None:
        raise CommandError(f"no organization {org!r} (see `cobro org list`)")
    try:
        data = read_bytes(path)
    except TableError as exc:
        raise CommandError(str(exc)) from None
    try:
        outcome = services.import_statement(organization, data, fmt=format, account=account, filename=str(path),
                                            dry_run=dry_run)
    except StatementError as exc:
        # "line N: message" in the organization's language ("línea N: ..." in Spanish).
        with translation.override(organization.language or "es"):
            command.stderr.write(f"{path}: {exc.localized()}")
            command.stderr.write(_("No se importó nada: %(path)s no es un estado de cuenta válido.") % {"path": path})
        sys.exit(2)
    if json:
        for line in outcome.lines:
            command.stdout.write(_dumps(line.as_json()))
        return
    for line in outcome.lines:
        who = line.customer_ref or "-"
        refs = ",".join(line.invoice_refs) or "-"
        command.stdout.write(f"{line.line:>5} {line.date} {line.as_json()['amount']:>16} {line.currency} "
                             f"{line.status:<9} {who:<12} {refs:<20} {line.confidence:.2f} {line.why}")
    command.stdout.write(("Dry run: " if dry_run else "") + outcome.summary())


def _dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False)
