"""Daily totals of a book of receivables, and the ageing of any day read back from them.

Pure: plain dates and int minor units of one currency per key. ``cobro.insights.totals`` keeps these
totals in the database, in the same transaction as the ledger's facts, and the Dashboard reads them
instead of scanning every invoice (benchmark B3).

**What is stored.** Every fact becomes a *point* ``(due, day, amount, count)`` of its invoice:

- the invoice itself: ``(due_date, issue_date, +amount, +1)``;
- each payment allocation or credit note applied to it: ``(due_date, effective day, -amount, 0)``,
  the effective day being ``max(date, issue_date)`` (money dated before the invoice existed only
  counts once it does);
- its closing, when it is no longer open: ``(due_date, max(closed_on, issue_date), 0, -1)``.

An invoice's balance on day ``d`` is the sum of its points with ``day <= d``, and it counts as open
on ``d`` while the sum of their counts is 1. Each point also has a *lag*: ``day - due`` (how many days
overdue the invoice was when it happened; an invoice's own point has a lag of at most 0), put in the
ageing bucket of that many days (``metrics.bucket_index``). Per organization, currency and calendar
day the totals hold, for each of the five lag classes, the points **due** that day and the points
**happening** that day, in amount and count, plus the day's sales and payments received.

**Why the buckets need no nightly job.** The part of the book more than ``c`` days overdue on ``d``
(``c`` = 0, 30, 60, 90: the buckets' edges) is the sum of the points with ``due <= d - c - 1`` and
``day <= d``. A point whose lag is at most ``c`` meets the second condition whenever it meets the
first, and a point whose lag is more than ``c`` meets the first whenever it meets the second. Lag
classes are cut at exactly those ``c``, so the sum is the points of classes up to ``c`` counted by
*due date* plus the points of the later classes counted by the *day they happened*: two running sums
over days, for any ``d``, today or in the past, whatever day it is now. Nothing is stored per bucket,
so nothing goes stale at midnight.

The recovery rate also needs what was applied in a period to the invoices already overdue at its
start (a threshold that depends on the period's length, not on a bucket edge), so the amounts
applied are also kept per effective day *and* due date (``applied``); it is read for one period's
days only.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import accumulate

from cobro.engine import metrics

CLASSES = len(metrics.BUCKETS)
#: Column names of one day's totals, in storage order.
COLUMNS: tuple[str, ...] = (
    "sales", "collected",
    *(f"due_{k}" for k in range(CLASSES)), *(f"on_{k}" for k in range(CLASSES)),
    *(f"n_due_{k}" for k in range(CLASSES)), *(f"n_on_{k}" for k in range(CLASSES)),
)
SALES, COLLECTED = 0, 1
DUE, ON, N_DUE, N_ON = 2, 2 + CLASSES, 2 + 2 * CLASSES, 2 + 3 * CLASSES
WIDTH = len(COLUMNS)

Key = tuple[str, dt.date]  # (currency, day)
AppliedKey = tuple[str, dt.date, dt.date]  # (currency, effective day, due date)


@dataclass(frozen=True, slots=True)
class InvoiceFacts:
    """What the totals need of one invoice: its row and the dated amounts applied to it."""

    currency: str
    issue_date: dt.date
    due_date: dt.date
    amount: int
    is_open: bool
    closed_on: dt.date | None
    movements: tuple[tuple[dt.date, int], ...] = ()  # (date, amount) of allocations and credit notes


@dataclass(slots=True)
class Totals:
    """Daily totals (or a change to them): ``days[(currency, day)]`` is a list in ``COLUMNS`` order."""

    days: dict[Key, list[int]] = field(default_factory=dict)
    applied: dict[AppliedKey, int] = field(default_factory=lambda: defaultdict(int))

    def _row(self, currency: str, day: dt.date) -> list[int]:
        row = self.days.get((currency, day))
        if row is None:
            row = self.days[(currency, day)] = [0] * WIDTH
        return row

    def _point(self, currency: str, due: dt.date, day: dt.date, amount: int, count: int) -> None:
        k = metrics.bucket_index((day - due).days)
        if amount:
            self._row(currency, due)[DUE + k] += amount
            self._row(currency, day)[ON + k] += amount
        if count:
            self._row(currency, due)[N_DUE + k] += count
            self._row(currency, day)[N_ON + k] += count

    def invoice(self, facts: InvoiceFacts, sign: int = 1) -> None:
        """Add (``sign`` 1) or take away (-1) everything an invoice contributes."""
        self.issued(facts.currency, facts.issue_date, facts.due_date, facts.amount, sign)
        for day, amount in facts.movements:
            self.movement(facts.currency, facts.issue_date, facts.due_date, day, amount, sign)
        self.closing(facts.currency, facts.issue_date, facts.due_date, facts.is_open, facts.closed_on, sign)

    def issued(self, currency: str, issued: dt.date, due: dt.date, amount: int, sign: int = 1,
               count: int = 1) -> None:
        """``count`` invoices of ``amount`` in all, issued and due on the same days."""
        self._row(currency, issued)[SALES] += sign * amount
        self._point(currency, due, issued, sign * amount, sign * count)

    def movement(self, currency: str, issued: dt.date, due: dt.date, day: dt.date, amount: int,
                 sign: int = 1) -> None:
        """A payment allocation or credit note of ``amount`` dated ``day`` on an invoice."""
        effective = max(day, issued)
        self._point(currency, due, effective, -sign * amount, 0)
        self.applied[(currency, effective, due)] += sign * amount

    def closing(self, currency: str, issued: dt.date, due: dt.date, is_open: bool, closed_on: dt.date | None,
                sign: int = 1, count: int = 1) -> None:
        """The day an invoice (or ``count`` alike) stopped being open; nothing while it is open."""
        if not is_open:
            self._point(currency, due, max(closed_on or issued, issued), 0, -sign * count)

    def payment(self, currency: str, day: dt.date, amount: int, sign: int = 1) -> None:
        self._row(currency, day)[COLLECTED] += sign * amount

    def add(self, other: Totals, sign: int = 1) -> None:
        for key, values in other.days.items():
            row = self._row(*key)
            for i, v in enumerate(values):
                row[i] += sign * v
        for key, amount in other.applied.items():
            self.applied[key] += sign * amount

    def compact(self) -> Totals:
        """The same totals without the all-zero rows (what two equal books must agree on)."""
        return Totals({k: v for k, v in self.days.items() if any(v)},
                      defaultdict(int, {k: v for k, v in self.applied.items() if v}))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Totals):
            return NotImplemented
        a, b = self.compact(), other.compact()
        return a.days == b.days and dict(a.applied) == dict(b.applied)


def totals_of(invoices: Iterable[InvoiceFacts], payments: Iterable[tuple[str, dt.date, int]] = ()) -> Totals:
    """The totals of a whole book from scratch: its invoices and its payments ``(currency, date, amount)``."""
    out = Totals()
    for facts in invoices:
        out.invoice(facts)
    for currency, day, amount in payments:
        out.payment(currency, day, amount)
    return out


class Daybook:
    """One currency's daily totals, read back: the book on any day, sales and collections per day."""

    def __init__(self, rows: Iterable[tuple[dt.date, list[int] | tuple[int, ...]]]):
        ordered = sorted(rows, key=lambda r: r[0])
        self.days = [day.toordinal() for day, _ in ordered]
        self.rows = [tuple(values) for _, values in ordered]
        # Running sums by day of what each bucket edge needs: for edge j, the classes up to j by due
        # date, the classes after it by the day they happened (see the module's docstring).
        cols = list(zip(*self.rows, strict=True)) if self.rows else [()] * WIDTH
        self._cum = {i: list(accumulate(cols[i])) for i in range(2, WIDTH)}

    def _upto(self, column: int, day: int) -> int:
        """Sum of ``column`` over the days up to ``day`` (an ordinal), included."""
        n = bisect_right(self.days, day)
        return self._cum[column][n - 1] if n else 0

    def _over(self, edge: int, day: int, due: int, on: int) -> int:
        limit = metrics.BUCKET_LIMITS[edge]
        return (sum(self._upto(due + k, day - limit - 1) for k in range(edge + 1))
                + sum(self._upto(on + k, day) for k in range(edge + 1, CLASSES)))

    def _buckets(self, day: int, due: int, on: int) -> tuple[int, ...]:
        total = sum(self._upto(on + k, day) for k in range(CLASSES))
        over = [self._over(j, day, due, on) for j in range(len(metrics.BUCKET_LIMITS))]
        edges = [total, *over, 0]
        return tuple(edges[i] - edges[i + 1] for i in range(CLASSES))

    def ageing(self, day: dt.date) -> metrics.Ageing:
        """The book open at the end of ``day``, by bucket of days overdue on that day."""
        d = day.toordinal()
        return metrics.Ageing(self._buckets(d, DUE, ON), self._buckets(d, N_DUE, N_ON))

    def balance(self, day: dt.date) -> int:
        """Everything still owed at the end of ``day``."""
        return sum(self._upto(ON + k, day.toordinal()) for k in range(CLASSES))

    def overdue(self, day: dt.date) -> int:
        """The part of it past its due date on ``day``."""
        return self._over(0, day.toordinal(), DUE, ON)

    def series(self, column: int, first: dt.date, last: dt.date) -> list[tuple[dt.date, int]]:
        """``(day, value)`` of one column for the days from ``first`` to ``last`` that have any."""
        lo, hi = bisect_right(self.days, first.toordinal() - 1), bisect_right(self.days, last.toordinal())
        return [(dt.date.fromordinal(self.days[i]), self.rows[i][column]) for i in range(lo, hi)
                if self.rows[i][column]]
