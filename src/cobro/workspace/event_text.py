"""Timeline lines in the reader's language, written at display time from an event's kind and data.

The apps store a Spanish ``summary`` with each event (the API and the admin show it as written); the
screen rebuilds the line from ``data`` instead, with dates in words and amounts in the reader's
formats. Rows written before a field was added to ``data`` still read: a date the old summary held
(``26-11-2026`` or ``2026-11-26``) is taken from it, and a line that cannot be rebuilt shows its summary.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from django.utils.formats import date_format
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

_DMY = re.compile(r"\b(\d{2})-(\d{2})-(\d{4})\b")
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def day_words(value) -> str:
    """A date as the reader's locale writes it in a sentence ("26 de noviembre de 2026", "Nov. 26, 2026")."""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    return date_format(value, "DATE_FORMAT")


def _day(event, key: str) -> str | None:
    """``data[key]`` (an ISO date) in words; for an older row, the date its summary held."""
    value = (event.data or {}).get(key)
    if value:
        return day_words(value)
    found = _DMY.search(event.summary or "")
    if found:
        return day_words(dt.date(int(found[3]), int(found[2]), int(found[1])))
    found = _ISO.search(event.summary or "")
    if found:
        return day_words(dt.date(int(found[1]), int(found[2]), int(found[3])))
    return None


def _money(event, key: str = "amount") -> str | None:
    from cobro.engine.money import format_money

    data = event.data or {}
    currency = data.get("currency") or (event.invoice.currency if event.invoice_id else None)
    if data.get(key) is None or not currency:
        return None
    return format_money(int(data[key]), currency, get_language() or "es")


def _channel(code: str) -> str:
    from cobro.ledger.models import Channel

    return str(dict(Channel.choices).get(code, code))


def _after_colon(event) -> str:
    """What an old summary said after its first ": " (a reply's text, a reason)."""
    return (event.summary or "").split(": ", 1)[1] if ": " in (event.summary or "") else ""


def _with_reason(text: str, reason: str) -> str:
    return _("%(what)s: %(reason)s") % {"what": text, "reason": reason} if reason else text


def _invoice_ref(event) -> str:
    return event.invoice.ref if event.invoice_id and event.invoice is not None else ""


# -- one function per kind; each returns None when the row lacks what it needs -----------------------

def _promise_made(e):
    money, day = _money(e), _day(e, "promised_date")
    if money and day:
        return _("Promesa de pago por %(amount)s para el %(date)s") % {"amount": money, "date": day}
    return None


def _promise_kept(e):
    money = _money(e)
    return _("Promesa de pago cumplida (%(amount)s)") % {"amount": money} if money else None


def _promise_broken(e):
    money, day = _money(e), _day(e, "promised_date")
    if money and day:
        return _("Promesa de pago del %(date)s incumplida (%(amount)s)") % {"date": day, "amount": money}
    return None


def _promise_replaced(e):
    by = (e.data or {}).get("by")
    if by == "plan":
        return _("Promesa reemplazada por un plan de pagos")
    day = _day(e, "promised_date")
    if day and (by == "promise" or "reemplazada por una nueva" in (e.summary or "")):
        return _("Promesa del %(date)s reemplazada por una nueva") % {"date": day}
    if "plan de pagos" in (e.summary or ""):
        return _("Promesa reemplazada por un plan de pagos")
    return None


def _promise_cancelled(e):
    data = e.data or {}
    reason = data["reason"] if "reason" in data else _after_colon(e)
    return _with_reason(_("Promesa anulada"), reason)


def _plan_made(e):
    from cobro.agreements.models import Plan

    data = e.data or {}
    money = _money(e, "total")
    if not money or not data.get("count") or data.get("frequency") not in Plan.Frequency.values:
        return None
    frequency = str(Plan.Frequency(data["frequency"]).label).lower()
    text = ngettext("Plan de pagos: %(count)d cuota %(frequency)s por %(amount)s",
                    "Plan de pagos: %(count)d cuotas %(frequency)s por %(amount)s", data["count"]) % {
        "count": data["count"], "frequency": frequency, "amount": money}
    return _("%(plan)s (requiere aprobación)") % {"plan": text} if e.kind == "plan.proposed" else text


def _instalment_label(data) -> str | None:
    number = data.get("number")
    if number is None:
        return None
    return _("Pie") if number == 0 else _("Cuota %(n)d") % {"n": number}


def _instalment_paid(e):
    label = _instalment_label(e.data or {})
    return _("%(instalment)s del plan de pagos pagada") % {"instalment": label} if label else None


def _instalment_missed(e):
    label, day = _instalment_label(e.data or {}), _day(e, "due_date")
    if label and day:
        return _("%(instalment)s del plan de pagos impaga (vencía el %(date)s)") % {"instalment": label, "date": day}
    return None


def _plan_broken(e):
    missed = len((e.data or {}).get("missed") or [])
    return ngettext("Plan de pagos incumplido (%(n)d cuota impaga): se retoma la cobranza",
                    "Plan de pagos incumplido (%(n)d cuotas impagas): se retoma la cobranza", missed) % {"n": missed}


def _plan_cancelled(e):
    return _with_reason(_("Plan de pagos anulado"), (e.data or {}).get("reason", ""))


def _dispute_opened(e):
    from cobro.agreements.cycle import _SHIPPED_REASONS, reason_words
    from cobro.engine.text import localized

    # Only the reasons Cobro ships are known without a query per line; another keeps its summary.
    code, ref = (e.data or {}).get("reason"), _invoice_ref(e)
    if not ref or code not in _SHIPPED_REASONS:
        return None
    reason = localized(reason_words(code, _SHIPPED_REASONS[code]))
    return _("Disputa sobre la factura %(ref)s: %(reason)s") % {"ref": ref, "reason": reason}


def _dispute_assigned(e):
    name = (e.data or {}).get("assignee_name")
    return _("Disputa asignada a %(name)s") % {"name": name} if name else None


def _dispute_resolved(e):
    data, ref = e.data or {}, _invoice_ref(e)
    if "valid" not in data or not ref:
        return None
    if data["valid"]:
        return _("Disputa sobre %(ref)s resuelta: procede") % {"ref": ref}
    return _("Disputa sobre %(ref)s resuelta: no procede") % {"ref": ref}


def _payment_received(e):
    ref, money = (e.data or {}).get("ref"), _money(e)
    if ref and money:
        return _("Pago %(ref)s recibido (%(amount)s)") % {"ref": ref, "amount": money}
    return _("Pago %(ref)s recibido") % {"ref": ref} if ref else None


def _payment_reversed(e):
    ref = (e.data or {}).get("ref")
    return _with_reason(_("Pago %(ref)s anulado") % {"ref": ref}, (e.data or {}).get("reason", "")) if ref else None


def _credit_note_added(e):
    ref, money, invoice = (e.data or {}).get("ref"), _money(e), _invoice_ref(e)
    if not (ref and money and invoice):
        return None
    return _("Nota de crédito %(ref)s por %(amount)s sobre %(invoice)s") % {"ref": ref, "amount": money,
                                                                          "invoice": invoice}


def _credit_note_reversed(e):
    ref = (e.data or {}).get("ref")
    return (_with_reason(_("Nota de crédito %(ref)s anulada") % {"ref": ref}, (e.data or {}).get("reason", ""))
            if ref else None)


def _fee_waived(e):
    money = _money(e)
    return (_with_reason(_("Cargo por mora condonado (%(amount)s)") % {"amount": money},
                         (e.data or {}).get("reason", "")) if money else None)


def _discount_applied(e):
    money, ref = _money(e), _invoice_ref(e)
    if money and ref:
        return _("Descuento por pronto pago en %(ref)s: %(amount)s") % {"ref": ref, "amount": money}
    return None


def _message_sent(e):
    from cobro.workspace.labels import template_name

    data = e.data or {}
    if not data.get("channel"):
        return None
    if data.get("template"):
        return _("Mensaje enviado por %(channel)s: %(template)s") % {
            "channel": _channel(data["channel"]), "template": template_name(data["template"])}
    return _("Mensaje enviado por %(channel)s") % {"channel": _channel(data["channel"])}


def _message_receipt(e):
    channel = (e.data or {}).get("channel")
    if not channel:
        return None
    if e.kind == "message.delivered":
        return _("Mensaje por %(channel)s entregado") % {"channel": _channel(channel)}
    return _("Mensaje por %(channel)s leído") % {"channel": _channel(channel)}


def _message_failed(e):
    channel = (e.data or {}).get("channel")
    return _("No se pudo enviar el mensaje por %(channel)s") % {"channel": _channel(channel)} if channel else None


def _message_reply(e):
    channel = (e.data or {}).get("channel")
    if not channel:
        return None
    text = _after_colon(e)  # the customer's own words
    return _("Respuesta por %(channel)s: %(text)s") % {"channel": _channel(channel), "text": text}


def _optout(e):
    from cobro.messaging.models import OptOut

    data = e.data or {}
    if not data.get("channel"):
        return None
    source = dict(OptOut.Source.choices).get(data.get("source"))
    text = _("Baja del canal %(channel)s") % {"channel": _channel(data["channel"])}
    return f"{text} ({source})" if source else text


def _refs_words(data) -> str:
    return ", ".join(data.get("invoice_refs") or [])


def _paused(e):
    data = e.data or {}
    if "reason" not in data:
        return None
    refs, until = _refs_words(data), data.get("until")
    if refs and until:
        text = _("Cobranza de %(refs)s en pausa hasta el %(date)s") % {"refs": refs, "date": day_words(until)}
    elif refs:
        text = _("Cobranza de %(refs)s en pausa") % {"refs": refs}
    elif until:
        text = _("Cobranza en pausa hasta el %(date)s") % {"date": day_words(until)}
    else:
        text = _("Cobranza en pausa")
    return _with_reason(text, data["reason"])


def _resumed(e):
    data = e.data or {}
    refs = _refs_words(data)
    text = _("Cobranza de %(refs)s reanudada") % {"refs": refs} if refs else _("Cobranza reanudada")
    return _with_reason(text, data.get("reason") or _after_colon(e))


def _call_logged(e):
    from cobro.workspace.services import DEFAULT_REASONS, OUTCOMES

    data = e.data or {}
    outcome = OUTCOMES.get(data.get("outcome"))
    shipped = dict(DEFAULT_REASONS)
    # A reason the organization wrote itself is in its summary as written (no query per line).
    if outcome is None or (data.get("reason") and data["reason"] not in shipped):
        return None
    return f"{outcome} · {shipped[data['reason']]}" if data.get("reason") else str(outcome)


def _survey(e):
    rating = (e.data or {}).get("rating")
    return _("Encuesta del portal: %(rating)s/5") % {"rating": rating} if rating is not None else None


RENDER: dict[str, Callable] = {
    "promise.made": _promise_made,
    "promise.kept": _promise_kept,
    "promise.broken": _promise_broken,
    "promise.replaced": _promise_replaced,
    "promise.cancelled": _promise_cancelled,
    "plan.created": _plan_made,
    "plan.proposed": _plan_made,
    "plan.approved": lambda e: _("Plan de pagos aprobado"),
    "plan.cancelled": _plan_cancelled,
    "plan.instalment_paid": _instalment_paid,
    "plan.instalment_missed": _instalment_missed,
    "plan.completed": lambda e: _("Plan de pagos pagado por completo"),
    "plan.broken": _plan_broken,
    "dispute.opened": _dispute_opened,
    "dispute.assigned": _dispute_assigned,
    "dispute.answered": lambda e: _("Disputa respondida al cliente"),
    "dispute.resolved": _dispute_resolved,
    "terms.changed": lambda e: _("Condiciones de pago actualizadas"),
    "fee.waived": _fee_waived,
    "discount.applied": _discount_applied,
    "payment.received": _payment_received,
    "payment.reversed": _payment_reversed,
    "credit_note.added": _credit_note_added,
    "credit_note.reversed": _credit_note_reversed,
    "message.sent": _message_sent,
    "message.delivered": _message_receipt,
    "message.read": _message_receipt,
    "message.failed": _message_failed,
    "message.reply": _message_reply,
    "optout.recorded": _optout,
    "collection.paused": _paused,
    "collection.resumed": _resumed,
    "call.logged": _call_logged,
    "portal.survey": _survey,
}


def render(event) -> str | None:
    """The event's line in the active language, or None when its kind or data do not allow one."""
    fn = RENDER.get(event.kind)
    return fn(event) if fn else None
