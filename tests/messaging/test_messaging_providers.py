"""SMS (Twilio Messages API 2010-04-01) and WhatsApp (Cloud API v21.0) against local servers that
speak those APIs, and their webhooks: signatures, receipts, replies and opt-out keywords."""

import hashlib
import hmac
import json
import urllib.parse

import pytest
from twilio.request_validator import RequestValidator

from cobro.ledger.models import Task, TimelineEvent
from cobro.messaging import outbox
from cobro.messaging.models import Message, OptOut

SID, TOKEN = "AC0123456789abcdef0123456789abcdef", "twilio-auth-token"


def twilio_created(body: bytes, n: int) -> dict:
    form = urllib.parse.parse_qs(body.decode())
    sid = f"SM{n:032x}"
    return {"account_sid": SID, "api_version": "2010-04-01", "body": form["Body"][0], "direction": "outbound-api",
            "error_code": None, "error_message": None, "from": form["From"][0], "num_segments": "2",
            "sid": sid, "status": "queued", "to": form["To"][0],
            "uri": f"/2010-04-01/Accounts/{SID}/Messages/{sid}.json"}


@pytest.fixture
def twilio(settings, fake_provider):
    settings.COBRO_SMS_ENABLED = True
    settings.COBRO_TWILIO_ACCOUNT_SID, settings.COBRO_TWILIO_AUTH_TOKEN = SID, TOKEN
    settings.COBRO_TWILIO_FROM = "+15005550006"

    def start(answers):
        answers = list(answers)

        def respond(method, path, body):
            status = answers.pop(0) if len(answers) > 1 else answers[0]
            if status == 201:
                return 201, twilio_created(body, len(srv.requests)), {}
            if status == 429:
                return 429, {"code": 20429, "message": "Too Many Requests", "status": 429}, {}
            if status == 400:
                return 400, {"code": 21211, "message": "The 'To' number is not a valid phone number.",
                             "status": 400}, {}
            return 500, {"code": 20500, "message": "Internal Server Error", "status": 500}, {}

        srv = fake_provider(respond)
        settings.COBRO_TWILIO_API_URL = srv.url
        return srv

    return start


def test_sms_is_posted_to_the_messages_resource(book, queue, twilio):
    srv = twilio([201])
    m = queue(book.org, book.en, "overdue_neutral", "sms", [book.inv["en1"]])
    assert outbox.deliver(book.org, limiter=outbox.RateLimiter({})).sent == 1
    [(method, path, headers, body)] = srv.requests
    assert method == "POST" and path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert headers["Authorization"].startswith("Basic ")
    form = urllib.parse.parse_qs(body.decode())
    assert form["To"] == ["+12025550143"] and form["From"] == ["+15005550006"]
    assert form["StatusCallback"][0].endswith("/messages/hooks/twilio/status/")
    m.refresh_from_db()
    assert m.status == "sent" and m.provider_id.startswith("SM") and m.body_text == form["Body"][0]


@pytest.mark.parametrize("status", [429, 500])
def test_sms_rate_limit_and_server_error_are_retried(book, queue, twilio, status):
    twilio([status])
    m = queue(book.org, book.en, "overdue_neutral", "sms", [book.inv["en1"]])
    assert outbox.deliver(book.org, limiter=outbox.RateLimiter({})).retried == 1
    m.refresh_from_db()
    assert m.status == "queued" and str(status) in m.last_error


def test_sms_invalid_number_is_permanent(book, queue, twilio):
    twilio([400])
    m = queue(book.org, book.en, "overdue_neutral", "sms", [book.inv["en1"]])
    assert outbox.deliver(book.org, limiter=outbox.RateLimiter({})).failed == 1
    m.refresh_from_db()
    assert m.status == "failed" and "21211" in m.last_error
    assert Task.objects.filter(kind="message_failed", customer=book.en).exists()


def test_sms_provider_unreachable_is_retried(book, queue, settings, free_port):
    settings.COBRO_SMS_ENABLED, settings.COBRO_TWILIO_ACCOUNT_SID = True, SID
    settings.COBRO_TWILIO_AUTH_TOKEN, settings.COBRO_TWILIO_FROM = TOKEN, "+15005550006"
    settings.COBRO_TWILIO_API_URL = f"http://127.0.0.1:{free_port}"
    queue(book.org, book.en, "overdue_neutral", "sms", [book.inv["en1"]])
    assert outbox.deliver(book.org, limiter=outbox.RateLimiter({})).retried == 1


def _twilio_post(client, settings, path, params, valid=True):
    url = settings.COBRO_BASE_URL + path
    sig = RequestValidator(TOKEN).compute_signature(url, params) if valid else "forged"
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=sig)


def test_twilio_status_callback_updates_the_message(book, queue, client, settings):
    settings.COBRO_TWILIO_AUTH_TOKEN = TOKEN
    m = queue(book.org, book.en, "overdue_neutral", "sms", [book.inv["en1"]])
    Message.objects.filter(pk=m.pk).update(status="sent", provider_id="SM1")
    path = "/messages/hooks/twilio/status/"
    assert _twilio_post(client, settings, path, {"MessageSid": "SM1", "MessageStatus": "delivered"},
                        valid=False).status_code == 403
    m.refresh_from_db()
    assert m.status == "sent"
    assert _twilio_post(client, settings, path, {"MessageSid": "SM1", "MessageStatus": "delivered"}).status_code == 204
    m.refresh_from_db()
    assert m.status == "delivered" and m.delivered_at
    # A late "sent" never moves it backwards; "undelivered" fails it with a task.
    _twilio_post(client, settings, path, {"MessageSid": "SM1", "MessageStatus": "sent"})
    m.refresh_from_db()
    assert m.status == "delivered"
    _twilio_post(client, settings, path, {"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "30005"})
    m.refresh_from_db()
    assert m.status == "failed" and "30005" in m.last_error


def test_sms_reply_lands_on_the_timeline_with_a_task(book, queue, client, settings):
    settings.COBRO_TWILIO_AUTH_TOKEN = TOKEN
    m = queue(book.org, book.en, "overdue_neutral", "sms", [book.inv["en1"]])
    Message.objects.filter(pk=m.pk).update(status="sent", to="+12025550143")
    params = {"MessageSid": "SMin1", "From": "+12025550143", "To": "+15005550006", "Body": "I paid yesterday"}
    for _ in range(2):  # a webhook delivered twice is recorded once
        assert _twilio_post(client, settings, "/messages/hooks/twilio/inbound/", params).status_code == 200
    ev = TimelineEvent.objects.get(kind="message.reply")
    assert ev.customer_id == book.en.pk and ev.data["channel"] == "sms"
    assert Task.objects.filter(kind="reply", customer=book.en).count() == 1


@pytest.mark.parametrize("word", ["STOP", "baja", "Sair", "BAJA por favor"])
def test_opt_out_keyword_stops_the_channel_at_once(book, queue, client, settings, word):
    settings.COBRO_TWILIO_AUTH_TOKEN = TOKEN
    pending = queue(book.org, book.en, "overdue_firm", "sms", [book.inv["en1"]], key="later")
    params = {"MessageSid": "SMin2", "From": "+12025550143", "Body": word}
    _twilio_post(client, settings, "/messages/hooks/twilio/inbound/", params)
    opt = OptOut.objects.get(customer=book.en)
    assert opt.channel == "sms" and opt.source == "keyword" and opt.address == "+12025550143"
    pending.refresh_from_db()
    assert pending.status == "cancelled"
    assert not TimelineEvent.objects.filter(kind="message.reply").exists()
    assert TimelineEvent.objects.filter(kind="optout.recorded").exists()


# ---- WhatsApp Cloud API ---------------------------------------------------------------------------

APP_SECRET = "meta-app-secret"


@pytest.fixture
def cloud(settings, fake_provider):
    settings.COBRO_WHATSAPP_ENABLED = True
    settings.COBRO_WHATSAPP_TOKEN, settings.COBRO_WHATSAPP_PHONE_NUMBER_ID = "EAAG-token", "106540352242922"
    settings.COBRO_WHATSAPP_APP_SECRET, settings.COBRO_WHATSAPP_VERIFY_TOKEN = APP_SECRET, "verify-me"

    def start(answers):
        answers = list(answers)

        def respond(method, path, body):
            status = answers.pop(0) if len(answers) > 1 else answers[0]
            if status == 200:
                to = json.loads(body)["to"]
                return 200, {"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}],
                             "messages": [{"id": f"wamid.HBgM{len(srv.requests)}"}]}, {}
            if status == 429:
                return 429, {"error": {"message": "(#130429) Rate limit hit", "type": "OAuthException",
                                       "code": 130429, "fbtrace_id": "A1"}}, {"Retry-After": "120"}
            if status == 400:
                return 400, {"error": {"message": "(#132001) Template name does not exist in the translation",
                                       "type": "OAuthException", "code": 132001, "fbtrace_id": "A2"}}, {}
            return 500, {"error": {"message": "Service temporarily unavailable", "code": 2}}, {}

        srv = fake_provider(respond)
        settings.COBRO_WHATSAPP_API_URL = srv.url + "/v21.0"
        return srv

    return start


def test_whatsapp_sends_an_approved_template_with_parameters(book, queue, cloud):
    srv = cloud([200])
    m = queue(book.org, book.pt, "overdue_friendly", "whatsapp", [book.inv["pt1"]])
    assert outbox.deliver(book.org, limiter=outbox.RateLimiter({})).sent == 1
    [(method, path, headers, body)] = srv.requests
    assert method == "POST" and path == "/v21.0/106540352242922/messages"
    assert headers["Authorization"] == "Bearer EAAG-token"
    payload = json.loads(body)
    assert payload["messaging_product"] == "whatsapp" and payload["type"] == "template"
    assert payload["to"] == "5511988887777"
    tpl = payload["template"]
    assert tpl["name"] == "cobro_overdue_friendly" and tpl["language"] == {"code": "pt_BR"}
    params = [p["text"] for p in tpl["components"][0]["parameters"]]
    assert "R$\xa0987,65" in params and any("/portal/" in p for p in params)
    m.refresh_from_db()
    assert m.status == "sent" and m.provider_id == "wamid.HBgM1"


def test_whatsapp_rate_limit_waits_as_told(book, queue, cloud):
    cloud([429])
    m = queue(book.org, book.pt, "overdue_friendly", "whatsapp", [book.inv["pt1"]])
    assert outbox.deliver(book.org, limiter=outbox.RateLimiter({})).retried == 1
    m.refresh_from_db()
    assert m.status == "queued" and "130429" in m.last_error
    assert (m.next_attempt_at - m.created_at).total_seconds() >= 119


def test_whatsapp_unknown_template_is_permanent_and_500_is_retried(book, queue, cloud):
    cloud([400])
    m = queue(book.org, book.pt, "overdue_friendly", "whatsapp", [book.inv["pt1"]])
    assert outbox.deliver(book.org, limiter=outbox.RateLimiter({})).failed == 1
    cloud([500])
    queue(book.org, book.pt, "overdue_neutral", "whatsapp", [book.inv["pt1"]])
    assert outbox.deliver(book.org, limiter=outbox.RateLimiter({})).retried == 1
    m.refresh_from_db()
    assert "132001" in m.last_error


def _hub_post(client, payload, secret=APP_SECRET):
    body = json.dumps(payload).encode()
    sig = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return client.post("/messages/hooks/whatsapp/", body, content_type="application/json",
                       HTTP_X_HUB_SIGNATURE_256=sig)


def _change(value):
    return {"object": "whatsapp_business_account",
            "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
                **value}}]}]}


def test_whatsapp_webhook_handshake_and_signature(book, client, settings):
    settings.COBRO_WHATSAPP_APP_SECRET, settings.COBRO_WHATSAPP_VERIFY_TOKEN = APP_SECRET, "verify-me"
    ok = client.get("/messages/hooks/whatsapp/", {"hub.mode": "subscribe", "hub.verify_token": "verify-me",
                                                  "hub.challenge": "1158201444"})
    assert ok.status_code == 200 and ok.content == b"1158201444"
    assert client.get("/messages/hooks/whatsapp/", {"hub.mode": "subscribe", "hub.verify_token": "nope",
                                                    "hub.challenge": "1"}).status_code == 403
    assert _hub_post(client, _change({"statuses": []}), secret="wrong").status_code == 403


def test_whatsapp_read_receipt_and_reply(book, queue, client, settings):
    settings.COBRO_WHATSAPP_APP_SECRET = APP_SECRET
    m = queue(book.org, book.pt, "overdue_friendly", "whatsapp", [book.inv["pt1"]])
    Message.objects.filter(pk=m.pk).update(status="sent", provider_id="wamid.OUT1", to="+5511988887777")
    read = {"statuses": [{"id": "wamid.OUT1", "status": "read", "timestamp": "1773140000",
                          "recipient_id": "5511988887777"}]}
    assert _hub_post(client, _change(read)).status_code == 200
    m.refresh_from_db()
    assert m.status == "read" and m.read_at and m.delivered_at
    reply = {"contacts": [{"profile": {"name": "Ana"}, "wa_id": "5511988887777"}],
             "messages": [{"from": "5511988887777", "id": "wamid.IN1", "timestamp": "1773140100",
                           "text": {"body": "Pago amanhã, obrigado"}, "type": "text"}]}
    assert _hub_post(client, _change(reply)).status_code == 200
    ev = TimelineEvent.objects.get(kind="message.reply")
    assert ev.customer_id == book.pt.pk and "amanhã" in ev.summary
    assert Task.objects.filter(kind="reply", customer=book.pt).exists()
    sair = {"messages": [{"from": "5511988887777", "id": "wamid.IN2", "timestamp": "1773140200",
                          "text": {"body": "SAIR"}, "type": "text"}]}
    _hub_post(client, _change(sair))
    assert OptOut.objects.filter(customer=book.pt, channel="whatsapp", source="keyword").exists()


def test_inbound_email_needs_the_signature(book, queue, client, settings):
    settings.COBRO_INBOUND_EMAIL_SECRET = "inbound-secret"
    m = queue(book.org, book.es, "overdue_friendly", "email", [book.inv["es1"]])
    Message.objects.filter(pk=m.pk).update(status="sent", to="rosa@andes.cl")
    raw = (b"From: Rosa Diaz <Rosa@Andes.cl>\r\nTo: cobranza@acme.cl\r\nSubject: Re: Su factura\r\n"
           b"Message-ID: <r1@andes.cl>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
           b"Pagaremos el viernes.\r\n\r\nEl lun, Acme escribi\xc3\xb3:\r\n> Estimado/a\r\n")
    sig = "sha256=" + hmac.new(b"inbound-secret", raw, hashlib.sha256).hexdigest()
    path = "/messages/hooks/email/inbound/"
    assert client.post(path, raw, content_type="message/rfc822", HTTP_X_COBRO_SIGNATURE="sha256=00").status_code == 403
    resp = client.post(path, raw, content_type="message/rfc822", HTTP_X_COBRO_SIGNATURE=sig)
    assert resp.json()["matched"] is True
    reply = Message.objects.get(direction="in")
    assert reply.body_text == "Pagaremos el viernes." and reply.customer_id == book.es.pk
    assert TimelineEvent.objects.filter(kind="message.reply", customer=book.es).exists()
