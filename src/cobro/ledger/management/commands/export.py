import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cobro.ledger.exporting import write_csv, xlsx_bytes
from cobro.ledger.models import Organization
from cobro.ledger.replica import reading_from_replica


class Command(BaseCommand):
    help = "Export customers, invoices or payments as CSV (to standard output by default) or XLSX."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["customers", "invoices", "payments"])
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
        parser.add_argument("--output", help="file to write (required for xlsx; CSV default: standard output)")

    def handle(self, *args, **opts):
        with reading_from_replica():  # a replica when one is configured and close enough behind
            self._export(**opts)

    def _export(self, *, kind, org, format, output, **opts):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"no organization {org!r} (see `cobro org list`)")
        if format == "xlsx":
            if not output:
                raise CommandError("--output PATH is required for --format xlsx")
            Path(output).write_bytes(xlsx_bytes(organization, kind))
            return
        if output:
            with open(output, "w", encoding="utf-8", newline="") as fh:
                write_csv(organization, kind, fh)
        else:
            write_csv(organization, kind, sys.stdout)
