"""Writes to the ledger's tables. Other apps and views change ledger rows only through these.

The balance rule lives here: an invoice's ``open_amount`` = amount − credit notes − allocations,
never negative, recomputed in one place (``settle``) whenever one of those changes.

Every write also tells the Dashboard's daily totals what it changed (``cobro.insights.totals.save``),
inside the same transaction: the totals never disagree with the facts they sum.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone

from cobro.engine.allocation import OpenItem, allocate
from cobro.engine.daybook import Totals
from cobro.engine.money import check_currency
from cobro.insights import totals
from cobro.ledger import signals
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
    """Open many tasks at once (the cycle opens thousands at scale), with the same rules as
    ``create_task``: one per ``source_key`` (repeats are skipped), the customer's owner by default."""
    missing = {t.customer_id for t in tasks if t.assignee_id is None}
    owners = dict(Customer.objects.for_org(org).filter(pk__in=missing).values_list("pk", "owner_id")) if missing else {}
    for t in tasks:
        t.organization = org
        t.title = t.title[:200]
        if t.assignee_id is None:
            t.assignee_id = owners.get(t.customer_id)
    Task.objects.bulk_create(tasks, ignore_conflicts=True, batch_size=2000)


def complete_task(task: Task, outcome: str = "", actor=None) -> Task:
    task.status = Task.Status.DONE
    task.outcome = outcome
    task.done_at = timezone.now()
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


def add_credit_note(org: Organization, invoice: Invoice, ref: str, date: dt.date, amount: int,
                    reason: str = "", actor=None) -> CreditNote:
    """Credit part or all of an invoice (a correction, a valid dispute, a waived fee)."""
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
        record_event(org, invoice.customer_id, "credit_note.added", f"Nota de crédito {ref} sobre {invoice.ref}",
                     data={"ref": ref, "amount": amount, "currency": invoice.currency, "reason": reason},
                     invoice=invoice, actor=actor)
        delta = Totals()
        delta.movement(invoice.currency, invoice.issue_date, invoice.due_date, date, amount)
        totals.save(org, delta)
        settle(org, [invoice.pk], on_date=date)
    return note


def apply_payment(org: Organization, customer: Customer, ref: str, date: dt.date, amount: int,
                  currency: str, method: str = "", invoice: Invoice | None = None, *,
                  invoices: list[Invoice] | None = None, provider: str = "", provider_ref: str = "",
                  actor=None) -> Payment:
    """Record a payment and allocate it: to ``invoice`` (or ``invoices``) if given, else oldest due first.

    ``provider`` and ``provider_ref`` say where it came from (a payment provider and its payment id, or
    "statement" and the statement line's reference); they are exported with the payment.

    Whatever is not allocated stays on the payment as the customer's credit. Recording the same
    reference twice returns the first payment (a re-sent webhook or a re-imported file).
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
        settle(org, [inv_id for inv_id, _ in applied], on_date=date)
        transaction.on_commit(lambda: signals.payments_recorded.send(
            sender=Payment, organization=org, payment_ids=[payment.pk]))
    return payment


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


def settle(org: Organization, invoice_ids: list[int], on_date: dt.date | None = None) -> list[int]:
    """Recompute open amounts and statuses of ``invoice_ids`` from credits and allocations.

    Returns the ids that became fully settled, and tells the rest of Cobro after commit (thank-you
    messages, promises kept).
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
            on_date=on_date or max(last_dates.get(i, dt.date.min) for i in settled_ids)))
    return [i.pk for i in settled]


def _last_movement(org: Organization, ids: list[int]) -> dict[int, dt.date]:
    last: dict[int, dt.date] = {}
    for model in (CreditNote, Allocation):
        for inv_id, day in (model.objects.for_org(org).filter(invoice_id__in=ids).values("invoice_id")
                            .annotate(d=Max("date")).values_list("invoice_id", "d")):
            last[inv_id] = max(day, last.get(inv_id, day))
    return last


def _noon_utc(day: dt.date) -> dt.datetime:
    """A payment known only by its date is placed at noon UTC, inside that date in every zone we serve."""
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)


# -- upserts by external reference (the API: an ERP syncs every night) ------------------------------

CUSTOMER_FIELDS = ("name", "tax_id", "country", "language", "timezone", "segment", "preferred_channel")


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
        rest = {k: v for k, v in given.items() if k in ("segment", "preferred_channel")}
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
