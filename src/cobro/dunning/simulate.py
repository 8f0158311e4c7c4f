"""Replaying the cycle over history, in memory: what a policy would have done, day by day.

Nothing is written or sent. The book is rebuilt for every day from the invoices, payments
allocations and credit notes as they stood that day (each applied on its own date); the contacts
the replay itself decides count for the contact rules of the following days. Agreements and manual
pauses are not replayed: they depend on what people did in answer to the real messages.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import deque

from cobro.engine.plan import plan
from cobro.engine.snapshot import Contacted, OpenInvoice
from cobro.ledger.models import Allocation, CreditNote, Invoice, Organization

from .cycle import HISTORY_DAYS, Holidays, as_json, load_snapshot


def simulate(org: Organization, start: dt.date, end: dt.date) -> list[dict]:
    base = load_snapshot(org, start)  # customers, policies and rules as they are now
    debtors = base.debtors
    holidays = Holidays(range(start.year - 1, end.year + 2))
    invoices = Invoice.objects.for_org(org).filter(issue_date__lte=end)
    rows = list(invoices.values_list("id", "customer_id", "ref", "issue_date", "due_date", "currency", "amount",
                                     "status", "closed_on"))
    changes: dict[dt.date, list[tuple[int, int]]] = {}
    for model in (Allocation, CreditNote):
        for inv_id, day, amount in model.objects.for_org(org).filter(date__lte=end).values_list(
                "invoice_id", "date", "amount"):
            changes.setdefault(day, []).append((inv_id, -amount))
    opening: dict[dt.date, list[tuple]] = {}
    closing: dict[dt.date, list[int]] = {}
    for row in rows:
        inv_id, status, closed_on = row[0], row[7], row[8]
        if status != Invoice.Status.OPEN and closed_on is None:
            continue  # closed without a date: never part of the replay
        opening.setdefault(row[3], []).append(row)
        if status != Invoice.Status.OPEN:
            closing.setdefault(closed_on, []).append(inv_id)

    book: dict[int, OpenInvoice] = {}
    remaining: dict[int, int] = {}
    refs: dict[int, str] = {row[0]: row[2] for row in rows}
    # Everything up to the day before ``start`` is applied at once, then one day at a time.
    first = min([start, *opening, *changes, *closing])
    contacts: deque[Contacted] = deque()
    out: list[dict] = []
    day, last_run = first, None
    while day <= end:
        for row in opening.get(day, ()):
            remaining[row[0]] = remaining.get(row[0], 0) + row[6]
            book[row[0]] = OpenInvoice(row[0], row[1], row[2], row[4], row[5], remaining[row[0]])
        for inv_id, delta in changes.get(day, ()):
            remaining[inv_id] = remaining.get(inv_id, 0) + delta
            if inv_id in book:
                if remaining[inv_id] <= 0:
                    del book[inv_id]
                else:
                    book[inv_id] = dataclasses.replace(book[inv_id], open_amount=remaining[inv_id])
        for inv_id in closing.get(day, ()):
            book.pop(inv_id, None)
        if day >= start:
            horizon = dt.datetime.combine(day - dt.timedelta(HISTORY_DAYS), dt.time(), tzinfo=dt.UTC)
            while contacts and contacts[0].at < horizon:
                contacts.popleft()
            snap = dataclasses.replace(
                base, as_of=day, invoices=tuple(book.values()), debtors=debtors, holidays=holidays,
                last_run=last_run, holds=(), items=(), contacts=_by_customer(contacts))
            decisions = plan(snap).decisions
            for d in decisions:
                obj = as_json(d, snap, refs, day)
                out.append(obj)
                if d.action in ("message", "call_task", "letter"):
                    contacts.append(Contacted(d.customer_id, d.scheduled_for, d.channel))
            # Keep the deque ordered by time so old contacts fall off the front.
            contacts = deque(sorted(contacts, key=lambda c: c.at))
            last_run = day
        day += dt.timedelta(days=1)
    return out


def _by_customer(contacts) -> dict[int, list[Contacted]]:
    out: dict[int, list[Contacted]] = {}
    for c in contacts:
        out.setdefault(c.customer_id, []).append(c)
    return out
