from django.core.management.base import BaseCommand

from cobro.dunning.cli import date_arg, json_line, organization
from cobro.dunning.cycle import run_cycle


class Command(BaseCommand):
    help = ("Run the daily collection cycle of one organization (or preview it with --dry-run). "
            "With --json, prints one JSON object per action this run created.")

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--as-of", dest="as_of", default=None,
                            help="the day to plan, YYYY-MM-DD (default: today in the organization's zone)")
        parser.add_argument("--dry-run", action="store_true", help="show what would be created; write nothing")
        parser.add_argument("--json", action="store_true", help="one JSON object per action, one per line")

    def handle(self, *args, **opts):
        org = organization(opts["org"])
        as_of = date_arg(opts["as_of"], "--as-of", org)
        result = run_cycle(org, as_of, dry_run=opts["dry_run"])
        if opts["json"]:
            for obj in result.created:
                self.stdout.write(json_line(obj))
            return
        verb = "would create" if opts["dry_run"] else "created"
        note = " (nothing changed since the last run for this day)" if result.skipped else ""
        self.stdout.write(f"{org.slug} {as_of.isoformat()}: {verb} {len(result.created)} actions "
                          f"({result.planned} planned in total){note}.")
        for obj in result.created[:50]:
            self.stdout.write(f"  {obj['scheduled_for']}  {obj['customer_ref']:<12} {obj['step']:<12} "
                              f"{obj['action']:<9} {obj['channel']:<9} {', '.join(obj['invoice_refs'])}")
        if len(result.created) > 50:
            self.stdout.write(f"  ... and {len(result.created) - 50} more (use --json for all)")
