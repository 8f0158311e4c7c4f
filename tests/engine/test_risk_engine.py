"""The risk engine's maths: the scorecard's points add up to its log-odds, the score stays in 0–100
and never falls as days late rise, the fit respects the signs, the snapshot sees no later fact."""

import datetime as dt

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cobro.engine import risk

D = dt.date(2025, 1, 1)


def factors(**values):
    row = np.zeros(len(risk.RISK_FACTORS))
    for k, v in values.items():
        row[risk.RISK_FACTORS.index(k)] = v
    return row[None, :]


weights = st.lists(st.floats(0, 3), min_size=len(risk.RISK_FACTORS), max_size=len(risk.RISK_FACTORS))
values = st.lists(st.floats(0, 20), min_size=len(risk.RISK_FACTORS), max_size=len(risk.RISK_FACTORS))


@given(st.floats(-5, 5), weights, values)
def test_points_sum_to_the_log_odds_and_score_in_range(intercept, w, x):
    w = np.array(w) * risk.RISK_SIGNS
    card = risk.Scorecard(intercept, tuple(w))
    f = np.array(x)[None, :]
    logit = card.logits(f)[0]
    assert abs(card.base_points + card.points(f).sum() - logit * risk.POINTS_PER_LOGIT) < 1e-9
    score = int(np.round(100 * risk.sigmoid(np.array([logit])))[0])
    assert 0 <= score <= 100


@given(weights, st.floats(0, 20), st.floats(0, 20))
def test_score_monotone_in_days_late(w, a, b):
    card = risk.Scorecard(-1.0, tuple(np.array(w) * risk.RISK_SIGNS))
    lo, hi = sorted((a, b))
    assert card.logits(factors(days_late=hi))[0] >= card.logits(factors(days_late=lo))[0]


def test_fit_recovers_a_known_scorecard_and_holds_wrong_signs_at_zero():
    rng = np.random.default_rng(1)
    x = np.column_stack([rng.uniform(0, 3, 4000) if j < 3 else np.zeros(4000)
                         for j in range(len(risk.RISK_FACTORS))])
    # days_late raises risk, share_late does nothing, trend (which must raise risk) lowers it in the data
    true = -1.0 + 1.2 * x[:, 0] - 0.8 * x[:, 2]
    y = (rng.uniform(size=4000) < risk.sigmoid(true)).astype(float)
    intercept, w = risk.fit_scorecard(x, y)
    assert abs(w[0] - 1.2) < 0.2
    assert w[2] == 0.0
    assert all(w * risk.RISK_SIGNS >= 0)


def test_little_history_stays_near_the_prior():
    x = np.zeros((5, len(risk.RISK_FACTORS)))
    x[:, 0] = 1.0
    intercept, w = risk.fit_scorecard(x, np.array([0, 0, 1, 0, 0.0]))
    assert np.allclose(w[1:], risk.PRIOR_WEIGHTS[1:], atol=0.05)


def book(extra_payment=False, extra_invoice=False):
    invoices = [("C1", "A1", D, D + dt.timedelta(30), 10000, D + dt.timedelta(50), False),
                ("C1", "A2", D + dt.timedelta(40), D + dt.timedelta(70), 20000, None, False),
                ("C2", "B1", D, D + dt.timedelta(30), 5000, D + dt.timedelta(20), False),
                ("C2", "B2", D + dt.timedelta(60), D + dt.timedelta(90), 5000, None, False)]
    reductions = [("A1", D + dt.timedelta(50), 10000), ("B1", D + dt.timedelta(20), 5000)]
    if extra_payment:  # after the day asked about
        invoices[1] = invoices[1][:5] + (D + dt.timedelta(100), False)
        reductions.append(("A2", D + dt.timedelta(100), 20000))
    if extra_invoice:
        invoices.append(("C3", "Z9", D + dt.timedelta(95), D + dt.timedelta(125), 999, None, False))
    return risk.book_from_rows(invoices, reductions, promises=[("C1", D, D + dt.timedelta(5), "broken")])


def test_snapshot_sees_only_what_was_known():
    s = risk.day(D + dt.timedelta(80))
    snap = risk.snapshot(book(), s)
    assert [book().inv_refs[i] for i in snap.invoices] == ["A2", "B2"]
    f = dict(zip(risk.FORECAST_FEATURES, snap.features[0], strict=True))
    assert f["mean_late_pos"] == 20 and f["days_to_due"] == -10 and f["promises_broken"] == 1
    c1 = dict(zip(risk.RISK_FACTORS, snap.factors[0], strict=True))
    assert c1["days_late"] == 2.0 and c1["share_late"] == 1.0 and c1["open_age"] == 10 / 30
    for later in (book(extra_payment=True), book(extra_invoice=True)):
        other = risk.snapshot(later, s)
        assert np.array_equal(other.features, snap.features) and np.array_equal(other.factors, snap.factors)


def test_auc_counts_ties_half():
    assert risk.auc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1])) == 0.75
    assert risk.auc(np.array([0.5, 0.5]), np.array([0, 1])) == 0.5
    assert risk.auc(np.array([0.5]), np.array([1])) is None


@settings(max_examples=30)
@given(st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31)), st.integers(0, 40))
def test_month_ends(start, span):
    end = start + dt.timedelta(days=span * 31)
    ends = risk.month_ends(start, end)
    assert all(start <= e <= end and (e + dt.timedelta(1)).day == 1 for e in ends)
    assert len(ends) == len({(e.year, e.month) for e in ends})
