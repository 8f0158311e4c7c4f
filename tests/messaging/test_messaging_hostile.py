"""Hostile but correctly signed webhook bodies and tampered links: a clear 4xx with a log line,
nothing changed in any organization, never a 500."""

import hashlib
import hmac
import json
import logging

import pytest
from django.core import signing
from twilio.request_validator import RequestValidator

from cobro.ledger.models import Task, TimelineEvent
from cobro.messaging import links
from cobro.messaging.models import Message

APP_SECRET, TWILIO_TOKEN, EMAIL_SECRET = "meta-app-secret", "twilio-auth-token", "inbound-secret"


@pytest.fixture
def hooks(settings):
    settings.COBRO_WHATSAPP_APP_SECRET = APP_SECRET
    settings.COBRO_TWILIO_AUTH_TOKEN = TWILIO_TOKEN
    settings.COBRO_INBOUND_EMAIL_SECRET = EMAIL_SECRET
    return settings


def hub_post(client, body: bytes):
    sig = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return client.post("/messages/hooks/whatsapp/", body, content_type="application/json",
                       HTTP_X_HUB_SIGNATURE_256=sig)


def twilio_post(client, settings, path, params):
    sig = RequestValidator(TWILIO_TOKEN).compute_signature(settings.COBRO_BASE_URL + path, params)
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=sig)


def email_post(client, raw: bytes):
    sig = "sha256=" + hmac.new(EMAIL_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return client.post("/messages/hooks/email/inbound/", raw, content_type="message/rfc822",
                       HTTP_X_COBRO_SIGNATURE=sig)


def statuses(*items):
    return json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [
        {"field": "messages", "value": {"messaging_product": "whatsapp", "statuses": list(items)}}]}]}).encode()


def snapshot():
    return sorted(Message.objects.values_list("pk", "status", "delivered_at", "read_at", "failed_at", "provider_id"))


@pytest.fixture
def waiting(book, queue):
    """Outgoing WhatsApp messages not sent yet (no provider id) in both organizations, and one sent."""
    mine = queue(book.org, book.pt, "overdue_friendly", "whatsapp", [book.inv["pt1"]])
    theirs = queue(book.other, book.secret, "overdue_friendly", "whatsapp", key="other:1")
    sent = queue(book.org, book.es, "overdue_friendly", "whatsapp", [book.inv["es1"]], key="sent:1")
    Message.objects.filter(pk=sent.pk).update(status="sent", provider_id="wamid.OUT1")
    return mine, theirs, sent


@pytest.mark.parametrize("status", [
    {"status": "delivered", "timestamp": "1773140000", "recipient_id": "5511988887777"},
    {"id": "", "status": "delivered", "timestamp": "1773140000"},
    {"id": "   ", "status": "read", "timestamp": "1773140000"},
    {"id": "wamid.NOBODY", "status": "failed", "timestamp": "1773140000", "errors": [{"title": "x"}]},
])
def test_whatsapp_status_without_a_known_id_changes_nothing(book, hooks, client, waiting, status):
    before = snapshot()
    assert hub_post(client, statuses(status)).status_code == 200
    assert snapshot() == before
    mine, theirs, _ = waiting
    assert Message.objects.get(pk=mine.pk).status == "queued"
    assert Message.objects.get(pk=theirs.pk).status == "queued"
    assert not TimelineEvent.objects.filter(kind__startswith="message.").exists()
    assert not Task.objects.filter(kind="message_failed").exists()


@pytest.mark.parametrize("body", [
    b"[]", b'{"entry":5}', b'"entry"', b"17", b"null", b'{"entry":[5]}', b'{"entry":[{"changes":{"a":1}}]}',
    b'{"entry":[{"changes":[{"value":[]}]}]}',
    statuses({"id": "wamid.OUT1", "status": "delivered", "timestamp": "soon"}),
    statuses({"id": "wamid.OUT1", "status": "delivered", "timestamp": "99999999999999999999"}),
    statuses({"id": "wamid.OUT1", "status": "delivered", "timestamp": "-5"}),
    statuses({"id": "wamid.OUT1", "status": "delivered", "timestamp": 1e300}),
    statuses({"id": "wamid.OUT1", "status": "delivered", "timestamp": "12"}),  # 1970
    statuses({"id": "wamid.OUT1", "status": "delivered", "timestamp": True}),
    statuses({"id": ["wamid.OUT1"], "status": "delivered", "timestamp": "1773140000"}),
    statuses({"id": "wamid.OUT1", "status": "failed", "timestamp": "1773140000", "errors": "boom"}),
    b"[" * 100_000 + b"]" * 100_000,
    b"\xff\xfe not json",
])
def test_malformed_whatsapp_bodies_answer_400_with_a_log_line(book, hooks, client, waiting, body, caplog):
    before = snapshot()
    with caplog.at_level(logging.WARNING, logger="cobro.messaging.views"):
        resp = hub_post(client, body)
    assert resp.status_code == 400, resp.content[:200]
    assert snapshot() == before
    assert Message.objects.get(pk=waiting[2].pk).status == "sent"
    assert any("whatsapp webhook refused" in r.getMessage() for r in caplog.records)


def test_whatsapp_reply_with_odd_timestamp_is_refused_and_a_good_one_still_counts(book, hooks, client, queue):
    m = queue(book.org, book.pt, "overdue_friendly", "whatsapp", [book.inv["pt1"]])
    Message.objects.filter(pk=m.pk).update(status="sent", provider_id="wamid.OUT9", to="+5511988887777")

    def reply(ts):
        return json.dumps({"entry": [{"changes": [{"value": {"messages": [
            {"from": "5511988887777", "id": "wamid.IN9", "timestamp": ts, "text": {"body": "Pago amanhã"},
             "type": "text"}]}}]}]}).encode()

    assert hub_post(client, reply("next tuesday")).status_code == 400
    assert not Message.objects.filter(direction="in").exists()
    assert hub_post(client, reply("1773140100")).status_code == 200
    got = Message.objects.get(direction="in")
    assert got.customer_id == book.pt.pk and got.sent_at.year == 2026


def test_twilio_status_without_sid_changes_nothing(book, hooks, client, queue, caplog):
    unsent = queue(book.org, book.en, "overdue_neutral", "sms", [book.inv["en1"]])
    theirs = queue(book.other, book.secret, "overdue_neutral", "sms", key="other:sms")
    path = "/messages/hooks/twilio/status/"
    with caplog.at_level(logging.WARNING, logger="cobro.messaging.views"):
        for params in ({"MessageStatus": "delivered"}, {"MessageSid": "", "MessageStatus": "delivered"},
                       {"MessageSid": "SM../../x", "MessageStatus": "delivered"},
                       {"MessageSid": "SM1", "MessageStatus": "failed", "ErrorCode": "<script>"}):
            assert twilio_post(client, hooks, path, params).status_code == 400
    assert Message.objects.get(pk=unsent.pk).status == "queued"
    assert Message.objects.get(pk=theirs.pk).status == "queued"
    assert sum("twilio webhook refused" in r.getMessage() for r in caplog.records) == 4


def test_twilio_inbound_without_a_sender_is_refused(book, hooks, client):
    path = "/messages/hooks/twilio/inbound/"
    assert twilio_post(client, hooks, path, {"MessageSid": "SMin1", "From": "", "Body": "hola"}).status_code == 400
    assert twilio_post(client, hooks, path, {"From": "+12025550143", "Body": "hola"}).status_code == 400
    assert not Message.objects.filter(direction="in").exists()


@pytest.mark.parametrize("raw", [
    b"From: Rosa <rosa@andes.cl>\r\nSubject: Re\r\nContent-Type: text/plain; charset=x-no-such-charset\r\n\r\n"
    b"Pagaremos el viernes.\r\n",
    b"From: Rosa <rosa@andes.cl>\r\nSubject: Re\r\nContent-Type: text/plain; charset=utf-99\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\nUGFnYXJlbW9z\r\n",
    b"Subject: no sender\r\n\r\nhola\r\n",
])
def test_inbound_email_unknown_charset_or_no_sender_is_a_400(book, hooks, client, queue, raw, caplog):
    m = queue(book.org, book.es, "overdue_friendly", "email", [book.inv["es1"]])
    Message.objects.filter(pk=m.pk).update(status="sent", to="rosa@andes.cl")
    with caplog.at_level(logging.WARNING, logger="cobro.messaging.views"):
        resp = email_post(client, raw)
    assert resp.status_code == 400
    assert not Message.objects.filter(direction="in").exists()
    assert not TimelineEvent.objects.filter(kind="message.reply").exists()
    assert any("email webhook refused" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("payload", [
    {"o": "1", "c": 1, "p": "pay", "v": 1},
    {"o": [1], "c": 1, "p": "pay", "v": 1},
    {"o": 1, "c": {"x": 1}, "p": "pay", "v": 1},
    {"o": 1, "c": 1, "p": "pay", "v": "1"},
    {"o": 1, "c": 1, "p": "pay", "v": True},
    {"o": 1, "c": 1, "p": "pay", "v": 10**30},
    {"o": 1, "c": 1, "p": ["pay"], "v": 1},
    {"o": 1, "c": 1, "p": "optout", "v": 1, "ch": {"$ne": 1}},
    {"c": 1, "p": "pay", "v": 1},
    [1, 1, "pay", 1],
    "pay",
    None,
])
def test_signed_token_with_unexpected_types_is_a_404(book, client, payload):
    real = {"o": book.org.pk, "c": book.es.pk}
    if isinstance(payload, dict):  # point the well-typed fields at a real customer
        payload = {k: real.get(k, v) if isinstance(v, int) and not isinstance(v, bool) and v == 1 else v
                   for k, v in payload.items()}
    token = signing.dumps(payload, salt=links.SALT, compress=True)
    purpose = "optout" if isinstance(payload, dict) and payload.get("p") == "optout" else "pay"
    with pytest.raises(links.MalformedLink):
        links.read_token(token, purpose)
    page = "opt-out" if purpose == "optout" else "statement"
    path = links.url(book.org.pk, book.es.pk, purpose, 1).removeprefix(hooks_base(client))
    bad = path.rsplit("/", 2)[0] + f"/{token}/"
    resp = client.get(bad)
    assert resp.status_code == 404, (page, resp.status_code)
    assert "Ferretería" not in resp.content.decode()


def hooks_base(client):
    from django.conf import settings

    return settings.COBRO_BASE_URL


def test_signed_but_not_json_token_is_a_404(book, client):
    from django.core.signing import TimestampSigner

    token = TimestampSigner(salt=links.SALT).sign("not json at all")
    with pytest.raises(links.MalformedLink):
        links.read_token(token, "pay")
    good = links.url(book.org.pk, book.es.pk, "pay", 1).removeprefix(hooks_base(client))
    assert client.get(good).status_code == 200
    assert client.get(good.rsplit("/", 2)[0] + f"/{token}/").status_code == 404
