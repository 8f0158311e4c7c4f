"""Turning an outbox row into words for its channel, at delivery time.

Rendering happens when a message leaves, not when the cycle queues it: the invoices listed are the
ones still open at that moment, and a message whose invoices were all paid in between is not sent.
``Renderer`` renders a batch of one organization's messages with a fixed handful of queries
(customers, contacts, invoices, templates, link versions), whatever the batch size.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_date as _babel_format_date
from babel.numbers import format_decimal
from django.template.loader import render_to_string
from django.utils import timezone

from cobro.agreements.services import discount_offers
from cobro.engine.money import format_money
from cobro.ledger.models import Contact, Customer, Invoice
from cobro.messaging import defaults, links, sandbox, tone
from cobro.messaging.models import MessageTemplate

#: What the creditor's tax id is called in its own country (Brazil's CDC asks for the CNPJ by name).
_TAX_LABEL = {"CL": "RUT", "CO": "NIT", "MX": "RFC", "ES": "NIF", "BR": "CNPJ", "PE": "RUC", "AR": "CUIT", "US": "EIN"}
_BABEL_LOCALE = {"es": "es", "en": "en", "pt-BR": "pt_BR"}
#: Templates that exist to collect invoices: with nothing left open, they are not sent.
NEEDS_OPEN_INVOICES = {"reminder_before", "due_today", "overdue_friendly", "overdue_neutral", "overdue_firm",
                       "late_fee_notice", "mediation_notice", "legal_review"}
#: Reminders that show the early-payment discount while it applies (issue #5); later stages do not.
SHOWS_DISCOUNT = {"reminder_before", "due_today"}


@lru_cache(maxsize=4096)
def format_date(day: dt.date, fmt: str, locale: str) -> str:
    # A batch repeats the same few due dates thousands of times; Babel's formatting is the slow part.
    return _babel_format_date(day, fmt, locale=locale)


class RenderError(Exception):
    """The message cannot be written (no template, no address, nothing left to collect)."""

    def __init__(self, reason: str, *, cancel: bool = False):
        super().__init__(reason)
        self.cancel = cancel  # True: nothing is wrong, the message is simply no longer needed


@dataclass
class Rendered:
    to: str
    subject: str
    text: str
    html: str = ""
    segments: int = 0
    whatsapp: dict | None = None
    tone: tone.ToneResult | None = None
    context: dict = field(default_factory=dict)
    #: What the debtor's country requires and the text lacks (COMPLIANCE.md); such a message is held.
    legal_missing: list[str] = field(default_factory=list)


# GSM 03.38: texts made only of these characters travel 160 to a segment; anything else (an "á")
# makes the whole text UCS-2, 70 to a segment. Concatenated parts lose room to their header.
_GSM7 = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
            "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_GSM7_EXT = set("^{}\\[~]|€")


def sms_segments(text: str) -> int:
    if not text:
        return 0
    if all(c in _GSM7 or c in _GSM7_EXT for c in text):
        units = len(text) + sum(1 for c in text if c in _GSM7_EXT)
        return 1 if units <= 160 else math.ceil(units / 153)
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)


def fill(source: str, context: dict) -> str:
    """The template's text with the sandbox's plain values only (``sandbox``): never code, never objects."""
    try:
        return sandbox.render(source, context).strip()
    except sandbox.TemplateRefused as exc:
        raise RenderError(str(exc)) from exc


_URL = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)]")


def _paragraph_html(par: str) -> str:
    out, last = [], 0
    for m in _URL.finditer(par):
        out.append(html.escape(par[last:m.start()]))
        link = html.escape(m.group(0))
        out.append(f'<a href="{link}" style="word-break:break-all;">{link}</a>')
        last = m.end()
    out.append(html.escape(par[last:]))
    return "".join(out).replace("\n", "<br>\n")


def pick_contact(contacts: list[Contact], channel: str) -> tuple[Contact | None, str]:
    """The debtor's own contact first (primary first), with an address and consent for the channel."""
    field_for = {"email": ("email", "consent_email"), "sms": ("phone", "consent_sms"),
                 "whatsapp": ("whatsapp", "consent_whatsapp")}
    ordered = sorted(contacts, key=lambda c: (c.kind != Contact.Kind.DEBTOR, not c.is_primary, c.pk))
    if channel == "letter":
        return (ordered[0] if ordered else None), ""
    attr, consent = field_for[channel]
    for c in ordered:
        address = getattr(c, attr) or (c.phone if channel == "whatsapp" else "")
        if address and getattr(c, consent):
            return c, address
    return None, ""


#: (template, when it leaves) → the template that tells the truth that day.
_TRUE_TO_THE_DAY = {("reminder_before", "late"): "overdue_friendly", ("due_today", "late"): "overdue_friendly",
                    ("due_today", "early"): "reminder_before"}


def _when(days_overdue: int, invoices, as_of: dt.date) -> str:
    if days_overdue > 0:
        return "late"
    if invoices and min(i.due_date for i in invoices) > as_of:
        return "early"
    return "on_time"


def legal_missing(country: str, channel: str, code: str, text: str, org, language: str) -> list[str]:
    """Content the law of the debtor's country asks for that this text lacks.

    Brazil (CDC art. 42-A): every collection message names the creditor with its tax id. United States
    (Regulation F): every text carries a free opt-out; emails get theirs from the layout's footer.
    """
    missing = []
    if country == "BR" and code != "thank_you" and not (org.tax_id and org.tax_id in text):
        missing.append("creditor_tax_id")
    if country == "US" and channel in ("sms", "whatsapp") and "opt_out" in tone.check(
            text, tone.lang_of(language), require=("opt_out",)).missing:
        missing.append("opt_out")
    return missing


class Renderer:
    """Renders messages of one organization; construct it once per batch."""

    def __init__(self, org, messages, *, templates: dict | None = None):
        self.org = org
        customer_ids = {m.customer_id for m in messages}
        self.customers = Customer.objects.for_org(org).in_bulk(list(customer_ids))
        self.contacts: dict[int, list[Contact]] = defaultdict(list)
        for c in Contact.objects.for_org(org).filter(customer_id__in=customer_ids):
            self.contacts[c.customer_id].append(c)
        invoice_ids = {i for m in messages for i in (m.invoice_ids or [])}
        need_open = {m.customer_id for m in messages if not m.invoice_ids and m.template != "thank_you"}
        inv_qs = Invoice.objects.for_org(org).filter(pk__in=invoice_ids)
        if need_open:
            inv_qs = inv_qs | Invoice.objects.for_org(org).filter(customer_id__in=need_open,
                                                                  status=Invoice.Status.OPEN)
        self.invoices = {i.pk: i for i in inv_qs}
        self.open_by_customer: dict[int, list[Invoice]] = defaultdict(list)
        for inv in sorted(self.invoices.values(), key=lambda i: (i.due_date, i.ref)):
            if inv.status == Invoice.Status.OPEN and inv.customer_id in need_open:
                self.open_by_customer[inv.customer_id].append(inv)
        if templates is None:
            templates = {(t.code, t.language, t.channel): t for t in MessageTemplate.objects.for_org(org)}
        self.templates = templates
        self.versions = links.versions(org, customer_ids)
        # One call for the whole batch. An offer only ever closes (at its deadline), so loading them
        # with no lower day gives every offer any message could show; each message then keeps those
        # still open on its own send day, which depends on the debtor's time zone.
        discount_ids = {i for m in messages if m.template in SHOWS_DISCOUNT for i in (m.invoice_ids or [])}
        discount_ids |= {i.pk for m in messages if m.template in SHOWS_DISCOUNT and not m.invoice_ids
                         for i in self.open_by_customer.get(m.customer_id, ())}
        self.offers = discount_offers(org, dt.date.min, discount_ids) if discount_ids else {}

    def template_for(self, code: str, language: str, channel: str) -> MessageTemplate:
        for lang in (language, self.org.language and defaults.language_of(self.org.language), "es"):
            tpl = self.templates.get((code, lang, channel))
            if tpl is not None:
                return tpl
        raise RenderError(f"no template {code!r} for {channel} in {language}")

    def context(self, message, language: str, as_of: dt.date) -> dict:
        org, customer = self.org, self.customers[message.customer_id]
        labels = defaults.labels(language)
        locale = _BABEL_LOCALE[language]
        if message.invoice_ids:
            invoices = [self.invoices[i] for i in message.invoice_ids if i in self.invoices]
            invoices = sorted((i for i in invoices if i.status == Invoice.Status.OPEN and i.open_amount > 0),
                              key=lambda i: (i.due_date, i.ref))
        else:
            invoices = list(self.open_by_customer.get(message.customer_id, ()))
        if not invoices and message.template in NEEDS_OPEN_INVOICES:
            raise RenderError("every invoice in this message was settled before it left", cancel=True)
        totals: dict[str, int] = defaultdict(int)
        lines, rows, short = [], [], []
        offers = self.offers if message.template in SHOWS_DISCOUNT else {}
        for inv in invoices:
            totals[inv.currency] += inv.open_amount
            late = (as_of - inv.due_date).days
            when = (labels["days_overdue"] if late > 0 else labels["due_in"]).format(n=abs(late))
            row = {"ref": inv.ref, "due": format_date(inv.due_date, "long", locale), "when": when,
                   "late": late > 0, "amount": format_money(inv.open_amount, inv.currency, language)}
            rows.append(row)
            lines.append(f"• {labels['invoice']} {row['ref']}, {labels['due']} {row['due']} ({when}): {row['amount']}")
            offer = offers.get(inv.pk)
            if offer and offer["until"] >= as_of and inv.open_amount > offer["amount"]:
                words = {"ref": inv.ref, "amount": row["amount"], "percent": format_decimal(offer["percent"], locale=locale),
                         "pay": format_money(inv.open_amount - offer["amount"], inv.currency, language)}
                row["discount"] = labels["discount"].format(**words, until=format_date(offer["until"], "long", locale))
                lines.append(f"  {row['discount']}")
                short.append(labels["discount_short"].format(**words, until=format_date(offer["until"], "short", locale)))
        total = " + ".join(format_money(v, c, language) for c, v in sorted(totals.items()))
        earliest = min((i.due_date for i in invoices), default=as_of)
        data = message.data or {}
        amount = (format_money(int(data["amount"]), data.get("currency") or org.currency, language)
                  if data.get("amount") is not None else total)
        promised = dt.date.fromisoformat(data["date"]) if data.get("date") else earliest
        contact, _ = pick_contact(self.contacts.get(customer.pk, []), message.channel
                                  if message.channel != "letter" else "letter")
        version = self.versions.get(customer.pk, 1)
        tax_label = _TAX_LABEL.get(org.country, labels["tax_id"])
        signature = org.option("signature") or "\n".join(
            x for x in (org.name, " · ".join(y for y in (org.email, org.phone) if y)) if x)
        return {
            "contact_name": (contact.name if contact and contact.name else customer.name),
            "customer_name": customer.name, "customer_ref": customer.ref,
            "org_name": org.name, "org_tax_id": org.tax_id, "org_phone": org.phone, "org_email": org.email,
            "creditor": f"{org.name} ({tax_label} {org.tax_id})" if org.tax_id else org.name,
            "signature": signature,
            "invoices": rows, "open_invoices": invoices, "rows": rows, "invoice_list": "\n".join(lines), "invoice_count": len(invoices),
            "discount_short": "".join(f" {x}" for x in short),
            "totals": dict(totals), "total": total,
            "due_date": format_date(earliest, "long", locale),
            "days_overdue": max(0, max(((as_of - i.due_date).days for i in invoices), default=0)),
            "amount": amount, "promised_date": format_date(promised, "long", locale),
            "pay_link": links.url(org.pk, customer.pk, "pay", version),
            "opt_out_link": links.url(org.pk, customer.pk, "optout", version, message.channel),
            "labels": labels, "language": language,
        }

    def render(self, message, *, as_of: dt.date | None = None, template: MessageTemplate | None = None
               ) -> Rendered:
        customer = self.customers.get(message.customer_id)
        if customer is None:
            raise RenderError("the customer no longer exists")
        language = defaults.language_of(message.language or customer.language or self.org.language)
        if as_of is None:
            zone = ZoneInfo(customer.home_zone)
            as_of = (message.scheduled_for or timezone.now()).astimezone(zone).date()
        tpl = template or self.template_for(message.template, language, message.channel)
        language = tpl.language
        ctx = self.context(message, language, as_of)
        if template is None:
            # A reminder held back by contact rules (a weekend, a holiday) may leave after the due
            # date; it must say what is true when it is read, not "due today".
            code = _TRUE_TO_THE_DAY.get((tpl.code, _when(ctx["days_overdue"], ctx["open_invoices"], as_of)))
            if code:
                tpl = self.template_for(code, language, message.channel)
                ctx["template_used"] = code
        _, address = pick_contact(self.contacts.get(customer.pk, []), message.channel)
        if message.channel == "letter":
            address = customer.name
        if not address:
            raise RenderError(f"no {message.channel} address with consent for this customer")
        text = fill(tpl.body, ctx)
        subject = fill(tpl.subject, ctx) if tpl.subject else ""
        out = Rendered(to=address, subject=subject, text=text, context=ctx)
        if message.channel in ("email", "letter"):
            out.html = self.html(message.channel, subject, text, ctx)
            if message.channel == "email":
                out.text = text + "\n\n" + ctx["labels"]["opt_out"].format(link=ctx["opt_out_link"])
        elif message.channel == "sms":
            out.segments = sms_segments(text)
        else:
            names = sandbox.names(tpl.body)
            out.whatsapp = {"name": tpl.whatsapp_name or f"cobro_{tpl.code}",
                            "language": language.replace("-", "_"),
                            "params": [str(ctx.get(n, "")) for n in names]}
        out.legal_missing = legal_missing(customer.country, message.channel, tpl.code, out.text, self.org, language)
        exempt = (self.org.name, customer.name, ctx["contact_name"], ctx["creditor"])
        out.tone = tone.check(out.text, tone.lang_of(language), stage=defaults.STAGE_OF.get(tpl.code),
                              require=(), exempt=exempt)
        return out

    def html(self, channel: str, subject: str, text: str, ctx: dict) -> str:
        blocks = []
        for par in re.split(r"\n\s*\n", text):
            par = par.strip()
            if not par:
                continue
            if ctx["invoice_list"] and par == ctx["invoice_list"].strip():
                blocks.append({"table": True})
            else:
                blocks.append({"html": _paragraph_html(par)})
        return render_to_string(f"messaging/{channel}.html", {"subject": subject, "blocks": blocks,
                                                                "org": self.org, **ctx})
