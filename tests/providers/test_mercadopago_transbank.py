import json
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.management import call_command
from tests.providers.conftest import URLS, mp_signed

from cobro.ledger.models import Invoice, Payment
from cobro.messaging.models import Message
from cobro.providers import services
from cobro.providers.models import PaymentRequest, ProviderAccount, WebhookLog


def _mp_notify(client, org_slug, pid, headers=None):
    body = json.dumps({"id": 9001, "type": "payment", "action": "payment.created", "data": {"id": pid}})
    return client.post(f"/webhooks/mercadopago/{org_slug}/?data.id={pid}&type=payment", body,
                       content_type="application/json", **(headers if headers is not None else mp_signed(pid)))


def test_mercadopago_preference_and_approved_payment_recorded_once(org, customer, invoices, fake, client,
                                                                   django_capture_on_commit_callbacks):
    url = services.start_checkout(org, customer, [invoices["F-1"]], "mercadopago", **URLS)
    pref_id = parse_qs(urlparse(url).query)["pref_id"][0]
    pref = fake.preferences[pref_id]
    req = PaymentRequest.objects.get()
    assert pref["external_reference"] == str(req.pk)
    assert (pref["items"][0]["unit_price"], pref["items"][0]["currency_id"]) == (100_000, "CLP")
    pid = fake.mp_pay(pref_id)
    with django_capture_on_commit_callbacks(execute=True):
        assert _mp_notify(client, "acme", pid).status_code == 200
        _mp_notify(client, "acme", pid)  # replayed
    payment = Payment.objects.get()
    assert (payment.amount, payment.provider, payment.provider_ref) == (100_000, "mercadopago", pid)
    assert Invoice.objects.get(ref="F-1").status == "paid"
    assert Message.objects.filter(template="thank_you").count() == 1
    assert list(WebhookLog.objects.order_by("id").values_list("outcome", flat=True)) == ["recorded", "duplicate"]


def test_mercadopago_forged_rejected_and_foreign_notifications_change_nothing(org, other_org, customer, invoices,
                                                                              fake, client):
    url = services.start_checkout(org, customer, [invoices["U-1"]], "mercadopago", **URLS)
    pref_id = parse_qs(urlparse(url).query)["pref_id"][0]
    assert fake.preferences[pref_id]["items"][0]["unit_price"] == 1234.56
    pid = fake.mp_pay(pref_id)
    assert _mp_notify(client, "acme", pid, headers=mp_signed(pid, secret="not-the-secret")).status_code == 400
    assert _mp_notify(client, "acme", pid, headers={}).status_code == 400
    assert _mp_notify(client, "otra", pid).status_code == 200  # right signature, wrong organization
    rejected = fake.mp_pay(pref_id, status="rejected")
    _mp_notify(client, "acme", rejected)
    assert Payment.objects.count() == 0 and Invoice.objects.get(ref="U-1").open_amount == 123_456
    assert list(WebhookLog.objects.order_by("id").values_list("outcome", flat=True)) == [
        "bad_signature", "bad_signature", "unknown_request", "not_paid"]
    _mp_notify(client, "acme", pid)
    assert Payment.objects.get().amount == 123_456  # USD cents from 1234.56


def test_transbank_create_commit_success_and_reload(org, customer, invoices, fake, client):
    url = services.start_checkout(org, customer, [invoices["F-1"], invoices["F-2"]], "transbank", **URLS)
    req = PaymentRequest.objects.get()
    token = parse_qs(urlparse(url).query)["token_ws"][0]
    tx = fake.transactions[token]
    assert (tx["amount"], tx["buy_order"], tx["session_id"]) == (150_000, req.buy_order, req.pk.hex)
    assert tx["return_url"] == "http://testserver/pay/transbank/return/"
    fake.tbk_authorize(token)
    resp = client.get(f"/pay/transbank/return/?token_ws={token}")
    assert resp.status_code == 302 and resp["Location"] == URLS["success_url"]
    payment = Payment.objects.get()
    assert (payment.amount, payment.provider, payment.provider_ref) == (150_000, "transbank", req.buy_order)
    assert Invoice.objects.filter(status="paid").count() == 2
    resp = client.post("/pay/transbank/return/", {"token_ws": token})  # the debtor reloads
    assert resp["Location"] == URLS["success_url"] and Payment.objects.count() == 1


def test_transbank_rejected_aborted_and_failure(org, customer, invoices, fake, client):
    url = services.start_checkout(org, customer, [invoices["F-1"]], "transbank", **URLS)
    token = parse_qs(urlparse(url).query)["token_ws"][0]
    fake.tbk_authorize(token, approve=False)
    assert client.get(f"/pay/transbank/return/?token_ws={token}")["Location"] == URLS["cancel_url"]
    assert PaymentRequest.objects.get().status == "failed"
    url = services.start_checkout(org, customer, [invoices["F-1"]], "transbank", **URLS)
    token2 = parse_qs(urlparse(url).query)["token_ws"][0]
    resp = client.post("/pay/transbank/return/", {"TBK_TOKEN": token2, "TBK_ORDEN_COMPRA": "x", "TBK_ID_SESION": "y"})
    assert resp["Location"] == URLS["cancel_url"]
    assert PaymentRequest.objects.get(checkout_id=token2).status == "cancelled"
    assert Payment.objects.count() == 0 and Invoice.objects.get(ref="F-1").open_amount == 100_000
    with pytest.raises(services.ProviderUnavailable):  # Webpay Plus charges pesos only
        services.start_checkout(org, customer, [invoices["U-1"]], "transbank", **URLS)


def test_cli_set_list_remove_and_export(org, customer, invoices, fake, client, capsys):
    call_command("provider", "set", "stripe", "--org", "acme", "--secret-key", "sk_live_abcd1234", "--webhook-secret", "w")
    account = ProviderAccount.objects.get(organization=org, provider="stripe")
    assert "sk_live_abcd1234" not in account.secret and account.credentials()["secret_key"] == "sk_live_abcd1234"
    call_command("provider", "list", "--org", "acme")
    out = capsys.readouterr().out
    assert "stripe" in out and "…1234" in out and "sk_live" not in out
    call_command("provider", "remove", "transbank", "--org", "acme")
    assert services.configured(org) == ["stripe", "mercadopago"]
    # A provider's payment in `cobro export payments`, with its provider and id.
    url = services.start_checkout(org, customer, [invoices["F-2"]], "mercadopago", **URLS)
    pid = fake.mp_pay(parse_qs(urlparse(url).query)["pref_id"][0])
    _mp_notify(client, "acme", pid)
    capsys.readouterr()
    call_command("export", "payments", "--org", "acme")
    out = capsys.readouterr().out
    assert "mercadopago" in out and pid in out


def test_settings_page_never_shows_secrets_and_lists_webhooks(org, admin, client, fake):
    client.force_login(admin)
    resp = client.post("/settings/providers/", {"provider": "stripe", "stripe-secret_key": "sk_test_secretvalue9",
                                                "stripe-webhook_secret": "whsec_abc"})
    assert resp.status_code == 302
    assert ProviderAccount.objects.get(organization=org, provider="stripe").credentials()["secret_key"] == \
        "sk_test_secretvalue9"
    client.post("/webhooks/stripe/acme/", b"{}", content_type="application/json", HTTP_STRIPE_SIGNATURE="t=1,v1=x")
    page = client.get("/settings/providers/").content.decode()
    assert "sk_test_secretvalue9" not in page and "whsec_abc" not in page and "…lue9" in page
    assert "firma inválida" in page and "/webhooks/stripe/acme/" in page


def test_key_rotation_keeps_credentials_readable(org, settings):
    from cryptography.fernet import Fernet

    old_token = ProviderAccount.objects.get(organization=org, provider="stripe").secret
    new_key = Fernet.generate_key().decode()
    settings.COBRO_CREDENTIALS_KEY = f"{new_key},{settings.SECRET_KEY}"
    assert services.credentials(org, "stripe")["webhook_secret"] == "whsec_test_cobro"  # old key still reads
    assert services.rotate_keys() == 3
    settings.COBRO_CREDENTIALS_KEY = new_key  # the old one dropped
    assert ProviderAccount.objects.get(organization=org, provider="stripe").secret != old_token
    assert services.configured(org) == ["stripe", "mercadopago", "transbank"]
    assert services.credentials(org, "transbank")["api_key"] == "tbk-secret"
    settings.COBRO_CREDENTIALS_KEY = Fernet.generate_key().decode()  # a wrong key: a clear error
    with pytest.raises(ValueError, match="cobro provider rotate"):
        services.credentials(org, "stripe")


def test_errors_are_translated(org, customer, invoices):
    from django.utils import translation

    with translation.override("en"), pytest.raises(services.MixedCurrencies) as err:
        services.start_checkout(org, customer, [invoices["F-1"], invoices["U-1"]], "stripe", **URLS)
    assert err.value.message == "The chosen invoices are in different currencies (CLP, USD): pay each currency separately."
    with translation.override("pt-br"), pytest.raises(services.ProviderUnavailable) as err:
        services.start_checkout(org, customer, [invoices["F-1"]], "paypal", **URLS)
    assert err.value.message.startswith("Este meio de pagamento não está disponível")


def test_cli_bad_input_names_what_is_wrong(org):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no organization 'nadie'"):
        call_command("provider", "set", "transbank", "--org", "nadie", "--commerce-code", "1", "--api-key", "k")
    with pytest.raises(CommandError, match="missing api_key"):
        call_command("provider", "set", "transbank", "--org", "acme", "--commerce-code", "1", "--api-key", " ")
    assert services.credentials(org, "transbank")["commerce_code"] == "597055555532"  # unchanged


def test_settings_page_is_for_admins_only(org, client, django_user_model):
    from cobro.ledger.models import Membership

    user = django_user_model.objects.create_user(username="mgr", password="x")
    Membership.objects.create(user=user, organization=org, role="manager")
    client.force_login(user)
    assert client.get("/settings/providers/").status_code == 403
    client.post("/settings/providers/", {"provider": "stripe", "remove": "1"})
    assert "stripe" in services.configured(org)
