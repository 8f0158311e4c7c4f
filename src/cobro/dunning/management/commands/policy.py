import sys

from django.core.management.base import BaseCommand, CommandError

from cobro.dunning.cli import organization
from cobro.dunning.services import DunningError, ensure_default_policy, export_policies, import_policies


class Command(BaseCommand):
    help = "Export or import an organization's collection policies as YAML."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export", help="print the policies as YAML")
        export.add_argument("--org", required=True, help="organization slug")
        imp = sub.add_parser("import", help="create or replace policies from a YAML file (all or nothing)")
        imp.add_argument("path", help="YAML file, or - for standard input")
        imp.add_argument("--org", required=True, help="organization slug")

    def handle(self, *args, action, **opts):
        org = organization(opts["org"])
        if action == "export":
            ensure_default_policy(org)
            self.stdout.write(export_policies(org), ending="")
            return
        try:
            text = sys.stdin.read() if opts["path"] == "-" else open(opts["path"], encoding="utf-8").read()
        except OSError as exc:
            raise CommandError(f"cannot read {opts['path']}: {exc.strerror}") from None
        try:
            rows = import_policies(org, text)
        except DunningError as exc:
            raise CommandError(str(exc)) from None
        for row in rows:
            self.stdout.write(f"policy {row.code} (version {row.version}){' default' if row.is_default else ''}")
