"""``cobro risk``: each customer's risk score with its reasons, the scorecard, and the backtest.

    cobro risk --org SLUG --as-of DATE [--json] [--store] one line (or JSON object) per customer;
                                                         --store keeps the bands for segments and the Dashboard
    cobro risk scorecard --org SLUG --as-of DATE         the fitted weights (retrained on demand)
    cobro risk backtest --org SLUG --from DATE --to DATE monthly cut-offs, model against naive
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from cobro.engine import risk as engine
from cobro.insights import risk
from cobro.insights.management.commands.report import _date
from cobro.ledger.models import Organization


def organization(slug: str) -> Organization:
    org = Organization.objects.filter(slug=slug).first()
    if org is None:
        raise CommandError(f"no organization {slug!r} (see `cobro org list`)", returncode=2)
    return org


def _fmt(value: float | None, pattern: str = "{:.2f}") -> str:
    return "—" if value is None else pattern.format(value)


class Command(BaseCommand):
    help = ("Risk score per customer with an open balance (0–100, higher = riskier) and its reasons, "
            "from what was known on --as-of; `scorecard` prints the fitted weights; `backtest` measures "
            "the payment-date forecast and p_paid_30 at month-end cut-offs against the naive forecast.")

    def add_arguments(self, parser):
        parser.add_argument("action", nargs="?", choices=["score", "scorecard", "backtest"], default="score",
                            help="score (default), scorecard or backtest")
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--as-of", type=_date, help="the day to answer for (score, scorecard)")
        parser.add_argument("--from", dest="start", type=_date, help="first day of the backtest")
        parser.add_argument("--to", dest="end", type=_date, help="last day of the backtest")
        parser.add_argument("--json", action="store_true", help="one JSON object per line")
        parser.add_argument("--store", action="store_true",
                            help="keep each customer's score and band (segments read them) and the day's "
                                 "distribution per band (the Dashboard shows it)")

    def handle(self, *args, action, org, as_of, start, end, json: bool, store: bool = False, **opts):
        organization_ = organization(org)
        if action == "backtest":
            if start is None or end is None:
                raise CommandError("backtest needs --from and --to (YYYY-MM-DD)", returncode=2)
            if end < start:
                raise CommandError("--to is before --from", returncode=2)
            try:
                result = risk.backtest(organization_, start, end)
            except ValueError as exc:
                raise CommandError(str(exc), returncode=2) from None
            return self.print_backtest(result, json)
        if as_of is None:
            raise CommandError(f"{action} needs --as-of (YYYY-MM-DD)", returncode=2)
        answer = risk.compute(organization_, as_of)
        if action == "scorecard":
            return self.print_scorecard(answer, json)
        if store:
            from cobro.dunning import segments

            segments.store_risk(organization_, as_of, answer.risks, answer.forecasts)
        for row in answer.risks:
            if json:
                self.stdout.write(dumps(row.as_json()))
            else:
                top = "; ".join(r.text for r in row.reasons[:3])
                self.stdout.write(f"{row.customer_ref}\t{row.score}\t{row.band}\t"
                                  f"{row.expected_days_late}\t{top}")

    def print_scorecard(self, answer: risk.Answer, as_json: bool) -> None:
        card = answer.scorecard
        weights = dict(zip(engine.RISK_FACTORS, card.weights, strict=True))
        if as_json:
            self.stdout.write(dumps({"intercept": round(card.intercept, 4),
                                     "weights": {k: round(v, 4) for k, v in weights.items()},
                                     "trained_rows": card.trained_rows, "prior": card.trained_rows == 0}))
            return
        source = f"fitted on {card.trained_rows:,} customer snapshots" if card.trained_rows else "the prior"
        self.stdout.write(f"scorecard ({source}); points = {engine.POINTS_PER_LOGIT:g} × log-odds")
        self.stdout.write(f"  base{card.intercept * engine.POINTS_PER_LOGIT:>+28.1f}")
        for factor, w in weights.items():
            self.stdout.write(f"  {factor:<18}{w * engine.POINTS_PER_LOGIT:>+14.1f} per unit")

    def print_backtest(self, result: engine.Backtest, as_json: bool) -> None:
        pooled = result.pooled()
        if as_json:
            for c in result.cutoffs:
                self.stdout.write(dumps({"cutoff": c.cutoff.isoformat(), "invoices": c.invoices,
                                         "settled": c.settled, "mae": c.mae, "mae_naive": c.mae_naive,
                                         "auc": c.auc, "auc_naive": c.auc_naive}))
            self.stdout.write(dumps({"cutoff": "pooled", **pooled}))
            return
        self.stdout.write("cut-off      open  settled  MAE days  naive MAE  AUC p_paid_30  naive AUC")
        for c in result.cutoffs:
            self.stdout.write(f"{c.cutoff.isoformat()}  {c.invoices:>5}  {c.settled:>7}  {_fmt(c.mae):>8}  "
                              f"{_fmt(c.mae_naive):>9}  {_fmt(c.auc, '{:.3f}'):>13}  "
                              f"{_fmt(c.auc_naive, '{:.3f}'):>9}")
        self.stdout.write(f"pooled      {pooled['invoices']:>5}  {pooled['settled']:>7}  {_fmt(pooled['mae']):>8}  "
                          f"{_fmt(pooled['mae_naive']):>9}  {_fmt(pooled['auc'], '{:.3f}'):>13}  "
                          f"{_fmt(pooled['auc_naive'], '{:.3f}'):>9}")
        self.stdout.write(f"MAE {_fmt(pooled['mae_better_pct'], '{:.1f}')} % better than naive; "
                          f"mean p_paid_30 {_fmt(pooled['mean_p_paid_30'], '{:.3f}')} against "
                          f"{_fmt(pooled['paid_30_rate'], '{:.3f}')} paid within 30 days")


def dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=False)
