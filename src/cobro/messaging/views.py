"""Messaging pages: outbox, message detail, templates (edit, preview, tone check), the debtor's
statement and opt-out pages (public, reached by signed links), and provider webhooks."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
from collections import defaultdict

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from cobro.ledger.models import Customer, Invoice
from cobro.ledger.tenancy import require_role
from cobro.messaging import defaults, links, sandbox, services, webhooks
from cobro.messaging.models import Message, MessageChannel, MessageTemplate, OptOut, Tone
from cobro.messaging.render import Renderer, RenderError

log = logging.getLogger(__name__)

# ---- the team's pages ------------------------------------------------------------------------------


@require_role("agent")  # the read-only role's menu has no Mensajes: neither do its URLs
def outbox(request):
    org = request.org
    qs = Message.objects.for_org(org).select_related("customer")
    status, channel, day = request.GET.get("status", ""), request.GET.get("channel", ""), request.GET.get("day", "")
    if status:
        qs = qs.filter(status=status)
    if channel:
        qs = qs.filter(channel=channel)
    if day:
        try:
            qs = qs.filter(scheduled_for__date=dt.date.fromisoformat(day))
        except ValueError:
            day = ""
    counts = dict(Message.objects.for_org(org).values_list("status").annotate(n=Count("id")).order_by())
    page = Paginator(qs.order_by("-scheduled_for", "-id"), 50).get_page(request.GET.get("page"))
    return render(request, "messaging/outbox.html", {
        "page": page, "counts": counts, "statuses": Message.Status.choices, "channels": MessageChannel.choices,
        "status": status, "channel": channel, "day": day})


@require_role("agent")
def message_detail(request, pk: int):
    msg = get_object_or_404(Message.objects.for_org(request.org).select_related("customer"), pk=pk)
    preview_error = ""
    if msg.direction == Message.Direction.OUT and not msg.body_text:
        # Not rendered yet (still queued): show what it would say now, without storing it.
        try:
            r = Renderer(request.org, [msg]).render(msg)
            msg.to, msg.subject, msg.body_text, msg.body_html, msg.segments = (
                r.to, r.subject, r.text, r.html, r.segments)
            if r.whatsapp:
                msg.data = {**(msg.data or {}), "whatsapp": r.whatsapp}
        except RenderError as exc:
            preview_error = str(exc)
    return render(request, "messaging/message.html", {"msg": msg, "preview_error": preview_error,
                                                      "can_retry": request.membership.can("manager")})


@require_role("manager")
@require_POST
def message_retry(request, pk: int):
    msg = get_object_or_404(Message.objects.for_org(request.org), pk=pk, direction=Message.Direction.OUT)
    if msg.status in (Message.Status.FAILED, Message.Status.HELD):
        Message.objects.filter(pk=msg.pk, status=msg.status).update(
            status=Message.Status.QUEUED, next_attempt_at=timezone.now(), attempts=0, last_error="")
    return redirect("messaging:message", pk=msg.pk)


@require_role("agent")
def template_list(request):
    rows = defaultdict(dict)
    for t in MessageTemplate.objects.for_org(request.org):
        rows[(t.code, t.language)][t.channel] = t
    table = [{"code": code, "language": lang, "channels": [chans.get(c) for c in ("email", "sms", "whatsapp", "letter")]}
             for (code, lang), chans in sorted(rows.items())]
    return render(request, "messaging/templates.html", {"table": table})


@require_role("agent")
def template_edit(request, pk: int):
    tpl = get_object_or_404(MessageTemplate.objects.for_org(request.org), pk=pk)
    org = request.org
    customers = list(Customer.objects.for_org(org).filter(invoices__status=Invoice.Status.OPEN)
                     .distinct().order_by("name")[:200])
    form = {"subject": tpl.subject, "body": tpl.body, "tone": tpl.tone, "reason": "",
            "customer": str(customers[0].pk) if customers else ""}
    result, preview, error, saved = None, None, "", False
    if request.method == "POST":
        form.update({k: request.POST.get(k, form[k]) for k in form})
        result = services.check_template(tpl.code, tpl.language, tpl.channel, form["subject"], form["body"])
        refused = _refused(form)
        if refused:
            # Preview and save alike: a text outside the sandbox is neither rendered nor stored.
            return render(request, "messaging/template_edit.html", {
                "tpl": tpl, "form": form, "result": result, "preview": None, "error": refused, "saved": False,
                "customers": customers, "tones": Tone.choices, "is_manager": request.membership.can("manager")},
                status=422)
        if request.POST.get("do") == "save":
            if form["tone"] not in Tone.values:
                error = _("Tono desconocido.")
            else:
                try:
                    tpl = services.save_template(org, code=tpl.code, language=tpl.language, channel=tpl.channel,
                                                 subject=form["subject"], body=form["body"], tone_code=form["tone"],
                                                 user=request.user, membership=request.membership,
                                                 reason=form["reason"], whatsapp_name=tpl.whatsapp_name)
                    saved = True
                except services.ToneRejected as exc:
                    error = str(exc)
        preview, perror = _preview(org, tpl, form)
        error = error or perror
    return render(request, "messaging/template_edit.html", {
        "tpl": tpl, "form": form, "result": result, "preview": preview, "error": error, "saved": saved,
        "customers": customers, "tones": Tone.choices, "is_manager": request.membership.can("manager")})


def _refused(form) -> str:
    for part in ("subject", "body"):
        try:
            sandbox.check(form[part])
        except sandbox.TemplateRefused as exc:
            return str(exc)
    return ""


def _preview(org, tpl, form):
    """Render the edited text with a real customer's data, without saving anything."""
    try:
        customer = Customer.objects.for_org(org).get(pk=int(form["customer"]))
    except (ValueError, Customer.DoesNotExist):
        return None, ""
    draft = MessageTemplate(organization=org, code=tpl.code, language=tpl.language, channel=tpl.channel,
                            tone=form["tone"], subject=form["subject"], body=form["body"],
                            whatsapp_name=tpl.whatsapp_name)
    msg = Message(organization=org, customer=customer, key="preview", template=tpl.code, channel=tpl.channel,
                  language=tpl.language, scheduled_for=timezone.now())
    try:
        return Renderer(org, [msg]).render(msg, template=draft), ""
    except RenderError as exc:
        return None, str(exc)


# ---- the debtor's pages (public, signed links) -----------------------------------------------------

def _link_or_gone(request, token: str, purpose: str):
    try:
        data, customer = links.open_link(token, purpose)
    except links.MalformedLink:
        raise Http404 from None
    except links.LinkError as exc:
        return None, render(request, "messaging/public_gone.html", {"reason": str(exc)}, status=410)
    if customer is None:
        raise Http404
    return (customer.organization, customer, data), None


def statement(request, token: str):
    """Pay links sent before the portal existed: a genuine one redirects to the portal."""
    _found, gone = _link_or_gone(request, token, "pay")
    if gone:
        return gone
    return redirect("portal:statement", token=token)


@csrf_exempt  # reached from a link in an email, and by mail clients' one-click unsubscribe (RFC 8058)
def opt_out(request, token: str):
    found, gone = _link_or_gone(request, token, "optout")
    if gone:
        return gone
    org, customer, data = found
    channel = data.get("ch") or "email"
    done = OptOut.objects.for_org(org).filter(customer=customer, channel=channel).exists()
    if request.method == "POST":
        one_click = request.POST.get("List-Unsubscribe") == "One-Click"
        services.opt_out(org, customer, channel, OptOut.Source.ONE_CLICK if one_click else OptOut.Source.LINK,
                         note=request.META.get("HTTP_USER_AGENT", "")[:300])
        if one_click:
            return HttpResponse(status=200)
        done = True
    with translation.override(defaults.language_of(customer.language).lower()):
        return render(request, "messaging/opt_out.html", {"org_": org, "customer": customer,
                                                          "channel": channel, "done": done})


# ---- provider webhooks -----------------------------------------------------------------------------

def _public_url(request) -> str:
    # Providers sign the address they called, which is the public one, not what a proxy passes on.
    return settings.COBRO_BASE_URL + request.get_full_path()


def _twilio_valid(request) -> bool:
    from twilio.request_validator import RequestValidator

    if not settings.COBRO_TWILIO_AUTH_TOKEN:
        return False
    validator = RequestValidator(settings.COBRO_TWILIO_AUTH_TOKEN)
    return validator.validate(_public_url(request), request.POST.dict(),
                              request.META.get("HTTP_X_TWILIO_SIGNATURE", ""))


def _bad_webhook(request, provider: str, exc: webhooks.BadPayload) -> HttpResponse:
    """A signed body that is not what the provider documents: 400 and a line in the log, nothing changed."""
    log.warning("%s webhook refused (%s): %s", provider, request.path, exc)
    return HttpResponseBadRequest(f"malformed {provider} body: {exc}", content_type="text/plain")


@csrf_exempt
@require_POST
def twilio_status(request):
    if not _twilio_valid(request):
        return HttpResponseForbidden("bad signature")
    try:
        receipt = webhooks.twilio_status(request.POST)
    except webhooks.BadPayload as exc:
        return _bad_webhook(request, "twilio", exc)
    if receipt:
        services.apply_receipt(receipt.provider_id, receipt.status, error=receipt.error)
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def twilio_inbound(request):
    if not _twilio_valid(request):
        return HttpResponseForbidden("bad signature")
    try:
        reply = webhooks.twilio_inbound(request.POST)
    except webhooks.BadPayload as exc:
        return _bad_webhook(request, "twilio", exc)
    found = services.find_sender("sms", reply.sender)
    if found:
        services.record_reply(found[0], found[1], "sms", address=reply.sender, text=reply.text,
                              provider_id=reply.provider_id)
    # An empty TwiML answer: Cobro does not auto-reply by SMS.
    return HttpResponse('<?xml version="1.0" encoding="UTF-8"?><Response></Response>', content_type="text/xml")


def _hub_signature_valid(request) -> bool:
    secret = settings.COBRO_WHATSAPP_APP_SECRET
    given = request.META.get("HTTP_X_HUB_SIGNATURE_256", "")
    if not secret or not given.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, given.removeprefix("sha256="))


@csrf_exempt
def whatsapp_webhook(request):
    if request.method == "GET":  # Meta's subscription handshake
        token = settings.COBRO_WHATSAPP_VERIFY_TOKEN
        if (request.GET.get("hub.mode") == "subscribe" and token
                and hmac.compare_digest(request.GET.get("hub.verify_token", ""), token)):
            return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
        return HttpResponseForbidden("bad verify token")
    if request.method != "POST":
        return HttpResponse(status=405)
    if not _hub_signature_valid(request):
        return HttpResponseForbidden("bad signature")
    try:
        receipts, replies = webhooks.whatsapp(request.body)
    except webhooks.BadPayload as exc:
        return _bad_webhook(request, "whatsapp", exc)
    for r in receipts:
        services.apply_receipt(r.provider_id, r.status, at=r.at, error=r.error)
    for m in replies:
        found = services.find_sender("whatsapp", m.sender)
        if found:
            services.record_reply(found[0], found[1], "whatsapp", address=m.sender, text=m.text,
                                  provider_id=m.provider_id, at=m.at)
    return HttpResponse(status=200)


@csrf_exempt
@require_POST
def email_inbound(request):
    """A raw RFC 5322 email posted by the mail server (or a provider's inbound route), signed with
    X-Cobro-Signature: sha256=HMAC(COBRO_INBOUND_EMAIL_SECRET, body)."""
    secret = settings.COBRO_INBOUND_EMAIL_SECRET
    given = request.META.get("HTTP_X_COBRO_SIGNATURE", "").removeprefix("sha256=")
    if not secret or not hmac.compare_digest(hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest(),
                                             given):
        return HttpResponseForbidden("bad signature")
    try:
        mail = webhooks.email(request.body)
    except webhooks.BadPayload as exc:
        return _bad_webhook(request, "email", exc)
    found = services.find_sender("email", mail.sender)
    if not found:
        return JsonResponse({"matched": False})
    msg = services.record_reply(found[0], found[1], "email", address=mail.sender, text=mail.text,
                                subject=mail.subject, provider_id=mail.provider_id)
    return JsonResponse({"matched": True, "message_id": msg.pk if msg else None})
