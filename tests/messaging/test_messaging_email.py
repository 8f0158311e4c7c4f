"""Email against a real SMTP server (aiosmtpd) on loopback, including one that is down and comes back."""

import datetime as dt
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from cobro.ledger.models import TimelineEvent
from cobro.messaging import outbox
from cobro.messaging.models import Message


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content))
        return "250 OK"


@pytest.fixture
def smtp(settings, free_port):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port
    settings.EMAIL_USE_TLS, settings.EMAIL_TIMEOUT = False, 5
    settings.DEFAULT_FROM_EMAIL = "cobranza@cobro.test"
    controllers = []

    def start():
        inbox = Inbox()
        c = Controller(inbox, hostname="127.0.0.1", port=free_port)
        c.start()
        controllers.append(c)
        return inbox

    yield start
    for c in controllers:
        c.stop()


def test_email_goes_out_as_html_and_text_with_unsubscribe_headers(book, queue, smtp):
    inbox = smtp()
    m = queue(book.org, book.es, "overdue_friendly", "email", [book.inv["es1"], book.inv["es2"]])
    report = outbox.deliver(book.org, limiter=outbox.RateLimiter({}))
    assert report.sent == 1
    [(rcpt, raw)] = inbox.messages
    assert rcpt == ["rosa@andes.cl"]
    mail = message_from_bytes(raw, policy=policy.default)
    m.refresh_from_db()
    assert mail["Subject"].strip() == m.subject  # (a folded encoded word may start with a space)
    assert mail["From"] == "Acme SpA <cobranza@cobro.test>" and mail["Reply-To"] == "cobranza@acme.cl"
    assert mail["Message-ID"] == m.provider_id
    assert mail["List-Unsubscribe"].strip().startswith("<http") and "/messages/u/" in mail["List-Unsubscribe"]
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert "F-101" in text and "F-102" in text and "<table" in html and "F-102" in html


def test_server_down_then_back(book, queue, smtp):
    m = queue(book.org, book.es, "overdue_friendly", "email", [book.inv["es1"]])
    now = timezone.now()
    report = outbox.deliver(book.org, now=now, limiter=outbox.RateLimiter({}))
    m.refresh_from_db()
    assert report.retried == 1 and m.status == "queued" and "unavailable" in m.last_error
    inbox = smtp()  # the server comes back on the same port
    report = outbox.deliver(book.org, now=now + dt.timedelta(minutes=1), limiter=outbox.RateLimiter({}))
    m.refresh_from_db()
    assert report.sent == 1 and m.status == "sent" and m.attempts == 2 and len(inbox.messages) == 1


def test_a_batch_goes_out_over_a_few_connections_once_each(book, queue, smtp):
    inbox = smtp()
    for i in range(9):
        queue(book.org, book.es, "overdue_friendly", "email", [book.inv["es1"]], key=f"b{i}")
    assert outbox.deliver(book.org, limiter=outbox.RateLimiter({})).sent == 9
    assert len(inbox.messages) == 9
    assert Message.objects.filter(status="sent").count() == 9
    assert TimelineEvent.objects.filter(kind="message.sent").count() == 9
    assert outbox.deliver(book.org, limiter=outbox.RateLimiter({})).sent == 0 and len(inbox.messages) == 9


def test_a_batch_while_the_server_is_down_is_retried_whole(book, queue, smtp):
    for i in range(6):
        queue(book.org, book.es, "overdue_friendly", "email", [book.inv["es1"]], key=f"d{i}")
    report = outbox.deliver(book.org, limiter=outbox.RateLimiter({}))
    assert report.retried == 6 and report.sent == 0
    assert set(Message.objects.values_list("status", flat=True)) == {"queued"}
