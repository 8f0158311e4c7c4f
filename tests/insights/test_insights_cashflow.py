"""The 13-week cash forecast: its maths (exact cases and properties), `cobro forecast --store`, and
the Dashboard's card, read from the stored rows, beside what was actually collected."""

from __future__ import annotations

import datetime as dt
import io
import json
import math

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from hypothesis import given, settings
from hypothesis import strategies as st

from cobro.engine import cashflow
from cobro.insights.models import CashForecastWeek
from cobro.ledger import services as ledger
from cobro.ledger.models import Membership, Organization

AS_OF = dt.date(2026, 3, 10)


def test_one_invoice_lands_in_its_expected_week_and_the_rest_after_the_30_days():
    fc = cashflow.cash_forecast(AS_OF, [(1000, AS_OF + dt.timedelta(days=3), 0.8)])
    w1, w5 = fc.weeks[0], fc.weeks[4]
    assert (w1.start, w1.end) == (dt.date(2026, 3, 11), dt.date(2026, 3, 17))
    sd = 1.2816 * math.sqrt(1000 * 1000 * 0.8 * 0.2)
    assert (w1.expected, w1.low, w1.high) == (800, math.floor(800 - sd), 1000)  # high held at what can land
    assert (w5.expected, w5.low, w5.high) == (200, 0, math.ceil(200 + sd))
    assert all(w.expected == w.low == w.high == 0 for w in fc.weeks if w.index not in (1, 5))
    assert (fc.beyond, fc.open_total) == (0, 1000)


def test_an_invoice_expected_after_the_horizon_brings_only_its_early_share():
    fc = cashflow.cash_forecast(AS_OF, [(5000, AS_OF + dt.timedelta(days=120), 0.1)])
    assert [w.expected for w in fc.weeks] == [0, 0, 0, 0, 500] + [0] * 8  # day 30 is in week 5
    assert fc.beyond == 4500


def test_weeks_of_days():
    assert cashflow.week_of(AS_OF, AS_OF) == 0
    assert [cashflow.week_of(AS_OF, AS_OF + dt.timedelta(days=d)) for d in (1, 7, 8, 91, 92)] == [1, 1, 2, 13, 14]


invoice = st.tuples(st.integers(min_value=0, max_value=10**9), st.integers(min_value=-30, max_value=200),
                    st.floats(min_value=0, max_value=1))


@settings(max_examples=200, deadline=None)
@given(st.lists(invoice, max_size=40))
def test_every_amount_is_counted_once_and_the_range_holds_the_mean(rows):
    items = [(a, AS_OF + dt.timedelta(days=d), p) for a, d, p in rows]
    fc = cashflow.cash_forecast(AS_OF, items)
    assert fc.open_total == sum(a for a, _d, _p in rows if a > 0)
    # conservation: the weeks and what lies beyond add up to the open book (each figure rounded)
    assert abs(sum(w.expected for w in fc.weeks) + fc.beyond - fc.open_total) <= (cashflow.WEEKS + 1) / 2
    # the first four weeks hold only early shares, so never more than Σ amount × p_paid_30
    early = sum(a * p for a, _d, p in rows if a > 0)
    assert sum(w.expected for w in fc.weeks[:4]) <= early + 4
    for w in fc.weeks:
        assert 0 <= w.low <= w.expected <= w.high <= fc.open_total
        assert w.end - w.start == dt.timedelta(days=6)
    for _a, d, p in rows:
        got = cashflow.shares(AS_OF, AS_OF + dt.timedelta(days=d), p)
        assert math.isclose(sum(q for _w, q in got), 1.0)
        assert all(1 <= w <= cashflow.WEEKS + 1 for w, _q in got)


# -- stored, and on the Dashboard ----------------------------------------------------------------------


@pytest.fixture
def acme(db):
    org = Organization.objects.create(slug="acme", name="Acme", currency="CLP", timezone="America/Santiago")
    c, _ = ledger.get_or_create_customer(org, "C1", "Ferretería Los Andes")
    d, _ = ledger.get_or_create_customer(org, "C2", "Panadería Sur")
    ledger.add_invoice(org, c, "F1", dt.date(2026, 1, 20), dt.date(2026, 2, 19), "CLP", 400_000)
    f2 = ledger.add_invoice(org, d, "F2", dt.date(2026, 2, 10), dt.date(2026, 3, 12), "CLP", 250_000)
    ledger.add_invoice(org, c, "F3", dt.date(2026, 3, 1), dt.date(2026, 3, 31), "CLP", 90_000)
    ledger.apply_payment(org, d, "P1", dt.date(2026, 3, 4), 100_000, "CLP", invoice=f2)
    return org


def forecast(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("forecast", "--org", "acme", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_store_keeps_13_weeks_that_match_the_forecast_and_replaces_a_rerun(acme):
    out, err = forecast("--as-of", AS_OF.isoformat(), "--json", "--store")
    rows = [json.loads(line) for line in out.splitlines()]
    assert sorted(r["invoice_ref"] for r in rows) == ["F1", "F2", "F3"]
    assert set(rows[0]) >= {"invoice_ref", "expected_payment_date", "p_paid_30"}
    expected = cashflow.cash_forecast(AS_OF, [
        (int(round(float(r["open_amount"]))), dt.date.fromisoformat(r["expected_payment_date"]), r["p_paid_30"])
        for r in rows])
    stored = list(CashForecastWeek.objects.for_org(acme).filter(made_on=AS_OF).order_by("week"))
    assert [(s.week, s.week_start, s.expected, s.low, s.high) for s in stored] == [
        (w.index, w.start, w.expected, w.low, w.high) for w in expected.weeks]
    assert expected.open_total == 400_000 + 150_000 + 90_000
    assert "stored the 13-week cash forecast of 2026-03-10 in CLP" in err
    forecast("--as-of", AS_OF.isoformat(), "--store")
    assert CashForecastWeek.objects.for_org(acme).filter(made_on=AS_OF).count() == 13


def test_the_dashboard_reads_the_stored_forecast_and_sets_past_weeks_beside_what_came_in(acme, client):
    forecast("--as-of", "2026-02-28", "--store")   # its week 1 is 1–7 March: P1 (100,000) came in then
    forecast("--as-of", AS_OF.isoformat(), "--store")
    user = get_user_model().objects.create_user("viewer", password="pw")
    Membership.objects.create(user=user, organization=acme, role="viewer")
    client.force_login(user)
    response = client.get("/insights/?start=2026-01-01&end=2026-03-10&currency=CLP")
    assert response.status_code == 200
    cash = response.context["cash"]
    assert cash["made_on"] == AS_OF and len(cash["weeks"]) == 13
    assert cash["weeks"][0]["start"] == dt.date(2026, 3, 11)
    week1 = CashForecastWeek.objects.for_org(acme).get(made_on=dt.date(2026, 2, 28), week=1)
    [tracked] = cash["tracked"]
    assert (tracked["start"], tracked["end"]) == (dt.date(2026, 3, 1), dt.date(2026, 3, 7))
    assert tracked["actual"] == "$100.000" and tracked["within"] == (week1.low <= 100_000 <= week1.high)
    html = response.content.decode()
    assert "Pronóstico de caja a 13 semanas (CLP)" in html and 'id="cash-tracked"' in html
    # a day before any forecast was stored: the card says so, nothing is computed
    response = client.get("/insights/?start=2026-01-01&end=2026-02-20&currency=CLP")
    assert response.context["cash"]["made_on"] is None and "Aún no hay pronóstico guardado" in response.content.decode()
