"""Risk scores and payment-date forecasts for one organization, from what was known on a day.

Reads the book with one query per table, keeping only facts dated on or before ``as_of`` (invoices
issued, payments and credits applied, promises and plans resolved, disputes opened, messages
delivered or failed), hands plain rows to ``cobro.engine.risk`` and turns its numbers into rows a
person or a program can read. The models are trained on every call (on demand): nothing is kept
between calls, so the answer for a day never depends on when it was asked.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cobro.engine import risk as engine
from cobro.engine.money import from_minor
from cobro.ledger.models import Allocation, CreditNote, Invoice, Organization


@dataclass(frozen=True)
class Reason:
    factor: str
    points: float
    text: str


@dataclass(frozen=True)
class CustomerRisk:
    customer_ref: str
    score: int
    band: str
    reasons: list[Reason]
    expected_days_late: int
    base_points: float

    def as_json(self) -> dict:
        return {"customer_ref": self.customer_ref, "score": self.score, "band": self.band,
                "reasons": [{"factor": r.factor, "points": r.points, "text": r.text} for r in self.reasons],
                "expected_days_late": self.expected_days_late, "base_points": self.base_points}


@dataclass(frozen=True)
class InvoiceForecast:
    invoice_ref: str
    customer_ref: str
    currency: str
    open_amount: int
    due_date: dt.date
    expected_payment_date: dt.date
    naive_payment_date: dt.date
    p_paid_30: float

    def as_json(self) -> dict:
        return {"invoice_ref": self.invoice_ref, "customer_ref": self.customer_ref,
                "currency": self.currency, "open_amount": str(from_minor(self.open_amount, self.currency)),
                "due_date": self.due_date.isoformat(),
                "expected_payment_date": self.expected_payment_date.isoformat(),
                "naive_payment_date": self.naive_payment_date.isoformat(), "p_paid_30": self.p_paid_30}


def _local_day(moment: dt.datetime | None, zone: ZoneInfo) -> dt.date | None:
    return None if moment is None else moment.astimezone(zone).date()


def load_book(org: Organization, as_of: dt.date | None = None) -> tuple[engine.Book, list[str]]:
    """The organization's facts known on ``as_of`` (all of them when None) as an engine ``Book``,
    and each invoice's currency in the book's invoice order."""
    from cobro.agreements.models import Dispute, Plan, Promise
    from cobro.messaging.models import Message

    zone = ZoneInfo(org.timezone)
    invoices = Invoice.objects.for_org(org)
    if as_of is not None:
        invoices = invoices.filter(issue_date__lte=as_of)
    rows = [(c, r, i, d, a, closed, status == Invoice.Status.CREDITED, cur) for c, r, i, d, a, closed, status, cur
            in invoices.values_list("customer__ref", "ref", "issue_date", "due_date", "amount", "closed_on",
                                    "status", "currency").iterator(chunk_size=20_000)]

    def dated(qs, field):
        return qs if as_of is None else qs.filter(**{f"{field}__lte": as_of})

    reductions = list(dated(Allocation.objects.for_org(org), "date").values_list("invoice__ref", "date", "amount"))
    reductions += list(dated(CreditNote.objects.for_org(org), "date").values_list("invoice__ref", "date", "amount"))
    promises = dated(Promise.objects.for_org(org), "made_on").values_list("customer__ref", "made_on",
                                                                          "resolved_on", "status")
    plans = Plan.objects.for_org(org).filter(status=Plan.Status.BROKEN, ended_on__isnull=False)
    plans = dated(plans, "ended_on").values_list("customer__ref", "ended_on", "status")
    disputes = [(c, _local_day(at, zone)) for c, at in
                Dispute.objects.for_org(org).values_list("customer__ref", "opened_at")]
    contacts = []
    for c, status, delivered, read, failed in (
            Message.objects.for_org(org).filter(direction=Message.Direction.OUT)
            .filter(status__in=[Message.Status.DELIVERED, Message.Status.READ, Message.Status.FAILED])
            .values_list("customer__ref", "status", "delivered_at", "read_at", "failed_at")):
        if status == Message.Status.FAILED and failed is not None:
            contacts.append((c, _local_day(failed, zone), True))
        elif delivered or read:
            contacts.append((c, _local_day(delivered or read, zone), False))
    book = engine.book_from_rows([r[:7] for r in rows], reductions, promises, plans, disputes, contacts,
                                 as_of=as_of)
    currency = {r[1]: r[7] for r in rows}
    return book, [currency[ref] for ref in book.inv_refs]


def _days(days: int) -> str:
    return ngettext("%(days)s día", "%(days)s días", days) % {"days": days}


def reason_text(factor: str, value: float, recent_n: int) -> str:
    """What a factor says about a customer, one sentence in the active language with its plurals
    right ("1 día", "6 facturas"); ``value`` as the engine has it (see ``engine.RISK_FACTORS``)."""
    if factor == "days_late":
        return ngettext("pagó su última factura con %(late)s de atraso",
                        "pagó sus últimas %(n)s facturas con %(late)s de atraso en promedio",
                        recent_n) % {"n": recent_n, "late": _days(round(value * 10))}
    if factor == "share_late":
        return _("pagó con atraso el %(pct)s %% de sus facturas") % {"pct": round(value * 100)}
    if factor == "trend":
        days = round(value * 10)
        return ngettext("últimamente paga %(days)s día más tarde que antes",
                        "últimamente paga %(days)s días más tarde que antes", days) % {"days": days}
    count = round(value)
    if factor == "promises_broken":
        return ngettext("incumplió %(n)s promesa de pago en el último año",
                        "incumplió %(n)s promesas de pago en el último año", count) % {"n": count}
    if factor == "promises_kept":
        return ngettext("cumplió %(n)s promesa de pago en el último año",
                        "cumplió %(n)s promesas de pago en el último año", count) % {"n": count}
    if factor == "plans_broken":
        return ngettext("incumplió %(n)s convenio de pago en el último año",
                        "incumplió %(n)s convenios de pago en el último año", count) % {"n": count}
    if factor == "disputes":
        return ngettext("abrió %(n)s disputa en el último año",
                        "abrió %(n)s disputas en el último año", count) % {"n": count}
    if factor == "open_amount":
        return _("debe %(times)s veces su factura promedio") % {
            "times": number_format(round(math.expm1(value), 1), 1)}
    if factor == "open_age":
        days = round(value * 30)
        return ngettext("su factura más antigua lleva %(days)s día vencida",
                        "su factura más antigua lleva %(days)s días vencida", days) % {"days": days}
    if factor == "unreached":
        return _("no se le pudo contactar en el %(pct)s %% de los intentos del último año") % {
            "pct": round(value * 100)}
    if factor == "no_history":
        return _("todavía no ha pagado ninguna factura")
    raise ValueError(f"unknown risk factor {factor!r}")


def _reasons(points, factors, recent_n: int) -> list[Reason]:
    out = []
    for j, factor in enumerate(engine.RISK_FACTORS):
        value = round(float(points[j]), 1)
        if value == 0:
            continue
        text = reason_text(factor, float(factors[j]), recent_n)
        out.append(Reason(factor, value, f"{text}: {value:+.0f}"))
    out.sort(key=lambda r: (-abs(r.points), r.factor))
    return out


@dataclass
class Answer:
    risks: list[CustomerRisk]
    forecasts: list[InvoiceForecast]
    scorecard: engine.Scorecard
    trained_rows: int


def compute(org: Organization, as_of: dt.date) -> Answer:
    """Train on what was known on ``as_of`` and score every customer with an open balance then."""
    book, currencies = load_book(org, as_of)
    return answer_for(book, currencies, as_of)


def answer_for(book: engine.Book, currencies: list[str], as_of: dt.date) -> Answer:
    models, _snap, fc, rk = engine.answer(book, as_of)
    risks = []
    for k, c in enumerate(rk.customers):
        score = int(rk.score[k])
        risks.append(CustomerRisk(book.customers[c], score, engine.band_of(score),
                                  _reasons(rk.points[k], rk.factors[k], int(rk.recent_n[k])),
                                  int(rk.expected_days_late[k]), round(rk.base_points, 1)))
    forecasts = []
    for k, i in enumerate(fc.invoices):
        forecasts.append(InvoiceForecast(
            book.inv_refs[i], book.customers[book.inv_customer[i]], currencies[i], int(round(fc.open_amount[k])),
            engine.date_of(book.inv_due[i]), engine.date_of(fc.expected_day[k]),
            engine.date_of(fc.naive_day[k]), round(float(fc.p_paid_30[k]), 3)))
    return Answer(risks, forecasts, models.scorecard, models.rows)


def backtest(org: Organization, start: dt.date, end: dt.date) -> engine.Backtest:
    """Month-end cut-offs from ``start`` to ``end``: each trained only on what was known then and
    measured against what the book says happened afterwards."""
    cutoffs = engine.month_ends(start, end)
    if not cutoffs:
        raise ValueError(f"no month ends between {start.isoformat()} and {end.isoformat()}")
    book, _currencies = load_book(org)
    return engine.backtest(book, cutoffs)
