"""The plain data the daily cycle decides on: one read of the open book, as immutable records.

The dunning app loads these with one query per table; ``engine.plan`` takes them and returns
decisions. Nothing here knows about Django.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Hold:
    """Something that pauses collection of one invoice (agreements, disputes, a manual pause).

    ``kind`` is "promise", "plan", "dispute" or "pause"; the invoice is not chased while
    ``as_of <= until`` (``until`` None: until the hold is lifted). ``reason`` is shown by explain.
    """

    invoice_id: int
    kind: str
    until: dt.date | None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class AgreementItem:
    """Something an agreement asks the cycle to tell the customer about on a given day.

    ``kind``: "promise_reminder", "promise_broken", "instalment_reminder", "instalment_late",
    "dispute_resolved". It is consolidated into the customer's single message of the day (or sent on
    its own when nothing else is due), obeys the same contact rules, and gets its own idempotent key
    from ``key`` (stable for the same fact, e.g. "plan:12:inst:3:reminder").
    """

    customer_id: int
    kind: str
    key: str
    due_date: dt.date
    amount: int
    currency: str
    template: str
    ref: str = ""
    invoice_ids: tuple[int, ...] = ()
