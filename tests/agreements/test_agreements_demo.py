"""The demo organization shows one agreement of each kind, and a second run adds nothing."""

from __future__ import annotations

import datetime as dt

from cobro.agreements import cycle, demo
from cobro.agreements.models import Dispute, Fee, Plan, Promise
from cobro.ledger.demo import ensure_demo
from cobro.ledger.models import Task

TODAY = dt.date(2026, 11, 23)


def test_demo_has_each_kind_and_is_idempotent(db):
    org, _ = ensure_demo(TODAY, customers=60)
    demo.populate(org, TODAY)
    assert set(Promise.objects.values_list("status", flat=True)) == {"kept", "broken", "pending"}
    assert set(Plan.objects.values_list("status", flat=True)) == {"active", "broken", "proposed"}
    assert set(Dispute.objects.values_list("status", flat=True)) == {"open", "answered", "invalid", "valid"}
    assert set(Fee.objects.values_list("status", flat=True)) == {"posted", "waived"}
    assert Task.objects.filter(kind="agreement_broken").count() == 2
    counts = [Model.objects.count() for Model in (Promise, Plan, Dispute, Fee, Task)]
    demo.populate(org, TODAY)
    assert [Model.objects.count() for Model in (Promise, Plan, Dispute, Fee, Task)] == counts
    holds, items = cycle.load(org, TODAY)
    assert {h.kind for h in holds} == {"promise", "plan", "dispute"}
    assert "dispute_resolved" in {i.kind for i in items}
