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
from cobro.messaging import defaults, sandbox, tone
from cobro.messaging.models import CHANNELS, Message, MessageChannel, MessageTemplate, OptOut

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
    """Save a template after the tone check; a flagged one needs a manager and a written reason.

    A text outside the template sandbox (``sandbox.TemplateRefused``) is never saved, whoever asks.
    """
    sandbox.check(subject)
    sandbox.check(body)
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
    if not provider_id:  # an empty id is not an id: it would match every message not sent yet
        return False
    at = at or timezone.now()
    msg = Message.objects.filter(provider_id=provider_id, direction=Message.Direction.OUT).first()
    if msg is None:
        return False
    if status == "failed":
        if msg.status != Message.Status.FAILED:
            msg.status, msg.failed_at, msg.last_error = Message.Status.FAILED, at, error[:1000]
            msg.save(update_fields=["status", "failed_at", "last_error"])
            _failed_task(msg, error or "the provider could not deliver it", at=at)
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


def _failed_task(msg: Message, reason: str, at: dt.datetime | None = None) -> None:
    """The failure on the timeline and a task for the team; ``at``: when it failed (the caller's clock)."""
    at = at or timezone.now()
    record_event(msg.organization, msg.customer_id, "message.failed",
                 f"No se pudo enviar el mensaje por {msg.channel}: {reason[:200]}",
                 data={"channel": msg.channel, "message_id": msg.pk, "error": reason[:500]}, at=at)
    create_task(msg.organization, msg.customer_id, "message_failed",
                f"Revisar mensaje no enviado ({msg.channel}, {msg.template})", timezone.localdate(at),
                source_key=f"message_failed:{msg.pk}", data={"message_id": msg.pk, "error": reason[:500]})


# ---- thank-you -------------------------------------------------------------------------------------

def queue_thank_you(org: Organization, customer_ids, on_date: dt.date, *, at: dt.datetime | None = None) -> int:
    """A short thank-you on each customer's preferred channel, at most one per customer per day,
    scheduled at ``at`` (the moment the payment was recorded, by the recorder's clock; default now).

    The organization turns it off with ``options["thank_you"] = false``. Payments dated more than
    THANK_YOU_WINDOW days before that moment (an import of last year's bank statement) are not
    thanked: a thank-you for a payment the customer made months ago would puzzle them.
    """
    if not org.option("thank_you", True) or not customer_ids:
        return 0
    now = at or timezone.now()
    if on_date < timezone.localdate(now) - dt.timedelta(days=THANK_YOU_WINDOW):
        return 0
    opted = opted_out_channels(org, customer_ids)
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


# ---- one-off messages ------------------------------------------------------------------------------

class OneOffRefused(Exception):
    """A one-off message that may not or cannot be sent; the text says why, in the user's language."""


#: Two sends of the same form within this many seconds are one send (a double click, a resubmit).
ONE_OFF_DEDUPE_SECONDS = 60


def reachable_channels(org: Organization, customer: Customer, contacts=None) -> list[str]:
    """The channels a team member may write to this customer on: an address with consent, no opt-out."""
    from cobro.messaging.render import pick_contact

    contacts = list(contacts if contacts is not None else Contact.objects.for_org(org).filter(customer=customer))
    opted = opted_out_channels(org, [customer.pk]).get(customer.pk, set())
    return [c for c in CHANNELS if c not in opted and (pick_contact(contacts, c)[1] or (c == "letter" and contacts))]


def one_off_templates(org: Organization, customer: Customer) -> list[MessageTemplate]:
    """The organization's templates in the customer's language, one row per code and channel."""
    return list(MessageTemplate.objects.for_org(org).filter(
        language=defaults.language_of(customer.language or org.language)).order_by("code", "channel"))


#: Templates that speak of something overdue: with nothing overdue they would say "venció" of a future date.
SPEAKS_OF_OVERDUE = {"overdue_friendly", "overdue_neutral", "overdue_firm", "late_fee_notice",
                     "mediation_notice", "legal_review"}


def one_off_facts(org: Organization, customer: Customer, template_code: str, invoice_ids, as_of: dt.date
                  ) -> tuple[list[int], dict]:
    """The facts a one-off message states, read from the books: (invoice ids, message data).

    Raises ``OneOffRefused`` naming the fact that does not hold, so a person never sends a promise
    reminder without a promise, an overdue notice with nothing overdue, or a "dispute resolved"
    message with no total to pay.
    """
    from cobro.ledger.models import Invoice

    open_invoices = Invoice.objects.for_org(org).filter(customer=customer, status=Invoice.Status.OPEN,
                                                        open_amount__gt=0)
    if invoice_ids:
        open_invoices = open_invoices.filter(pk__in=list(invoice_ids))
    ids, data = list(invoice_ids or []), {"one_off": True}
    if template_code in SPEAKS_OF_OVERDUE:
        overdue = list(open_invoices.filter(due_date__lt=as_of).order_by("due_date").values_list("pk", flat=True))
        if not overdue:
            raise OneOffRefused(_("%(c)s no tiene facturas vencidas: este mensaje diría algo que no es cierto.")
                                % {"c": customer.name})
        ids = overdue  # only what is overdue, never a future due date called overdue
    elif template_code == "promise_reminder":
        try:
            from cobro.agreements.models import Promise
        except ImportError:
            Promise = None
        promise = (Promise.objects.for_org(org).filter(customer=customer, status=Promise.Status.PENDING)
                   .order_by("promised_date", "id").first() if Promise else None)
        if promise is None:
            raise OneOffRefused(_("%(c)s no tiene una promesa de pago pendiente que recordar.") % {"c": customer.name})
        data.update({"date": promise.promised_date.isoformat(), "amount": promise.amount - promise.paid_amount,
                     "currency": promise.currency, "promise_id": promise.pk})
        ids = ids or list(promise.invoices.values_list("pk", flat=True))
    elif template_code == "dispute_resolved":
        try:
            from cobro.agreements.models import Dispute
        except ImportError:
            Dispute = None
        resolved = Dispute and Dispute.objects.for_org(org).filter(
            customer=customer, status__in=[Dispute.Status.VALID, Dispute.Status.INVALID]).exists()
        if not resolved:
            raise OneOffRefused(_("%(c)s no tiene un reclamo resuelto que anunciar.") % {"c": customer.name})
        if not open_invoices.exists():
            raise OneOffRefused(_("%(c)s no debe nada: el mensaje de reclamo resuelto no tendría un total que "
                                  "pagar.") % {"c": customer.name})
    return ids, data


def _one_off_draft(org, customer, template_code, channel, invoice_ids, now) -> Message:
    as_of = timezone.localdate(now)
    ids, data = one_off_facts(org, customer, template_code, invoice_ids, as_of)
    return Message(organization=org, customer=customer, template=template_code, channel=channel,
                   invoice_ids=ids, scheduled_for=now, next_attempt_at=now, data=data)


def preview_one_off(org: Organization, customer: Customer, template_code: str, channel: str,
                    invoice_ids=None, *, now: dt.datetime | None = None):
    """Render what a one-off message would say now, with the customer's real data; nothing is stored.

    The same ``Renderer`` the outbox sends with; raises ``RenderError`` when it cannot be written.
    """
    from cobro.messaging.render import Renderer

    msg = _one_off_draft(org, customer, template_code, channel, invoice_ids, now or timezone.now())
    renderer = Renderer(org, [msg])
    rendered = renderer.render(msg)  # exactly as the outbox will, "true to the day" swap included
    code = rendered.context.get("template_used") or template_code
    return rendered, renderer.template_for(code, rendered.context["language"], channel)


def queue_one_off(org: Organization, customer: Customer, template_code: str, channel: str, actor,
                  invoice_ids=None, *, token: str = "", now: dt.datetime | None = None) -> Message:
    """Queue one message a person chose to send, through the outbox like any cycle message.

    Refused (``OneOffRefused``) unless the actor is an agent or above in this organization, the customer
    can be reached on the channel (address with consent, no opt-out), the template renders and the
    tone check passes it (or a manager accepted the template). The key is
    ``oneoff:<customer>:<template>:<channel>:<date>:<n>`` with ``n`` the form's one-time token, or
    the minute when there is none: a double click or a resubmitted form returns the message already
    queued instead of sending twice, while a deliberate second send (a new form) goes out.
    """
    from cobro.ledger.models import Membership
    from cobro.messaging.render import RenderError

    now = now or timezone.now()
    if customer.organization_id != org.pk:
        raise OneOffRefused(_("Ese cliente no pertenece a esta organización."))
    membership = Membership.objects.filter(organization=org, user=actor).first() if actor else None
    if membership is None or not membership.can("agent"):
        raise OneOffRefused(_("Su rol no permite enviar mensajes."))
    if channel not in CHANNELS:
        raise OneOffRefused(_("Canal desconocido: %(c)s.") % {"c": channel})
    label = MessageChannel(channel).label
    if channel in opted_out_channels(org, [customer.pk]).get(customer.pk, set()):
        raise OneOffRefused(_("El cliente pidió no recibir mensajes por %(c)s.") % {"c": label})
    if channel not in reachable_channels(org, customer):
        raise OneOffRefused(_("El cliente no tiene una dirección con consentimiento para %(c)s.") % {"c": label})
    if invoice_ids:
        invoice_ids = sorted({int(i) for i in invoice_ids})
        from cobro.ledger.models import Invoice

        found = Invoice.objects.for_org(org).filter(customer=customer, pk__in=invoice_ids).count()
        if found != len(invoice_ids):
            raise OneOffRefused(_("Alguna de las facturas no es de este cliente."))
    try:
        rendered, tpl = preview_one_off(org, customer, template_code, channel, invoice_ids, now=now)
    except RenderError as exc:
        raise OneOffRefused(_("No se puede escribir este mensaje: %(r)s") % {"r": exc}) from exc
    facts_ids, facts = one_off_facts(org, customer, template_code, invoice_ids, timezone.localdate(now))
    if rendered.legal_missing:
        raise OneOffRefused(_("Al texto le falta lo que exige la ley: %(m)s") % {"m": ", ".join(rendered.legal_missing)})
    if rendered.tone.flagged and not tpl.override_reason:
        words = "; ".join(f"{f.rule}: {', '.join(f.words)}" for f in rendered.tone.findings
                          if not f.rule.startswith("missing:"))
        raise OneOffRefused(_("La revisión de tono retuvo este texto (%(w)s).") % {"w": words})
    n = re.sub(r"[^A-Za-z0-9]", "", token or "")[:40] or (now - dt.timedelta(
        seconds=now.second % ONE_OFF_DEDUPE_SECONDS, microseconds=now.microsecond)).strftime("%H%M%S")
    key = f"oneoff:{customer.pk}:{template_code}:{channel}:{timezone.localdate(now).isoformat()}:{n}"
    with transaction.atomic():
        msg, created = Message.objects.get_or_create(
            organization=org, key=key,
            defaults={"customer": customer, "template": template_code, "channel": channel,
                      "language": tpl.language, "tone": tpl.tone, "invoice_ids": facts_ids,
                      "scheduled_for": now, "next_attempt_at": now,
                      # What the person saw in the preview, for the timeline until it leaves; the outbox
                      # renders it again at delivery (an invoice paid meanwhile drops out).
                      "to": rendered.to[:254], "subject": rendered.subject[:250], "body_text": rendered.text,
                      "segments": rendered.segments,
                      "data": {**facts, "queued_by": getattr(actor, "pk", None)}})
        if created:
            record_event(org, customer, "message.queued", f"Mensaje {channel} en cola: {template_code}",
                         data={"channel": channel, "message_id": msg.pk, "template": template_code,
                               "one_off": True}, actor=actor, at=now)
    msg.created = created
    return msg
