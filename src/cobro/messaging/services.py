"""Writes to messaging's tables: templates, opt-outs, replies, receipts, thank-you messages.

Other apps call these (and ``outbox``); views only parse requests and call them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cobro.ledger.models import Contact, Customer, Organization
from cobro.ledger.services import create_task, record_event
from cobro.messaging import defaults, tone
from cobro.messaging.models import CHANNELS, Message, MessageTemplate, OptOut

#: A reply whose first word is one of these stops that channel (Spanish, English, Portuguese, and the
#: words carriers already treat as opt-out for SMS).
OPT_OUT_KEYWORDS = {"BAJA", "STOP", "SAIR", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "CANCELAR",
                    "PARAR", "DESCADASTRAR"}


THANK_YOU_WINDOW = 3


class ToneRejected(Exception):
    """A template the tone check flagged, saved without a manager's written reason."""

    def __init__(self, result: tone.ToneResult, message: str):
        super().__init__(message)
        self.result = result


# ---- templates -------------------------------------------------------------------------------------

def install_default_templates(org: Organization) -> int:
    """Give the organization Cobro's default texts (es, en, pt-BR), keeping any it already edited."""
    rows = [MessageTemplate(organization=org, **row) for lang in defaults.LANGUAGES
            for row in defaults.default_rows(lang)]
    before = MessageTemplate.objects.for_org(org).count()
    MessageTemplate.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    return MessageTemplate.objects.for_org(org).count() - before


def check_template(code: str, language: str, channel: str, subject: str, body: str) -> tone.ToneResult:
    text = f"{subject}\n{body}" if subject else body
    return tone.check(text, tone.lang_of(language), stage=defaults.STAGE_OF.get(code),
                      require=defaults.required_parts(code, channel))


def save_template(org: Organization, *, code: str, language: str, channel: str, subject: str, body: str,
                  tone_code: str, user=None, membership=None, reason: str = "",
                  whatsapp_name: str = "") -> MessageTemplate:
    """Save a template after the tone check; a flagged one needs a manager and a written reason."""
    result = check_template(code, language, channel, subject, body)
    reason = (reason or "").strip()
    if result.flagged:
        if membership is None or not membership.can("manager"):
            raise ToneRejected(result, _("La revisión de tono encontró observaciones: solo un supervisor "
                                         "puede guardar este texto."))
        if not reason:
            raise ToneRejected(result, _("La revisión de tono encontró observaciones: escriba el motivo "
                                         "para mantener este texto."))
    findings = [f.as_dict() for f in result.findings]
    values = {"tone": tone_code, "subject": subject, "body": body, "findings": findings,
              "override_reason": reason if result.flagged else "",
              "override_by": user if result.flagged else None, "updated_by": user}
    if channel == "whatsapp":
        values["whatsapp_name"] = whatsapp_name or f"cobro_{code}"
    tpl, _created = MessageTemplate.objects.update_or_create(organization=org, code=code, language=language,
                                                      channel=channel, defaults=values)
    return tpl


# ---- opt-outs --------------------------------------------------------------------------------------

def opted_out_channels(org: Organization | int, customer_ids=None) -> dict[int, set[str]]:
    """customer id → channels they opted out of, in one query (read by the cycle and the outbox)."""
    qs = OptOut.objects.for_org(org)
    if customer_ids is not None:
        qs = qs.filter(customer_id__in=list(customer_ids))
    out: dict[int, set[str]] = defaultdict(set)
    for cid, channel in qs.values_list("customer_id", "channel"):
        out[cid].add(channel)
    return dict(out)


def opt_out(org: Organization, customer: Customer | int, channel: str, source: str, *, address: str = "",
            note: str = "", actor=None, at: dt.datetime | None = None) -> OptOut:
    """Stop a channel for a customer at once: record it with its source and cancel what is queued."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r} (expected one of {', '.join(CHANNELS)})")
    customer_id = getattr(customer, "pk", customer)
    at = at or timezone.now()
    with transaction.atomic():
        row, created = OptOut.objects.get_or_create(
            organization=org, customer_id=customer_id, channel=channel,
            defaults={"source": source, "address": address[:254], "note": note[:300], "at": at})
        if created:
            cancelled = Message.objects.for_org(org).filter(
                customer_id=customer_id, channel=channel, direction=Message.Direction.OUT,
                status__in=[Message.Status.QUEUED, Message.Status.HELD]).update(
                status=Message.Status.CANCELLED, last_error="opted out")
            record_event(org, customer_id, "optout.recorded", f"Baja del canal {channel} ({source})",
                         data={"channel": channel, "source": source, "address": address,
                               "cancelled": cancelled}, actor=actor, at=at)
    return row


def is_opt_out_keyword(text: str) -> bool:
    words = re.findall(r"[^\W\d_]+", (text or "").upper())
    return bool(words) and len(words) <= 3 and words[0] in OPT_OUT_KEYWORDS


# ---- replies and receipts --------------------------------------------------------------------------

def _digits(phone: str) -> str:
    return re.sub(r"\D", "", phone or "")


def find_sender(channel: str, address: str) -> tuple[Organization, Customer] | None:
    """Who wrote to us: the customer we last messaged at that address, else a contact with it.

    Provider accounts serve the whole installation, so the address is looked up across organizations;
    the most recent message sent to it decides which one a reply belongs to.
    """
    if channel == "email":
        addr = address.strip().lower()
        last = (Message.objects.filter(channel="email", direction=Message.Direction.OUT, to__iexact=addr)
                .select_related("organization", "customer").order_by("-scheduled_for", "-id").first())
        if last:
            return last.organization, last.customer
        contact = Contact.objects.filter(email__iexact=addr).select_related("organization", "customer").first()
    else:
        number = "+" + _digits(address)
        last = (Message.objects.filter(channel=channel, direction=Message.Direction.OUT, to__in=[number, number[1:]])
                .select_related("organization", "customer").order_by("-scheduled_for", "-id").first())
        if last:
            return last.organization, last.customer
        field = "whatsapp" if channel == "whatsapp" else "phone"
        contact = (Contact.objects.filter(**{field: number}).select_related("organization", "customer").first()
                   or Contact.objects.filter(phone=number).select_related("organization", "customer").first())
    return (contact.organization, contact.customer) if contact else None


def record_reply(org: Organization, customer: Customer, channel: str, *, address: str, text: str,
                 provider_id: str, at: dt.datetime | None = None, subject: str = "") -> Message | None:
    """An inbound reply: on the timeline and a task for the team, or an opt-out if it asks for one.

    Idempotent on the provider's id: a webhook delivered twice records the reply once.
    """
    at = at or timezone.now()
    key = f"in:{channel}:{provider_id}"
    with transaction.atomic():
        msg, created = Message.objects.get_or_create(
            organization=org, key=key,
            defaults={"customer": customer, "direction": Message.Direction.IN, "channel": channel,
                      "to": address[:254], "subject": subject[:250], "body_text": text,
                      "status": Message.Status.RECEIVED, "scheduled_for": at, "next_attempt_at": at,
                      "sent_at": at, "provider_id": provider_id[:128]})
        if not created:
            return msg
        if is_opt_out_keyword(text) or is_opt_out_keyword(subject):
            opt_out(org, customer, channel, OptOut.Source.KEYWORD, address=address, note=text[:300], at=at)
            return msg
        record_event(org, customer, "message.reply", f"Respuesta por {channel}: {text[:200]}",
                     data={"channel": channel, "message_id": msg.pk}, at=at)
        create_task(org, customer, "reply", f"Responder a {customer.name} ({channel})",
                    timezone.localdate(at), source_key=f"reply:{msg.pk}", data={"message_id": msg.pk})
    return msg


#: How far along a message is; a receipt never moves it backwards (a late "delivered" after "read").
_RANK = {"queued": 0, "sending": 1, "sent": 2, "delivered": 3, "read": 4}


def apply_receipt(provider_id: str, status: str, *, at: dt.datetime | None = None, error: str = "") -> bool:
    """A provider says a message was delivered, read or failed. Returns whether it was known."""
    at = at or timezone.now()
    msg = Message.objects.filter(provider_id=provider_id, direction=Message.Direction.OUT).first()
    if msg is None:
        return False
    if status == "failed":
        if msg.status != Message.Status.FAILED:
            msg.status, msg.failed_at, msg.last_error = Message.Status.FAILED, at, error[:1000]
            msg.save(update_fields=["status", "failed_at", "last_error"])
            _failed_task(msg, error or "the provider could not deliver it")
        return True
    if _RANK.get(status, -1) <= _RANK.get(msg.status, -1):
        return True
    fields = ["status"]
    msg.status = status
    if status == "delivered":
        msg.delivered_at = at
        fields.append("delivered_at")
    elif status == "read":
        msg.read_at = at
        msg.delivered_at = msg.delivered_at or at
        fields += ["read_at", "delivered_at"]
    msg.save(update_fields=fields)
    record_event(msg.organization, msg.customer_id, f"message.{status}",
                 f"Mensaje {msg.channel} {'entregado' if status == 'delivered' else 'leído'}",
                 data={"channel": msg.channel, "message_id": msg.pk}, at=at)
    return True


def _failed_task(msg: Message, reason: str) -> None:
    record_event(msg.organization, msg.customer_id, "message.failed",
                 f"No se pudo enviar el mensaje por {msg.channel}: {reason[:200]}",
                 data={"channel": msg.channel, "message_id": msg.pk, "error": reason[:500]})
    create_task(msg.organization, msg.customer_id, "message_failed",
                f"Revisar mensaje no enviado ({msg.channel}, {msg.template})", timezone.localdate(),
                source_key=f"message_failed:{msg.pk}", data={"message_id": msg.pk, "error": reason[:500]})


# ---- thank-you -------------------------------------------------------------------------------------

def queue_thank_you(org: Organization, customer_ids, on_date: dt.date) -> int:
    """A short thank-you on each customer's preferred channel, at most one per customer per day.

    The organization turns it off with ``options["thank_you"] = false``. Payments dated more than
    THANK_YOU_WINDOW days ago (an import of last year's bank statement) are not thanked: a thank-you
    for a payment the customer made months ago would puzzle them.
    """
    if not org.option("thank_you", True) or not customer_ids:
        return 0
    if on_date < timezone.localdate() - dt.timedelta(days=THANK_YOU_WINDOW):
        return 0
    opted = opted_out_channels(org, customer_ids)
    now = timezone.now()
    rows = []
    prefs = Customer.objects.for_org(org).filter(pk__in=list(customer_ids)).values_list("pk", "preferred_channel")
    for cid, preferred in prefs:
        channel = preferred if preferred in ("email", "sms", "whatsapp") else "email"
        if channel in opted.get(cid, ()):
            continue
        rows.append(Message(organization=org, customer_id=cid, key=f"thanks:{cid}:{on_date.isoformat()}",
                            template="thank_you", channel=channel, tone="friendly", scheduled_for=now,
                            next_attempt_at=now))
    # Returns how many were offered; a second payment the same day hits the unique key and is ignored.
    Message.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
