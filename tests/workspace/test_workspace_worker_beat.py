"""The settings pages say when the worker last ran, and warn when it has not run for a while."""

from __future__ import annotations

import datetime as dt

import time_machine

NOW = dt.datetime(2027, 3, 1, 15, 0, tzinfo=dt.UTC)


def _line(body: str) -> str:
    start = body.index('id="worker-beat"')
    return body[start:body.index("</div>", start)].replace("\xa0", " ")


def test_never_ran_is_a_warning(login, book):
    body = login(book.manager).get("/settings/policies/").content.decode()
    line = _line(body)
    assert "msg-warning" in body[body.rindex("<div", 0, body.index('id="worker-beat"')):body.index('id="worker-beat"')]
    assert "no ha corrido nunca" in line


def test_recent_beat_says_how_long_ago(login, book):
    from cobro.dunning import heartbeat

    with time_machine.travel(NOW, tick=False):
        heartbeat.beat(now=NOW - dt.timedelta(minutes=2))
        line = _line(login(book.manager).get("/settings/scripts/").content.decode())
    assert "corrió hace 2 minutos" in line and "no están saliendo" not in line


def test_old_beat_warns(login, book):
    from cobro.dunning import heartbeat

    with time_machine.travel(NOW, tick=False):
        heartbeat.beat(now=NOW - dt.timedelta(minutes=42))
        line = _line(login(book.manager).get("/settings/team/").content.decode())
    assert "hace 42 minutos" in line and "no están saliendo" in line


def test_in_english(login, book):
    from cobro.dunning import heartbeat

    with time_machine.travel(NOW, tick=False):
        client = login(book.manager)
        client.post("/language/", {"language": "en"})
        heartbeat.beat(now=NOW - dt.timedelta(minutes=3))
        line = _line(client.get("/settings/policies/").content.decode())
    assert "3 minutes ago" in line


def test_a_worker_pass_beats_and_delivers_a_message_sent_by_hand(book, settings, tmp_path):
    """One pass of `cobro worker`: the outbox goes out (e-mail to the file backend), the beat is recorded."""
    from cobro.dunning.management.commands.worker import Command
    from cobro.dunning.models import WorkerBeat
    from cobro.ledger.models import Organization
    from cobro.messaging.models import Message
    from cobro.messaging.services import install_default_templates

    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    install_default_templates(book.org)
    Organization.objects.update(options={"cycle_hour": 25})  # no daily cycle in this pass: only the hand-sent one
    customer = book.customers[0]
    with time_machine.travel(NOW, tick=False):
        msg = Message.objects.create(organization=book.org, customer=customer, key="by-hand-1",
                                     template="overdue_friendly", channel="email", tone="friendly",
                                     invoice_ids=[], scheduled_for=NOW - dt.timedelta(minutes=1),
                                     next_attempt_at=NOW - dt.timedelta(minutes=1))
        Command().one_pass(set(), None, NOW)
    msg.refresh_from_db()
    assert msg.status == "sent", msg.last_error
    files = list((tmp_path / "mail").iterdir())
    assert len(files) == 1 and "c1@example.cl" in files[0].read_text(errors="replace")
    beat = WorkerBeat.objects.get()
    assert beat.beat_at == NOW and beat.passes == 1 and beat.last["outbox"]["sent"] == 1
