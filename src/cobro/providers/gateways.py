"""The three providers through their official SDKs, each pointed at its configurable API base.

Every function takes the organization's decrypted credentials and raises GatewayError (a message for
the log, never shown to a debtor) when the provider refuses or cannot be reached.
"""

from __future__ import annotations

import hashlib
import hmac
from decimal import Decimal

import mercadopago
import stripe
from django.conf import settings
from mercadopago.http.http_client import HttpClient
from transbank.common.integration_type import IntegrationType
from transbank.common.options import WebpayOptions
from transbank.common.request_service import RequestService
from transbank.error.transbank_error import TransbankError
from transbank.webpay.webpay_plus.transaction import Transaction

from cobro.engine.money import exponent, from_minor, to_minor


class GatewayError(Exception):
    pass


# ---- Stripe ---------------------------------------------------------------------------------------
# Stripe counts some currencies in whole units and three-decimal ones in thousandths, whatever ISO says
# (https://docs.stripe.com/currencies#zero-decimal). CLP: ISO 0 decimals, Stripe zero-decimal: 5000 is
# 5.000 pesos. USD: ISO 2, Stripe 2: 1234 is 12.34 dollars.
STRIPE_ZERO_DECIMAL = frozenset("BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split())
STRIPE_THREE_DECIMAL = frozenset("BHD JOD KWD OMR TND".split())


def stripe_exponent(currency: str) -> int:
    return 0 if currency in STRIPE_ZERO_DECIMAL else 3 if currency in STRIPE_THREE_DECIMAL else 2


def to_stripe_amount(minor: int, currency: str) -> int:
    """ISO minor units -> Stripe's unit_amount (exact, or GatewayError)."""
    shift = stripe_exponent(currency) - exponent(currency)
    if shift >= 0:
        value = minor * 10**shift
    elif minor % 10**-shift:
        raise GatewayError(f"{minor} {currency} has more precision than Stripe accepts")
    else:
        value = minor // 10**-shift
    if currency in STRIPE_THREE_DECIMAL and value % 10:
        raise GatewayError(f"Stripe needs {currency} amounts rounded to a multiple of 10")
    return value


def from_stripe_amount(value: int, currency: str) -> int:
    shift = stripe_exponent(currency) - exponent(currency)
    return value * 10**-shift if shift <= 0 else value // 10**shift


def _stripe(creds: dict) -> stripe.StripeClient:
    return stripe.StripeClient(creds["secret_key"], base_addresses={"api": settings.COBRO_STRIPE_API_BASE},
                               max_network_retries=0)


def stripe_checkout(creds: dict, *, request_id: str, refs: str, amount: int, currency: str, title: str,
                    success_url: str, cancel_url: str, email: str = "") -> tuple[str, str]:
    params = {
        "mode": "payment",
        "client_reference_id": request_id,
        "success_url": success_url,
        "cancel_url": cancel_url,
        "line_items": [{"quantity": 1, "price_data": {
            "currency": currency.lower(), "unit_amount": to_stripe_amount(amount, currency),
            "product_data": {"name": title}}}],
        "metadata": {"invoice_refs": refs, "payment_request": request_id},
        "payment_intent_data": {"metadata": {"invoice_refs": refs, "payment_request": request_id}},
    }
    if email:
        params["customer_email"] = email
    try:
        session = _stripe(creds).v1.checkout.sessions.create(params=params)
    except stripe.StripeError as exc:
        raise GatewayError(f"Stripe: {exc}") from exc
    return session.id, session.url


def stripe_event(creds: dict, payload: bytes, signature: str):
    """The verified event as a plain dict, or ValueError / stripe.SignatureVerificationError."""
    return stripe.Webhook.construct_event(payload, signature, creds["webhook_secret"]).to_dict()


# ---- Mercado Pago ---------------------------------------------------------------------------------
MERCADOPAGO_DEFAULT_BASE = "https://api.mercadopago.com"


class _MercadoPagoHttp(HttpClient):
    """The SDK's own client, sending to COBRO_MERCADOPAGO_API_BASE instead of its built-in address."""

    def request(self, method, url, *args, **kwargs):  # noqa: ANN001 - the SDK's signature
        if url.startswith(MERCADOPAGO_DEFAULT_BASE):
            url = settings.COBRO_MERCADOPAGO_API_BASE + url[len(MERCADOPAGO_DEFAULT_BASE):]
        kwargs.setdefault("timeout", settings.COBRO_PROVIDER_TIMEOUT)
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = settings.COBRO_PROVIDER_TIMEOUT
        return super().request(method, url, *args, **kwargs)


def _mercadopago(creds: dict) -> mercadopago.SDK:
    return mercadopago.SDK(creds["access_token"], http_client=_MercadoPagoHttp())


def _major(minor: int, currency: str) -> int | float:
    value = from_minor(minor, currency)
    return int(value) if exponent(currency) == 0 else float(value)


def mercadopago_checkout(creds: dict, *, request_id: str, refs: str, amount: int, currency: str, title: str,
                         success_url: str, cancel_url: str) -> tuple[str, str]:
    # The notification URL is set once in Mercado Pago's panel (Webhooks), where its secret comes
    # from; the SDK deprecates notification_url per preference.
    body = {
        "items": [{"id": refs[:250], "title": title, "quantity": 1, "currency_id": currency,
                   "unit_price": _major(amount, currency)}],
        "external_reference": request_id,
        "metadata": {"invoice_refs": refs},
        "back_urls": {"success": success_url, "failure": cancel_url, "pending": success_url},
        "auto_return": "approved",
    }
    try:
        result = _mercadopago(creds).preference().create(body)
    except Exception as exc:  # the SDK raises requests' and its own errors
        raise GatewayError(f"Mercado Pago: {exc}") from exc
    if result.get("status") not in (200, 201):
        raise GatewayError(f"Mercado Pago answered {result.get('status')}: {result.get('response')}")
    pref = result["response"]
    return str(pref["id"]), pref["init_point"]


def mercadopago_payment(creds: dict, payment_id: str) -> dict:
    try:
        result = _mercadopago(creds).payment().get(payment_id)
    except Exception as exc:
        raise GatewayError(f"Mercado Pago: {exc}") from exc
    if result.get("status") != 200:
        raise GatewayError(f"Mercado Pago answered {result.get('status')} for payment {payment_id}")
    return result["response"]


def mercadopago_amount(payment: dict) -> tuple[int, str]:
    currency = str(payment.get("currency_id") or "").upper()
    return to_minor(Decimal(str(payment["transaction_amount"])), currency), currency


def mercadopago_signature_ok(secret: str, header: str, request_id: str, data_id: str) -> bool:
    """x-signature is "ts=<ts>,v1=<hex>"; v1 is HMAC-SHA256(secret, "id:<data.id>;request-id:<x-request-id>;ts:<ts>;").

    Mercado Pago's docs: data.id comes from the notification URL's query string, lower-cased when
    alphanumeric; a part whose value is missing is left out of the manifest.
    """
    parts = dict(p.strip().split("=", 1) for p in (header or "").split(",") if "=" in p)
    ts, v1 = parts.get("ts", ""), parts.get("v1", "")
    if not ts or not v1 or not secret:
        return False
    manifest = ""
    if data_id:
        manifest += f"id:{data_id.lower() if data_id.isalnum() else data_id};"
    if request_id:
        manifest += f"request-id:{request_id};"
    manifest += f"ts:{ts};"
    expected = hmac.new(secret.encode(), manifest.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, v1)


# ---- Transbank Webpay Plus ------------------------------------------------------------------------
class _WebpayOptions(WebpayOptions):
    """Options carrying their own host (COBRO_TRANSBANK_API_BASE)."""

    def __init__(self, commerce_code, api_key):
        super().__init__(commerce_code, api_key, IntegrationType.LIVE, timeout=settings.COBRO_PROVIDER_TIMEOUT)
        self.api_base = settings.COBRO_TRANSBANK_API_BASE


_sdk_host = RequestService.host.__func__


def _host(cls, options):
    return getattr(options, "api_base", None) or _sdk_host(cls, options)


# The SDK picks its host from a fixed table by integration type; options built by Cobro carry theirs.
RequestService.host = classmethod(_host)


def _webpay(creds: dict) -> Transaction:
    return Transaction(_WebpayOptions(creds["commerce_code"], creds["api_key"]))


def transbank_checkout(creds: dict, *, buy_order: str, session_id: str, amount: int, currency: str,
                       return_url: str) -> tuple[str, str]:
    if currency != "CLP":
        raise GatewayError(f"Webpay Plus charges pesos chilenos (CLP), not {currency}")
    try:
        result = _webpay(creds).create(buy_order, session_id, amount, return_url)
    except (TransbankError, ValueError) as exc:
        raise GatewayError(f"Transbank: {getattr(exc, 'message', exc)}") from exc
    except Exception as exc:  # requests' connection errors
        raise GatewayError(f"Transbank: {exc}") from exc
    return result["token"], f"{result['url']}?token_ws={result['token']}"


def transbank_commit(creds: dict, token: str) -> dict:
    try:
        return _webpay(creds).commit(token)
    except (TransbankError, ValueError) as exc:
        raise GatewayError(f"Transbank: {getattr(exc, 'message', exc)}") from exc
    except Exception as exc:
        raise GatewayError(f"Transbank: {exc}") from exc
