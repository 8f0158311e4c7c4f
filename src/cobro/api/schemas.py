"""What the API reads and writes. Money is a string with the currency's exact decimals ("1234.50",
CLP "450000"); dates are ISO 8601 and times carry their offset."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from ninja import Schema
from pydantic import BeforeValidator, ConfigDict, Field, model_validator

from cobro.api.models import EVENT_TYPES

Ref = Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")
MoneyText = Field(min_length=1, max_length=32, pattern=r"^\d{1,18}(\.\d{1,4})?$",
                  description="a positive amount in major units, with at most the currency's decimals")
Currency = Field(min_length=3, max_length=3, pattern=r"^[A-Z]{3}$", description="ISO 4217 code")


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})$")


def _iso_date(value):
    """Dates only as ISO 8601 text ("2026-10-31"): never a number read as a Unix time."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError("a date as YYYY-MM-DD")
    return value


def _iso_time(value):
    """Times only as ISO 8601 text with their offset ("2026-11-30T00:00:00Z")."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value
    if not isinstance(value, str) or not _ISO_TIME.match(value):
        raise ValueError("a time as ISO 8601 with its offset, e.g. 2026-11-30T00:00:00Z")
    offset = value[19:].lstrip(".0123456789")
    if not 1900 <= int(value[:4]) <= 2200 or (offset not in ("", "Z") and int(offset[1:3]) > 14):
        raise ValueError("a time between 1900 and 2200 with an offset of at most 14 hours")
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
IsoTime = Annotated[dt.datetime, BeforeValidator(_iso_time)]


class In(Schema):
    """What a client sends: a JSON object with only the fields below (a typo is an error, not ignored)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _an_object(cls, value):
        if not isinstance(value, dict) and not hasattr(value, "_obj"):
            raise ValueError("the body must be a JSON object")
        data = getattr(value, "_obj", value)
        if not isinstance(data, dict):
            raise ValueError("the body must be a JSON object")
        return data


class Page(Schema):
    next_cursor: str | None = Field(None, description="pass as ?cursor= for the next page; null at the end")


# -- customers ---------------------------------------------------------------------------------------

class ContactIn(In):
    name: str = Field("", max_length=200)
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=20, description="E.164, e.g. +56912345678")
    whatsapp: str = Field("", max_length=20, description="E.164")
    kind: Literal["debtor", "co_debtor", "guarantor"] = "debtor"
    is_primary: bool = False


class ContactOut(Schema):
    id: int
    name: str
    email: str
    phone: str
    whatsapp: str
    kind: str
    is_primary: bool


class CustomerFields(In):
    name: str | None = Field(None, min_length=1, max_length=200)
    tax_id: str | None = Field(None, max_length=32)
    country: str | None = Field(None, min_length=2, max_length=2, pattern=r"^[A-Z]{2}$",
                                description="ISO 3166-1 alpha-2 code")
    language: Literal["es", "en", "pt-br"] | None = None
    timezone: str | None = Field(None, max_length=64, description="IANA zone, e.g. America/Santiago")
    address: str | None = Field(None, max_length=200)
    city: str | None = Field(None, max_length=100)
    region: str | None = Field(None, max_length=100, description="state, province or community, by ISO 3166-2 "
                               "code (TX, US-TX) or name; places a customer of a country with several zones")
    postal_code: str | None = Field(None, max_length=16)
    segment: str | None = Field(None, max_length=64)
    preferred_channel: Literal["email", "sms", "whatsapp", "call", "letter"] | None = None


class CustomerIn(CustomerFields):
    ref: str = Ref
    contacts: list[ContactIn] = Field(default_factory=list, max_length=20)


class CustomerOut(Schema):
    ref: str
    name: str
    tax_id: str
    country: str
    language: str
    timezone: str
    address: str
    city: str
    region: str
    postal_code: str
    segment: str
    preferred_channel: str
    balances: dict[str, str] = Field(description="open balance per currency")
    created_at: dt.datetime
    updated_at: dt.datetime


class CustomerPage(Page):
    items: list[CustomerOut]


class PortalLinkOut(Schema):
    url: str
    expires_on: dt.date


# -- invoices, credit notes, payments ---------------------------------------------------------------

class InvoiceFields(In):
    customer_ref: str = Ref
    issue_date: IsoDate
    due_date: IsoDate
    currency: str = Currency
    amount: str = MoneyText


class InvoiceIn(InvoiceFields):
    ref: str = Ref


class InvoiceOut(Schema):
    ref: str
    customer_ref: str
    issue_date: dt.date
    due_date: dt.date
    currency: str
    amount: str
    open_amount: str
    status: str
    closed_on: dt.date | None
    created_at: dt.datetime
    updated_at: dt.datetime


class InvoicePage(Page):
    items: list[InvoiceOut]


class CreditNoteIn(In):
    ref: str = Ref
    invoice_ref: str = Ref
    date: IsoDate
    amount: str = MoneyText
    reason: str = Field("", max_length=200)


class CreditNoteOut(Schema):
    ref: str
    invoice_ref: str
    customer_ref: str
    date: dt.date
    currency: str
    amount: str
    reason: str
    created_at: dt.datetime


class CreditNotePage(Page):
    items: list[CreditNoteOut]


class AllocationOut(Schema):
    invoice_ref: str
    amount: str


class PaymentIn(In):
    ref: str = Ref
    customer_ref: str = Ref
    date: IsoDate
    currency: str = Currency
    amount: str = MoneyText
    method: str = Field("", max_length=32)
    invoice_refs: list[str] = Field(default_factory=list, max_length=200,
                                    description="what it pays; empty = oldest due first")


class PaymentOut(Schema):
    ref: str
    customer_ref: str
    date: dt.date
    currency: str
    amount: str
    unallocated: str
    method: str
    provider: str
    provider_ref: str
    allocations: list[AllocationOut]
    created_at: dt.datetime


class PaymentPage(Page):
    items: list[PaymentOut]


# -- agreements -------------------------------------------------------------------------------------

class PromiseIn(In):
    customer_ref: str = Ref
    promised_date: IsoDate
    amount: str = MoneyText
    currency: str = Currency
    invoice_refs: list[str] = Field(default_factory=list, max_length=200)
    channel: Literal["call", "email", "whatsapp", "sms", "letter", "portal"] = "call"
    note: str = Field("", max_length=300)


class PromiseOut(Schema):
    id: int
    customer_ref: str
    made_on: dt.date
    promised_date: dt.date
    amount: str
    currency: str
    status: str
    paid_amount: str
    invoice_refs: list[str]
    created_at: dt.datetime


class PromisePage(Page):
    items: list[PromiseOut]


class InstalmentOut(Schema):
    number: int
    due_date: dt.date
    amount: str
    paid_amount: str
    missed: bool


class PlanIn(In):
    customer_ref: str = Ref
    invoice_refs: list[str] = Field(default_factory=list, max_length=200)
    count: int = Field(ge=1, le=120)
    frequency: Literal["weekly", "fortnightly", "monthly"] = "monthly"
    start_date: IsoDate | None = None
    down_payment: str | None = Field(None, pattern=r"^\d{1,18}(\.\d{1,4})?$")
    annual_rate: str = Field("0", pattern=r"^\d{1,3}(\.\d{1,4})?$", description="percent a year")


class PlanOut(Schema):
    id: int
    customer_ref: str
    currency: str
    principal: str
    down_payment: str
    interest: str
    count: int
    frequency: str
    start_date: dt.date
    status: str
    within_limits: bool
    instalments: list[InstalmentOut]
    created_at: dt.datetime


class PlanPage(Page):
    items: list[PlanOut]


class DisputeIn(In):
    invoice_ref: str = Ref
    reason: str = Field(min_length=1, max_length=40, description="a dispute reason code of the organization")
    text: str = Field("", max_length=5000)


class CancelIn(In):
    reason: str = Field("", max_length=300, description="why, for the customer's timeline")


class DisputeResolveIn(In):
    valid: bool
    resolution: str = Field(min_length=1, max_length=5000)


class DisputeOut(Schema):
    id: int
    customer_ref: str
    invoice_ref: str
    reason: str
    text: str
    status: str
    answer: str
    resolution: str
    opened_at: dt.datetime
    resolved_at: dt.datetime | None


class DisputePage(Page):
    items: list[DisputeOut]


# -- read-only history ------------------------------------------------------------------------------

class ActionOut(Schema):
    id: int
    customer_ref: str
    as_of: dt.date
    step: str
    action: str
    channel: str
    template: str
    status: str
    invoice_refs: list[str]
    scheduled_for: dt.datetime


class ActionPage(Page):
    items: list[ActionOut]


class MessageOut(Schema):
    id: int
    customer_ref: str
    direction: str
    channel: str
    template: str
    language: str
    to: str
    subject: str
    body_text: str
    status: str
    scheduled_for: dt.datetime
    sent_at: dt.datetime | None
    delivered_at: dt.datetime | None


class MessagePage(Page):
    items: list[MessageOut]


class EventOut(Schema):
    id: int
    customer_ref: str
    invoice_ref: str | None
    at: dt.datetime
    kind: str
    summary: str
    data: dict


class EventPage(Page):
    items: list[EventOut]


# -- bank statements and their lines ---------------------------------------------------------------

class StatementOut(Schema):
    id: int
    account_number: str
    account_name: str
    format: str
    filename: str
    statement_date: dt.date | None
    lines_total: int
    lines_new: int = Field(description="lines not seen in an earlier file")
    imported_at: dt.datetime


class StatementPage(Page):
    items: list[StatementOut]


class StatementLineOut(Schema):
    id: int
    statement_id: int
    account_number: str
    key: str = Field(description="the bank's entry reference (b:...) or a hash of the line (h:...)")
    position: int
    booking_date: dt.date
    value_date: dt.date | None
    amount: str = Field(description="signed: positive is money in")
    currency: str
    text: str
    counterparty: str
    counterparty_account: str
    counterparty_tax_id: str
    reference: str
    kind: Literal["credit", "debit", "fee", "reversal", "pending"]
    status: Literal["applied", "suggested", "unmatched", "ignored"]
    customer_ref: str | None
    allocations: list[AllocationOut] = Field(description="what it paid (applied) or would pay (suggested)")
    confidence: float
    payment_refs: list[str]
    decided_at: dt.datetime | None
    created_at: dt.datetime


class StatementLinePage(Page):
    items: list[StatementLineOut]


class StatementLineResult(Schema):
    line: int
    date: dt.date
    amount: str
    currency: str
    status: Literal["applied", "suggested", "unmatched", "ignored", "duplicate"]
    customer_ref: str | None
    invoice_refs: list[str]
    confidence: float
    why: str
    key: str
    text: str


class StatementImported(Schema):
    statement: StatementOut | None = Field(description="the file as stored; null on a dry run")
    lines: list[StatementLineResult]
    dry_run: bool


# -- webhook endpoints ------------------------------------------------------------------------------

EventType = Literal[EVENT_TYPES]  # type: ignore[valid-type]


class WebhookIn(In):
    url: str = Field(min_length=8, max_length=500, pattern=r"^https?://[^\s]+$")
    description: str = Field("", max_length=200)
    events: list[EventType] = Field(default_factory=list, description="empty = every event type")


class WebhookPatch(In):
    url: str | None = Field(None, min_length=8, max_length=500, pattern=r"^https?://[^\s]+$")
    description: str | None = Field(None, max_length=200)
    events: list[EventType] | None = None
    active: bool | None = None


class WebhookOut(Schema):
    id: int
    url: str
    description: str
    events: list[str]
    active: bool
    failures: int
    disabled_at: dt.datetime | None
    created_at: dt.datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="verify signatures with it (Standard Webhooks); shown only once")


class WebhookPage(Page):
    items: list[WebhookOut]


class DeliveryOut(Schema):
    id: int
    event_id: str
    event_type: str
    status: str
    attempts: int
    next_attempt_at: dt.datetime
    last_status_code: int | None
    last_response: str
    last_error: str
    delivered_at: dt.datetime | None
    created_at: dt.datetime
    payload: dict


class DeliveryPage(Page):
    items: list[DeliveryOut]


class Since(Schema):
    updated_since: IsoTime | None = Field(None, description="only rows changed since this time (with offset)")


class EInvoiceResult(Schema):
    created: dict[str, int] = Field(description="invoices, credit notes and payments created")
    unchanged: int = Field(description="documents already imported (by UUID, folio or ID)")
    new_customers: int
    notes: list[str]
    dry_run: bool
