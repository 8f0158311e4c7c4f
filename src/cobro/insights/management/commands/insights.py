"""``cobro insights rebuild|check --org SLUG``: the Dashboard's daily totals; ``cobro insights results --org
SLUG --as-of DATE``: results per step, channel and template, kept for the Dashboard (run it nightly)."""

from __future__ import annotations

import json
import time

from django.core.management.base import BaseCommand, CommandError

from cobro.insights import results, totals
from cobro.insights.management.commands.report import _date
from cobro.ledger.models import Organization


class Command(BaseCommand):
    help = ("The Dashboard's daily totals: `rebuild` recomputes them from the ledger's rows (they are kept "
            "with every write; rebuild after restoring a backup or editing the database by hand), `check` "
            "compares the kept ones with a recompute and exits 1 when they differ.")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="sub", required=True)
        for name, text in (("rebuild", "recompute the daily totals from scratch"),
                           ("check", "compare the kept totals with a recompute, changing nothing")):
            cmd = sub.add_parser(name, help=text)
            cmd.add_argument("--org", help="organization slug (default: every organization)")
        cmd = sub.add_parser("results", help="results per step, channel and template against comparable "
                                             "customers not contacted that day, kept for the Dashboard")
        cmd.add_argument("--org", help="organization slug (default: every organization)")
        cmd.add_argument("--as-of", type=_date, required=True, help="the day to compute for (YYYY-MM-DD)")

    def handle(self, *args, sub, org=None, as_of=None, **opts):
        if org:
            orgs = list(Organization.objects.filter(slug=org))
            if not orgs:
                raise CommandError(f"no organization {org!r} (see `cobro org list`)")
        else:
            orgs = list(Organization.objects.order_by("slug"))
        differ = False
        for organization in orgs:
            start = time.perf_counter()
            if sub == "results":
                out = {"organization": organization.slug, "as_of": as_of.isoformat(),
                       "rows": results.compute_and_store(organization, as_of)}
            elif sub == "rebuild":
                days, applied = totals.rebuild(organization)
                out = {"organization": organization.slug, "daily_rows": days, "applied_rows": applied}
            else:
                same = totals.kept(organization) == totals.recompute(organization)
                differ |= not same
                out = {"organization": organization.slug, "agree": same}
            out["seconds"] = round(time.perf_counter() - start, 2)
            self.stdout.write(json.dumps(out))
        if differ:
            raise SystemExit(1)
