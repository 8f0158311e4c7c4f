"""Writes to the ledger's tables. Other apps and views change ledger rows only through these.

The balance rule lives here: an invoice's ``open_amount`` = amount − credit notes − allocations,
never negative, recomputed in one place (``settle``) whenever one of those changes.

Every write also tells the Dashboard's daily totals what it changed (``cobro.insights.totals.save``),
inside the same transaction: the totals never disagree with the facts they sum.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone

from cobro.engine.allocation import OpenItem, allocate
from cobro.engine.daybook import Totals
from cobro.engine.money import check_currency
from cobro.insights import totals
from cobro.ledger import signals
from cobro.ledger.bulk import insert_rows
from cobro.ledger.models import (
    Allocation,
    Contact,
    CreditNote,
    Customer,
    Invoice,
    Organization,
    Payment,
    Task,
    TimelineEvent,
)
from cobro.ledger.validation import COUNTRY_LANGUAGE


class LedgerError(ValueError):
    """A write the ledger refuses; the message is safe to show to the person who asked for it."""


# -- timeline and tasks ---------------------------------------------------------------------------

def record_event(org: Organization, customer: Customer | int, kind: str, summary: str, *,
                 data: dict | None = None, actor=None, invoice=None, at: dt.datetime | None = None
                 ) -> TimelineEvent:
    """Append one event to a customer's timeline (the audit trail)."""
    return TimelineEvent.objects.create(
        organization=org, customer_id=getattr(customer, "pk", customer), kind=kind, summary=summary[:300],
        data=data or {}, actor=actor, invoice=invoice, at=at or timezone.now())


def record_events(events: Iterable[TimelineEvent], batch_size: int = 2000) -> None:
    """Append many events at once (imports, the cycle). Each must have organization and customer set."""
    TimelineEvent.objects.bulk_create(events, batch_size=batch_size)


def create_task(org: Organization, customer: Customer | int, kind: str, title: str, due_on: dt.date, *,
                source_key: str | None = None, data: dict | None = None, assignee=None) -> Task:
    """Open a task for the team; with ``source_key``, the same cause opens it only once."""
    customer_id = getattr(customer, "pk", customer)
    if source_key:
        existing = Task.objects.for_org(org).filter(source_key=source_key).first()
        if existing:
            return existing
    # By default the task goes to the customer's owner (their account manager), if any.
    assignee_id = getattr(assignee, "pk", None) or (
        Customer.objects.for_org(org).filter(pk=customer_id).values_list("owner_id", flat=True).first())
    with transaction.atomic():
        return Task.objects.create(organization=org, customer_id=customer_id, kind=kind, title=title[:200],
                                   due_on=due_on, source_key=source_key, data=data or {},
                                   assignee_id=assignee_id)


def create_tasks(org: Organization, tasks: list[Task]) -> None:
    """Open many tasks at once, with the same rules as ``create_task``: one per ``source_key``
    (repeats are skipped), the customer's owner by default."""
    create_task_rows(org, [(t.customer_id, t.kind, t.title, t.due_on, t.source_key, json.dumps(t.data or {}),
                            t.assignee_id) for t in tasks])


TASK_COLUMNS = ("customer_id", "kind", "title", "due_on", "source_key", "data", "assignee_id")


def create_task_rows(org: Organization, rows: list[tuple], *, now: dt.datetime | None = None) -> None:
    """Open many tasks from plain rows (the cycle opens thousands): (customer_id, kind, title, due_on,
    source_key, data as JSON text[, assignee_id]). One per ``source_key``: repeats are skipped; no
    assignee: the customer's owner. ``now``: the moment they are opened (the cycle's clock)."""
    if not rows:
        return
    missing = {r[0] for r in rows if len(r) < 7 or r[6] is None}
    owners = {}
    if missing and Customer.objects.for_org(org).filter(owner__isnull=False).exists():
        owners = {pk: owner for pk, owner in Customer.objects.for_org(org).filter(pk__in=missing, owner__isnull=False)
                  .values_list("pk", "owner_id")}
    params = [(cid, kind, title[:200], due_on, source_key, data,
               rest[0] if rest and rest[0] is not None else owners.get(cid))
              for cid, kind, title, due_on, source_key, data, *rest in rows]
    constants = {"organization_id": org.pk, **({"created_at": now} if now is not None else {})}
    insert_rows(Task, TASK_COLUMNS, params, constants=constants)


def complete_task(task: Task, outcome: str = "", actor=None, *, at: dt.datetime | None = None) -> Task:
    """Close a task; ``at``: when it was done (the caller's clock; default now)."""
    task.status = Task.Status.DONE
    task.outcome = outcome
    task.done_at = at or timezone.now()
    task.save(update_fields=["status", "outcome", "done_at"])
    return task


# -- customers ------------------------------------------------------------------------------------

def get_or_create_customer(org: Organization, ref: str, name: str = "", *, country: str = "",
                           email: str = "", phone: str = "", whatsapp: str = "", language: str = "",
                           timezone_name: str = "", tax_id: str = "") -> tuple[Customer, bool]:
    """The customer with ``ref``, created with sensible defaults from its country when new."""
    customer = Customer.objects.for_org(org).filter(ref=ref).first()
    if customer:
        return customer, False
    country = country or org.country
    with transaction.atomic():
        customer = Customer.objects.create(
            organization=org, ref=ref, name=name or ref, country=country, tax_id=tax_id,
            language=language or COUNTRY_LANGUAGE.get(country, "es"),
            timezone=timezone_name,  # none given: every zone the customer may be in
            preferred_channel="whatsapp" if whatsapp else "email" if email else "sms" if phone else "call")
        if email or phone or whatsapp:
            Contact.objects.create(organization=org, customer=customer, name=name, email=email,
                                   phone=phone, whatsapp=whatsapp)
    return customer, True


# -- invoices, credit notes, payments -------------------------------------------------------------

def add_invoice(org: Organization, customer: Customer, ref: str, issue_date: dt.date, due_date: dt.date,
                currency: str, amount: int) -> Invoice:
    """Create an invoice (idempotent by reference: the same ref returns the existing invoice)."""
    currency = check_currency(currency)
    if amount <= 0:
        raise LedgerError(f"invoice {ref}: the amount must be positive")
    if due_date < issue_date:
        raise LedgerError(f"invoice {ref}: due date {due_date} is before issue date {issue_date}")
    existing = Invoice.objects.for_org(org).filter(ref=ref).first()
    if existing:
        return existing
    with transaction.atomic():
        invoice = Invoice.objects.create(organization=org, customer=customer, ref=ref, issue_date=issue_date,
                                         due_date=due_date, currency=currency, amount=amount, open_amount=amount)
        delta = Totals()
        delta.issued(currency, issue_date, due_date, amount)
        totals.save(org, delta)
    return invoice


INVOICE_COLUMNS = ("customer_id", "ref", "issue_date", "due_date", "currency", "amount", "open_amount")


def add_invoice_rows(org: Organization, rows: list[tuple]) -> dict[str, int]:
    """Create many invoices from plain rows (customer_id, ref, issue_date, due_date, currency, amount)
    with the checks of ``add_invoice``, in one insert; returns ref → id for every row. A ref that
    exists already keeps its invoice (idempotent, as ``add_invoice``); only new ones count in the totals."""
    params = []
    for cid, ref, issue_date, due_date, currency, amount in rows:
        currency = check_currency(currency)
        if amount <= 0:
            raise LedgerError(f"invoice {ref}: the amount must be positive")
        if due_date < issue_date:
            raise LedgerError(f"invoice {ref}: due date {due_date} is before issue date {issue_date}")
        params.append((cid, ref, issue_date, due_date, currency, amount, amount))
    if not params:
        return {}
    with transaction.atomic():
        ids = dict(insert_rows(Invoice, INVOICE_COLUMNS, params, constants={"organization_id": org.pk},
                               returning=("ref", "id")))
        delta = Totals()
        for _cid, ref, issue_date, due_date, currency, amount, _open in params:
            if ref in ids:
                delta.issued(currency, issue_date, due_date, amount)
        totals.save(org, delta)
        others = [p[1] for p in params if p[1] not in ids]
        if others:
            ids.update(Invoice.objects.for_org(org).filter(ref__in=others).values_list("ref", "pk"))
    return ids


EVENT_COLUMNS = ("customer_id", "kind", "summary", "data", "invoice_id", "at")


def record_event_rows(org: Organization, rows: list[tuple]) -> None:
    """Append many events from plain rows (customer_id, kind, summary, data as JSON text, invoice_id, at)."""
    insert_rows(TimelineEvent, EVENT_COLUMNS, [(c, k, s[:300], d, i, at) for c, k, s, d, i, at in rows],
                constants={"organization_id": org.pk, "actor_id": None})


def add_credit_note(org: Organization, invoice: Invoice, ref: str, date: dt.date, amount: int,
                    reason: str = "", actor=None, *, now: dt.datetime | None = None) -> CreditNote:
    """Credit part or all of an invoice (a correction, a valid dispute, a waived fee); ``now``: the
    moment it is recorded (the caller's clock, default now: what a thank-you is scheduled by)."""
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk, organization=org)
        existing = CreditNote.objects.for_org(org).filter(ref=ref).first()
        if existing:
            return existing
        if not 0 < amount <= invoice.open_amount:
            raise LedgerError(f"credit note {ref}: the amount must be positive and at most the open "
                              f"balance of invoice {invoice.ref}")
        note = CreditNote.objects.create(organization=org, customer_id=invoice.customer_id, invoice=invoice,
                                         ref=ref, date=date, currency=invoice.currency, amount=amount,
                                         reason=reason)
        # Dated like a payment: a note known by its date sits at that date's noon (not when it was typed in).
        record_event(org, invoice.customer_id, "credit_note.added", f"Nota de crédito {ref} sobre {invoice.ref}",
                     data={"ref": ref, "amount": amount, "currency": invoice.currency, "reason": reason},
                     invoice=invoice, actor=actor, at=_noon_utc(date))
        delta = Totals()
        delta.movement(invoice.currency, invoice.issue_date, invoice.due_date, date, amount)
        totals.save(org, delta)
        settle(org, [invoice.pk], on_date=date, at=now)
    return note


def apply_payment(org: Organization, customer: Customer, ref: str, date: dt.date, amount: int,
                  currency: str, method: str = "", invoice: Invoice | None = None, *,
                  invoices: list[Invoice] | None = None, provider: str = "", provider_ref: str = "",
                  actor=None, now: dt.datetime | None = None) -> Payment:
    """Record a payment and allocate it: to ``invoice`` (or ``invoices``) if given, else oldest due first.

    ``provider`` and ``provider_ref`` say where it came from (a payment provider and its payment id, or
    "statement" and the statement line's reference); they are exported with the payment.

    Whatever is not allocated stays on the payment as the customer's credit. Recording the same
    reference twice returns the first payment (a re-sent webhook or a re-imported file). ``now``: the
    moment it is recorded (the caller's clock, default now): a thank-you is scheduled by it.
    """
    currency = check_currency(currency)
    if amount <= 0:
        raise LedgerError(f"payment {ref}: the amount must be positive")
    chosen = ([invoice] if invoice is not None else []) + list(invoices or [])
    for inv in chosen:
        if inv.customer_id != customer.pk or inv.currency != currency:
            raise LedgerError(f"payment {ref}: invoice {inv.ref} is not an invoice of this customer "
                              f"in {currency}")
    with transaction.atomic():
        existing = Payment.objects.for_org(org).filter(ref=ref).first()
        if existing:
            return existing
        open_rows = list(Invoice.objects.for_org(org).select_for_update()
                         .filter(customer=customer, currency=currency, open_amount__gt=0)
                         .values_list("pk", "due_date", "open_amount", "ref", "issue_date"))
        items = [OpenItem(*row[:4]) for row in open_rows]
        dates = {pk: (issued, due) for pk, due, _amount, _ref, issued in open_rows}
        applied, rest = allocate(amount, items, explicit=[inv.pk for inv in chosen] if chosen else None)
        payment = Payment.objects.create(organization=org, customer=customer, ref=ref, date=date,
                                         currency=currency, amount=amount, method=method, unallocated=rest,
                                         provider=provider, provider_ref=provider_ref)
        Allocation.objects.bulk_create([Allocation(organization=org, payment=payment, invoice_id=inv_id,
                                                   amount=part, date=date) for inv_id, part in applied])
        delta = Totals()
        delta.payment(currency, date, amount)
        for inv_id, part in applied:
            delta.movement(currency, *dates[inv_id], date, part)
        totals.save(org, delta)
        record_event(org, customer, "payment.received", f"Pago {ref} recibido",
                     data={"ref": ref, "amount": amount, "currency": currency, "method": method,
                           "allocated": [[i, a] for i, a in applied], "credit": rest,
                           "provider": provider, "provider_ref": provider_ref},
                     at=_noon_utc(date), actor=actor)
        settle(org, [inv_id for inv_id, _ in applied], on_date=date, at=now)
        transaction.on_commit(lambda: signals.payments_recorded.send(
            sender=Payment, organization=org, payment_ids=[payment.pk]))
    return payment


@dataclasses.dataclass(frozen=True)
class NewPayment:
    """One payment for ``apply_payments``: what ``apply_payment`` takes, by ids."""

    customer_id: int
    ref: str
    date: dt.date
    amount: int
    currency: str
    method: str = ""
    invoice_ids: tuple[int, ...] = ()  # the invoices it pays; none: oldest due first
    provider: str = ""
    provider_ref: str = ""


def apply_payments(org: Organization, new: list[NewPayment], actor=None, *,
                   now: dt.datetime | None = None) -> list[Payment]:
    """Record many payments at once, each allocated exactly as ``apply_payment`` would, in list order.

    For a statement of thousands of lines: the customers' open invoices are read (and locked) once,
    the payments, allocations and timeline events are inserted in bulk, the invoices touched are
    settled together and the Dashboard's daily totals get one change equal to the sum of the single
    payments' changes. A reference already recorded (or repeated in ``new``) returns the first
    payment and changes nothing. Returns one payment per item of ``new``. ``now``: the moment they are
    recorded (``created_at``; the caller's clock, default now).
    """
    if not new:
        return []
    for p in new:
        check_currency(p.currency)
        if p.amount <= 0:
            raise LedgerError(f"payment {p.ref}: the amount must be positive")
    with transaction.atomic():
        refs = list(dict.fromkeys(p.ref for p in new))
        existing: dict[str, Payment] = {}
        for start in range(0, len(refs), 5000):
            existing.update((pay.ref, pay) for pay in Payment.objects.for_org(org).filter(
                ref__in=refs[start:start + 5000]))
        customer_ids = sorted({p.customer_id for p in new if p.ref not in existing})
        # (customer, currency) -> {invoice id: [due, open amount, ref]}, and each invoice's dates.
        pools: dict[tuple[int, str], dict[int, list]] = {}
        owner: dict[int, tuple[int, str]] = {}
        dates: dict[int, tuple[dt.date, dt.date]] = {}
        for start in range(0, len(customer_ids), 5000):
            for pk, cust, cur, due, amount, ref, issued in (
                    Invoice.objects.for_org(org).select_for_update()
                    .filter(customer_id__in=customer_ids[start:start + 5000], open_amount__gt=0)
                    .values_list("pk", "customer_id", "currency", "due_date", "open_amount", "ref", "issue_date")):
                pools.setdefault((cust, cur), {})[pk] = [due, amount, ref]
                owner[pk] = (cust, cur)
                dates[pk] = (issued, due)
        explicit_ids = {i for p in new for i in p.invoice_ids if i not in owner}
        if explicit_ids:  # named invoices already paid: still the customer's, checked below
            owner.update((pk, (c, cur)) for pk, c, cur in Invoice.objects.for_org(org).filter(
                pk__in=explicit_ids).values_list("pk", "customer_id", "currency"))
        delta = Totals()
        rows: list[Payment] = []
        plans: list[tuple[NewPayment, list[tuple[int, int]]]] = []
        touched: dict[int, dt.date] = {}
        seen: set[str] = set()
        for p in new:
            if p.ref in existing or p.ref in seen:
                continue
            seen.add(p.ref)
            for inv_id in p.invoice_ids:
                if owner.get(inv_id) != (p.customer_id, p.currency):
                    raise LedgerError(f"payment {p.ref}: invoice {inv_id} is not an invoice of this customer "
                                      f"in {p.currency}")
            pool = pools.get((p.customer_id, p.currency), {})
            items = [OpenItem(pk, due, left, ref) for pk, (due, left, ref) in pool.items()]
            applied, rest = allocate(p.amount, items, explicit=list(p.invoice_ids) if p.invoice_ids else None)
            delta.payment(p.currency, p.date, p.amount)
            for inv_id, part in applied:
                delta.movement(p.currency, *dates[inv_id], p.date, part)
                pool[inv_id][1] -= part
                if not pool[inv_id][1]:
                    del pool[inv_id]
                touched[inv_id] = max(p.date, touched.get(inv_id, p.date))
            rows.append(Payment(organization=org, customer_id=p.customer_id, ref=p.ref, date=p.date,
                                currency=p.currency, amount=p.amount, method=p.method, unallocated=rest,
                                provider=p.provider, provider_ref=p.provider_ref))
            plans.append((p, applied))
        from cobro.ledger.importing import _db_now, _insert  # straight through the driver, as the importer

        moment = now  # the caller's clock, for the thank-you (``now`` becomes the driver's value)
        now, events_at = (_db_time(now) if now is not None else _db_now()), _db_time
        _insert(Payment, ["organization", "customer", "ref", "date", "currency", "amount", "method", "unallocated",
                          "provider", "provider_ref", "created_at"],
                [(org.pk, r.customer_id, r.ref, r.date, r.currency, r.amount, r.method, r.unallocated, r.provider,
                  r.provider_ref, now) for r in rows])
        ids: dict[str, int] = {}
        new_refs = [r.ref for r in rows]
        for start in range(0, len(new_refs), 5000):
            ids.update(Payment.objects.for_org(org).filter(ref__in=new_refs[start:start + 5000])
                       .values_list("ref", "pk"))
        for r in rows:
            r.pk = r.id = ids[r.ref]
        _insert(Allocation, ["organization", "payment", "invoice", "amount", "date"],
                [(org.pk, pay.pk, inv_id, part, p.date) for pay, (p, applied) in zip(rows, plans, strict=True)
                 for inv_id, part in applied])
        actor_id = getattr(actor, "pk", None)
        _insert(TimelineEvent, ["organization", "customer", "at", "kind", "actor", "summary", "data"],
                [(org.pk, p.customer_id, events_at(_noon_utc(p.date)), "payment.received", actor_id,
                  f"Pago {p.ref} recibido"[:300], json.dumps(
                      {"ref": p.ref, "amount": p.amount, "currency": p.currency, "method": p.method,
                       "allocated": [[i, a] for i, a in applied], "credit": pay.unallocated,
                       "provider": p.provider, "provider_ref": p.provider_ref}))
                 for pay, (p, applied) in zip(rows, plans, strict=True)])
        from cobro.ledger.importing import _settle_bulk  # the payments importer's set-wise settle
        settled = _settle_bulk(org, touched, delta)
        totals.save(org, delta)
        if settled:
            settled_ids = [pk for pk, _ in settled]
            settled_customers = sorted({c for _, c in settled})
            last = max(touched[pk] for pk in settled_ids)
            transaction.on_commit(lambda: signals.invoices_settled.send(
                sender=Invoice, organization=org, invoice_ids=settled_ids, customer_ids=settled_customers,
                on_date=last, at=moment))
        if rows:
            pay_pks = [r.pk for r in rows]
            transaction.on_commit(lambda: signals.payments_recorded.send(
                sender=Payment, organization=org, payment_ids=pay_pks))
    by_ref = {**existing, **{r.ref: r for r in rows}}
    return [by_ref[p.ref] for p in new]


def reverse_payment(org: Organization, payment: Payment, reason: str, actor=None) -> list[int]:
    """Undo a payment recorded by mistake (a statement line matched to the wrong customer).

    Its allocations go and the invoices it paid are open again; the timeline keeps who did it, why,
    and everything the payment was, so the audit trail loses nothing. Returns the reopened invoices.
    """
    if not (reason or "").strip():
        raise LedgerError(f"payment {payment.ref}: say why it is reversed")
    with transaction.atomic():
        payment = Payment.objects.for_org(org).select_for_update().get(pk=payment.pk)
        rows = list(payment.allocations.values_list("invoice_id", "amount", "date", "invoice__issue_date",
                                                    "invoice__due_date"))
        allocated = [(inv_id, amount) for inv_id, amount, *_ in rows]
        delta = Totals()
        delta.payment(payment.currency, payment.date, payment.amount, sign=-1)
        for _inv_id, amount, day, issued, due in rows:
            delta.movement(payment.currency, issued, due, day, amount, sign=-1)
        record_event(org, payment.customer_id, "payment.reversed", f"Pago {payment.ref} anulado: {reason}",
                     data={"ref": payment.ref, "amount": payment.amount, "currency": payment.currency,
                           "date": payment.date.isoformat(), "method": payment.method,
                           "provider": payment.provider, "provider_ref": payment.provider_ref,
                           "allocated": [[i, a] for i, a in allocated], "reason": reason}, actor=actor)
        payment.delete()  # its allocations go with it (cascade)
        totals.save(org, delta)
        settle(org, [i for i, _ in allocated])
    return [i for i, _ in allocated]


def reverse_credit_note(org: Organization, note: CreditNote, reason: str, actor=None) -> None:
    """Undo a credit note given by mistake (a bank fee forgiven on a match that is undone)."""
    with transaction.atomic():
        note = CreditNote.objects.for_org(org).select_for_update().get(pk=note.pk)
        record_event(org, note.customer_id, "credit_note.reversed", f"Nota de crédito {note.ref} anulada: {reason}",
                     data={"ref": note.ref, "amount": note.amount, "currency": note.currency, "reason": reason},
                     invoice=note.invoice, actor=actor)
        invoice_id, invoice = note.invoice_id, note.invoice
        delta = Totals()
        delta.movement(invoice.currency, invoice.issue_date, invoice.due_date, note.date, note.amount, sign=-1)
        note.delete()
        totals.save(org, delta)
        settle(org, [invoice_id])


def settle(org: Organization, invoice_ids: list[int], on_date: dt.date | None = None, *,
           at: dt.datetime | None = None) -> list[int]:
    """Recompute open amounts and statuses of ``invoice_ids`` from credits and allocations.

    Returns the ids that became fully settled, and tells the rest of Cobro after commit (thank-you
    messages, promises kept); ``at``: the moment the caller acts at (its clock; None: now).
    """
    if not invoice_ids:
        return []
    ids = list(set(invoice_ids))
    credited = dict(CreditNote.objects.for_org(org).filter(invoice_id__in=ids).values("invoice_id")
                    .annotate(s=Sum("amount")).values_list("invoice_id", "s"))
    paid = dict(Allocation.objects.for_org(org).filter(invoice_id__in=ids).values("invoice_id")
                .annotate(s=Sum("amount")).values_list("invoice_id", "s"))
    last_dates = _last_movement(org, ids)
    settled, changed = [], []
    delta = Totals()
    for inv in Invoice.objects.for_org(org).filter(pk__in=ids):
        cred, pay = credited.get(inv.pk, 0), paid.get(inv.pk, 0)
        open_amount = inv.amount - cred - pay
        if open_amount < 0:
            raise LedgerError(f"invoice {inv.ref}: credits and payments exceed its amount")
        status = (Invoice.Status.OPEN if open_amount else
                  Invoice.Status.CREDITED if cred >= inv.amount else Invoice.Status.PAID)
        closed_on = last_dates.get(inv.pk) if open_amount == 0 else None
        if (inv.open_amount, inv.status, inv.closed_on) != (open_amount, status, closed_on):
            if open_amount == 0 and inv.open_amount > 0:
                settled.append(inv)
            # The day the invoice stopped being open moves the Dashboard's open-invoice counts.
            delta.closing(inv.currency, inv.issue_date, inv.due_date, inv.status == Invoice.Status.OPEN,
                          inv.closed_on, sign=-1)
            delta.closing(inv.currency, inv.issue_date, inv.due_date, status == Invoice.Status.OPEN, closed_on)
            inv.open_amount, inv.status, inv.closed_on = open_amount, status, closed_on
            changed.append(inv)
    Invoice.objects.bulk_update(changed, ["open_amount", "status", "closed_on", "updated_at"])
    totals.save(org, delta)
    if settled:
        settled_ids = [i.pk for i in settled]
        customer_ids = sorted({i.customer_id for i in settled})
        transaction.on_commit(lambda: signals.invoices_settled.send(
            sender=Invoice, organization=org, invoice_ids=settled_ids, customer_ids=customer_ids,
            on_date=on_date or max(last_dates.get(i, dt.date.min) for i in settled_ids), at=at))
    return [i.pk for i in settled]


def _last_movement(org: Organization, ids: list[int]) -> dict[int, dt.date]:
    last: dict[int, dt.date] = {}
    for model in (CreditNote, Allocation):
        for inv_id, day in (model.objects.for_org(org).filter(invoice_id__in=ids).values("invoice_id")
                            .annotate(d=Max("date")).values_list("invoice_id", "d")):
            last[inv_id] = max(day, last.get(inv_id, day))
    return last


def _db_time(value: dt.datetime):
    """A datetime as the database stores it, for rows inserted through the driver (SQLite: naive UTC text)."""
    from django.db import connection

    return connection.ops.adapt_datetimefield_value(value) if connection.vendor == "sqlite" else value


def _noon_utc(day: dt.date) -> dt.datetime:
    """A payment known only by its date is placed at noon UTC, inside that date in every zone we serve."""
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)


# -- upserts by external reference (the API: an ERP syncs every night) ------------------------------

CUSTOMER_FIELDS = ("name", "tax_id", "country", "language", "timezone", "segment", "preferred_channel",
                   "address", "city", "region", "postal_code")


def upsert_customer(org: Organization, ref: str, **fields) -> tuple[Customer, bool]:
    """Create the customer ``ref`` or update the given fields; returns (customer, created).

    Fields left out (or None) keep their value; a re-sent identical body changes nothing.
    """
    unknown = set(fields) - set(CUSTOMER_FIELDS)
    if unknown:
        raise LedgerError(f"customer {ref}: unknown fields {sorted(unknown)}")
    given = {k: v for k, v in fields.items() if v is not None}
    customer = Customer.objects.for_org(org).filter(ref=ref).first()
    if customer is None:
        customer, _ = get_or_create_customer(
            org, ref, given.get("name", ""), country=given.get("country", ""),
            language=given.get("language", ""), timezone_name=given.get("timezone", ""),
            tax_id=given.get("tax_id", ""))
        rest = {k: v for k, v in given.items()
                if k in ("segment", "preferred_channel", "address", "city", "region", "postal_code")}
        if rest:
            Customer.objects.filter(pk=customer.pk).update(**rest)
            customer.refresh_from_db()
        return customer, True
    changed = [k for k, v in given.items() if getattr(customer, k) != v]
    if changed:
        for k in changed:
            setattr(customer, k, given[k])
        customer.save(update_fields=changed + ["updated_at"])
    return customer, False


def add_contact(org: Organization, customer: Customer, *, name: str = "", email: str = "", phone: str = "",
                whatsapp: str = "", kind: str = Contact.Kind.DEBTOR, is_primary: bool = False) -> Contact:
    """A contact of ``customer``; the same e-mail, phone and WhatsApp again returns the existing one."""
    if not (email or phone or whatsapp):
        raise LedgerError(f"customer {customer.ref}: a contact needs an e-mail, a phone or a WhatsApp number")
    existing = Contact.objects.for_org(org).filter(customer=customer, email=email, phone=phone,
                                                   whatsapp=whatsapp).first()
    if existing:
        return existing
    with transaction.atomic():
        if is_primary:
            Contact.objects.for_org(org).filter(customer=customer).update(is_primary=False)
        return Contact.objects.create(organization=org, customer=customer, name=name, email=email, phone=phone,
                                      whatsapp=whatsapp, kind=kind,
                                      is_primary=is_primary or not customer.contacts.exists())


def upsert_invoice(org: Organization, customer: Customer, ref: str, issue_date: dt.date, due_date: dt.date,
                   currency: str, amount: int) -> tuple[Invoice, bool]:
    """Create invoice ``ref`` or correct its dates and amount; returns (invoice, created).

    An amount below what was already paid or credited, a change of currency once money moved, or a
    move to another customer is refused: those are corrections for a credit note, not a sync.
    """
    existing = Invoice.objects.for_org(org).filter(ref=ref).first()
    if existing is None:
        return add_invoice(org, customer, ref, issue_date, due_date, currency, amount), True
    currency = check_currency(currency)
    if existing.customer_id != customer.pk:
        raise LedgerError(f"invoice {ref} belongs to another customer")
    if due_date < issue_date:
        raise LedgerError(f"invoice {ref}: due date {due_date} is before issue date {issue_date}")
    if amount <= 0:
        raise LedgerError(f"invoice {ref}: the amount must be positive")
    moved = existing.amount - existing.open_amount
    if currency != existing.currency and moved:
        raise LedgerError(f"invoice {ref}: its currency cannot change after payments or credits")
    if amount < moved:
        raise LedgerError(f"invoice {ref}: the amount cannot be less than what is already paid or credited")
    if (existing.issue_date, existing.due_date, existing.currency, existing.amount) == (
            issue_date, due_date, currency, amount):
        return existing, False
    with transaction.atomic():
        before = totals.invoice_facts(org, [existing.pk])[existing.pk]
        # A lower amount than the open one would break the open-within-amount constraint before
        # ``settle`` sets the right balance (and an invoice open until now must still look open to it).
        Invoice.objects.filter(pk=existing.pk).update(issue_date=issue_date, due_date=due_date,
                                                      currency=currency, amount=amount,
                                                      open_amount=min(existing.open_amount, amount),
                                                      updated_at=timezone.now())
        # Everything the invoice contributed moves to its new dates, currency and amount.
        delta = Totals()
        delta.invoice(before, sign=-1)
        delta.invoice(dataclasses.replace(before, currency=currency, issue_date=issue_date, due_date=due_date,
                                          amount=amount))
        totals.save(org, delta)
        settle(org, [existing.pk])
    existing.refresh_from_db()
    return existing, False
