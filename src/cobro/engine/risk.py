"""Risk score, payment-date forecast and their backtest: plain rows in, numbers out.

Nothing here imports Django or reads the clock. The caller hands over a ``Book`` (the organization's
invoices, the reductions of their balances, promises, plans, disputes and contact attempts, dates as
day numbers) and an ``as_of`` day; every function looks only at facts dated on or before the day it
is asked about, so the answer for a day is the same whether or not later facts exist.

How a day is answered (docs/insights.md tells users the same):

1. **Snapshots.** On each of up to ``MAX_SNAPSHOTS`` earlier days ``s`` (weekly, the latest 30 days
   before ``as_of``), the invoices open on ``s`` and their customers are described with what was known
   on ``s``: days late so far, share paid late, trend, promises kept and broken, broken plans,
   disputes, the amount and age of the open balance and the reach rate.
2. **Labels** come from what happened in the 30 days after ``s`` (known on ``as_of``): the day each
   invoice was paid, whether it was paid within 30 days, whether the customer still owed money past
   its due date 30 days later.
3. **Models.** The payment date is a gradient-boosting regression of the days from ``s`` to payment
   (absolute error, monotone in the customer's days late); ``p_paid_30`` a gradient-boosting
   classifier. The risk score is a logistic regression over ``RISK_FACTORS`` fitted by Newton's method
   with a Gaussian prior centred on ``PRIOR_WEIGHTS``: with little history the documented prior
   decides, with more the organization's own data does. A factor whose fitted weight comes out with
   the wrong sign is held at zero (the score never falls as days late rise).
4. **Points.** Score = 100 × the logistic probability; each reason's points are ``POINTS_PER_LOGIT`` ×
   the factor's share of the log-odds, so ``base + Σ points`` is the score's log-odds in points.

With fewer than ``MIN_TRAINING_ROWS`` labelled invoices the forecast falls back to the naive one
(due date + the customer's average days late so far) and to the prior scorecard.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import operator
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

#: The horizon of ``p_paid_30`` and of the risk label, in days.
HORIZON = 30
#: Snapshot spacing (days) and how many snapshots a model is trained on at most.
SNAPSHOT_STEP = 7
MAX_SNAPSHOTS = 52
#: Training rows kept at most (a deterministic sample beyond it keeps large books fast).
MAX_TRAINING_ROWS = 50_000
#: Below this many labelled invoices the forecast is the naive one and the scorecard the prior.
MIN_TRAINING_ROWS = 150
#: How many of the latest paid invoices make "days late lately".
RECENT = 6
#: A day number for "not closed (yet)".
NEVER = 10**9
POINTS_PER_LOGIT = 10.0
#: Threads the gradient boosting may use to fit and predict, set explicitly rather than left to
#: OpenMP's default (every core, which on a shared server oversubscribes it and makes the time
#: erratic). ``COBRO_RISK_THREADS`` overrides it; the answers are the same whatever it is.
BOOSTING_THREADS = max(1, int(os.environ.get("COBRO_RISK_THREADS", "2")))

#: The scorecard's factors, in the order of the weights. Each is 0 for a customer with a clean record.
RISK_FACTORS: tuple[str, ...] = (
    "days_late",          # average days late of the latest RECENT paid invoices, per 10 days
    "share_late",         # share of paid invoices paid after their due date (0–1)
    "trend",              # lately minus before (days late per 10 days), worsening only
    "promises_broken",    # promises broken in the last 365 days (capped at 5)
    "promises_kept",      # promises kept in the last 365 days (capped at 5; lowers the score)
    "plans_broken",       # payment plans broken in the last 365 days (capped at 3)
    "disputes",           # disputes opened in the last 365 days (capped at 3)
    "open_amount",        # log(1 + open balance ÷ the customer's average invoice)
    "open_age",           # days past due of the oldest open invoice, per 30 days (capped at 6)
    "unreached",          # share of contact attempts in the last 365 days that failed (0–1)
    "no_history",         # 1 when the customer has never paid an invoice yet
)
#: The sign a factor's weight must have (+1 raises risk, -1 lowers it).
RISK_SIGNS = np.array([1, 1, 1, 1, -1, 1, 1, 1, 1, 1, 1], dtype=float)
#: The prior scorecard (log-odds per unit of each factor), and its intercept: a new organization's
#: score. Chosen so that a customer with a clean record scores about 12, one paying 20 days late
#: with half of its invoices late about 45, one that also broke a promise and is 60 days past due
#: about 85.
PRIOR_INTERCEPT = -2.0
PRIOR_WEIGHTS = np.array([0.6, 1.0, 0.3, 0.5, -0.3, 0.7, 0.4, 0.3, 0.8, 1.0, 0.5])
#: Precision of the Gaussian prior (per weight): the number of labelled rows at which the data
#: outweighs the prior is of the order of PRIOR_STRENGTH / 0.2.
PRIOR_STRENGTH = 20.0
_CAPS = np.array([10.0, 1.0, 3.0, 5.0, 5.0, 3.0, 3.0, 10.0, 6.0, 1.0, 1.0])

#: Bands of the score, from the top: (lowest score, band).
BANDS: tuple[tuple[int, str], ...] = ((60, "high"), (30, "medium"), (0, "low"))

_EPOCH = dt.date(1970, 1, 1).toordinal()


def day(d: dt.date) -> int:
    return d.toordinal() - _EPOCH


_day = day


def date_of(n: int) -> dt.date:
    return dt.date.fromordinal(int(n) + _EPOCH)


def band_of(score: int) -> str:
    for lowest, name in BANDS:
        if score >= lowest:
            return name
    return BANDS[-1][1]


# -- the book ------------------------------------------------------------------------------------


@dataclass
class Book:
    """One organization's facts as arrays (day numbers from ``day()``; amounts in minor units).

    Invoices: ``inv_customer`` indexes ``customers``; ``inv_closed`` is the day the balance reached
    zero (``NEVER`` when open); ``inv_credited`` marks invoices closed by a credit note (they close
    but say nothing about paying). ``red_*``: payments and credits applied to invoices (invoice index,
    day, amount), for balances on a past day. Events: promises (made, resolved, kept/broken), broken
    plans, disputes and contact attempts (day, failed) per customer index.
    """

    customers: list[str]
    inv_refs: list[str]
    inv_customer: np.ndarray
    inv_issue: np.ndarray
    inv_due: np.ndarray
    inv_amount: np.ndarray
    inv_closed: np.ndarray
    inv_credited: np.ndarray
    red_invoice: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    red_day: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    red_amount: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=float))
    prom_customer: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    prom_resolved: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    prom_kept: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    plan_customer: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    plan_broken: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    disp_customer: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    disp_day: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    contact_customer: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    contact_day: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    contact_failed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    _history: tuple | None = field(default=None, repr=False)

    @property
    def n_customers(self) -> int:
        return len(self.customers)

    def history(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Paid (not credited) invoices sorted by customer and closing day: order, group starts,
        cumulative days late (clipped at 0) and cumulative days late (signed)."""
        if self._history is None:
            paid = np.flatnonzero((self.inv_closed < NEVER) & ~self.inv_credited)
            order = paid[np.lexsort((self.inv_closed[paid], self.inv_customer[paid]))]
            counts = np.bincount(self.inv_customer[order], minlength=self.n_customers)
            starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
            late = (self.inv_closed[order] - self.inv_due[order]).astype(float)
            cum_pos = np.concatenate(([0.0], np.cumsum(np.maximum(late, 0))))
            self._history = (order, starts, cum_pos, late)
        return self._history


def book_from_rows(invoices: Iterable[Sequence], reductions: Iterable[Sequence] = (),
                   promises: Iterable[Sequence] = (), plans: Iterable[Sequence] = (),
                   disputes: Iterable[Sequence] = (), contacts: Iterable[Sequence] = (),
                   as_of: dt.date | None = None) -> Book:
    """Build a ``Book`` from plain rows, keeping only what was known on ``as_of`` (when given).

    - invoices: ``(customer_ref, invoice_ref, issued, due, amount, closed_on | None, credited)``
    - reductions: ``(invoice_ref, date, amount)`` (payments applied and credit notes)
    - promises: ``(customer_ref, made_on, resolved_on | None, status)`` (``kept``/``broken``/...)
    - plans: ``(customer_ref, ended_on | None, status)``; disputes: ``(customer_ref, opened_on)``
    - contacts: ``(customer_ref, date, failed)``

    Customers and invoices are ordered by reference, so later facts never change the order of
    what was already known.
    """
    day = functools.lru_cache(maxsize=None)(_day)  # a book has few distinct dates and many rows
    limit = day(as_of) if as_of is not None else NEVER - 1
    every = invoices if isinstance(invoices, list) else list(invoices)
    issue_all = _day_column(every, 2)
    keep = np.flatnonzero(issue_all <= limit)
    kept = [every[i] for i in keep] if len(keep) < len(every) else every
    # Ordered by (customer, invoice) reference, in C: the order Python's sort of the tuples gives.
    cust_col = np.array(list(map(operator.itemgetter(0), kept)), dtype=str)
    ref_col = np.array(list(map(operator.itemgetter(1), kept)), dtype=str)
    order = np.lexsort((ref_col, cust_col))
    customers_arr, inv_customer = np.unique(cust_col[order], return_inverse=True)
    customers = customers_arr.tolist()
    cindex = {c: i for i, c in enumerate(customers)}
    ref_sorted = ref_col[order]
    refs = ref_sorted.tolist()
    closed = _day_column(kept, 5)[order]
    credited = np.array(list(map(operator.itemgetter(6), kept)), dtype=bool).reshape(-1)[order]
    credited &= closed <= limit
    closed[closed > limit] = NEVER
    # Each reduction's invoice, found by reference with a binary search (refs are unique per book).
    reductions = reductions if isinstance(reductions, list) else list(reductions)
    by_ref = np.argsort(ref_sorted, kind="stable")
    red_ref = np.array(list(map(operator.itemgetter(0), reductions)), dtype=str)
    pos = np.minimum(np.searchsorted(ref_sorted[by_ref], red_ref), max(len(refs) - 1, 0))
    found = (ref_sorted[by_ref][pos] == red_ref) if len(refs) else np.zeros(len(red_ref), dtype=bool)
    red_i = np.where(found, by_ref[pos] if len(refs) else 0, -1).astype(np.int64)
    red_d = _day_column(reductions, 1)
    red_a = np.array(list(map(operator.itemgetter(2), reductions)), dtype=float).reshape(-1)
    known = (red_i >= 0) & (red_d <= limit)
    red_i, red_d, red_a = red_i[known], red_d[known], red_a[known]
    prom = [(cindex[r[0]], day(r[2]), r[3] == "kept") for r in promises
            if r[0] in cindex and day(r[1]) <= limit and r[2] is not None and day(r[2]) <= limit
            and r[3] in ("kept", "broken")]
    plan = [(cindex[r[0]], day(r[1])) for r in plans
            if r[0] in cindex and r[1] is not None and day(r[1]) <= limit and r[2] == "broken"]
    disp = [(cindex[r[0]], day(r[1])) for r in disputes if r[0] in cindex and day(r[1]) <= limit]
    cont = [(cindex[r[0]], day(r[1]), bool(r[2])) for r in contacts if r[0] in cindex and day(r[1]) <= limit]

    def cols(items, kinds):
        if not items:
            return [np.zeros(0, dtype=k) for k in kinds]
        return [np.fromiter((row[j] for row in items), dtype=k, count=len(items)) for j, k in enumerate(kinds)]

    i64 = np.int64
    p_c, p_d, p_k = cols(prom, (i64, i64, bool))
    pl_c, pl_d = cols(plan, (i64, i64))
    d_c, d_d = cols(disp, (i64, i64))
    c_c, c_d, c_f = cols(cont, (i64, i64, bool))
    return Book(
        customers=customers, inv_refs=refs, inv_customer=inv_customer.astype(np.int64).reshape(-1),
        inv_issue=issue_all[keep][order], inv_due=_day_column(kept, 3)[order],
        inv_amount=np.array(list(map(operator.itemgetter(4), kept)), dtype=float).reshape(-1)[order],
        inv_closed=closed, inv_credited=credited,
        red_invoice=red_i, red_day=red_d, red_amount=red_a,
        prom_customer=p_c, prom_resolved=p_d, prom_kept=p_k,
        plan_customer=pl_c, plan_broken=pl_d, disp_customer=d_c, disp_day=d_d,
        contact_customer=c_c, contact_day=c_d, contact_failed=c_f)


def _day_column(rows: Sequence[Sequence], j: int) -> np.ndarray:
    """Column ``j`` of ``rows`` (dates, or None for "never") as day numbers: each distinct date is
    converted once, the rest are dictionary look-ups done in C."""
    col = list(map(operator.itemgetter(j), rows))
    days = {d: NEVER if d is None else _day(d) for d in set(col)}
    return np.fromiter(map(days.__getitem__, col), dtype=np.int64, count=len(col))


# -- what was known on a day ----------------------------------------------------------------------


@dataclass
class Snapshot:
    """The invoices open on ``day`` and their customers, described with what was known then."""

    day: int
    invoices: np.ndarray          # indexes into the book's invoices
    open_amount: np.ndarray       # their balances on that day
    features: np.ndarray          # forecast features, one row per invoice
    naive_days: np.ndarray        # the naive forecast, days from ``day`` to payment
    customers: np.ndarray         # customers with an open balance on that day
    factors: np.ndarray           # RISK_FACTORS values, one row per customer (raw, uncapped)
    recent_n: np.ndarray          # how many paid invoices "days late lately" averages (≤ RECENT)


FORECAST_FEATURES: tuple[str, ...] = (
    "days_to_due", "age", "terms", "amount_ratio", "paid_count", "mean_late", "mean_late_pos",
    "share_late", "recent_late", "trend", "mean_settle", "naive_days", "settle_days", "open_count",
    "open_ratio", "oldest_overdue", "issued_30", "since_last_paid", "promises_broken", "plans_broken",
    "disputes", "unreached")
#: Forecast features along which the expected days to payment may only grow (+1) or fall (-1).
_MONOTONE = {"mean_late_pos": 1, "recent_late": 1, "naive_days": 1}


def _count(customer: np.ndarray, mask: np.ndarray, n: int, weights: np.ndarray | None = None) -> np.ndarray:
    w = None if weights is None else weights[mask]
    return np.bincount(customer[mask], weights=w, minlength=n).astype(float)


def snapshot(book: Book, s: int) -> Snapshot:
    """Describe the book as it stood at the end of day ``s`` (only facts dated on or before ``s``)."""
    n = book.n_customers
    cust = book.inv_customer
    issued = book.inv_issue <= s
    # Paid history: a prefix of each customer's invoices sorted by closing day.
    order, starts, cum_pos, late_sorted = book.history()
    closed_sorted = book.inv_closed[order]
    # how many of each customer's paid invoices closed on or before s
    paid_mask = closed_sorted <= s
    paid_n = np.bincount(book.inv_customer[order][paid_mask], minlength=n).astype(float)
    pn = paid_n.astype(np.int64)
    end = starts + pn
    recent_n = np.minimum(pn, RECENT)
    recent_pos = (cum_pos[end] - cum_pos[end - recent_n]) / np.maximum(recent_n, 1)
    total_pos = cum_pos[end] - cum_pos[starts]
    mean_pos = total_pos / np.maximum(paid_n, 1)
    older_n = pn - recent_n
    older_pos = (cum_pos[end - recent_n] - cum_pos[starts]) / np.maximum(older_n, 1)
    trend = np.where(older_n > 0, recent_pos - older_pos, 0.0)
    ocust = book.inv_customer[order]
    sel = paid_mask
    late_sum = np.bincount(ocust[sel], weights=late_sorted[sel], minlength=n)
    late_cnt = np.bincount(ocust[sel], weights=(late_sorted[sel] > 0).astype(float), minlength=n)
    settle = (closed_sorted - book.inv_issue[order]).astype(float)
    settle_sum = np.bincount(ocust[sel], weights=settle[sel], minlength=n)
    last_paid = np.full(n, -NEVER, dtype=np.int64)
    has_paid = pn > 0
    last_paid[has_paid] = closed_sorted[end[has_paid] - 1]
    denom = np.maximum(paid_n, 1)
    mean_late = late_sum / denom
    share_late = late_cnt / denom
    mean_settle = settle_sum / denom

    # Balances on s: amount minus what was applied on or before s.
    applied = np.zeros(len(cust))
    if len(book.red_invoice):
        m = book.red_day <= s
        applied = np.bincount(book.red_invoice[m], weights=book.red_amount[m], minlength=len(cust))
    open_bal = np.where(issued & (book.inv_closed > s), np.maximum(book.inv_amount - applied, 0), 0.0)
    is_open = issued & (book.inv_closed > s) & (open_bal > 0)
    inv = np.flatnonzero(is_open)
    amount_mean = _count(cust, issued, n, book.inv_amount) / np.maximum(_count(cust, issued, n), 1)
    open_total = _count(cust, is_open, n, open_bal)
    open_count = _count(cust, is_open, n)
    oldest_due = np.full(n, NEVER, dtype=np.int64)
    np.minimum.at(oldest_due, cust[inv], book.inv_due[inv])
    oldest_overdue = np.where(open_count > 0, np.maximum(s - oldest_due, 0), 0).astype(float)
    issued_30 = _count(cust, issued & (book.inv_issue > s - 30), n)

    year = s - 365

    def events(c, d, mask=None):
        m = (d <= s) & (d > year)
        if mask is not None:
            m &= mask
        return np.bincount(c[m], minlength=n).astype(float)

    broken = events(book.prom_customer, book.prom_resolved, ~book.prom_kept)
    kept = events(book.prom_customer, book.prom_resolved, book.prom_kept)
    plans = events(book.plan_customer, book.plan_broken)
    disputes = events(book.disp_customer, book.disp_day)
    attempts = events(book.contact_customer, book.contact_day)
    failed = events(book.contact_customer, book.contact_day, book.contact_failed)
    unreached = failed / np.maximum(attempts, 1)

    c = cust[inv]
    due = book.inv_due[inv]
    naive = np.maximum(due + np.round(mean_pos[c]), s + 1) - s
    settle_days = np.maximum(book.inv_issue[inv] + np.round(mean_settle[c]), s + 1) - s
    feats = np.column_stack([
        due - s, s - book.inv_issue[inv], due - book.inv_issue[inv],
        np.log(np.maximum(book.inv_amount[inv], 1) / np.maximum(amount_mean[c], 1)),
        paid_n[c], np.where(has_paid[c], mean_late[c], np.nan), mean_pos[c], share_late[c],
        np.where(has_paid[c], recent_pos[c], np.nan), trend[c],
        np.where(has_paid[c], mean_settle[c], np.nan), naive, settle_days, open_count[c],
        open_total[c] / np.maximum(amount_mean[c], 1), oldest_overdue[c], issued_30[c],
        np.where(has_paid[c], s - last_paid[c], np.nan), broken[c], plans[c], disputes[c], unreached[c],
    ]).astype(float)

    custs = np.flatnonzero(open_count > 0)
    factors = np.column_stack([
        recent_pos / 10.0, share_late, np.maximum(trend, 0) / 10.0, broken, kept, plans, disputes,
        np.log1p(open_total / np.maximum(amount_mean, 1)), oldest_overdue / 30.0, unreached,
        (~has_paid).astype(float),
    ])[custs]
    return Snapshot(day=s, invoices=inv, open_amount=open_bal[inv], features=feats, naive_days=naive,
                    customers=custs, factors=factors, recent_n=recent_n[custs])


def capped(factors: np.ndarray) -> np.ndarray:
    return np.minimum(np.maximum(factors, 0), _CAPS)


# -- the scorecard --------------------------------------------------------------------------------


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


def fit_scorecard(x: np.ndarray, y: np.ndarray, prior_strength: float = PRIOR_STRENGTH,
                  iterations: int = 50) -> tuple[float, np.ndarray]:
    """Logistic regression by Newton's method (IRLS) with a Gaussian prior at ``PRIOR_WEIGHTS``.

    Weights that come out with the wrong sign (``RISK_SIGNS``) are held at zero and the rest refitted,
    so the score is monotone in every factor. Returns (intercept, weights)."""
    k = x.shape[1]
    prior = np.concatenate(([PRIOR_INTERCEPT], PRIOR_WEIGHTS))
    precision = np.full(k + 1, prior_strength)
    precision[0] = prior_strength / 100  # the base rate is the data's business
    free = np.ones(k + 1, dtype=bool)
    design = np.column_stack([np.ones(len(x)), x])
    w = prior.copy()
    for _ in range(k + 1):
        w = np.where(free, w, 0.0)
        for _ in range(iterations):
            p = sigmoid(design @ w)
            grad = design.T @ (y - p) - precision * (w - prior)
            hess = (design * (p * (1 - p))[:, None]).T @ design + np.diag(precision)
            f = np.flatnonzero(free)
            step = np.zeros_like(w)
            step[f] = np.linalg.solve(hess[np.ix_(f, f)], grad[f])
            w += step
            if np.max(np.abs(step)) < 1e-9:
                break
        wrong = free[1:] & (w[1:] * RISK_SIGNS < 0)
        if not wrong.any():
            break
        free[1:][wrong] = False
    w = np.where(free, w, 0.0)
    return float(w[0]), w[1:]


@dataclass(frozen=True)
class Scorecard:
    intercept: float = PRIOR_INTERCEPT
    weights: tuple[float, ...] = tuple(PRIOR_WEIGHTS)
    trained_rows: int = 0

    def logits(self, factors: np.ndarray) -> np.ndarray:
        return self.intercept + capped(factors) @ np.array(self.weights)

    def points(self, factors: np.ndarray) -> np.ndarray:
        """Each factor's share of the log-odds, in points (one row per customer)."""
        return capped(factors) * np.array(self.weights) * POINTS_PER_LOGIT

    @property
    def base_points(self) -> float:
        return self.intercept * POINTS_PER_LOGIT


# -- training and answering -----------------------------------------------------------------------


def snapshot_days(book: Book, as_of: int) -> list[int]:
    """The past days a model for ``as_of`` learns from (labels need HORIZON days after them).

    Large books get fewer snapshots (at least 8): the rows, not the days, make a model good."""
    n_inv = max(int(np.count_nonzero(book.inv_issue <= as_of)), 1)
    count = int(min(MAX_SNAPSHOTS, max(8, 4_000_000 // n_inv)))
    step = SNAPSHOT_STEP * max(1, math.ceil(MAX_SNAPSHOTS / count))
    first = as_of - HORIZON
    return [first - step * k for k in range(count)]


@dataclass
class Training:
    x: np.ndarray
    days_to_pay: np.ndarray       # NaN when unpaid on as_of (censored)
    paid_30: np.ndarray
    risk_x: np.ndarray
    risk_y: np.ndarray


def training_rows(book: Book, as_of: int, snapshots: dict[int, Snapshot] | None = None) -> Training:
    xs, ys, p30, rx, ry = [], [], [], [], []
    closed = np.where(book.inv_closed <= as_of, book.inv_closed, NEVER)
    for s in snapshot_days(book, as_of):
        snap = snapshots[s] if snapshots is not None and s in snapshots else snapshot(book, s)
        if not len(snap.invoices):
            continue
        c = closed[snap.invoices]
        xs.append(snap.features)
        ys.append(np.where(c < NEVER, c - s, np.nan))
        p30.append((c <= s + HORIZON).astype(float))
        # risk label: on s + HORIZON the customer still owed an invoice open on s that was past due then
        late_then = (c > s + HORIZON) & (book.inv_due[snap.invoices] < s + HORIZON)
        owes = np.bincount(book.inv_customer[snap.invoices][late_then], minlength=book.n_customers) > 0
        rx.append(snap.factors)
        ry.append(owes[snap.customers].astype(float))
    if not xs:
        empty = np.zeros((0, len(FORECAST_FEATURES)))
        return Training(empty, np.zeros(0), np.zeros(0), np.zeros((0, len(RISK_FACTORS))), np.zeros(0))
    return Training(np.vstack(xs), np.concatenate(ys), np.concatenate(p30), np.vstack(rx), np.concatenate(ry))


def _sample(n: int, limit: int, salt: int) -> np.ndarray:
    if n <= limit:
        return np.arange(n)
    rng = np.random.default_rng(salt)
    return np.sort(rng.choice(n, size=limit, replace=False))


def _threads():
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=BOOSTING_THREADS, user_api="openmp")


@dataclass
class Models:
    scorecard: Scorecard
    regressor: object | None
    classifier: object | None
    rows: int


def train(book: Book, as_of: int, snapshots: dict[int, Snapshot] | None = None) -> Models:
    """Fit the three models on what was known on ``as_of``."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    t = training_rows(book, as_of, snapshots)
    ri = _sample(len(t.risk_y), MAX_TRAINING_ROWS, as_of)
    if len(ri) >= MIN_TRAINING_ROWS // 3:
        intercept, weights = fit_scorecard(capped(t.risk_x[ri]), t.risk_y[ri])
        card = Scorecard(intercept, tuple(float(w) for w in weights), len(ri))
    else:
        card = Scorecard()
    known = np.flatnonzero(~np.isnan(t.days_to_pay))
    if len(known) < MIN_TRAINING_ROWS or len(np.unique(t.paid_30)) < 2:
        return Models(card, None, None, len(known))
    cst = [_MONOTONE.get(f, 0) for f in FORECAST_FEATURES]
    ki = known[_sample(len(known), MAX_TRAINING_ROWS, as_of + 1)]
    reg = HistGradientBoostingRegressor(loss="absolute_error", max_iter=200, learning_rate=0.05,
                                        max_leaf_nodes=15, min_samples_leaf=20, monotonic_cst=cst,
                                        early_stopping=False, random_state=0)
    ci = _sample(len(t.paid_30), MAX_TRAINING_ROWS, as_of + 2)
    clf = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.03, max_leaf_nodes=7,
                                         min_samples_leaf=40, l2_regularization=1.0, early_stopping=False,
                                         random_state=0)
    with _threads():
        reg.fit(t.x[ki], t.days_to_pay[ki])
        clf.fit(t.x[ci], t.paid_30[ci])
    return Models(card, reg, clf, len(known))


@dataclass
class Forecast:
    invoices: np.ndarray          # book invoice indexes open on as_of
    open_amount: np.ndarray
    expected_day: np.ndarray      # day numbers, never before as_of + 1
    p_paid_30: np.ndarray
    naive_day: np.ndarray


@dataclass
class Risk:
    customers: np.ndarray
    score: np.ndarray             # ints 0–100
    logit: np.ndarray
    points: np.ndarray            # one row per customer, one column per factor
    base_points: float
    expected_days_late: np.ndarray
    recent_n: np.ndarray
    factors: np.ndarray


def prior_p_paid_30(expected_days: np.ndarray) -> np.ndarray:
    """The fallback's probability of payment within HORIZON days: a logistic curve around the naive
    expected day (half at HORIZON days, a week either side moves it by about a quarter)."""
    return sigmoid((HORIZON + 0.5 - expected_days) / 7.0)


def forecast(models: Models, snap: Snapshot) -> Forecast:
    s = snap.day
    if models.regressor is None or not len(snap.invoices):
        days = snap.naive_days
        p30 = prior_p_paid_30(days)
    else:
        with _threads():
            days = models.regressor.predict(snap.features)
            p30 = models.classifier.predict_proba(snap.features)[:, 1]
    expected = s + np.maximum(np.round(days), 1).astype(np.int64)
    return Forecast(snap.invoices, snap.open_amount, expected, p30, s + snap.naive_days.astype(np.int64))


def risk(book: Book, models: Models, snap: Snapshot, fc: Forecast) -> Risk:
    card = models.scorecard
    logit = card.logits(snap.factors)
    score = np.clip(np.round(100 * sigmoid(logit)), 0, 100).astype(int)
    due = book.inv_due[fc.invoices]
    late = np.maximum(fc.expected_day - due, 0).astype(float)
    cust = book.inv_customer[fc.invoices]
    weight = np.maximum(fc.open_amount, 1)
    num = np.bincount(cust, weights=late * weight, minlength=book.n_customers)
    den = np.bincount(cust, weights=weight, minlength=book.n_customers)
    edl = np.round(num[snap.customers] / np.maximum(den[snap.customers], 1)).astype(int)
    return Risk(snap.customers, score, logit, card.points(snap.factors), card.base_points, edl,
                snap.recent_n, snap.factors)


def answer(book: Book, as_of: dt.date) -> tuple[Models, Snapshot, Forecast, Risk]:
    """Train on what was known on ``as_of`` and answer for that day."""
    s = day(as_of)
    models = train(book, s)
    snap = snapshot(book, s)
    fc = forecast(models, snap)
    return models, snap, fc, risk(book, models, snap, fc)


# -- backtest -------------------------------------------------------------------------------------


def auc(scores: np.ndarray, labels: np.ndarray) -> float | None:
    """Area under the ROC curve (ties count half); None when one class is missing."""
    labels = labels.astype(bool)
    pos, neg = int(labels.sum()), int((~labels).sum())
    if not pos or not neg:
        return None
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    # average ranks of ties
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    avg = first + (counts - 1) / 2.0 + 1
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[labels].sum() - pos * (pos + 1) / 2) / (pos * neg))


@dataclass
class CutoffResult:
    cutoff: dt.date
    invoices: int                 # open on the cut-off
    settled: int                  # of those, paid later (the MAE is over these)
    mae: float | None
    mae_naive: float | None
    auc: float | None
    auc_naive: float | None
    errors: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    errors_naive: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    p: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    p_naive: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    y: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))


def month_ends(start: dt.date, end: dt.date) -> list[dt.date]:
    out = []
    y, m = start.year, start.month
    while True:
        nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
        last = nxt - dt.timedelta(days=1)
        if last > end:
            return out
        if last >= start:
            out.append(last)
        y, m = nxt.year, nxt.month


def backtest_cutoff(book: Book, cutoff: dt.date) -> CutoffResult:
    """Train on ``book`` cut at ``cutoff`` and score against what happened after it in ``book``.

    ``book`` holds the whole history; the model sees it only through ``book_at``-style masking (the
    snapshots and labels never look past ``cutoff``)."""
    s = day(cutoff)
    known = cut(book, s)
    models = train(known, s)
    snap = snapshot(known, s)
    fc = forecast(models, snap)
    # the same invoices in the full book (cut() keeps the invoice order)
    actual = book.inv_closed[fc.invoices]
    paid = (actual < NEVER) & ~book.inv_credited[fc.invoices]
    err = np.abs(fc.expected_day - actual)[paid].astype(float)
    err_naive = np.abs(fc.naive_day - actual)[paid].astype(float)
    y = (paid & (actual <= s + HORIZON)).astype(float)
    p_naive = prior_p_paid_30(fc.naive_day - s)
    return CutoffResult(cutoff, len(fc.invoices), int(paid.sum()),
                        float(err.mean()) if len(err) else None,
                        float(err_naive.mean()) if len(err_naive) else None,
                        auc(fc.p_paid_30, y), auc(p_naive, y), err, err_naive, fc.p_paid_30, p_naive, y)


def cut(book: Book, s: int) -> Book:
    """The same book as it was known at the end of day ``s``: invoices issued later are dropped
    from training and answers by the snapshots' own masks; closings, reductions and events after
    ``s`` are forgotten here. Invoice order is kept (indexes stay valid)."""
    closed = np.where(book.inv_closed <= s, book.inv_closed, NEVER)
    credited = book.inv_credited & (book.inv_closed <= s)
    r = book.red_day <= s
    p = book.prom_resolved <= s
    pl = book.plan_broken <= s
    d = book.disp_day <= s
    c = book.contact_day <= s
    return Book(book.customers, book.inv_refs, book.inv_customer, book.inv_issue, book.inv_due,
                book.inv_amount, closed, credited, book.red_invoice[r], book.red_day[r], book.red_amount[r],
                book.prom_customer[p], book.prom_resolved[p], book.prom_kept[p],
                book.plan_customer[pl], book.plan_broken[pl], book.disp_customer[d], book.disp_day[d],
                book.contact_customer[c], book.contact_day[c], book.contact_failed[c])


@dataclass
class Backtest:
    cutoffs: list[CutoffResult]

    def pooled(self) -> dict[str, float | None]:
        err = np.concatenate([c.errors for c in self.cutoffs]) if self.cutoffs else np.zeros(0)
        errn = np.concatenate([c.errors_naive for c in self.cutoffs]) if self.cutoffs else np.zeros(0)
        p = np.concatenate([c.p for c in self.cutoffs]) if self.cutoffs else np.zeros(0)
        pn = np.concatenate([c.p_naive for c in self.cutoffs]) if self.cutoffs else np.zeros(0)
        y = np.concatenate([c.y for c in self.cutoffs]) if self.cutoffs else np.zeros(0)
        mae = float(err.mean()) if len(err) else None
        mae_n = float(errn.mean()) if len(errn) else None
        better = (1 - mae / mae_n) * 100 if mae is not None and mae_n else None
        return {"invoices": int(len(y)), "settled": int(len(err)), "mae": mae, "mae_naive": mae_n,
                "mae_better_pct": better, "auc": auc(p, y), "auc_naive": auc(pn, y),
                "mean_p_paid_30": float(p.mean()) if len(p) else None,
                "paid_30_rate": float(y.mean()) if len(y) else None}


def backtest(book: Book, cutoffs: Sequence[dt.date]) -> Backtest:
    return Backtest([backtest_cutoff(book, c) for c in cutoffs])
