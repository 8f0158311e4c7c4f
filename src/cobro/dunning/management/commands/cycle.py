from django.core.management.base import BaseCommand, CommandError

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
        parser.add_argument("--shards", type=int, default=None,
                            help="split the day into N shards by customer, one task each, and put them on the "
                                 "queue for `cobro worker` (docs/scaling.md)")

    def handle(self, *args, **opts):
        org = organization(opts["org"])
        as_of = date_arg(opts["as_of"], "--as-of", org)
        if opts["shards"] is not None:
            self.split(org, as_of, opts)
            return
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

    def split(self, org, as_of, opts) -> None:
        from cobro.dunning import shards

        if opts["dry_run"] or opts["json"]:
            raise CommandError("--shards puts the day on the queue; --dry-run and --json are for a run in this process")
        if opts["shards"] < 1:
            raise CommandError("--shards takes a number of shards, 1 or more")
        rows = shards.begin(org, as_of, opts["shards"])
        if not rows:
            self.stdout.write(f"{org.slug} {as_of.isoformat()}: nothing changed since the last run for this day.")
            return
        self.stdout.write(f"{org.slug} {as_of.isoformat()}: enqueued {len(rows)} shards "
                          f"(`cobro worker` runs them; see the CycleShard rows for their progress).")
