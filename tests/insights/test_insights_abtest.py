"""A/B tests of wording through the real daily cycle: B's customers get B's template, hold-out ones
nothing, exposures are recorded once, a re-run changes nothing, the result comes from the payments,
and applying the winner makes a new version of the policy."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command

from cobro.dunning.cycle import run_cycle
from cobro.dunning.models import Action, Policy, PolicyChange
from cobro.dunning.services import ensure_default_policy
from cobro.engine.abtest import assign
from cobro.insights import abtest
from cobro.insights.models import AbExposure, AbTest
from cobro.ledger.models import Organization, TimelineEvent
from cobro.ledger.services import add_invoice, apply_payment, get_or_create_customer
from cobro.messaging.services import install_default_templates

pytestmark = pytest.mark.django_db
D0 = dt.date(2026, 3, 4)  # a Wednesday: the test's first cycle day
N = 120


@pytest.fixture
def org():
    org = Organization.objects.create(slug="acme", name="Acme", country="CL", currency="CLP",
                                      timezone="America/Santiago")
    ensure_default_policy(org)
    install_default_templates(org)
    return org


@pytest.fixture
def customers(org):
    """N customers in Chile with one invoice due three days before D0: the "+3" step fires on D0."""
    out = {}
    for n in range(N):
        c, _ = get_or_create_customer(org, f"K-{n}", f"Cliente {n}", country="CL", email=f"k{n}@example.com")
        out[c.pk] = (c, add_invoice(org, c, f"F-{n}", D0 - dt.timedelta(days=33), D0 - dt.timedelta(days=3),
                                    "CLP", 100_000 + n))
    return out


def _start(org, **kw):
    args = {"policy_code": "estandar", "step": "+3", "template_b": "overdue_neutral", "metric": "paid",
            "horizon_days": 7, "holdout": 0.1, "today": D0 - dt.timedelta(days=1)}
    return abtest.start(org, **{**args, **kw})


def test_the_cycle_splits_a_tested_step_and_the_result_comes_from_payments(org, customers):
    test = _start(org)
    assert test.starts_on == D0 and test.template_a == "overdue_friendly"
    variant = {cid: assign(test.salt, cid, 0.1) for cid in customers}
    assert {"A", "B", "H"} == set(variant.values())

    run_cycle(org, D0)
    step = {a.customer_id: a for a in Action.objects.for_org(org).filter(as_of=D0, step="+3")}
    for cid, v in variant.items():
        if v == "H":
            assert cid not in step  # hold-out: no message for this step
        else:
            a = step[cid]
            assert a.template == ("overdue_neutral" if v == "B" else "overdue_friendly")
            assert a.key.endswith(":B") == (v == "B")
    exposures = dict(AbExposure.objects.for_org(org).filter(test=test).values_list("customer_id", "variant"))
    assert exposures == variant
    assert set(AbExposure.objects.for_org(org).values_list("day", flat=True)) == {D0}

    # A re-run of the day (the book changed, so it is not skipped) plans the same keys: nothing new.
    before = (Action.objects.for_org(org).count(), AbExposure.objects.for_org(org).count())
    TimelineEvent.objects.create(organization=org, customer=next(iter(customers.values()))[0],
                                 at=dt.datetime(2026, 3, 4, 15, tzinfo=dt.UTC), kind="note", summary="x")
    again = run_cycle(org, D0)
    assert not again.skipped and again.created == []
    assert (Action.objects.for_org(org).count(), AbExposure.objects.for_org(org).count()) == before

    # Every B customer pays on D0+2; one A customer in four on D0+3; one more A customer after the
    # 7-day window (not counted); hold-out customers pay nothing.
    a_ids = sorted(c for c, v in variant.items() if v == "A")
    for cid, v in variant.items():
        c, inv = customers[cid]
        if v == "B":
            apply_payment(org, c, f"P-{cid}", D0 + dt.timedelta(days=2), inv.amount, "CLP", invoice=inv)
    for cid in a_ids[::4]:
        c, inv = customers[cid]
        apply_payment(org, c, f"P-{cid}", D0 + dt.timedelta(days=3), inv.amount, "CLP", invoice=inv)
    late = a_ids[1]
    apply_payment(org, customers[late][0], "P-late", D0 + dt.timedelta(days=9), 10, "CLP")
    for k in range(1, 9):
        run_cycle(org, D0 + dt.timedelta(days=k))
    # One exposure per customer: the later "+7" step is not tested, and "+3" does not fire again.
    assert AbExposure.objects.for_org(org).count() == N

    early = abtest.compute(org, test, D0 + dt.timedelta(days=6))
    assert early.result.a.n == 0 and early.verdict == "Sin conclusión todavía"
    out = abtest.compute(org, test, D0 + dt.timedelta(days=7))
    groups = {g.variant: g for g in out.groups}
    n_a, n_b = len(a_ids), sum(v == "B" for v in variant.values())
    assert (groups["A"].n, groups["B"].n, groups["H"].n) == (n_a, n_b, N - n_a - n_b)
    assert groups["A"].value == pytest.approx(len(a_ids[::4]) / n_a)
    assert groups["B"].value == 1.0 and groups["H"].value == 0.0
    assert out.winner == "B" and out.result.p_value <= 0.05
    assert out.result.low > 0 and out.verdict.startswith("B cobra más: +")

    # The command says the same, one JSON object per line.
    printed = io.StringIO()
    call_command("abtest", "result", str(test.pk), "--org", "acme", "--as-of", "2026-03-11", stdout=printed)
    row = json.loads(printed.getvalue())
    assert (row["winner"], row["verdict"], row["p_value"]) == ("B", out.verdict, round(out.result.p_value, 6))
    assert [(g["variant"], g["n"]) for g in row["groups"]] == [("A", n_a), ("B", n_b), ("H", N - n_a - n_b)]
    assert row["low"] == round(out.result.low, 6) and row["exposed"] == N
    listed = io.StringIO()
    call_command("abtest", "list", "--org", "acme", "--as-of", "2026-03-09", stdout=listed)
    assert [json.loads(x)["verdict"] for x in listed.getvalue().splitlines()] == ["Sin conclusión todavía"]
    other = Organization.objects.create(slug="other", name="Other", country="CL", currency="CLP")
    with pytest.raises(CommandError):
        call_command("abtest", "result", str(test.pk), "--org", other.slug)

    abtest.apply_winner(org, test, today=D0 + dt.timedelta(days=8))
    policy = Policy.objects.for_org(org).get(code="estandar")
    step_def = next(s for s in policy.definition["steps"] if s["code"] == "+3")
    assert step_def["template"] == "overdue_neutral" and policy.version == 2
    assert PolicyChange.objects.for_org(org).filter(policy=policy, version=2).exists()
    test.refresh_from_db()
    assert (test.status, test.winner, test.applied_version, test.ends_on) == ("applied", "B", 2, D0 + dt.timedelta(days=9))


def test_a_test_changes_nothing_before_its_first_day_or_after_it_ended(org, customers):
    test = _start(org, today=D0)  # started on D0: from D0+1
    run_cycle(org, D0)
    assert not AbExposure.objects.exists()
    assert set(Action.objects.for_org(org).filter(step="+3").values_list("template", flat=True)) == {"overdue_friendly"}
    abtest.stop(org, test, today=D0)
    test.refresh_from_db()
    assert test.ends_on == test.starts_on == D0 + dt.timedelta(days=1)
    assert not abtest._live(org, D0 + dt.timedelta(days=1)).exists()


def test_only_one_running_test_per_step_and_b_must_differ(org):
    _start(org)
    with pytest.raises(abtest.AbTestError):
        _start(org, template_b="overdue_firm")
    with pytest.raises(abtest.AbTestError):
        _start(org, step="+7", template_b="overdue_neutral")  # B is A's own template
    with pytest.raises(abtest.AbTestError):
        _start(org, step="+30-cargo")  # not a message step
    with pytest.raises(abtest.AbTestError):
        _start(org, step="+7", template_b="overdue_firm", metric="clicks")
    assert AbTest.objects.count() == 1


def test_no_winner_no_apply(org, customers):
    test = _start(org)
    with pytest.raises(abtest.AbTestError):
        abtest.apply_winner(org, test, today=D0)
    assert Policy.objects.for_org(org).get(code="estandar").version == 1
