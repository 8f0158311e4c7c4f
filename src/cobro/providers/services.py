"""What the portal and the webhooks call: which providers an organization has, starting a checkout,
recording a provider's payment exactly once.

    configured(org) -> ["stripe", ...]
    start_checkout(org, customer, invoices, provider, *, success_url, cancel_url) -> checkout URL
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cobro.ledger import services as ledger
from cobro.ledger.models import Customer, Invoice, Organization, Payment
from cobro.providers import crypto, gateways
from cobro.providers.models import FIELDS, PaymentRequest, Provider, ProviderAccount, WebhookLog

log = logging.getLogger(__name__)


class ProviderUnavailable(Exception):
    """The checkout cannot start; ``message`` is translated and safe to show to the debtor."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class MixedCurrencies(ProviderUnavailable):
    """The chosen invoices are in more than one currency: one checkout pays one currency."""


class ProviderError(ValueError):
    """Bad input to the credential commands or the Settings page (message names what is wrong)."""


# ---- credentials ------------------------------------------------------------------------------------
def _provider(name: str) -> Provider:
    try:
        return Provider(name)
    except ValueError:
        raise ProviderError(f"unknown provider {name!r} (expected one of: {', '.join(Provider.values)})") from None


def set_credentials(org: Organization, provider: str, **values: str) -> ProviderAccount:
    prov = _provider(provider)
    missing = [f for f in FIELDS[prov] if not (values.get(f) or "").strip()]
    if missing:
        raise ProviderError(f"{prov.value}: missing {', '.join(missing)}")
    clean = {f: values[f].strip() for f in FIELDS[prov]}
    main = clean[FIELDS[prov][0]]
    account, _created = ProviderAccount.objects.update_or_create(
        organization=org, provider=prov.value,
        defaults={"secret": crypto.encrypt(clean), "hint": "…" + main[-4:] if len(main) > 8 else "…"})
    return account


def remove_credentials(org: Organization, provider: str) -> bool:
    return ProviderAccount.objects.for_org(org).filter(provider=_provider(provider).value).delete()[0] > 0


def credentials(org: Organization, provider: str) -> dict | None:
    account = ProviderAccount.objects.for_org(org).filter(provider=provider).first()
    return account.credentials() if account else None


def rotate_keys() -> int:
    """Re-encrypt every stored credential with the first key of COBRO_CREDENTIALS_KEY."""
    count = 0
    with transaction.atomic():
        for account in ProviderAccount.objects.select_for_update():
            account.secret = crypto.rotate(account.secret)
            account.save(update_fields=["secret"])
            count += 1
    return count


def configured(org: Organization) -> list[str]:
    """The providers this organization can take payments with, in a fixed order."""
    have = set(ProviderAccount.objects.for_org(org).values_list("provider", flat=True))
    return [p for p in Provider.values if p in have]


# ---- checkout ---------------------------------------------------------------------------------------
def _absolute(path: str) -> str:
    return settings.COBRO_BASE_URL + path


def start_checkout(org: Organization, customer: Customer, invoices, provider: str, *,
                   success_url: str, cancel_url: str) -> str:
    """Start paying ``invoices`` (their open amounts) with ``provider``; return where to send the debtor."""
    if provider not in Provider.values or provider not in configured(org):
        raise ProviderUnavailable(_("Este medio de pago no está disponible. Elija otro o pague por transferencia."))
    ids = [getattr(i, "pk", i) for i in invoices]
    chosen = list(Invoice.objects.for_org(org).filter(customer=customer, pk__in=ids, open_amount__gt=0)
                  .order_by("due_date", "ref"))
    if not chosen or len(chosen) != len(set(ids)):
        raise ProviderUnavailable(_("Elija al menos una factura con saldo pendiente."))
    currencies = sorted({i.currency for i in chosen})
    if len(currencies) > 1:
        raise MixedCurrencies(_("Las facturas elegidas están en monedas distintas (%(codes)s): pague cada "
                                "moneda por separado.") % {"codes": ", ".join(currencies)})
    currency = currencies[0]
    refs = ",".join(i.ref for i in chosen)
    try:
        creds = credentials(org, provider)
    except crypto.CredentialsError:
        log.exception("providers: credentials of %s for %s cannot be read", provider, org.slug)
        raise ProviderUnavailable(_("Este medio de pago no está disponible. Elija otro o pague por transferencia.")) from None
    with transaction.atomic():
        req = PaymentRequest.objects.create(organization=org, customer=customer, invoice_refs=refs[:500],
                                            amount=sum(i.open_amount for i in chosen), currency=currency,
                                            provider=provider, success_url=success_url, cancel_url=cancel_url)
        req.invoices.set(chosen)
    title = _("Facturas %(refs)s de %(org)s") % {"refs": refs, "org": org.name}
    try:
        if provider == Provider.STRIPE:
            email = customer.contacts.exclude(email="").values_list("email", flat=True).first() or ""
            checkout_id, url = gateways.stripe_checkout(
                creds, request_id=str(req.pk), refs=refs, amount=req.amount, currency=currency, title=title[:250],
                success_url=success_url, cancel_url=cancel_url, email=email)
        elif provider == Provider.MERCADOPAGO:
            checkout_id, url = gateways.mercadopago_checkout(
                creds, request_id=str(req.pk), refs=refs, amount=req.amount, currency=currency, title=title[:250],
                success_url=success_url, cancel_url=cancel_url)
        else:
            checkout_id, url = gateways.transbank_checkout(
                creds, buy_order=req.buy_order, session_id=req.pk.hex, amount=req.amount, currency=currency,
                return_url=_absolute(reverse("providers:transbank_return")))
    except gateways.GatewayError as exc:
        log.warning("providers: %s checkout for %s failed: %s", provider, org.slug, exc)
        PaymentRequest.objects.filter(pk=req.pk).update(status=PaymentRequest.Status.FAILED)
        raise ProviderUnavailable(_("No pudimos abrir el pago en línea en este momento. Intente de nuevo en "
                                    "unos minutos o pague por transferencia.")) from None
    PaymentRequest.objects.filter(pk=req.pk).update(checkout_id=checkout_id, checkout_url=url)
    return url


# ---- recording ---------------------------------------------------------------------------------------
METHODS = {Provider.STRIPE: "Stripe", Provider.MERCADOPAGO: "Mercado Pago", Provider.TRANSBANK: "Webpay Plus"}


def record_payment(req: PaymentRequest, payment_id: str, amount: int, currency: str) -> tuple[Payment, bool]:
    """Record what the provider says was paid for ``req``, once per provider payment id.

    The payment is allocated to the request's invoices; what they no longer owe stays as the
    customer's credit. Returns (payment, created): a replay returns the first payment and changes
    nothing (the ledger answers the same reference with the same payment, and the request is
    locked while it is checked).
    """
    org = req.organization
    ref = f"{req.provider}-{payment_id}"[:64]
    with transaction.atomic():
        locked = PaymentRequest.objects.select_for_update().get(pk=req.pk)
        existing = Payment.objects.for_org(org).filter(ref=ref).first()
        if existing is not None:
            return existing, False
        if currency != locked.currency:
            raise ValueError(f"paid in {currency}, asked in {locked.currency}")
        today = timezone.localdate(timezone=_zone(org))
        payment = ledger.apply_payment(org, locked.customer, ref, today, amount, currency,
                                       method=METHODS[Provider(locked.provider)][:32],
                                       invoices=list(locked.invoices.all()),
                                       provider=locked.provider, provider_ref=payment_id)
        locked.status, locked.provider_payment_id, locked.payment = PaymentRequest.Status.PAID, payment_id, payment
        locked.save(update_fields=["status", "provider_payment_id", "payment", "updated_at"])
    return payment, True


def mark(req: PaymentRequest, status: str) -> None:
    """A cancelled or refused checkout (a paid one keeps its status)."""
    PaymentRequest.objects.filter(pk=req.pk).exclude(status=PaymentRequest.Status.PAID).update(status=status)


def _zone(org: Organization):
    from zoneinfo import ZoneInfo

    return ZoneInfo(org.timezone or "UTC")


def log_call(org: Organization | None, provider: str, event_id: str, outcome: str, detail: str = "") -> WebhookLog:
    return WebhookLog.objects.create(organization=org, provider=provider, event_id=(event_id or "")[:128],
                                     outcome=outcome, detail=(detail or "")[:300])
