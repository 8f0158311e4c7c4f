"""``cobro abtest list --org SLUG [--as-of DATE]``: the organization's A/B tests with their verdict on that
day; ``cobro abtest result ID --org SLUG [--as-of DATE]``: one test's groups, difference, interval and
p-value, as JSON (one object per line). Read-only: starting, stopping and applying are the workspace's."""

from __future__ import annotations

import json
import math

from django.core.management.base import BaseCommand, CommandError

from cobro.insights import abtest
from cobro.insights.management.commands.report import _date
from cobro.insights.models import AbTest
from cobro.ledger.models import Organization


def _number(x: float) -> float | None:
    return None if math.isinf(x) else round(x, 6)


def _row(out: abtest.Outcome, full: bool) -> dict:
    t, r = out.test, out.result
    row = {"id": t.pk, "name": t.name, "policy": t.policy_code, "step": t.step, "template_a": t.template_a,
           "template_b": t.template_b, "metric": t.metric, "horizon_days": t.horizon_days, "holdout": t.holdout,
           "status": t.status, "as_of": out.as_of.isoformat(), "winner": r.winner, "verdict": out.verdict}
    if full:
        row.update(groups=[{"variant": g.variant, "template": g.template, "n": g.n, "value": round(g.value, 6)}
                           for g in out.groups],
                   effect=round(r.effect, 6), low=_number(r.low), high=_number(r.high),
                   p_value=round(r.p_value, 6), alpha=t.alpha, exposed=out.exposed)
    return row


class Command(BaseCommand):
    help = "A/B tests of wording: the list with each verdict, or one test's full result (read-only)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="sub", required=True)
        cmd = sub.add_parser("list", help="every test of the organization with its verdict")
        cmd.add_argument("--org", required=True, help="organization slug")
        cmd.add_argument("--as-of", type=_date, help="the day to read the result on (default: today there)")
        cmd = sub.add_parser("result", help="one test's groups, difference, interval and p-value")
        cmd.add_argument("id", type=int, help="the test's id (see `cobro abtest list`)")
        cmd.add_argument("--org", required=True, help="organization slug")
        cmd.add_argument("--as-of", type=_date, help="the day to read the result on (default: today there)")

    def handle(self, *args, sub, org, as_of=None, id=None, **opts):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"no organization {org!r} (see `cobro org list`)")
        tests = AbTest.objects.for_org(organization).order_by("pk")
        if sub == "result":
            test = tests.filter(pk=id).first()
            if test is None:
                raise CommandError(f"no A/B test {id} in {org!r}")
            tests = [test]
        for test in tests:
            self.stdout.write(json.dumps(_row(abtest.compute(organization, test, as_of), sub == "result"),
                                         ensure_ascii=False))
