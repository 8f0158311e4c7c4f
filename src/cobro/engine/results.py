"""What each step, channel and template achieved: payments after a contact, against comparable
customers not contacted that day. Plain numbers in, sums out (no Django, no clock).

**Contacts.** One per customer, day and group (step, channel, template): a customer sent two messages
of one group on one day counts once there.

**Paid within k days.** Payments of the customer dated from the contact's day to ``k`` days after it
(3, 7 and 30), in the currency asked about; a contact counts for a horizon only when those ``k`` days
are over on ``as_of``.

**Comparable customers.** On the contact's day, the customers of the organization with an open
balance in that currency, in the same ageing bucket of their oldest overdue invoice (not yet due,
1–30, 31–60, 61–90, over 90 days) and not contacted at all that day. A contact is matched when its
day and bucket have at least one such customer; what they did gives what the contacted customer was
expected to do without the contact: the share of them that paid something within ``k`` days, and the
share of their open balance they paid, applied to the contacted customer's own balance. Summed over
a group's matched contacts, ``paid`` against ``expected`` is the group's effect, measured; the
unmatched ones are counted apart.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

HORIZONS = (3, 7, 30)
#: How far back contacts are looked at (days before ``as_of``).
WINDOW = 120
#: Upper edges (days overdue) of the ageing buckets: not yet due, 1–30, 31–60, 61–90, more.
EDGES = (0, 30, 60, 90)
_NEVER = 10**9


@dataclass
class GroupResult:
    """One (step, channel, template) at one horizon. Amounts in minor units; expected ones as floats."""

    contacts: int = 0             # customer-days whose horizon is over
    matched: int = 0              # of those, with comparable customers
    paid: int = 0                 # matched contacts whose customer paid something within the horizon
    expected_paid: float = 0.0    # what the comparables' rate predicts for them
    amount: int = 0               # paid within the horizon by the matched contacts
    expected_amount: float = 0.0
    balance: int = 0              # the matched contacts' open balance on their day
    customers: set = field(default_factory=set)   # distinct customers contacted


def bucket_of(days_overdue: np.ndarray) -> np.ndarray:
    return np.searchsorted(np.array(EDGES), days_overdue, side="left")


def step_results(n_customers: int, contacts: Iterable[Sequence], invoices: Sequence[Sequence],
                 reductions: Sequence[Sequence], payments: Sequence[Sequence], as_of: int,
                 horizons: Sequence[int] = HORIZONS, window: int = WINDOW) -> dict[tuple, dict[int, GroupResult]]:
    """Per group, per horizon, the sums above. Days are integers (day numbers).

    - contacts: ``(customer, day, group)``; invoices: ``(customer, issued, due, amount, closed | None)``
    - reductions: ``(invoice index, day, amount)`` (payments applied and credits: the balance on a day)
    - payments: ``(customer, day, amount)`` (money received, whatever it was applied to)
    """
    first = as_of - window
    cdays: dict[int, set[tuple[int, tuple]]] = defaultdict(set)
    for c, d, g in contacts:
        if first <= d <= as_of - min(horizons):
            cdays[int(d)].add((int(c), tuple(g)))
    out: dict[tuple, dict[int, GroupResult]] = defaultdict(lambda: {k: GroupResult() for k in horizons})
    if not cdays:
        return {}
    inv = np.array([(r[0], r[1], r[2], r[3], _NEVER if r[4] is None else r[4]) for r in invoices],
                   dtype=np.int64).reshape(-1, 5)
    red = np.array(reductions, dtype=np.int64).reshape(-1, 3)
    pay = np.array(payments, dtype=np.int64).reshape(-1, 3)
    # cumulative payments per customer by day, for "paid between a and b" in one vectorised lookup
    key = pay[:, 0] * (1 << 32) + pay[:, 1]
    order = np.argsort(key, kind="stable")
    key, cum = key[order], np.concatenate(([0], np.cumsum(pay[order, 2])))
    everyone = np.arange(n_customers, dtype=np.int64)

    def paid_between(a: int, b: int) -> np.ndarray:
        lo = np.searchsorted(key, everyone * (1 << 32) + a, side="left")
        hi = np.searchsorted(key, everyone * (1 << 32) + b, side="right")
        return cum[hi] - cum[lo]

    for d in sorted(cdays):
        open_ = (inv[:, 1] <= d) & (inv[:, 4] > d)
        reduced = np.bincount(red[red[:, 1] <= d, 0], weights=red[red[:, 1] <= d, 2], minlength=len(inv))
        bal = np.where(open_, inv[:, 3] - reduced, 0)
        balance = np.bincount(inv[:, 0], weights=bal, minlength=n_customers)
        late = np.where(open_ & (bal > 0), d - inv[:, 2], -_NEVER)
        oldest = np.full(n_customers, -_NEVER, dtype=np.int64)
        np.maximum.at(oldest, inv[:, 0], late)
        bucket = bucket_of(np.maximum(oldest, 0))
        contacted = np.zeros(n_customers, dtype=bool)
        contacted[[c for c, _g in cdays[d]]] = True
        control = (balance > 0) & ~contacted
        for k in horizons:
            if d + k > as_of:
                continue
            got = paid_between(d, d + k)
            n_ctrl = np.bincount(bucket[control], minlength=len(EDGES) + 1)
            n_paid = np.bincount(bucket[control], weights=(got[control] > 0), minlength=len(EDGES) + 1)
            s_paid = np.bincount(bucket[control], weights=got[control], minlength=len(EDGES) + 1)
            s_bal = np.bincount(bucket[control], weights=balance[control], minlength=len(EDGES) + 1)
            for c, g in cdays[d]:
                if balance[c] <= 0:
                    continue
                r = out[g][k]
                r.contacts += 1
                r.customers.add(c)
                b = bucket[c]
                if not n_ctrl[b]:
                    continue
                r.matched += 1
                r.paid += int(got[c] > 0)
                r.expected_paid += n_paid[b] / n_ctrl[b]
                r.amount += int(got[c])
                r.expected_amount += balance[c] * s_paid[b] / s_bal[b]
                r.balance += int(balance[c])
    return dict(out)
