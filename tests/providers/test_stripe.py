import datetime as dt

import pytest
from tests.providers.conftest import URLS, stripe_signed

from cobro.dunning.cycle import run_cycle
from cobro.ledger.models import Invoice, Payment
from cobro.messaging.models import Message
from cobro.providers import services
from cobro.providers.models import PaymentRequest, WebhookLog


def _post(client, org_slug, event, secret=None):
    payload, header = stripe_signed(event, **({"secret": secret} if secret else {}))
    return client.post(f"/webhooks/stripe/{org_slug}/", payload, content_type="application/json",
                       HTTP_STRIPE_SIGNATURE=header)


def test_checkout_session_carries_request_id_refs_and_clp_without_decimals(org, customer, invoices, fake):
    url = services.start_checkout(org, customer, [invoices["F-1"], invoices["F-2"]], "stripe", **URLS)
    session = fake.stripe_session_for(url)
    req = PaymentRequest.objects.get()
    assert url == session["url"] and req.checkout_id == session["id"]
    assert session["client_reference_id"] == str(req.pk)
    assert session["metadata"]["invoice_refs"] == "F-1,F-2"
    # CLP is zero-decimal for Stripe and for ISO: 150.000 pesos travel as 150000, not 15000000.
    assert session["form"]["line_items"]["0"]["price_data"] == {
        "currency": "clp", "unit_amount": "150000", "product_data": {"name": "Facturas F-1,F-2 de Acme"}}
    assert (req.amount, req.currency, req.status) == (150_000, "CLP", "pending")


def test_paid_session_records_once_thanks_once_and_stops_collection(org, customer, invoices, fake, client,
                                                                   django_capture_on_commit_callbacks):
    url = services.start_checkout(org, customer, [invoices["F-2"]], "stripe", **URLS)
    event = fake.stripe_completed_event(fake.stripe_session_for(url)["id"])
    with django_capture_on_commit_callbacks(execute=True):
        resp = _post(client, "acme", event)
    assert resp.status_code == 200
    payment = Payment.objects.get()
    pi = event["data"]["object"]["payment_intent"]
    assert (payment.amount, payment.currency, payment.provider, payment.provider_ref) == (50_000, "CLP", "stripe", pi)
    assert list(payment.allocations.values_list("invoice__ref", "amount")) == [("F-2", 50_000)]
    assert Invoice.objects.get(ref="F-2").status == "paid"
    assert Invoice.objects.get(ref="F-1").open_amount == 100_000  # not chosen: untouched
    assert PaymentRequest.objects.get().status == "paid"
    assert Message.objects.filter(template="thank_you").count() == 1
    # Replayed: same event again (Stripe retries), and a new event for the same payment.
    with django_capture_on_commit_callbacks(execute=True):
        _post(client, "acme", event)
        _post(client, "acme", fake.stripe_completed_event(event["data"]["object"]["id"]))
    assert Payment.objects.count() == 1 and Message.objects.filter(template="thank_you").count() == 1
    assert list(WebhookLog.objects.order_by("id").values_list("outcome", flat=True)) == [
        "recorded", "duplicate", "duplicate"]
    # The next cycle asks for F-1 (overdue) and never again for F-2.
    created = run_cycle(org, dt.date(2026, 5, 5)).created
    assert created and all("F-2" not in o["invoice_refs"] for o in created)


def test_usd_amount_in_cents(org, customer, invoices, fake, client):
    url = services.start_checkout(org, customer, [invoices["U-1"]], "stripe", **URLS)
    session = fake.stripe_session_for(url)
    assert (session["currency"], session["amount_total"]) == ("usd", 123_456)
    _post(client, "acme", fake.stripe_completed_event(session["id"]))
    payment = Payment.objects.get()
    assert (payment.amount, payment.currency) == (123_456, "USD")
    assert Invoice.objects.get(ref="U-1").open_amount == 0


def test_forged_signature_answers_400_and_writes_nothing(org, customer, invoices, fake, client):
    url = services.start_checkout(org, customer, [invoices["F-1"]], "stripe", **URLS)
    event = fake.stripe_completed_event(fake.stripe_session_for(url)["id"])
    resp = _post(client, "acme", event, secret="whsec_someone_else")
    assert resp.status_code == 400
    payload, header = stripe_signed(event)
    tampered = payload.replace(b'"paid"', b'"paid" ')
    assert client.post("/webhooks/stripe/acme/", tampered, content_type="application/json",
                       HTTP_STRIPE_SIGNATURE=header).status_code == 400
    assert client.post("/webhooks/stripe/acme/", payload, content_type="application/json").status_code == 400
    assert Payment.objects.count() == 0 and Invoice.objects.get(ref="F-1").open_amount == 100_000
    assert PaymentRequest.objects.get().status == "pending"
    assert list(WebhookLog.objects.values_list("outcome", flat=True)) == ["bad_signature"] * 3


def test_unpaid_and_cancelled_sessions_record_nothing(org, customer, invoices, fake, client):
    url = services.start_checkout(org, customer, [invoices["F-1"]], "stripe", **URLS)
    sid = fake.stripe_session_for(url)["id"]
    _post(client, "acme", fake.stripe_completed_event(sid, paid=False))
    expired = fake.stripe_completed_event(sid, paid=False)
    expired["type"] = "checkout.session.expired"
    _post(client, "acme", expired)
    assert Payment.objects.count() == 0
    assert PaymentRequest.objects.get().status == "cancelled"
    assert list(WebhookLog.objects.order_by("id").values_list("outcome", flat=True)) == ["not_paid", "not_paid"]


def test_another_orgs_webhook_url_changes_nothing(org, other_org, customer, invoices, fake, client):
    url = services.start_checkout(org, customer, [invoices["F-1"]], "stripe", **URLS)
    event = fake.stripe_completed_event(fake.stripe_session_for(url)["id"])
    # Both organizations use the same webhook secret here, so the signature is valid for "otra" too.
    resp = _post(client, "otra", event)
    assert resp.status_code == 200
    assert Payment.objects.count() == 0 and PaymentRequest.objects.get().status == "pending"
    log = WebhookLog.objects.get()
    assert (log.organization, log.outcome) == (other_org, "unknown_request")
    assert client.post("/webhooks/stripe/nadie/", b"{}", content_type="application/json").status_code == 404


def test_provider_failure_and_mixed_currencies_are_clear_errors(org, customer, invoices, fake):
    fake.fail_next.add("stripe")
    with pytest.raises(services.ProviderUnavailable) as err:
        services.start_checkout(org, customer, [invoices["F-1"]], "stripe", **URLS)
    assert "No pudimos abrir el pago" in err.value.message
    assert PaymentRequest.objects.get().status == "failed"
    with pytest.raises(services.MixedCurrencies) as err:
        services.start_checkout(org, customer, [invoices["F-1"], invoices["U-1"]], "stripe", **URLS)
    assert "CLP, USD" in err.value.message
    assert PaymentRequest.objects.count() == 1  # nothing half-written
    services.remove_credentials(org, "stripe")
    assert services.configured(org) == ["mercadopago", "transbank"]
    with pytest.raises(services.ProviderUnavailable) as err:
        services.start_checkout(org, customer, [invoices["F-1"]], "stripe", **URLS)
    assert "no está disponible" in err.value.message
