"""Webhooks (Stripe, Mercado Pago), Transbank's return, and the Settings page for credentials.

Webhook outcomes written to WebhookLog: recorded, duplicate (already recorded: nothing changed),
ignored (an event Cobro does not act on), not_paid, unknown_request (no such request in this
organization), bad_signature, not_configured, error.
"""

from __future__ import annotations

import json
import logging

import stripe
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from cobro.ledger.models import Organization
from cobro.ledger.tenancy import require_role
from cobro.providers import gateways, services
from cobro.providers.crypto import CredentialsError
from cobro.providers.forms import CREDENTIAL_FORMS
from cobro.providers.models import PaymentRequest, Provider, ProviderAccount, WebhookLog
from cobro.workspace.settings_views import settings_tabs

log = logging.getLogger(__name__)


def _request(org, request_id: str) -> PaymentRequest | None:
    try:
        return PaymentRequest.objects.for_org(org).select_related("organization", "customer").filter(
            pk=request_id).first()
    except (ValueError, Exception):  # not a UUID  # noqa: BLE001
        return None


def _creds(org, provider):
    try:
        return services.credentials(org, provider)
    except CredentialsError:
        return None


def _webhook_target(slug: str, provider: str):
    """The organization in the webhook's URL (404 when unknown) and its credentials (None, logged,
    when it has none for this provider)."""
    organization = get_object_or_404(Organization, slug=slug)
    creds = _creds(organization, provider)
    if not creds:
        services.log_call(organization, provider, "", "not_configured")
    return organization, creds


def _record(org, provider, event_id, req, payment_id, amount, currency) -> str:
    try:
        _payment, created = services.record_payment(req, payment_id, amount, currency)
    except ValueError as exc:
        services.log_call(org, provider, event_id, "error", str(exc))
        return "error"
    outcome = "recorded" if created else "duplicate"
    services.log_call(org, provider, event_id, outcome, f"{req.pk} {payment_id}")
    return outcome


# ---- Stripe -----------------------------------------------------------------------------------------
@csrf_exempt
@require_POST
def stripe_webhook(request, org):
    organization, creds = _webhook_target(org, Provider.STRIPE)
    if not creds:
        return HttpResponse(status=404)
    try:
        event = gateways.stripe_event(creds, request.body, request.headers.get("Stripe-Signature", ""))
    except (ValueError, stripe.SignatureVerificationError) as exc:
        services.log_call(organization, Provider.STRIPE, "", "bad_signature", str(exc)[:200])
        return HttpResponseBadRequest("invalid signature")
    event_id = event.get("id", "")
    kind = event.get("type", "")
    session = event["data"]["object"] if "data" in event else {}
    if kind not in ("checkout.session.completed", "checkout.session.async_payment_succeeded",
                    "checkout.session.expired", "checkout.session.async_payment_failed"):
        services.log_call(organization, Provider.STRIPE, event_id, "ignored", kind)
        return HttpResponse("ignored")
    req = _request(organization, session.get("client_reference_id") or "")
    if req is None or req.provider != Provider.STRIPE or (req.checkout_id and req.checkout_id != session.get("id")):
        services.log_call(organization, Provider.STRIPE, event_id, "unknown_request",
                          str(session.get("client_reference_id") or "")[:100])
        return HttpResponse("unknown request")
    if kind in ("checkout.session.expired", "checkout.session.async_payment_failed"):
        services.mark(req, PaymentRequest.Status.CANCELLED if kind.endswith("expired") else PaymentRequest.Status.FAILED)
        services.log_call(organization, Provider.STRIPE, event_id, "not_paid", kind)
        return HttpResponse("noted")
    if session.get("payment_status") != "paid":
        services.log_call(organization, Provider.STRIPE, event_id, "not_paid", str(session.get("payment_status")))
        return HttpResponse("not paid")
    currency = str(session.get("currency") or "").upper()
    try:
        amount = gateways.from_stripe_amount(int(session["amount_total"]), currency)
    except (KeyError, TypeError, ValueError) as exc:
        services.log_call(organization, Provider.STRIPE, event_id, "error", f"amount: {exc}")
        return HttpResponseBadRequest("bad amount")
    payment_id = session.get("payment_intent") or session.get("id")
    if not isinstance(payment_id, str):
        payment_id = payment_id.get("id")
    outcome = _record(organization, Provider.STRIPE, event_id, req, payment_id, amount, currency)
    return HttpResponse(outcome, status=500 if outcome == "error" else 200)


# ---- Mercado Pago -----------------------------------------------------------------------------------
@csrf_exempt
@require_POST
def mercadopago_webhook(request, org):
    organization, creds = _webhook_target(org, Provider.MERCADOPAGO)
    if not creds:
        return HttpResponse(status=404)
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        body = {}
    data_id = request.GET.get("data.id") or str((body.get("data") or {}).get("id") or "")
    kind = request.GET.get("type") or body.get("type") or body.get("topic") or ""
    if not gateways.mercadopago_signature_ok(creds["webhook_secret"], request.headers.get("x-signature", ""),
                                             request.headers.get("x-request-id", ""), data_id):
        services.log_call(organization, Provider.MERCADOPAGO, data_id, "bad_signature")
        return HttpResponseBadRequest("invalid signature")
    event_id = str(body.get("id") or data_id)
    if kind != "payment" or not data_id:
        services.log_call(organization, Provider.MERCADOPAGO, event_id, "ignored", kind)
        return HttpResponse("ignored")
    try:
        payment = gateways.mercadopago_payment(creds, data_id)
    except gateways.GatewayError as exc:
        services.log_call(organization, Provider.MERCADOPAGO, event_id, "error", str(exc))
        return HttpResponse("provider error", status=502)
    req = _request(organization, str(payment.get("external_reference") or ""))
    if req is None or req.provider != Provider.MERCADOPAGO:
        services.log_call(organization, Provider.MERCADOPAGO, event_id, "unknown_request",
                          str(payment.get("external_reference") or "")[:100])
        return HttpResponse("unknown request")
    status = payment.get("status")
    if status != "approved":
        if status in ("rejected", "cancelled"):
            services.mark(req, PaymentRequest.Status.FAILED)
        services.log_call(organization, Provider.MERCADOPAGO, event_id, "not_paid", str(status))
        return HttpResponse("not paid")
    try:
        amount, currency = gateways.mercadopago_amount(payment)
    except (KeyError, ValueError) as exc:
        services.log_call(organization, Provider.MERCADOPAGO, event_id, "error", f"amount: {exc}")
        return HttpResponse("bad amount", status=500)
    outcome = _record(organization, Provider.MERCADOPAGO, event_id, req, str(payment["id"]), amount, currency)
    return HttpResponse(outcome, status=500 if outcome == "error" else 200)


# ---- Transbank --------------------------------------------------------------------------------------
@csrf_exempt
@require_http_methods(["GET", "POST"])
def transbank_return(request):
    """Webpay Plus sends the debtor back here: token_ws (finished: commit it), TBK_TOKEN (abandoned),
    or only TBK_ORDEN_COMPRA/TBK_ID_SESION (timed out)."""
    data = request.POST if request.method == "POST" else request.GET
    token, aborted = data.get("token_ws", ""), data.get("TBK_TOKEN", "")
    if token and not aborted:
        req = PaymentRequest.objects.select_related("organization", "customer").filter(
            provider=Provider.TRANSBANK, checkout_id=token).first()
    elif aborted:
        req = PaymentRequest.objects.select_related("organization").filter(
            provider=Provider.TRANSBANK, checkout_id=aborted).first()
    else:
        session_id = data.get("TBK_ID_SESION", "")
        req = (PaymentRequest.objects.select_related("organization").filter(
            provider=Provider.TRANSBANK, pk=session_id).first() if len(session_id) == 32 else None)
    if req is None:
        services.log_call(None, Provider.TRANSBANK, token or aborted, "unknown_request")
        raise Http404
    org = req.organization
    if not token or aborted:
        services.mark(req, PaymentRequest.Status.CANCELLED)
        services.log_call(org, Provider.TRANSBANK, aborted or req.buy_order, "not_paid", "aborted or timed out")
        return redirect(req.cancel_url)
    if req.status == PaymentRequest.Status.PAID:  # the debtor reloaded the page
        services.log_call(org, Provider.TRANSBANK, token[:20], "duplicate", str(req.pk))
        return redirect(req.success_url)
    creds = _creds(org, Provider.TRANSBANK)
    if not creds:
        services.log_call(org, Provider.TRANSBANK, token[:20], "not_configured")
        return redirect(req.cancel_url)
    try:
        result = gateways.transbank_commit(creds, token)
    except gateways.GatewayError as exc:
        services.log_call(org, Provider.TRANSBANK, token[:20], "error", str(exc))
        return redirect(req.cancel_url)
    if (result.get("response_code") != 0 or result.get("status") != "AUTHORIZED"
            or result.get("buy_order") != req.buy_order):
        services.mark(req, PaymentRequest.Status.FAILED)
        services.log_call(org, Provider.TRANSBANK, token[:20], "not_paid",
                          f"response_code={result.get('response_code')} status={result.get('status')}")
        return redirect(req.cancel_url)
    outcome = _record(org, Provider.TRANSBANK, token[:20], req, req.buy_order, int(result["amount"]), "CLP")
    return redirect(req.success_url if outcome in ("recorded", "duplicate") else req.cancel_url)


# ---- pages --------------------------------------------------------------------------------------------
def done(request, request_id, result):
    """A minimal page after the provider (until the portal gives its own): paid or not, nothing else."""
    req = PaymentRequest.objects.select_related("organization").filter(pk=request_id).first()
    if req is None or result not in ("ok", "cancel"):
        raise Http404
    return render(request, "providers/done.html", {"req": req, "ok": result == "ok" and req.status == "paid",
                                                   "waiting": result == "ok" and req.status == "pending"})


@require_http_methods(["GET", "POST"])
@require_role("admin")
def settings_page(request):
    org = request.org
    forms = {p: CREDENTIAL_FORMS[p](prefix=p) for p in Provider.values}
    if request.method == "POST":
        provider = request.POST.get("provider", "")
        if request.POST.get("remove") and provider in Provider.values:
            services.remove_credentials(org, provider)
            messages.success(request, _("Credenciales eliminadas."))
            return redirect("providers:settings")
        if provider in Provider.values:
            form = CREDENTIAL_FORMS[provider](request.POST, prefix=provider)
            if form.is_valid():
                with transaction.atomic():
                    services.set_credentials(org, provider, **form.cleaned_data)
                messages.success(request, _("Credenciales guardadas."))
                return redirect("providers:settings")
            forms[provider] = form
    accounts = {a.provider: a for a in ProviderAccount.objects.for_org(org)}
    rows = [{"code": p, "label": Provider(p).label, "account": accounts.get(p), "form": forms[p]}
            for p in Provider.values]
    hooks = {p: request.build_absolute_uri(f"/webhooks/{p}/{org.slug}/") for p in ("stripe", "mercadopago")}
    return render(request, "providers/settings.html", {
        **settings_tabs("providers"), "rows": rows, "hooks": hooks, "logs": WebhookLog.objects.filter(organization=org)[:50]})
