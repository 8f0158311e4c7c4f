"""`cobro risk --store` keeps the bands the segments read and the Dashboard's distribution per band."""

import json

from cobro.dunning.models import CustomerRisk, RiskBandTotal
from test_insights_risk import org, run, small_book  # noqa: F401 (the fixture)


def test_store_keeps_what_the_command_prints(org):  # noqa: F811
    small_book(org)
    printed = [json.loads(line) for line in
               run("risk", "--org", "acme", "--as-of", "2026-03-10", "--json", "--store").splitlines()]
    kept = {ref: (score, band) for ref, score, band in
            CustomerRisk.objects.filter(organization=org).values_list("customer__ref", "score", "band")}
    assert kept == {r["customer_ref"]: (r["score"], r["band"]) for r in printed}
    totals = list(RiskBandTotal.objects.filter(organization=org).values_list("currency", "band", "customers",
                                                                             "open_amount"))
    # Open on March 10: F-2 (K-1, 300.00), F-3 (K-2, 50.00), F-4 (K-3, 80.00), in cents.
    assert sum(n for _c, _b, n, _a in totals) == 3 and sum(a for *_x, a in totals) == 43000
    band = {r["customer_ref"]: r["band"] for r in printed}
    assert sum(a for _c, b, _n, a in totals if b == band["K-1"]) >= 30000
    # Without --store nothing is written.
    CustomerRisk.objects.all().delete()
    run("risk", "--org", "acme", "--as-of", "2026-03-10")
    assert not CustomerRisk.objects.exists()
