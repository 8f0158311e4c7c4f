"""Applying a payment to open invoices: which invoice gets how much.

Pure and exact: amounts are int minor units. The invariants (property-tested): nothing is allocated
beyond an invoice's open amount, allocations plus the remainder equal the payment, and the remainder
is never negative.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class OpenItem:
    invoice_id: int
    due_date: dt.date
    open_amount: int
    ref: str = ""


def allocate(amount: int, items: list[OpenItem],
             explicit: int | Collection[int] | None = None) -> tuple[list[tuple[int, int]], int]:
    """Split ``amount`` over ``items``; return ``[(invoice_id, applied)]`` and the unallocated rest.

    With ``explicit`` (an invoice id, or several) the payment goes to those invoices only, oldest due
    first, up to their open amounts, and the rest stays as the customer's credit: a customer who says
    what they paid for is taken at their word. Otherwise the oldest due date is paid first (ties by reference), the usual rule and
    the one that lowers days overdue fastest.
    """
    if amount < 0:
        raise ValueError("a payment cannot be negative")
    chosen = sorted(items, key=lambda i: (i.due_date, i.ref, i.invoice_id))
    if explicit is not None:
        wanted = {explicit} if isinstance(explicit, int) else set(explicit)
        chosen = [i for i in chosen if i.invoice_id in wanted]
    left = amount
    applied: list[tuple[int, int]] = []
    for item in chosen:
        if left == 0:
            break
        take = min(left, item.open_amount)
        if take > 0:
            applied.append((item.invoice_id, take))
            left -= take
    return applied, left
