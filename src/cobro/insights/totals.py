"""The Dashboard's daily totals in the database: kept with every ledger write, rebuilt on demand.

``cobro.ledger.services`` and ``cobro.ledger.importing`` describe what each write changes as a
``daybook.Totals`` (an invoice issued, money applied, a payment received or reversed, an invoice
closed or reopened) and call ``save`` inside their own transaction, so the totals and the facts
commit or roll back together. ``rebuild`` recomputes an organization's totals from the ledger's rows
with set-based queries, a path independent of the incremental one (tests check they always agree).
The maths, and why nothing here goes stale when the day changes, are in ``cobro.engine.daybook``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from types import SimpleNamespace

from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce, Greatest

from cobro.engine.daybook import COLUMNS, Daybook, InvoiceFacts, Totals
from cobro.insights.models import AppliedTotal, DailyTotal
from cobro.ledger.models import Allocation, CreditNote, Invoice, Organization, Payment

CHUNK = 5000  # ids per query: far under SQLite's limit on query parameters


def _upsert_sql(model, keys: list[str], values: list[str]) -> str:
    table = connection.ops.quote_name(model._meta.db_table)
    cols = [model._meta.get_field(f).column for f in keys + values]
    quoted = [connection.ops.quote_name(c) for c in cols]
    target = ", ".join(quoted[: len(keys)])
    sets = ", ".join(f"{q} = {table}.{q} + excluded.{q}" for q in quoted[len(keys):])
    marks = ", ".join(["%s"] * len(cols))
    return (f"INSERT INTO {table} ({', '.join(quoted)}) VALUES ({marks}) "
            f"ON CONFLICT ({target}) DO UPDATE SET {sets}")


def save(org: Organization | int, delta: Totals) -> None:
    """Add ``delta`` to the organization's stored totals (call it inside the write's transaction).

    One INSERT ... ON CONFLICT DO UPDATE per table, adding to what is there, so concurrent writers
    never overwrite each other; keys go in sorted order so two of them never wait on each other.
    """
    org_id = getattr(org, "pk", org)
    day = connection.ops.adapt_datefield_value
    days = sorted((key, row) for key, row in delta.days.items() if any(row))
    applied = sorted((key, amount) for key, amount in delta.applied.items() if amount)
    with connection.cursor() as cur:
        if days:
            cur.executemany(_upsert_sql(DailyTotal, ["organization", "day", "currency"], list(COLUMNS)),
                            [(org_id, day(d), currency, *row) for (currency, d), row in days])
        if applied:
            cur.executemany(_upsert_sql(AppliedTotal, ["organization", "day", "due_date", "currency"], ["amount"]),
                            [(org_id, day(d), day(due), currency, amount) for (currency, d, due), amount in applied])


def invoice_facts(org: Organization, invoice_ids: Iterable[int]) -> dict[int, InvoiceFacts]:
    """The facts the totals need of these invoices, as the database holds them now."""
    ids = list(invoice_ids)
    out: dict[int, InvoiceFacts] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        moves: dict[int, list] = defaultdict(list)
        for model in (Allocation, CreditNote):
            for inv_id, day, amount in (model.objects.for_org(org).filter(invoice_id__in=chunk)
                                        .values_list("invoice_id", "date", "amount").order_by("pk")):
                moves[inv_id].append((day, amount))
        for pk, currency, issued, due, amount, status, closed_on in (
                Invoice.objects.for_org(org).filter(pk__in=chunk).values_list(
                    "pk", "currency", "issue_date", "due_date", "amount", "status", "closed_on").order_by()):
            out[pk] = InvoiceFacts(currency, issued, due, amount, status == Invoice.Status.OPEN, closed_on,
                                   tuple(moves[pk]))
    return out


# -- from scratch ----------------------------------------------------------------------------------

LEDGER = SimpleNamespace(Invoice=Invoice, Allocation=Allocation, CreditNote=CreditNote, Payment=Payment,
                         DailyTotal=DailyTotal, AppliedTotal=AppliedTotal)


def recompute(org: Organization | int, models=LEDGER) -> Totals:
    """The organization's totals from the ledger's rows: a handful of GROUP BY queries.

    ``models`` lets a data migration pass its historical models.
    """
    org_id = getattr(org, "pk", org)
    out = Totals()
    invoices = models.Invoice.objects.filter(organization_id=org_id)
    for currency, issued, due, total, n in (invoices.values_list("currency", "issue_date", "due_date")
                                            .annotate(total=Sum("amount"), n=Count("id")).order_by()):
        out.issued(currency, issued, due, total, count=n)
    for currency, issued, due, closed, n in (
            invoices.exclude(status="open")
            .annotate(closed=Greatest(Coalesce("closed_on", "issue_date"), "issue_date"))
            .values_list("currency", "issue_date", "due_date", "closed").annotate(n=Count("id")).order_by()):
        out.closing(currency, issued, due, False, closed, count=n)
    for model in (models.Allocation, models.CreditNote):
        for currency, on, due, total in (
                model.objects.filter(organization_id=org_id)
                .annotate(on=Greatest("date", "invoice__issue_date"))
                .values_list("invoice__currency", "on", "invoice__due_date").annotate(total=Sum("amount"))
                .order_by()):
            out.movement(currency, on, due, on, total)
    for currency, day, total in (models.Payment.objects.filter(organization_id=org_id)
                                 .values_list("currency", "date").annotate(total=Sum("amount")).order_by()):
        out.payment(currency, day, total)
    return out


def rebuild(org: Organization | int, models=LEDGER) -> tuple[int, int]:
    """Replace the organization's stored totals by ``recompute``; returns the rows written (daily, applied).

    It runs in one transaction; ledger writes made by others while it runs may be missed, so run it
    when nothing else writes to that organization (it takes seconds even for a million invoices).
    """
    org_id = getattr(org, "pk", org)
    fresh = recompute(org_id, models).compact()
    with transaction.atomic():
        models.DailyTotal.objects.filter(organization_id=org_id).delete()
        models.AppliedTotal.objects.filter(organization_id=org_id).delete()
        models.DailyTotal.objects.bulk_create(
            [models.DailyTotal(organization_id=org_id, currency=currency, day=day, **dict(zip(COLUMNS, row,
                                                                                              strict=True)))
             for (currency, day), row in fresh.days.items()], batch_size=2000)
        models.AppliedTotal.objects.bulk_create(
            [models.AppliedTotal(organization_id=org_id, currency=currency, day=day, due_date=due, amount=amount)
             for (currency, day, due), amount in fresh.applied.items()], batch_size=2000)
    return len(fresh.days), len(fresh.applied)


def kept(org: Organization | int) -> Totals:
    """The totals as stored (to compare with ``recompute``)."""
    out = Totals()
    for currency, day, *row in DailyTotal.objects.for_org(org).values_list("currency", "day", *COLUMNS):
        out.days[(currency, day)] = list(row)
    for currency, day, due, amount in AppliedTotal.objects.for_org(org).values_list("currency", "day", "due_date",
                                                                                   "amount"):
        out.applied[(currency, day, due)] += amount
    return out


# -- reading ---------------------------------------------------------------------------------------

def daybooks(org: Organization, last: dt.date) -> dict[str, Daybook]:
    """Each currency's daily totals up to ``last``: one read of a few thousand rows at most."""
    rows: dict[str, list] = defaultdict(list)
    for currency, day, *values in (DailyTotal.objects.for_org(org).filter(day__lte=last)
                                   .values_list("currency", "day", *COLUMNS).order_by()):
        rows[currency].append((day, values))
    return {currency: Daybook(r) for currency, r in rows.items()}


def applied_between(org: Organization, first: dt.date, last: dt.date, due_before: dt.date) -> dict[str, int]:
    """Applied from ``first`` to ``last`` (effective days) to invoices due before ``due_before``."""
    return dict(AppliedTotal.objects.for_org(org)
                .filter(Q(day__gte=first) & Q(day__lte=last) & Q(due_date__lt=due_before))
                .values_list("currency").annotate(total=Sum("amount")).order_by())
