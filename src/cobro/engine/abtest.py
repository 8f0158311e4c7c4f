"""A/B tests of wording: who gets which variant, and an honest answer to "which one works better".

Pure: no database, no clock. ``cobro.insights.abtest`` reads the exposures and the book and asks here.

Assignment. A customer's variant is a function of the test's salt and the customer's id only:
``u = int(sha256(f"{salt}:{customer_id}"))`` read as a number in [0, 1). ``u < holdout``: hold-out (no
message for the tested step), otherwise A or B by the parity of the hash's next bits, so A and B split
what the hold-out leaves evenly. The same customer gets the same variant on every run and every day.

Result. The metric is fixed when the test is created (``METRICS``); each customer counts once, on
their first exposure, and only once the horizon after it is over. The test is a mixture sequential
probability ratio test (mSPRT, Johari, Koomen, Pekelis and Walsh, "Always valid inference: continuous
monitoring of A/B tests", 2017/2022) on the difference of the two means ``θ = mean_B − mean_A``, with
the normal approximation and plug-in variances:

    θ̂ = x̄_B − x̄_A,    V = s²_A / n_A + s²_B / n_B,    mixing prior θ ~ N(0, τ²)
    Λ = sqrt(V / (V + τ²)) · exp( θ̂² τ² / (2 V (V + τ²)) )

and the always-valid p-value is ``p_n = min(1, 1/Λ_1, …, 1/Λ_n)`` over every look (every day the
result was computed). Under the null, ``P(p_n ≤ α for some n) ≤ α`` (Ville's inequality), so looking
every day does not raise the false-positive rate. ``τ`` is ``TAU`` pooled standard deviations (a
standardised effect, the same for every metric). The matching confidence sequence (the set of θ the
test would not reject) is

    θ̂ ± sqrt( 2 V (V + τ²) / τ² · ( log(1/α) + ½ log((V + τ²) / V) ) )

intersected over the looks, so it only narrows. A proportion's variance uses ``(x + 1) / (n + 2)``
so that a group where nobody (or everybody) paid yet does not claim zero variance.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

METRICS = ("paid", "amount", "reply", "optout")
#: Metrics where a lower value is better.
LOWER_IS_BETTER = frozenset({"optout"})
#: Metrics that are a share of customers (0 or 1 each).
PROPORTIONS = frozenset({"paid", "reply", "optout"})
VARIANTS = ("A", "B")
HOLDOUT = "H"
#: The mixing prior's standard deviation, in pooled standard deviations of the metric.
TAU = 0.2
#: Below this many customers in either group, nothing is computed: the normal approximation is not
#: trusted yet ("sin conclusión todavía").
MIN_PER_ARM = 20


def _unit(salt: str, customer_id: int) -> tuple[float, int]:
    digest = hashlib.sha256(f"{salt}:{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0 ** 64, digest[8]


def assign(salt: str, customer_id: int, holdout: float = 0.0) -> str:
    """``"A"``, ``"B"`` or ``"H"`` (hold-out, ``holdout`` share of customers), stable for ever."""
    u, bits = _unit(salt, customer_id)
    if u < holdout:
        return HOLDOUT
    return VARIANTS[bits & 1]


@dataclass(frozen=True)
class Arm:
    """One group's sufficient statistics: customers, sum and sum of squares of their values."""

    n: int = 0
    total: float = 0.0
    squares: float = 0.0

    @classmethod
    def of(cls, values) -> Arm:
        values = list(values)
        return cls(len(values), float(sum(values)), float(sum(v * v for v in values)))

    @property
    def mean(self) -> float:
        return self.total / self.n if self.n else 0.0

    def variance(self, proportion: bool) -> float:
        if self.n < 2:
            return 0.0
        if proportion:
            p = (self.total + 1) / (self.n + 2)
            return p * (1 - p)
        return max(0.0, (self.squares - self.total * self.total / self.n) / (self.n - 1))


@dataclass(frozen=True)
class Look:
    """The state of the test after one look: the best p-value so far and the narrowest interval."""

    p_value: float = 1.0
    low: float = -math.inf
    high: float = math.inf


@dataclass(frozen=True)
class Result:
    a: Arm
    b: Arm
    effect: float  # mean B − mean A
    p_value: float
    low: float
    high: float
    alpha: float
    winner: str  # "A", "B" or "" (no conclusion yet)

    @property
    def concluded(self) -> bool:
        return bool(self.winner)


def look(a: Arm, b: Arm, alpha: float, proportion: bool, before: Look = Look()) -> Look:
    """One more look at the data: the mSPRT's p-value and confidence sequence, carried from ``before``."""
    if a.n < MIN_PER_ARM or b.n < MIN_PER_ARM:
        return before
    va, vb = a.variance(proportion), b.variance(proportion)
    pooled = ((a.n - 1) * va + (b.n - 1) * vb) / (a.n + b.n - 2)
    v = va / a.n + vb / b.n
    if v <= 0 or pooled <= 0:
        return before  # every value equal in both groups: nothing to learn yet
    tau2 = (TAU * TAU) * pooled
    theta = b.mean - a.mean
    log_lambda = 0.5 * math.log(v / (v + tau2)) + theta * theta * tau2 / (2 * v * (v + tau2))
    p = min(before.p_value, 1.0, math.exp(-log_lambda))
    half = math.sqrt(2 * v * (v + tau2) / tau2 * (math.log(1 / alpha) + 0.5 * math.log((v + tau2) / v)))
    low, high = max(before.low, theta - half), min(before.high, theta + half)
    if low > high:  # the running intersection emptied (a rare event under the null): keep the latest
        low, high = theta - half, theta + half
    return Look(p, low, high)


def result(a: Arm, b: Arm, alpha: float, metric: str, before: Look = Look()) -> tuple[Result, Look]:
    """The verdict after this look. A winner only once the p-value is at or below ``alpha``."""
    now = look(a, b, alpha, metric in PROPORTIONS, before)
    effect = b.mean - a.mean
    winner = ""
    if now.p_value <= alpha:
        better_b = effect > 0 if metric not in LOWER_IS_BETTER else effect < 0
        winner = "B" if better_b else "A"
    return Result(a, b, effect, now.p_value, now.low, now.high, alpha, winner), now


def sequence(looks, alpha: float, metric: str) -> Result:
    """Replay the looks in order (a list of ``(arm_a, arm_b)``, one per day) and return the last result."""
    state, last = Look(), None
    for a, b in looks:
        last, state = result(a, b, alpha, metric, state)
    if last is None:
        last, _ = result(Arm(), Arm(), alpha, metric)
    return last
