"""``cobro forecast --org SLUG --as-of DATE [--json]``: the expected payment date of every invoice open
on that day and the probability it is paid within 30 days after it, from what was known then."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from cobro.engine.money import from_minor
from cobro.insights import cashflow, risk
from cobro.insights.management.commands.report import _date
from cobro.insights.management.commands.risk import dumps, organization


class Command(BaseCommand):
    help = ("Payment-date forecast per invoice open on --as-of: expected payment date and p_paid_30 "
            "(probability it is paid within 30 days after --as-of), trained on what was known then.")

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--as-of", type=_date, required=True, help="the day to answer for (YYYY-MM-DD)")
        parser.add_argument("--json", action="store_true", help="one JSON object per line")
        parser.add_argument("--store", action="store_true",
                            help="also keep the 13-week cash forecast of that day for the Dashboard "
                                 "(replacing one stored earlier for the same day); run it nightly")

    def handle(self, *args, org, as_of, json: bool, store: bool = False, **opts):
        if as_of is None:
            raise CommandError("--as-of is required", returncode=2)
        organization_ = organization(org)
        answer = risk.compute(organization_, as_of)
        for row in answer.forecasts:
            if json:
                self.stdout.write(dumps(row.as_json()))
            else:
                self.stdout.write(f"{row.invoice_ref}\t{row.customer_ref}\t{row.due_date.isoformat()}\t"
                                  f"{row.expected_payment_date.isoformat()}\t{row.p_paid_30:.3f}")
        if store:
            kept = cashflow.store(organization_, answer, as_of)
            for cur, fc in kept.items():
                expected = sum(w.expected for w in fc.weeks)
                self.stderr.write(f"stored the 13-week cash forecast of {as_of.isoformat()} in {cur}: "
                                  f"{from_minor(expected, cur)} expected of {from_minor(fc.open_total, cur)} open")
