"""Writes to the agreements tables: promises, plans, disputes, terms, fees and discounts.

The UI, the portal, the API, the CLI and the cycle change agreements only through these functions.
Each checks its input and raises ``AgreementError`` with a message safe to show, writes all or
nothing, and records what happened on the customer's timeline.

Organization options read here (``Organization.options``; every one has a default):

- ``promise_grace_days`` (2): days after the promised date before a promise counts as broken.
- ``promise_reminder_days`` (1): how many days before the promised date the reminder goes out.
- ``plan_max_missed`` (2), ``plan_grace_days`` (3), ``plan_reminder_days`` (3): missed instalments
  that break a plan, days of grace before an instalment counts as missed, reminder lead time.
- ``plan_limits``: what a customer may choose alone (``max_instalments`` 6, ``min_down_percent``
  "10", ``max_total`` as a decimal string in the organization's currency or null,
  ``frequencies`` ["monthly"], ``annual_rate`` "0"). Plans outside them need a manager.
- ``terms``: default late-fee and discount terms for customers without their own ``CustomerTerms``
  (``late_fee_kind``, ``late_fee_rate``, ``late_fee_fixed`` as a decimal string,
  ``grace_days``, ``early_discount_percent``, ``early_discount_days``, ``business``).
- ``dispute_reasons``: not an option: the list lives in ``DisputeReason`` and is edited in the admin.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import IntegrityError, transaction
from django.utils import timezone

from cobro.agreements import caps
from cobro.agreements.models import (
    CustomerTerms,
    Discount,
    Dispute,
    DisputeAttachment,
    DisputeReason,
    Fee,
    Instalment,
    Plan,
    Promise,
)
from cobro.engine import agreements as maths
from cobro.engine.agreements import AgreementError, PlanLimits, PlanOption
from cobro.engine.money import check_currency, from_minor, to_minor
from cobro.ledger import services as ledger
from cobro.ledger.bulk import insert_rows
from cobro.ledger.models import Customer, Invoice, Membership, Organization, Task

__all__ = [
    "AgreementError", "create_promise", "cancel_promise", "create_plan", "approve_plan", "cancel_plan",
    "open_dispute", "assign_dispute", "answer_dispute", "resolve_dispute", "dispute_reasons",
    "set_terms", "terms_for", "post_fees", "post_fee", "waive_fee", "apply_early_discounts", "discount_offers",
    "plan_limits", "plan_options", "within_limits", "evaluate_agreements", "promise_kept_rates", "debtor_today",
]

#: A photo of a delivery note or a PDF invoice fits; a video does not belong in a dispute.
MAX_ATTACHMENT_BYTES = 10 * 2**20

DEFAULT_DISPUTE_REASONS = (
    ("wrong_amount", "Monto incorrecto"),
    ("not_received", "Mercadería o servicio no recibido"),
    ("already_paid", "Ya pagada"),
    ("other", "Otro motivo"),
)


def debtor_today(customer: Customer) -> dt.date:
    """Today in the debtor's time zone: a promise made at 22:00 in Bogotá is made that day, not UTC's next."""
    try:
        return timezone.now().astimezone(ZoneInfo(customer.home_zone)).date()
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.localdate()


def _opt(org: Organization, key: str, default: int) -> int:
    try:
        return int(org.option(key, default))
    except (TypeError, ValueError):
        raise AgreementError(f"organization option {key}={org.option(key)!r} is not a whole number") from None


def _is_manager(org: Organization, user) -> bool:
    if user is None:
        return False
    if getattr(user, "is_superuser", False):
        return True
    m = Membership.objects.filter(organization=org, user=user).first()
    return bool(m and m.can("manager"))


def _open_invoices(org: Organization, customer: Customer, invoices: Iterable[Invoice | int] | None,
                   currency: str | None = None) -> list[Invoice]:
    """The customer's invoices named (or all open ones, oldest due first), checked to be open and theirs."""
    qs = Invoice.objects.for_org(org).filter(customer=customer)
    if invoices is None:
        rows = list(qs.filter(open_amount__gt=0).order_by("due_date", "ref"))
        return [i for i in rows if currency is None or i.currency == currency]
    ids = [getattr(i, "pk", i) for i in invoices]
    rows = list(qs.filter(pk__in=ids).order_by("due_date", "ref"))
    if len(rows) != len(set(ids)):
        raise AgreementError("some invoices are not invoices of this customer")
    closed = [i.ref for i in rows if i.open_amount <= 0]
    if closed:
        raise AgreementError(f"invoices already settled: {', '.join(closed)}")
    if currency and any(i.currency != currency for i in rows):
        raise AgreementError(f"every invoice must be in {currency}")
    return rows


# -- promises -------------------------------------------------------------------------------------

def create_promise(org: Organization, customer: Customer, promised_date: dt.date, amount: int, currency: str,
                   invoices: Sequence[Invoice | int] | None = None, channel: str = "call", taken_by=None, *,
                   made_on: dt.date | None = None, note: str = "", at: dt.datetime | None = None) -> Promise:
    """Record a promise to pay ``amount`` (minor units) by ``promised_date``; ``at``: when it was taken
    (the timeline's moment; default now).

    Without ``invoices`` it covers the customer's open invoices, oldest due first, until the amount
    is reached. The cycle then pauses those invoices until the date plus the grace period. A newer
    promise on the same invoices replaces a pending older one.
    """
    currency = check_currency(currency)
    made_on = made_on or debtor_today(customer)
    if amount <= 0:
        raise AgreementError("the promised amount must be positive")
    if promised_date < made_on:
        raise AgreementError(f"the promised date {promised_date} is in the past")
    rows = _open_invoices(org, customer, invoices, currency)
    if invoices is None:
        covered, acc = [], 0
        for inv in rows:
            if acc >= amount:
                break
            covered.append(inv)
            acc += inv.open_amount
        rows = covered
    if not rows:
        raise AgreementError("the customer has nothing open in this currency to promise")
    with transaction.atomic():
        older = list(Promise.objects.for_org(org).filter(status=Promise.Status.PENDING,
                                                         invoices__in=rows).distinct())
        promise = Promise.objects.create(
            organization=org, customer=customer, made_on=made_on, promised_date=promised_date, amount=amount,
            currency=currency, grace_days=_opt(org, "promise_grace_days", 2), channel=channel,
            taken_by=taken_by, note=note[:300])
        promise.invoices.set(rows)
        for old in older:
            _close_promise(org, old, Promise.Status.CANCELLED, made_on, "promise.replaced",
                           f"Promesa del {old.promised_date} reemplazada por una nueva", actor=taken_by, at=at,
                           data={"by": "promise"})
        ledger.record_event(org, customer, "promise.made",
                            f"Promesa de pago por {from_minor(amount, currency)} {currency} al {promised_date}",
                            data={"promise_id": promise.pk, "amount": amount, "currency": currency,
                                  "promised_date": promised_date.isoformat(), "channel": channel,
                                  "invoice_refs": [i.ref for i in rows]},
                            actor=taken_by, at=at)
    return promise


def _close_promise(org, promise: Promise, status: str, on: dt.date, kind: str, summary: str, actor=None, *,
                   at: dt.datetime | None = None, data: dict | None = None) -> None:
    promise.status, promise.resolved_on = status, on
    promise.save(update_fields=["status", "resolved_on"])
    ledger.record_event(org, promise.customer_id, kind, summary, actor=actor, at=at,
                        data={"promise_id": promise.pk, "amount": promise.amount, "currency": promise.currency,
                              "promised_date": promise.promised_date.isoformat(), **(data or {})})


def cancel_promise(org: Organization, promise: Promise, actor=None, reason: str = "") -> Promise:
    if promise.status != Promise.Status.PENDING:
        raise AgreementError(f"the promise is already {promise.status}")
    _close_promise(org, promise, Promise.Status.CANCELLED, debtor_today(promise.customer), "promise.cancelled",
                   f"Promesa anulada: {reason}" if reason else "Promesa anulada", actor=actor,
                   data={"reason": reason})
    return promise


# -- plans ----------------------------------------------------------------------------------------

def plan_limits(org: Organization) -> PlanLimits:
    """The organization's self-service limits for plans (``options["plan_limits"]``)."""
    raw = org.option("plan_limits", {}) or {}
    try:
        max_total = raw.get("max_total")
        return PlanLimits(
            max_instalments=int(raw.get("max_instalments", 6)),
            min_down_percent=Decimal(str(raw.get("min_down_percent", "10"))),
            max_total=None if max_total in (None, "") else to_minor(str(max_total), org.currency),
            frequencies=tuple(raw.get("frequencies", ["monthly"])),
            annual_rate=Decimal(str(raw.get("annual_rate", "0"))),
        )
    except (ValueError, ArithmeticError) as exc:
        raise AgreementError(f"organization option plan_limits is malformed: {exc}") from None


def within_limits(org: Organization, principal: int, down_payment: int, count: int, frequency: str) -> list[str]:
    """Why a plan needs a manager's approval (empty: the customer may choose it alone)."""
    return maths.within_limits(plan_limits(org), principal, down_payment, count, frequency)


def plan_options(org: Organization, customer: Customer, invoices: Sequence[Invoice | int] | None = None,
                 start: dt.date | None = None) -> list[PlanOption]:
    """The plans this customer may pick alone (in the portal) for ``invoices`` (default: all open)."""
    rows = _open_invoices(org, customer, invoices)
    currencies = {i.currency for i in rows}
    if len(currencies) != 1:
        return []
    start = start or debtor_today(customer)
    principal = sum(i.open_amount for i in rows)
    limits = plan_limits(org)
    if limits.max_total is not None and currencies != {org.currency}:
        return []  # the limit is in the organization's currency; no conversion is guessed
    return maths.plan_options(principal, limits, start,
                              max_annual_rate=caps.plan_rate_ceiling(customer.country, start))


def in_live_plan(org: Organization, invoices) -> set[str]:
    """The refs of those invoices already in a plan that is active or waiting for approval."""
    return set(Invoice.objects.for_org(org).filter(pk__in=[i.pk for i in invoices], plans__status__in=[
        Plan.Status.ACTIVE, Plan.Status.PROPOSED]).values_list("ref", flat=True))


def create_plan(org: Organization, customer: Customer, invoices: Sequence[Invoice | int] | None, count: int,
                frequency: str = "monthly", start_date: dt.date | None = None, *,
                down_payment: int | None = None, annual_rate: Decimal | str = Decimal(0),
                first_due: dt.date | None = None, created_by=None, approved_by=None,
                at: dt.datetime | None = None) -> Plan:
    """Restructure open invoices into a down payment and ``count`` instalments (``at``: when it was
    agreed, the timeline's moment; default now).

    Inside the organization's limits the plan is active at once; outside them it waits as
    "proposed" until a manager approves it (or is active at once if ``approved_by`` is a manager).
    Interest is refused above the legal ceiling of the customer's country.
    """
    start_date = start_date or debtor_today(customer)
    rows = _open_invoices(org, customer, invoices)
    if not rows:
        raise AgreementError("the customer has no open invoices to put in a plan")
    currencies = {i.currency for i in rows}
    if len(currencies) > 1:
        raise AgreementError("a plan covers invoices in one currency only")
    currency = currencies.pop()
    principal = sum(i.open_amount for i in rows)
    limits = plan_limits(org)
    if down_payment is None:
        down_payment = maths.min_down_payment(principal, limits)
    rate = Decimal(str(annual_rate))
    schedule = maths.build_schedule(principal, down_payment, count, frequency, start_date, first_due=first_due,
                                    annual_rate=rate,
                                    max_annual_rate=caps.plan_rate_ceiling(customer.country, start_date))
    reasons = maths.within_limits(limits, principal, down_payment, count, frequency)
    if limits.max_total is not None and currency != org.currency:
        reasons.append("the plan's currency differs from the one its limits are written in")
    if approved_by is not None and not _is_manager(org, approved_by):
        raise AgreementError("only a manager may approve a plan outside the limits")
    active = not reasons or approved_by is not None
    with transaction.atomic():
        taken = in_live_plan(org, rows)
        if taken:
            raise AgreementError(f"invoices already in a plan: {', '.join(sorted(taken))}")
        plan = Plan.objects.create(
            organization=org, customer=customer, currency=currency, principal=principal,
            down_payment=down_payment, interest=schedule.interest, annual_rate=rate, count=count,
            frequency=frequency, start_date=start_date, max_missed=_opt(org, "plan_max_missed", 2),
            grace_days=_opt(org, "plan_grace_days", 3),
            status=Plan.Status.ACTIVE if active else Plan.Status.PROPOSED, within_limits=not reasons,
            limit_notes=reasons, created_by=created_by, approved_by=approved_by if reasons else None)
        plan.invoices.set(rows)
        Instalment.objects.bulk_create([Instalment(organization=org, plan=plan, number=i.number,
                                                   due_date=i.due_date, amount=i.amount)
                                        for i in schedule.instalments])
        summary = (f"Plan de pagos: {count} cuotas {plan.get_frequency_display().lower()} por "
                   f"{from_minor(schedule.total, currency)} {currency}")
        ledger.record_event(org, customer, "plan.created" if active else "plan.proposed",
                            summary if active else f"{summary} (requiere aprobación)",
                            data={"plan_id": plan.pk, "principal": principal, "interest": schedule.interest,
                                  "down_payment": down_payment, "count": count, "frequency": frequency,
                                  "total": schedule.total, "currency": currency,
                                  "invoice_refs": [i.ref for i in rows], "outside_limits": reasons},
                            actor=created_by, at=at)
        if active:
            _supersede_promises(org, plan, created_by, at=at)
    return plan


def _supersede_promises(org: Organization, plan: Plan, actor, *, at: dt.datetime | None = None) -> None:
    """A plan replaces pending promises on its invoices: the plan's dates are what the customer owes now."""
    for old in Promise.objects.for_org(org).filter(status=Promise.Status.PENDING,
                                                   invoices__in=plan.invoices.all()).distinct():
        _close_promise(org, old, Promise.Status.CANCELLED, plan.start_date, "promise.replaced",
                       "Promesa reemplazada por un plan de pagos", actor=actor, at=at, data={"by": "plan"})


def approve_plan(org: Organization, plan: Plan, approver) -> Plan:
    if plan.status != Plan.Status.PROPOSED:
        raise AgreementError(f"only a proposed plan can be approved (this one is {plan.status})")
    if not _is_manager(org, approver):
        raise AgreementError("only a manager may approve a plan outside the limits")
    with transaction.atomic():
        plan.status, plan.approved_by = Plan.Status.ACTIVE, approver
        plan.save(update_fields=["status", "approved_by"])
        ledger.record_event(org, plan.customer_id, "plan.approved", "Plan de pagos aprobado", actor=approver,
                            data={"plan_id": plan.pk})
        _supersede_promises(org, plan, approver)
    return plan


def cancel_plan(org: Organization, plan: Plan, actor=None, reason: str = "") -> Plan:
    if plan.status not in (Plan.Status.PROPOSED, Plan.Status.ACTIVE):
        raise AgreementError(f"the plan is already {plan.status}")
    with transaction.atomic():
        plan.status, plan.ended_on = Plan.Status.CANCELLED, debtor_today(plan.customer)
        plan.save(update_fields=["status", "ended_on"])
        ledger.record_event(org, plan.customer_id, "plan.cancelled",
                            f"Plan de pagos anulado: {reason}" if reason else "Plan de pagos anulado",
                            actor=actor, data={"plan_id": plan.pk, "reason": reason})
    return plan


# -- disputes -------------------------------------------------------------------------------------

def dispute_reasons(org: Organization, active_only: bool = True) -> list[DisputeReason]:
    """The organization's reasons, the four defaults created on first use (then edited in the admin)."""
    reasons = list(DisputeReason.objects.for_org(org))  # one query once they exist (the portal asks on every page)
    if not reasons:
        DisputeReason.objects.bulk_create(
            [DisputeReason(organization=org, code=code, label=label, position=n)
             for n, (code, label) in enumerate(DEFAULT_DISPUTE_REASONS)], ignore_conflicts=True)
        reasons = list(DisputeReason.objects.for_org(org))
    return [r for r in reasons if r.active] if active_only else reasons


def open_dispute_on(org: Organization, invoice: Invoice) -> bool:
    """Whether the invoice already has a dispute being dealt with (open or answered)."""
    return Dispute.objects.for_org(org).filter(invoice=invoice, status__in=[Dispute.Status.OPEN,
                                                                             Dispute.Status.ANSWERED]).exists()


def open_dispute(org: Organization, invoice: Invoice, reason_code: str, text: str = "", actor=None, *,
                 attachments: Iterable[tuple[str, bytes]] = (), at: dt.datetime | None = None) -> Dispute:
    """Open a dispute on ``invoice``: its collection pauses at once (the cycle reads open disputes).

    ``attachments`` are (file name, content) pairs. One open dispute per invoice.
    """
    attachments = list(attachments)
    for name, content in attachments:
        if len(content) > MAX_ATTACHMENT_BYTES:
            raise AgreementError(f"attachment {name} is larger than {MAX_ATTACHMENT_BYTES // 2**20} MB")
    codes = {r.code for r in dispute_reasons(org)}
    if reason_code not in codes:
        raise AgreementError(f"unknown dispute reason {reason_code!r} (expected one of {', '.join(sorted(codes))})")
    if invoice.organization_id != org.pk:
        raise AgreementError("the invoice belongs to another organization")
    from django.core.files.base import ContentFile

    with transaction.atomic():
        if open_dispute_on(org, invoice):
            raise AgreementError(f"invoice {invoice.ref} already has an open dispute")
        owner_id = Customer.objects.for_org(org).filter(pk=invoice.customer_id).values_list("owner_id", flat=True)
        dispute = Dispute.objects.create(organization=org, customer_id=invoice.customer_id, invoice=invoice,
                                         reason=reason_code, text=text, opened_by=actor,
                                         assignee_id=owner_id.first(), opened_at=at or timezone.now())
        for name, content in attachments:
            att = DisputeAttachment(organization=org, dispute=dispute, name=name[:200])
            att.file.save(name, ContentFile(content), save=False)
            att.save()
        ledger.record_event(org, invoice.customer_id, "dispute.opened",
                            f"Disputa sobre la factura {invoice.ref}: {reason_code}", invoice=invoice, actor=actor,
                            data={"dispute_id": dispute.pk, "reason": reason_code, "text": text[:500]},
                            at=dispute.opened_at)
        # Someone must look at it: a task in the team's inbox, closed again when it is resolved.
        ledger.create_task(org, invoice.customer_id, "dispute", f"Atender disputa sobre la factura {invoice.ref}",
                           timezone.localdate(dispute.opened_at), source_key=f"dispute:{dispute.pk}",
                           assignee=dispute.assignee,
                           data={"dispute_id": dispute.pk, "invoice": invoice.ref, "reason": reason_code,
                                 "text": text[:500]})
    return dispute


def _person_name(user) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""


def assign_dispute(org: Organization, dispute: Dispute, assignee, actor=None) -> Dispute:
    dispute.assignee = assignee
    dispute.save(update_fields=["assignee"])
    ledger.record_event(org, dispute.customer_id, "dispute.assigned", f"Disputa asignada a {assignee}",
                        invoice=dispute.invoice, actor=actor,
                        data={"dispute_id": dispute.pk, "assignee_name": _person_name(assignee)})
    return dispute


def answer_dispute(org: Organization, dispute: Dispute, answer: str, actor=None, *,
                   at: dt.datetime | None = None) -> Dispute:
    if not dispute.is_open:
        raise AgreementError("the dispute is already resolved")
    if not answer.strip():
        raise AgreementError("the answer is empty")
    dispute.answer, dispute.status, dispute.answered_at = answer, Dispute.Status.ANSWERED, at or timezone.now()
    dispute.save(update_fields=["answer", "status", "answered_at"])
    ledger.record_event(org, dispute.customer_id, "dispute.answered", "Disputa respondida al cliente",
                        invoice=dispute.invoice, actor=actor, data={"dispute_id": dispute.pk},
                        at=dispute.answered_at)
    return dispute


def resolve_dispute(org: Organization, dispute: Dispute, valid: bool, resolution: str, actor=None, *,
                    credit_amount: int | None = None, at: dt.datetime | None = None) -> Dispute:
    """Close a dispute. Valid: a credit note for ``credit_amount`` (default the open balance).
    Not valid: collection resumes, and the cycle sends the customer a message that explains.
    """
    if not dispute.is_open:
        raise AgreementError("the dispute is already resolved")
    if not resolution.strip():
        raise AgreementError("say how the dispute was resolved (the customer will be told)")
    at = at or timezone.now()
    with transaction.atomic():
        invoice = Invoice.objects.for_org(org).get(pk=dispute.invoice_id)
        if valid:
            amount = invoice.open_amount if credit_amount is None else credit_amount
            if amount > 0:
                note = ledger.add_credit_note(org, invoice, f"NC-D{dispute.pk}", at.date(), amount,
                                              reason=f"Disputa procedente: {resolution}"[:200], actor=actor,
                                              now=at)
                dispute.credit_note_ref = note.ref
                invoice.refresh_from_db(fields=["open_amount", "status", "closed_on"])
        dispute.invoice = invoice
        dispute.status = Dispute.Status.VALID if valid else Dispute.Status.INVALID
        dispute.resolution, dispute.resolved_at = resolution, at
        dispute.resolution_seconds = int((at - dispute.opened_at).total_seconds())
        dispute.save(update_fields=["status", "resolution", "resolved_at", "resolution_seconds", "credit_note_ref"])
        ledger.record_event(org, dispute.customer_id, "dispute.resolved",
                            f"Disputa sobre {invoice.ref} resuelta: {'procede' if valid else 'no procede'}",
                            invoice=invoice, actor=actor, at=at,
                            data={"dispute_id": dispute.pk, "valid": valid, "resolution": resolution[:500],
                                  "credit_note": dispute.credit_note_ref,
                                  "resolution_seconds": dispute.resolution_seconds})
        for task in Task.objects.for_org(org).filter(source_key=f"dispute:{dispute.pk}", status=Task.Status.OPEN):
            ledger.complete_task(task, "resolved", actor=actor, at=at)
    return dispute


# -- terms, fees and discounts --------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class CustomerTermsView:
    fees: maths.Terms
    discount_percent: Decimal
    discount_days: int
    business: bool
    source: str  # "customer", "organization" or "none"


def set_terms(org: Organization, customer: Customer, *, at: dt.datetime | None = None, **fields) -> CustomerTerms:
    """Create or change one customer's terms (fields of ``CustomerTerms``), checked; ``at``: when
    (the timeline's moment; default now)."""
    kind = fields.get("late_fee_kind", "none")
    if kind not in maths.LATE_FEE_KINDS:
        raise AgreementError(f"unknown late fee kind {kind!r}")
    terms, _ = CustomerTerms.objects.update_or_create(organization=org, customer=customer, defaults=fields)
    ledger.record_event(org, customer, "terms.changed", "Condiciones de pago actualizadas",
                        data={k: str(v) for k, v in fields.items()}, at=at)
    return terms


def terms_for(org: Organization, customer_ids: Iterable[int]) -> dict[int, CustomerTermsView]:
    """Each customer's terms (their own row, else the organization's defaults), in one query."""
    ids = list(customer_ids)
    own = {t.customer_id: t for t in CustomerTerms.objects.for_org(org).filter(customer_id__in=ids)}
    raw = org.option("terms", {}) or {}
    try:
        default = CustomerTermsView(
            maths.Terms(raw.get("late_fee_kind", "none"), Decimal(str(raw.get("late_fee_rate", "0"))),
                        to_minor(str(raw.get("late_fee_fixed", "0")), org.currency), int(raw.get("grace_days", 0))),
            Decimal(str(raw.get("early_discount_percent", "0"))), int(raw.get("early_discount_days", 0)),
            bool(raw.get("business", True)), "organization" if raw else "none")
    except (ValueError, ArithmeticError) as exc:
        raise AgreementError(f"organization option terms is malformed: {exc}") from None
    out = {}
    for cid in ids:
        t = own.get(cid)
        out[cid] = default if t is None else CustomerTermsView(
            maths.Terms(t.late_fee_kind, t.late_fee_rate, t.late_fee_fixed, t.grace_days),
            t.early_discount_percent, t.early_discount_days, t.business, "customer")
    return out


def post_fees(org: Organization, actions: Iterable) -> list[int]:
    """Post the late fee of each "fee" action: one per overdue invoice, never above the legal cap.

    Called by the receiver of ``dunning.signals.actions_created`` inside the cycle's transaction.
    The charge is a ledger invoice "CM-<invoice ref>", so a re-run finds it and adds nothing.
    Returns the ids of the fees posted.
    """
    return _post_fees(org, [(inv_id, a.as_of, a.key) for a in actions if a.action == "fee"
                            and getattr(a, "status", "planned") not in _NOT_GOING_AHEAD
                            for inv_id in (a.invoice_ids or [])])


#: A fee step a manager has still to approve, or refused, posts nothing (yet).
_NOT_GOING_AHEAD = {"pending_approval", "rejected", "cancelled"}


def post_fee(org: Organization, invoice: Invoice, as_of: dt.date, key: str = "manual") -> Fee | None:
    """Post the late fee of one invoice by hand (same rules as the policy's fee step); None if none is due."""
    posted = _post_fees(org, [(invoice.pk, as_of, key)])
    return Fee.objects.for_org(org).get(pk=posted[0]) if posted else None


FEE_COLUMNS = ("customer_id", "invoice_id", "fee_invoice_id", "action_key", "posted_on", "currency", "kind",
               "days_overdue", "requested", "cap", "amount", "reason", "basis")


def _any_fee_terms(org: Organization) -> bool:
    """Whether any customer's terms (or the organization's) charge late fees: when none does, a fee
    step posts nothing and the cycle need not read the invoices behind it."""
    if (org.option("terms", {}) or {}).get("late_fee_kind", "none") != "none":
        return True
    return CustomerTerms.objects.for_org(org).exclude(late_fee_kind="none").exists()


def _post_fees(org: Organization, wanted: list[tuple[int, dt.date, str]]) -> list[int]:
    """Decide every wanted fee from plain rows, then write the charges, fees and events in bulk (#16)."""
    if not wanted or not _any_fee_terms(org):
        return []
    inv_ids = {inv_id for inv_id, _, _ in wanted}
    invoices = {row[0]: row[1:] for row in Invoice.objects.for_org(org).filter(pk__in=inv_ids).values_list(
        "pk", "customer_id", "ref", "open_amount", "due_date", "currency", "customer__country")}
    done = set(Fee.objects.for_org(org).filter(invoice_id__in=inv_ids).values_list("invoice_id", flat=True))
    terms = terms_for(org, {row[0] for row in invoices.values()})
    posting = []
    for inv_id, as_of, key in wanted:
        row = invoices.get(inv_id)
        if row is None or inv_id in done:
            continue
        cid, ref, open_amount, due_date, currency, country = row
        if open_amount <= 0 or ref.startswith("CM-"):
            continue  # paid meanwhile, already charged, or a fee itself (no fee on a fee)
        t = terms[cid]
        if t.fees.kind == "none":
            continue  # no late fee in the terms (``decide_fee`` would say so): no cap to look up
        days = (as_of - due_date).days
        cap = caps.legal_cap(country, currency, as_of, business=t.business)
        decision = maths.decide_fee(t.fees, open_amount, days, cap)
        if decision.amount <= 0:
            continue
        done.add(inv_id)
        posting.append((inv_id, row, as_of, key, t, days, cap, decision))
    if not posting:
        return []
    with transaction.atomic():
        charge_ids = ledger.add_invoice_rows(org, [(row[0], f"CM-{row[1]}", as_of, as_of, row[4], decision.amount)
                                                   for _i, row, as_of, _k, _t, _d, _c, decision in posting])
        fee_rows = []
        for inv_id, (cid, ref, open_amount, _due, currency, _country), as_of, key, t, days, cap, decision in posting:
            fee_rows.append((cid, inv_id, charge_ids[f"CM-{ref}"], key, as_of, currency, t.fees.kind, days,
                             decision.requested, decision.cap, decision.amount, decision.reason[:300], json.dumps(
                                 {"terms": t.source, "kind": t.fees.kind, "rate": str(t.fees.rate),
                                  "fixed": t.fees.fixed, "grace_days": t.fees.grace_days,
                                  "overdue_amount": open_amount, "cap_country": cap.country if cap else None,
                                  "cap_source": caps.describe(cap.country) if cap else None})))
        fee_ids = dict(insert_rows(Fee, FEE_COLUMNS, fee_rows, constants={"organization_id": org.pk},
                                   returning=("invoice_id", "id")))
        events = []
        for inv_id, (cid, ref, _open, _due, currency, _country), as_of, _key, _t, _days, _cap, decision in posting:
            if inv_id not in fee_ids:
                continue  # posted meanwhile by another process: its event is its own
            events.append((cid, "fee.posted", f"Cargo por mora de {from_minor(decision.amount, currency)} {currency} "
                           f"sobre {ref}", json.dumps({"fee_id": fee_ids[inv_id], "amount": decision.amount,
                                                      "requested": decision.requested, "cap": decision.cap,
                                                      "reason": decision.reason, "ref": f"CM-{ref}"}),
                           inv_id, noon_utc(as_of)))
        ledger.record_event_rows(org, events)
    return [fee_ids[inv_id] for inv_id, *_ in posting if inv_id in fee_ids]


def noon_utc(day: dt.date) -> dt.datetime:
    """An event known only by its date sits at noon UTC, inside that date in every zone we serve."""
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)


def waive_fee(org: Organization, fee: Fee, actor, reason: str, on_date: dt.date | None = None, *,
              at: dt.datetime | None = None) -> Fee:
    """Forgive a late fee (a goodwill gesture): a credit note on its charge, by a manager, with a reason.
    ``at``: when (``waived_at`` and the timeline; default now)."""
    if not reason.strip():
        raise AgreementError("say why the fee is waived")
    if not _is_manager(org, actor):
        raise AgreementError("only a manager may waive a fee")
    if fee.status == Fee.Status.WAIVED:
        raise AgreementError("the fee is already waived")
    on_date = on_date or debtor_today(fee.customer)
    with transaction.atomic():
        if fee.fee_invoice_id:
            charge = Invoice.objects.for_org(org).get(pk=fee.fee_invoice_id)
            if charge.open_amount > 0:
                ledger.add_credit_note(org, charge, f"NC-{charge.ref}", on_date, charge.open_amount,
                                       reason=f"Condonación: {reason}"[:200], actor=actor, now=at)
        fee.status, fee.waived_by, fee.waived_reason, fee.waived_at = (
            Fee.Status.WAIVED, actor, reason[:300], at or timezone.now())
        fee.save(update_fields=["status", "waived_by", "waived_reason", "waived_at"])
        ledger.record_event(org, fee.customer_id, "fee.waived",
                            f"Cargo por mora condonado ({from_minor(fee.amount, fee.currency)} {fee.currency}): "
                            f"{reason}", invoice=fee.invoice, actor=actor, at=at,
                            data={"fee_id": fee.pk, "amount": fee.amount, "currency": fee.currency,
                                  "reason": reason})
    return fee


def discount_offers(org: Organization, as_of: dt.date, invoice_ids: Iterable[int] | None = None
                    ) -> dict[int, dict]:
    """Early-payment discounts still open on ``as_of``: invoice id → percent, amount, deadline.

    Messaging shows these in the reminders while they apply ("2 % si paga hasta el 11 de marzo").
    """
    qs = Invoice.objects.for_org(org).filter(status=Invoice.Status.OPEN, open_amount__gt=0)
    if invoice_ids is not None:
        qs = qs.filter(pk__in=list(invoice_ids))
    rows = list(qs.values_list("pk", "customer_id", "issue_date", "amount", "currency"))
    terms = terms_for(org, {r[1] for r in rows})
    out = {}
    for pk, cid, issued, amount, currency in rows:
        t = terms[cid]
        amount_off = maths.early_discount(amount, t.discount_percent, issued, t.discount_days, as_of)
        if amount_off:
            out[pk] = {"percent": t.discount_percent, "amount": amount_off, "currency": currency,
                       "until": maths.discount_deadline(issued, t.discount_days)}
    return out


DISCOUNT_BATCH = 10_000  # payments looked at per query (well under SQLite's 32,766 variables)


def apply_early_discounts(org: Organization, payment_ids: Iterable[int]) -> list[Discount]:
    """Grant the early-payment discount when a payment in the window leaves no more than the discount open.

    The customer paid the discounted total in time, so the rest is forgiven by a credit note
    "DPP-<invoice ref>" (idempotent by that reference and by one discount per invoice).
    """
    from cobro.ledger.models import Allocation

    # In batches: a statement or a payments file of a large book names more payments and invoices
    # than SQLite takes values in one query (32,766). Each invoice's latest payment date is taken
    # over all the payments before anything is granted.
    ids = list(payment_ids)
    paid_on: dict[int, dt.date] = {}
    for start in range(0, len(ids), DISCOUNT_BATCH):
        for inv_id, day in (Allocation.objects.for_org(org).filter(payment_id__in=ids[start:start + DISCOUNT_BATCH])
                            .values_list("invoice_id", "date")):
            paid_on[inv_id] = max(day, paid_on.get(inv_id, day))
    paid = list(paid_on)
    granted = []
    for start in range(0, len(paid), DISCOUNT_BATCH):
        granted += _grant_discounts(org, paid_on, paid[start:start + DISCOUNT_BATCH])
    return granted


def _grant_discounts(org: Organization, paid_on: dict[int, dt.date], invoice_ids: list[int]) -> list[Discount]:
    invoices = list(Invoice.objects.for_org(org).filter(pk__in=invoice_ids, open_amount__gt=0)
                    .exclude(early_discount__isnull=False))
    terms = terms_for(org, {i.customer_id for i in invoices})
    granted = []
    for inv in invoices:
        t = terms[inv.customer_id]
        off = maths.early_discount(inv.amount, t.discount_percent, inv.issue_date, t.discount_days, paid_on[inv.pk])
        if not off or inv.open_amount > off:
            continue
        with transaction.atomic():
            note = ledger.add_credit_note(org, inv, f"DPP-{inv.ref}", paid_on[inv.pk], inv.open_amount,
                                          reason=f"Descuento por pronto pago {t.discount_percent} %")
            try:
                granted.append(Discount.objects.create(
                    organization=org, customer_id=inv.customer_id, invoice=inv, paid_on=paid_on[inv.pk],
                    percent=t.discount_percent, amount=note.amount, credit_note_ref=note.ref))
            except IntegrityError:
                continue
            ledger.record_event(org, inv.customer_id, "discount.applied",
                                f"Descuento por pronto pago en {inv.ref}: {from_minor(note.amount, inv.currency)} "
                                f"{inv.currency}", invoice=inv,
                                data={"percent": str(t.discount_percent), "amount": note.amount,
                                      "currency": inv.currency})
    return granted


def evaluate_agreements(org: Organization, as_of: dt.date, customer_ids: Iterable[int] | None = None) -> dict:
    """Mark promises kept or broken and plans completed or broken as of ``as_of`` (idempotent)."""
    from cobro.agreements.cycle import evaluate

    return evaluate(org, as_of, customer_ids)



def promise_kept_rates(org: Organization, customer_ids: Iterable[int] | None = None) -> dict[int, tuple[int, int]]:
    """Per customer, (promises kept, promises judged): the input the risk score reads. One query."""
    from django.db.models import Count, Q

    qs = Promise.objects.for_org(org).filter(status__in=[Promise.Status.KEPT, Promise.Status.BROKEN])
    if customer_ids is not None:
        qs = qs.filter(customer_id__in=list(customer_ids))
    rows = qs.values("customer_id").annotate(kept=Count("id", filter=Q(status=Promise.Status.KEPT)),
                                             judged=Count("id")).values_list("customer_id", "kept", "judged")
    return {cid: (kept, judged) for cid, kept, judged in rows}
