"""Replaying two years of a real receivables history (IBM's public sample) through the default policy:
nothing may ever be said about an invoice on or after the day it was settled, and the invoices that
were paid late must have been chased."""

import datetime as dt

import pytest

from cobro.dunning.services import ensure_default_policy
from cobro.dunning.simulate import simulate
from cobro.ledger.models import Invoice, Organization
from ibm_sample import SAMPLE, load_history, us_date

pytestmark = pytest.mark.skipif(not SAMPLE.exists(), reason="shared/data/ar-sample-ibm.csv is not beside the project")


@pytest.fixture
def history(db):
    org = Organization.objects.create(slug="ibm", name="IBM sample", country="US", currency="USD",
                                      timezone="America/New_York", language="en")
    _, rows = load_history(org)
    ensure_default_policy(org)
    return org, rows


def test_replay_never_chases_a_settled_invoice(history):
    org, rows = history
    settled = {r["invoiceNumber"]: us_date(r["SettledDate"]) for r in rows}
    actions = simulate(org, dt.date(2012, 1, 1), dt.date(2013, 12, 31))
    assert actions, "two years of invoices and not one reminder"
    for a in actions:
        day = dt.date.fromisoformat(a["as_of"])
        for ref in a["invoice_refs"]:
            assert day < settled[ref], f"{a['key']} on {day} mentions {ref}, settled {settled[ref]}"
    # Every invoice paid more than a week late was reminded about at least once before it was paid.
    chased = {ref for a in actions for ref in a["invoice_refs"]}
    late = {r["invoiceNumber"] for r in rows if int(r["DaysLate"]) > 7}
    assert late and late <= chased, sorted(late - chased)[:5]
    assert Invoice.objects.for_org(org).filter(status="open").count() == 0  # the replay wrote nothing
