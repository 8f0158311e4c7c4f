"""`cobro import einvoice PATH... --org SLUG [--dry-run]` (files, folders or zips). See docs/import.md."""

from __future__ import annotations

from django.core.management.base import CommandError

from cobro.einvoice import services
from cobro.ledger.models import Organization

HELP = "electronic invoices: UBL 2.1 (Peppol, DIAN), CFDI 4.0, Chile's DTE (files, folders or zips)"


def add_arguments(parser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="XML files, folders or zip archives")
    parser.add_argument("--org", required=True, help="organization slug (its tax id is the issuer's)")
    parser.add_argument("--dry-run", action="store_true", help="check everything, write nothing")


def handle(command, *, paths, org, dry_run, **_):
    organization = Organization.objects.filter(slug=org).first()
    if organization is None:
        raise CommandError(f"no organization {org!r} (see `cobro org list`)")
    try:
        result = services.import_files(organization, services.collect(paths), dry_run=dry_run)
    except services.ImportFailed as failed:
        command.fail(failed.problems)
    command.done(result, dry_run)
