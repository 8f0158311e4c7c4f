"""The API's operations. Every query is scoped to the key's organization: another organization's
reference answers 404, exactly like one that does not exist. Writes go through the owning app's
services (ledger, agreements), never straight to the tables."""

from __future__ import annotations

import base64
import datetime as dt
from decimal import Decimal
from typing import Literal

from django.db import transaction
from django.db.models import Sum
from django.http import Http404
from ninja import File, Query, Router, Status, UploadedFile
from pydantic import Field

from cobro.agreements import services as agreements
from cobro.agreements.models import Dispute, Plan, Promise
from cobro.api import schemas as s
from cobro.api.problems import ERRORS, ApiProblem, Problem
from cobro.api.webhooks import public_data
from cobro.dunning.models import Action
from cobro.engine.agreements import AgreementError
from cobro.engine.money import MoneyError, check_currency, from_minor, to_minor
from cobro.ledger import services as ledger
from cobro.ledger.models import Contact, CreditNote, Customer, Invoice, Payment, TimelineEvent
from cobro.ledger.validation import check_country, check_email, check_phone, check_tax_id, check_timezone
from cobro.messaging.models import Message

router = Router()
MAX_LIMIT = 500


def answers(ok) -> dict:
    """The documented answers of an operation: its own (a schema for 200, or {status: schema}) and every
    problem it may answer."""
    return {**ERRORS, **(ok if isinstance(ok, dict) else {200: ok})}


def org(request):
    return request.api_org


def writable(request) -> None:
    if request.api_key.scope != "write":
        raise ApiProblem(403, "this key can only read; create a key with --scope write")


def invalid(field: str, message: str) -> ApiProblem:
    return ApiProblem(422, message, errors=[{"field": field, "message": message}])


def money(minor: int, currency: str) -> str:
    return str(from_minor(minor, currency))


def minor(text: str, currency: str, field: str = "amount") -> int:
    try:
        value = to_minor(Decimal(text), currency)
    except (MoneyError, ArithmeticError, ValueError) as exc:
        raise invalid(field, str(exc)) from None
    if value <= 0:
        raise invalid(field, "the amount must be positive")
    return value


def currency_of(text: str, field: str = "currency") -> str:
    try:
        return check_currency(text)
    except (MoneyError, ValueError) as exc:
        raise invalid(field, str(exc)) from None


def customer_or_404(request, ref: str) -> Customer:
    found = Customer.objects.for_org(org(request)).filter(ref=ref).first()
    if found is None:
        raise Http404(f"no customer {ref!r}")
    return found


def invoices_of(request, refs: list[str], customer: Customer | None = None, field: str = "invoice_refs"):
    rows = {i.ref: i for i in Invoice.objects.for_org(org(request)).filter(ref__in=refs)}
    missing = [r for r in refs if r not in rows or (customer and rows[r].customer_id != customer.pk)]
    if missing:
        raise invalid(field, f"unknown invoices of this customer: {', '.join(missing[:10])}")
    return [rows[r] for r in refs]


class Paging(s.Since):
    cursor: str | None = Field(None, max_length=40)
    limit: int = Field(50, ge=1, le=MAX_LIMIT)


def page(qs, paging: Paging, build, *, updated_field: str | None = "updated_at"):
    """Cursor pagination by id: stable while rows are added, and cheap at any depth."""
    if paging.updated_since is not None:
        if updated_field is None:
            raise invalid("updated_since", "this list cannot be filtered by updated_since")
        qs = qs.filter(**{f"{updated_field}__gte": paging.updated_since})
    if paging.cursor:
        try:
            after = int(base64.urlsafe_b64decode(paging.cursor.encode() + b"==").decode())
        except (ValueError, UnicodeDecodeError):
            raise invalid("cursor", "not a cursor given by this API") from None
        if not 0 <= after < 2**63:
            raise invalid("cursor", "not a cursor given by this API")
        qs = qs.filter(pk__gt=after)
    rows = list(qs.order_by("pk")[: paging.limit + 1])
    more = len(rows) > paging.limit
    rows = rows[: paging.limit]
    cursor = base64.urlsafe_b64encode(str(rows[-1].pk).encode()).decode().rstrip("=") if more else None
    return {"items": build(rows), "next_cursor": cursor}


def filtered(qs, **filters):
    """The list filters a client gave (customer by ref, status...), ignoring those left out."""
    names = {"customer": "customer__ref", "invoice": "invoice__ref"}
    return qs.filter(**{names.get(k, k): v for k, v in filters.items() if v})


def refs_by_id(model, org_, ids) -> dict[int, str]:
    return dict(model.objects.for_org(org_).filter(pk__in=set(ids)).values_list("pk", "ref"))


# -- customers -------------------------------------------------------------------------------------

def _customers_out(request, rows):
    balances: dict[int, dict[str, str]] = {}
    for cid, cur, total in (Invoice.objects.for_org(org(request)).filter(customer__in=rows, open_amount__gt=0)
                            .values("customer_id", "currency").annotate(t=Sum("open_amount"))
                            .values_list("customer_id", "currency", "t")):
        balances.setdefault(cid, {})[cur] = money(total, cur)
    return [{"ref": c.ref, "name": c.name, "tax_id": c.tax_id, "country": c.country, "language": c.language,
             "timezone": c.timezone, "address": c.address, "city": c.city, "region": c.region,
             "postal_code": c.postal_code, "segment": c.segment, "preferred_channel": c.preferred_channel,
             "balances": balances.get(c.pk, {}), "created_at": c.created_at, "updated_at": c.updated_at}
            for c in rows]


@router.get("/customers", response=answers(s.CustomerPage), tags=["customers"])
def list_customers(request, paging: Query[Paging], country: str | None = None, segment: str | None = None):
    qs = Customer.objects.for_org(org(request))
    if country:
        qs = qs.filter(country=country.upper())
    if segment:
        qs = qs.filter(segment=segment)
    return page(qs, paging, lambda rows: _customers_out(request, rows))


@router.get("/customers/{ref}", response=answers(s.CustomerOut), tags=["customers"])
def get_customer(request, ref: str):
    return _customers_out(request, [customer_or_404(request, ref)])[0]


def _clean_customer(fields: dict) -> dict:
    checks = {"country": check_country, "timezone": check_timezone}
    for name, check in checks.items():
        if fields.get(name) is not None:
            try:
                fields[name] = check(fields[name])
            except ValueError as exc:
                raise invalid(name, str(exc)) from None
    return fields


def _clean_contact(c: s.ContactIn, country: str, index: int | None = None) -> dict:
    where = "contacts" if index is None else f"contacts.{index}"
    data = c.dict()
    try:
        if data["email"]:
            data["email"] = check_email(data["email"])
        for name in ("phone", "whatsapp"):
            if data[name]:
                data[name] = check_phone(data[name], country)
    except ValueError as exc:
        raise invalid(where, str(exc)) from None
    if not (data["email"] or data["phone"] or data["whatsapp"]):
        raise invalid(where, "a contact needs an e-mail, a phone or a WhatsApp number")
    return data


def _upsert_customer(request, ref: str, body: s.CustomerFields, contacts=()):
    writable(request)
    fields = _clean_customer(body.dict(exclude={"ref", "contacts"}))
    country = fields.get("country") or getattr(Customer.objects.for_org(org(request)).filter(ref=ref).first(),
                                               "country", org(request).country)
    if fields.get("tax_id"):
        try:
            fields["tax_id"] = check_tax_id(fields["tax_id"], country)
        except ValueError as exc:
            raise invalid("tax_id", str(exc)) from None
    cleaned = [_clean_contact(c, country, i) for i, c in enumerate(contacts)]
    with transaction.atomic():
        try:
            customer, created = ledger.upsert_customer(org(request), ref, **fields)
            for data in cleaned:
                ledger.add_contact(org(request), customer, **data)
        except ledger.LedgerError as exc:
            raise invalid("body", str(exc)) from None
    return Status(201 if created else 200, _customers_out(request, [customer])[0])


@router.post("/customers", response=answers({201: s.CustomerOut, 200: s.CustomerOut}), tags=["customers"])
def create_customer(request, payload: s.CustomerIn):
    """Create a customer, or update it when its ``ref`` exists (an upsert: an ERP can send it every night)."""
    return _upsert_customer(request, payload.ref, payload, payload.contacts)


@router.put("/customers/{ref}", response=answers({200: s.CustomerOut, 201: s.CustomerOut}), tags=["customers"])
def put_customer(request, ref: str, payload: s.CustomerFields):
    if not (0 < len(ref) <= 64):
        raise invalid("ref", "a reference has 1 to 64 characters")
    return _upsert_customer(request, ref, payload)


@router.get("/customers/{ref}/contacts", response=answers(list[s.ContactOut]), tags=["customers"])
def list_contacts(request, ref: str):
    return list(Contact.objects.for_org(org(request)).filter(customer=customer_or_404(request, ref))
                .order_by("id"))


@router.post("/customers/{ref}/contacts", response=answers({201: s.ContactOut}), tags=["customers"])
def add_contact(request, ref: str, payload: s.ContactIn):
    writable(request)
    customer = customer_or_404(request, ref)
    data = _clean_contact(payload, customer.country)
    return Status(201, ledger.add_contact(org(request), customer, **data))


@router.get("/customers/{ref}/portal-link", response=answers(s.PortalLinkOut), tags=["customers"])
def portal_link(request, ref: str):
    """The customer's private link to their statement, as messages carry it."""
    from cobro.api import links

    customer = customer_or_404(request, ref)
    url, expires_on = links.portal_link(org(request), customer)
    return {"url": url, "expires_on": expires_on}


# -- invoices --------------------------------------------------------------------------------------

def _invoices_out(request, rows):
    customers = refs_by_id(Customer, org(request), [i.customer_id for i in rows])
    return [{"ref": i.ref, "customer_ref": customers[i.customer_id], "issue_date": i.issue_date,
             "due_date": i.due_date, "currency": i.currency, "amount": money(i.amount, i.currency),
             "open_amount": money(i.open_amount, i.currency), "status": i.status, "closed_on": i.closed_on,
             "created_at": i.created_at, "updated_at": i.updated_at} for i in rows]


@router.get("/invoices", response=answers(s.InvoicePage), tags=["invoices"])
def list_invoices(request, paging: Query[Paging], status: Literal[tuple(Invoice.Status.values)] | None = None,
                  customer: str | None = None):
    qs = Invoice.objects.for_org(org(request))
    if status:
        qs = qs.filter(status=status)
    if customer:
        qs = qs.filter(customer__ref=customer)
    return page(qs, paging, lambda rows: _invoices_out(request, rows))


def invoice_or_404(request, ref: str) -> Invoice:
    found = Invoice.objects.for_org(org(request)).filter(ref=ref).first()
    if found is None:
        raise Http404(f"no invoice {ref!r}")
    return found


@router.get("/invoices/{ref}", response=answers(s.InvoiceOut), tags=["invoices"])
def get_invoice(request, ref: str):
    return _invoices_out(request, [invoice_or_404(request, ref)])[0]


def _upsert_invoice(request, ref: str, body: s.InvoiceFields):
    writable(request)
    currency = currency_of(body.currency)
    amount = minor(body.amount, currency)
    customer = Customer.objects.for_org(org(request)).filter(ref=body.customer_ref).first()
    if customer is None:
        raise invalid("customer_ref", f"no customer {body.customer_ref!r}: create it first")
    for field in ("issue_date", "due_date"):
        if not dt.date(1900, 1, 1) <= getattr(body, field) <= dt.date(2200, 12, 31):
            raise invalid(field, "a date between 1900 and 2200")
    if body.due_date < body.issue_date:
        raise invalid("due_date", "the due date is before the issue date")
    try:
        invoice, created = ledger.upsert_invoice(org(request), customer, ref, body.issue_date, body.due_date,
                                                 currency, amount)
    except ledger.LedgerError as exc:
        raise invalid("body", str(exc)) from None
    return Status(201 if created else 200, _invoices_out(request, [invoice])[0])


@router.post("/invoices", response=answers({201: s.InvoiceOut, 200: s.InvoiceOut}), tags=["invoices"])
def create_invoice(request, payload: s.InvoiceIn):
    """Create an invoice, or correct it when its ``ref`` exists (an upsert by the ERP's number)."""
    return _upsert_invoice(request, payload.ref, payload)


@router.put("/invoices/{ref}", response=answers({200: s.InvoiceOut, 201: s.InvoiceOut}), tags=["invoices"])
def put_invoice(request, ref: str, payload: s.InvoiceFields):
    if not (0 < len(ref) <= 64):
        raise invalid("ref", "a reference has 1 to 64 characters")
    return _upsert_invoice(request, ref, payload)


# -- credit notes ----------------------------------------------------------------------------------

def _notes_out(request, rows):
    invoices = refs_by_id(Invoice, org(request), [n.invoice_id for n in rows])
    customers = refs_by_id(Customer, org(request), [n.customer_id for n in rows])
    return [{"ref": n.ref, "invoice_ref": invoices[n.invoice_id], "customer_ref": customers[n.customer_id],
             "date": n.date, "currency": n.currency, "amount": money(n.amount, n.currency), "reason": n.reason,
             "created_at": n.created_at} for n in rows]


@router.get("/credit-notes", response=answers(s.CreditNotePage), tags=["invoices"])
def list_credit_notes(request, paging: Query[Paging], invoice: str | None = None):
    qs = CreditNote.objects.for_org(org(request))
    if invoice:
        qs = qs.filter(invoice__ref=invoice)
    return page(qs, paging, lambda rows: _notes_out(request, rows), updated_field="created_at")


@router.post("/credit-notes", response=answers({201: s.CreditNoteOut, 200: s.CreditNoteOut}),
             tags=["invoices"])
def create_credit_note(request, payload: s.CreditNoteIn):
    writable(request)
    invoice = Invoice.objects.for_org(org(request)).filter(ref=payload.invoice_ref).first()
    if invoice is None:
        raise invalid("invoice_ref", f"no invoice {payload.invoice_ref!r}")
    existed = CreditNote.objects.for_org(org(request)).filter(ref=payload.ref).first()
    if existed:
        return Status(200, _notes_out(request, [existed])[0])
    amount = minor(payload.amount, invoice.currency)
    try:
        note = ledger.add_credit_note(org(request), invoice, payload.ref, payload.date, amount, payload.reason)
    except ledger.LedgerError as exc:
        raise invalid("amount", str(exc)) from None
    return Status(201, _notes_out(request, [note])[0])


# -- payments --------------------------------------------------------------------------------------

def _payments_out(request, rows):
    customers = refs_by_id(Customer, org(request), [p.customer_id for p in rows])
    allocations: dict[int, list[dict]] = {}
    for pay_id, inv_ref, amount, cur in (Payment.allocations.rel.related_model.objects.for_org(org(request))
                                         .filter(payment__in=rows).order_by("id")
                                         .values_list("payment_id", "invoice__ref", "amount", "payment__currency")):
        allocations.setdefault(pay_id, []).append({"invoice_ref": inv_ref, "amount": money(amount, cur)})
    return [{"ref": p.ref, "customer_ref": customers[p.customer_id], "date": p.date, "currency": p.currency,
             "amount": money(p.amount, p.currency), "unallocated": money(p.unallocated, p.currency),
             "method": p.method, "provider": p.provider, "provider_ref": p.provider_ref,
             "allocations": allocations.get(p.pk, []), "created_at": p.created_at} for p in rows]


@router.get("/payments", response=answers(s.PaymentPage), tags=["payments"])
def list_payments(request, paging: Query[Paging], customer: str | None = None):
    qs = Payment.objects.for_org(org(request))
    if customer:
        qs = qs.filter(customer__ref=customer)
    return page(qs, paging, lambda rows: _payments_out(request, rows), updated_field="created_at")


@router.get("/payments/{ref}", response=answers(s.PaymentOut), tags=["payments"])
def get_payment(request, ref: str):
    found = Payment.objects.for_org(org(request)).filter(ref=ref).first()
    if found is None:
        raise Http404(f"no payment {ref!r}")
    return _payments_out(request, [found])[0]


@router.post("/payments", response=answers({201: s.PaymentOut, 200: s.PaymentOut}), tags=["payments"])
def create_payment(request, payload: s.PaymentIn):
    """Record a payment and allocate it (to ``invoice_refs`` if given, else oldest due first).

    The same ``ref`` again returns the first payment: a re-sent sync records nothing twice.
    """
    writable(request)
    existed = Payment.objects.for_org(org(request)).filter(ref=payload.ref).first()
    if existed:
        return Status(200, _payments_out(request, [existed])[0])
    customer = Customer.objects.for_org(org(request)).filter(ref=payload.customer_ref).first()
    if customer is None:
        raise invalid("customer_ref", f"no customer {payload.customer_ref!r}")
    currency = currency_of(payload.currency)
    amount = minor(payload.amount, currency)
    chosen = invoices_of(request, payload.invoice_refs, customer) if payload.invoice_refs else None
    if not dt.date(1900, 1, 1) <= payload.date <= dt.date(2200, 12, 31):
        raise invalid("date", "a date between 1900 and 2200")
    try:
        payment = ledger.apply_payment(org(request), customer, payload.ref, payload.date, amount, currency,
                                       payload.method, invoices=chosen, provider="api")
    except ledger.LedgerError as exc:
        raise invalid("invoice_refs", str(exc)) from None
    return Status(201, _payments_out(request, [payment])[0])


# -- promises, plans, disputes ---------------------------------------------------------------------

def _call_off(request, model, pk: int, cancel, reason: str, out) -> dict:
    """Cancel a promise or a plan through its service; 409 when it is no longer pending or active."""
    writable(request)
    row = by_id_or_404(request, model, pk, model._meta.model_name)
    try:
        row = cancel(org(request), row, reason=reason)
    except AgreementError as exc:
        raise ApiProblem(409, str(exc), errors=[{"field": "status", "message": str(exc)}]) from None
    return out(request, [row])[0]


def by_id_or_404(request, model, pk: int, what: str):
    found = model.objects.for_org(org(request)).filter(pk=pk).first()
    if found is None:
        raise Http404(f"no such {what}")
    return found


def _promises_out(request, rows):
    customers = refs_by_id(Customer, org(request), [p.customer_id for p in rows])
    refs: dict[int, list[str]] = {}
    for pid, ref in Promise.invoices.through.objects.filter(promise__in=rows).values_list("promise_id",
                                                                                           "invoice__ref"):
        refs.setdefault(pid, []).append(ref)
    return [{"id": p.pk, "customer_ref": customers[p.customer_id], "made_on": p.made_on,
             "promised_date": p.promised_date, "amount": money(p.amount, p.currency), "currency": p.currency,
             "status": p.status, "paid_amount": money(p.paid_amount, p.currency),
             "invoice_refs": sorted(refs.get(p.pk, [])), "created_at": p.created_at} for p in rows]


@router.get("/promises", response=answers(s.PromisePage), tags=["agreements"])
def list_promises(request, paging: Query[Paging], customer: str | None = None,
                  status: Literal[tuple(Promise.Status.values)] | None = None):
    qs = filtered(Promise.objects.for_org(org(request)), customer=customer, status=status)
    return page(qs, paging, lambda rows: _promises_out(request, rows), updated_field="created_at")


@router.post("/promises", response=answers({201: s.PromiseOut}), tags=["agreements"])
def create_promise(request, payload: s.PromiseIn):
    writable(request)
    customer = Customer.objects.for_org(org(request)).filter(ref=payload.customer_ref).first()
    if customer is None:
        raise invalid("customer_ref", f"no customer {payload.customer_ref!r}")
    currency = currency_of(payload.currency)
    amount = minor(payload.amount, currency)
    chosen = invoices_of(request, payload.invoice_refs, customer) if payload.invoice_refs else None
    try:
        promise = agreements.create_promise(org(request), customer, payload.promised_date, amount, currency,
                                            chosen, channel=payload.channel, note=payload.note)
    except AgreementError as exc:
        raise invalid("body", str(exc)) from None
    return Status(201, _promises_out(request, [promise])[0])


@router.get("/promises/{promise_id}", response=answers(s.PromiseOut), tags=["agreements"])
def get_promise(request, promise_id: int):
    return _promises_out(request, [by_id_or_404(request, Promise, promise_id, "promise")])[0]


@router.post("/promises/{promise_id}/cancel", response=answers({200: s.PromiseOut, 409: Problem}), tags=["agreements"])
def cancel_promise(request, promise_id: int, payload: s.CancelIn):
    """Call off a pending promise (the customer's collection resumes by its steps)."""
    return _call_off(request, Promise, promise_id, agreements.cancel_promise, payload.reason, _promises_out)


def _plans_out(request, rows):
    customers = refs_by_id(Customer, org(request), [p.customer_id for p in rows])
    instalments: dict[int, list[dict]] = {}
    for i in Plan.instalments.rel.related_model.objects.for_org(org(request)).filter(plan__in=rows).order_by(
            "plan_id", "number").select_related("plan"):
        instalments.setdefault(i.plan_id, []).append(
            {"number": i.number, "due_date": i.due_date, "amount": money(i.amount, i.plan.currency),
             "paid_amount": money(i.paid_amount, i.plan.currency), "missed": i.missed})
    return [{"id": p.pk, "customer_ref": customers[p.customer_id], "currency": p.currency,
             "principal": money(p.principal, p.currency), "down_payment": money(p.down_payment, p.currency),
             "interest": money(p.interest, p.currency), "count": p.count, "frequency": p.frequency,
             "start_date": p.start_date, "status": p.status, "within_limits": p.within_limits,
             "instalments": instalments.get(p.pk, []), "created_at": p.created_at} for p in rows]


@router.get("/plans", response=answers(s.PlanPage), tags=["agreements"])
def list_plans(request, paging: Query[Paging], customer: str | None = None,
               status: Literal[tuple(Plan.Status.values)] | None = None):
    qs = filtered(Plan.objects.for_org(org(request)), customer=customer, status=status)
    return page(qs, paging, lambda rows: _plans_out(request, rows), updated_field="created_at")


@router.post("/plans", response=answers({201: s.PlanOut}), tags=["agreements"])
def create_plan(request, payload: s.PlanIn):
    """Propose a payment plan: inside the organization's limits it is active at once, else it waits for
    a manager's approval (``status`` says which)."""
    writable(request)
    customer = Customer.objects.for_org(org(request)).filter(ref=payload.customer_ref).first()
    if customer is None:
        raise invalid("customer_ref", f"no customer {payload.customer_ref!r}")
    chosen = invoices_of(request, payload.invoice_refs, customer) if payload.invoice_refs else None
    currencies = {i.currency for i in chosen} if chosen else set(
        Invoice.objects.for_org(org(request)).filter(customer=customer, open_amount__gt=0)
        .values_list("currency", flat=True))
    down = None
    if payload.down_payment is not None:
        if len(currencies) != 1:
            raise invalid("invoice_refs", "a plan covers invoices in one currency only")
        down = to_minor(Decimal(payload.down_payment), next(iter(currencies)))
    try:
        plan = agreements.create_plan(org(request), customer, chosen, payload.count, payload.frequency,
                                      payload.start_date, down_payment=down,
                                      annual_rate=Decimal(payload.annual_rate))
    except (AgreementError, MoneyError) as exc:
        raise invalid("body", str(exc)) from None
    return Status(201, _plans_out(request, [plan])[0])


@router.get("/plans/{plan_id}", response=answers(s.PlanOut), tags=["agreements"])
def get_plan(request, plan_id: int):
    return _plans_out(request, [by_id_or_404(request, Plan, plan_id, "plan")])[0]


@router.post("/plans/{plan_id}/cancel", response=answers({200: s.PlanOut, 409: Problem}), tags=["agreements"])
def cancel_plan(request, plan_id: int, payload: s.CancelIn):
    """Call off a proposed or active plan. A plan outside the limits is approved by a manager in Cobro,
    never by a key."""
    return _call_off(request, Plan, plan_id, agreements.cancel_plan, payload.reason, _plans_out)


def _disputes_out(request, rows):
    customers = refs_by_id(Customer, org(request), [d.customer_id for d in rows])
    invoices = refs_by_id(Invoice, org(request), [d.invoice_id for d in rows])
    return [{"id": d.pk, "customer_ref": customers[d.customer_id], "invoice_ref": invoices[d.invoice_id],
             "reason": d.reason, "text": d.text, "status": d.status, "answer": d.answer,
             "resolution": d.resolution, "opened_at": d.opened_at, "resolved_at": d.resolved_at} for d in rows]


@router.get("/disputes", response=answers(s.DisputePage), tags=["agreements"])
def list_disputes(request, paging: Query[Paging], customer: str | None = None,
                  status: Literal[tuple(Dispute.Status.values)] | None = None):
    qs = filtered(Dispute.objects.for_org(org(request)), customer=customer, status=status)
    return page(qs, paging, lambda rows: _disputes_out(request, rows), updated_field="opened_at")


@router.post("/disputes", response=answers({201: s.DisputeOut}), tags=["agreements"])
def open_dispute(request, payload: s.DisputeIn):
    writable(request)
    invoice = Invoice.objects.for_org(org(request)).filter(ref=payload.invoice_ref).first()
    if invoice is None:
        raise invalid("invoice_ref", f"no invoice {payload.invoice_ref!r}")
    codes = {r.code for r in agreements.dispute_reasons(org(request))}
    if payload.reason not in codes:
        raise invalid("reason", f"one of {', '.join(sorted(codes))}")
    try:
        dispute = agreements.open_dispute(org(request), invoice, payload.reason, payload.text)
    except AgreementError as exc:
        raise invalid("invoice_ref", str(exc)) from None
    return Status(201, _disputes_out(request, [dispute])[0])


@router.get("/disputes/{dispute_id}", response=answers(s.DisputeOut), tags=["agreements"])
def get_dispute(request, dispute_id: int):
    return _disputes_out(request, [by_id_or_404(request, Dispute, dispute_id, "dispute")])[0]


@router.post("/disputes/{dispute_id}/resolve", response=answers(s.DisputeOut), tags=["agreements"])
def resolve_dispute(request, dispute_id: int, payload: s.DisputeResolveIn):
    writable(request)
    dispute = by_id_or_404(request, Dispute, dispute_id, "dispute")
    try:
        dispute = agreements.resolve_dispute(org(request), dispute, payload.valid, payload.resolution)
    except AgreementError as exc:
        raise invalid("body", str(exc)) from None
    return _disputes_out(request, [dispute])[0]


# -- what Cobro did (read only) --------------------------------------------------------------------

@router.get("/actions", response=answers(s.ActionPage), tags=["history"])
def list_actions(request, paging: Query[Paging], customer: str | None = None,
                 status: Literal[tuple(Action.Status.values)] | None = None):
    qs = filtered(Action.objects.for_org(org(request)), customer=customer, status=status)

    def build(rows):
        customers = refs_by_id(Customer, org(request), [a.customer_id for a in rows])
        return [{"id": a.pk, "customer_ref": customers[a.customer_id], "as_of": a.as_of, "step": a.step,
                 "action": a.action, "channel": a.channel, "template": a.template, "status": a.status,
                 "invoice_refs": a.invoice_refs, "scheduled_for": a.scheduled_for} for a in rows]
    return page(qs, paging, build, updated_field="created_at")


@router.get("/messages", response=answers(s.MessagePage), tags=["history"])
def list_messages(request, paging: Query[Paging], customer: str | None = None,
                  status: Literal[tuple(Message.Status.values)] | None = None):
    qs = filtered(Message.objects.for_org(org(request)), customer=customer, status=status)

    def build(rows):
        customers = refs_by_id(Customer, org(request), [m.customer_id for m in rows])
        return [{"id": m.pk, "customer_ref": customers[m.customer_id], "direction": m.direction,
                 "channel": m.channel, "template": m.template, "language": m.language, "to": m.to,
                 "subject": m.subject, "body_text": m.body_text, "status": m.status,
                 "scheduled_for": m.scheduled_for, "sent_at": m.sent_at, "delivered_at": m.delivered_at}
                for m in rows]
    return page(qs, paging, build, updated_field="created_at")


@router.get("/events", response=answers(s.EventPage), tags=["history"])
def list_events(request, paging: Query[Paging], customer: str | None = None, kind: str | None = None):
    """The timeline: every fact and decision, oldest first; amounts in ``data`` are exact strings."""
    qs = TimelineEvent.objects.for_org(org(request))
    if customer:
        qs = qs.filter(customer__ref=customer)
    if kind:
        qs = qs.filter(kind=kind)

    def build(rows):
        customers = refs_by_id(Customer, org(request), [e.customer_id for e in rows])
        invoices = refs_by_id(Invoice, org(request), [e.invoice_id for e in rows if e.invoice_id])
        data = public_data(org(request), rows)
        return [{"id": e.pk, "customer_ref": customers[e.customer_id],
                 "invoice_ref": invoices.get(e.invoice_id), "at": e.at, "kind": e.kind, "summary": e.summary,
                 "data": data[e.pk]} for e in rows]
    return page(qs, paging, build, updated_field="at")


# -- e-invoices ------------------------------------------------------------------------------------

@router.post("/einvoices", response=answers({200: s.EInvoiceResult}), tags=["invoices"])
def import_einvoices(request, files: list[UploadedFile] = File(...), dry_run: bool = False):  # noqa: B008
    """Upload UBL 2.1, CFDI 4.0 or DTE files (or zips of them); all are imported or none is."""
    from cobro.einvoice import services as einvoice

    if not dry_run:
        writable(request)
    if len(files) > 200:
        raise invalid("files", "at most 200 files per request")
    received = []
    for f in files:
        if f.size > 5 * einvoice.p.MAX_BYTES:
            raise invalid("files", f"{f.name}: larger than {5 * einvoice.p.MAX_BYTES // 2**20} MB")
    try:
        for f in files:
            data = f.read()
            name = f.name or "upload.xml"
            # A file named .zip that is not one is the sender's mistake (422), found while unzipping.
            received += einvoice.unzip(name, data) if name.lower().endswith(".zip") else [(name, data)]
        result = einvoice.import_files(org(request), received, dry_run=dry_run)
    except einvoice.ImportFailed as failed:
        raise ApiProblem(422, "nothing was imported", errors=[
            {"field": "files", "message": str(problem)} for problem in failed.problems[:200]]) from None
    return {"created": result.created, "unchanged": result.unchanged, "new_customers": result.customers,
            "notes": [str(note) for note in result.notes], "dry_run": dry_run}
