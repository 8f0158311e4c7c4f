"""The outbox: written with the cycle's actions, claimed once, retried with back-off, never twice."""

import datetime as dt

import pytest
from django.utils import timezone

from cobro.dunning.models import Action
from cobro.dunning.signals import actions_created
from cobro.ledger.models import Task, TimelineEvent
from cobro.ledger.services import apply_payment
from cobro.messaging import outbox, services
from cobro.messaging.models import Message, MessageTemplate
from cobro.messaging.transports import SendResult, Transport, TransportError


class Recorder(Transport):
    """A transport that records what it was given and answers as it is told."""

    name = "recorder"

    def __init__(self, errors=()):
        self.sent, self.errors = [], list(errors)

    def send(self, message, rendered):
        if self.errors:
            err = self.errors.pop(0)
            if err is not None:
                raise err
        self.sent.append((message.key, rendered.to, rendered.text))
        return SendResult(provider_id=f"rec-{len(self.sent)}")


class PowerCut(Exception):
    pass


class CrashAfterSend(Recorder):
    """The provider accepts the message, then the process dies before "sent" is committed."""

    def send(self, message, rendered):
        super().send(message, rendered)
        raise PowerCut


def run(org, transport, now=None, **kw):
    return outbox.deliver(org, now=now, transport="recorder", transports={"recorder": transport},
                          limiter=outbox.RateLimiter({}), **kw)


def make_actions(book, status="planned", n_key="k"):
    now = timezone.now()
    rows = [Action(organization=book.org, customer=c, key=f"{n_key}:{c.pk}", as_of=book.today, step="+7",
                   action="message", channel=ch, template="overdue_neutral", tone="neutral",
                   invoice_ids=[inv.pk], invoice_refs=[inv.ref], scheduled_for=now, status=status)
            for c, ch, inv in ((book.es, "email", book.inv["es1"]), (book.en, "sms", book.inv["en1"]))]
    rows.append(Action(organization=book.org, customer=book.pt, key=f"{n_key}:call", as_of=book.today, step="+15",
                       action="call_task", channel="call", template="", tone="firm", invoice_ids=[],
                       invoice_refs=[], scheduled_for=now, status=status))
    return Action.objects.bulk_create(rows)


def test_the_cycles_actions_become_outbox_rows_once(book):
    actions = make_actions(book)
    actions_created.send(sender=Action, organization=book.org, actions=actions)
    actions_created.send(sender=Action, organization=book.org, actions=actions)  # a re-run
    rows = list(Message.objects.for_org(book.org).order_by("id"))
    assert [(m.key, m.channel, m.template, m.action_id) for m in rows] == [
        (actions[0].key, "email", "overdue_neutral", actions[0].pk), (actions[1].key, "sms", "overdue_neutral",
                                                                      actions[1].pk)]
    assert rows[0].invoice_ids == [book.inv["es1"].pk] and rows[0].status == "queued"
    assert rows[0].body_text == ""  # rendered at delivery, not inside the cycle's transaction
    # The fast insert fills every other column with the model's defaults.
    assert (rows[0].direction, rows[0].attempts, rows[0].data, rows[0].claim) == ("out", 0, {}, "")
    assert rows[0].created_at is not None and rows[0].scheduled_for == actions[0].scheduled_for
    assert rows[0].next_attempt_at == actions[0].scheduled_for and rows[0].tone == "neutral"


def test_actions_waiting_for_approval_are_not_queued(book):
    actions = make_actions(book, status="pending_approval")
    actions_created.send(sender=Action, organization=book.org, actions=actions)
    assert not Message.objects.exists()


def test_queueing_is_set_based(book, django_assert_max_num_queries):
    actions = make_actions(book)
    with django_assert_max_num_queries(2):
        outbox.queue_actions(book.org, actions)


def test_delivery_sends_records_timeline_and_is_idempotent(book, queue):
    m = queue(book.org, book.es, "overdue_friendly", "email", [book.inv["es1"]])
    t = Recorder()
    report = run(book.org, t)
    assert report.sent == 1 and len(t.sent) == 1
    m.refresh_from_db()
    assert m.status == "sent" and m.provider_id == "rec-1" and m.attempts == 1 and m.transport == "recorder"
    assert "F-101" in m.body_text and m.to == "rosa@andes.cl"
    ev = TimelineEvent.objects.get(kind="message.sent")
    assert ev.customer_id == book.es.pk and ev.data["channel"] == "email" and ev.data["message_id"] == m.pk
    assert run(book.org, t).sent == 0 and len(t.sent) == 1


def test_two_workers_cannot_claim_the_same_row(book, queue):
    queue(book.org, book.es, "overdue_friendly", "email", [book.inv["es1"]])
    first = outbox.claim(book.org)
    second = outbox.claim(book.org)
    assert len(first) == 1 and second == []


def test_not_due_yet_is_left_alone(book, queue):
    queue(book.org, book.es, "overdue_friendly", "email", [book.inv["es1"]],
          at=timezone.now() + dt.timedelta(hours=2))
    t = Recorder()
    assert run(book.org, t).sent == 0 and t.sent == []


def test_temporary_errors_back_off_exponentially_then_fail_with_a_task(book, queue):
    m = queue(book.org, book.es, "overdue_friendly", "email", [book.inv["es1"]])
    t = Recorder(errors=[TransportError("server down")] * 10)
    now = timezone.now()
    waits = []
    for _ in range(outbox.MAX_ATTEMPTS):
        run(book.org, t, now=now)
        m.refresh_from_db()
        if m.status == "failed":
            break
        assert m.status == "queued" and "server down" in m.last_error
        waits.append(m.next_attempt_at - now)
        assert run(book.org, t, now=now).retried == 0  # not due again before its back-off
        now = m.next_attempt_at
    assert waits == [dt.timedelta(minutes=2 ** i) for i in range(outbox.MAX_ATTEMPTS - 1)]
    assert m.status == "failed" and m.attempts == outbox.MAX_ATTEMPTS and t.sent == []
    task = Task.objects.get(kind="message_failed")
    assert task.customer_id == book.es.pk and task.data["message_id"] == m.pk


def test_provider_retry_after_is_respected(book, queue):
    m = queue(book.org, book.es, "overdue_friendly", "email", [book.inv["es1"]])
    now = timezone.now()
    run(book.org, Recorder(errors=[TransportError("429", retry_after=900)]), now=now)
    m.refresh_from_db()
    assert m.next_attempt_at == now + dt.timedelta(seconds=900)


def test_a_server_that_comes_back_gets_the_message(book, queue):
    m = queue(book.org, book.es, "overdue_friendly", "email", [book.inv["es1"]])
    t = Recorder(errors=[TransportError("down"), None])
    now = timezone.now()
    run(book.org, t, now=now)
    run(book.org, t, now=now + dt.timedelta(minutes=1))
    m.refresh_from_db()
    assert m.status == "sent" and m.attempts == 2 and len(t.sent) == 1


def test_permanent_error_fails_at_once(book, queue):
    m = queue(book.org, book.en, "overdue_neutral", "sms", [book.inv["en1"]])
    run(book.org, Recorder(errors=[TransportError("invalid number", permanent=True)]))
    m.refresh_from_db()
    assert m.status == "failed" and m.attempts == 1
    assert TimelineEvent.objects.filter(kind="message.failed", customer=book.en).exists()


def test_crash_between_send_and_commit_never_sends_twice(book, queue):
    m = queue(book.org, book.es, "overdue_friendly", "email", [book.inv["es1"]])
    t = CrashAfterSend()
    now = timezone.now()
    with pytest.raises(PowerCut):
        run(book.org, t, now=now)
    m.refresh_from_db()
    assert m.status == "sending" and len(t.sent) == 1
    again = Recorder()
    run(book.org, again, now=now + dt.timedelta(minutes=1))  # lease still held: nobody takes it
    run(book.org, again, now=now + outbox.LEASE + dt.timedelta(minutes=1))  # lease over: a person checks
    m.refresh_from_db()
    assert again.sent == [] and m.status == "failed" and "twice" in m.last_error
    assert Task.objects.filter(kind="message_failed", customer=book.es).exists()


def test_opted_out_channel_is_cancelled_not_sent(book, queue):
    m = queue(book.org, book.es, "overdue_friendly", "email", [book.inv["es1"]])
    other = queue(book.org, book.es, "overdue_friendly", "sms", [book.inv["es1"]])
    services.opt_out(book.org, book.es, "email", "manual")
    t = Recorder()
    run(book.org, t)
    m.refresh_from_db()
    other.refresh_from_db()
    assert m.status == "cancelled" and other.status == "sent" and len(t.sent) == 1


def test_a_flagged_text_is_held_with_a_task(book, queue):
    MessageTemplate.objects.filter(code="overdue_friendly", channel="email", language="es").update(
        body="{{ contact_name }}: PAGUE YA O LO DEMANDAMOS. {{ total }}")
    m = queue(book.org, book.es, "overdue_friendly", "email", [book.inv["es1"]])
    t = Recorder()
    report = run(book.org, t)
    m.refresh_from_db()
    assert report.held == 1 and m.status == "held" and "false_legal.seizure_now" in m.last_error and t.sent == []
    assert Task.objects.filter(kind="message_failed").exists()


def test_paid_before_leaving_is_cancelled(book, queue):
    m = queue(book.org, book.en, "overdue_neutral", "email", [book.inv["en1"]])
    apply_payment(book.org, book.en, "P-9", book.today, 250_000, "USD")
    t = Recorder()
    assert run(book.org, t).cancelled == 1 and t.sent == []
    m.refresh_from_db()
    assert m.status == "cancelled"


def test_disabled_channel_fails_with_a_reason(book, queue, settings):
    settings.COBRO_SMS_ENABLED = False
    m = queue(book.org, book.en, "overdue_neutral", "sms", [book.inv["en1"]])
    outbox.deliver(book.org, limiter=outbox.RateLimiter({}))
    m.refresh_from_db()
    assert m.status == "failed" and "COBRO_SMS_ENABLED" in m.last_error


def test_demo_transport_records_without_network(book, queue):
    m = queue(book.org, book.pt, "overdue_friendly", "whatsapp", [book.inv["pt1"]])
    outbox.deliver(book.org, transport="demo")
    m.refresh_from_db()
    assert m.status == "sent" and m.transport == "demo" and m.provider_id.startswith("demo-")
    assert m.data["whatsapp"]["name"] == "cobro_overdue_friendly"


def test_rate_limiter_spaces_sends():
    clock = [0.0]
    slept = []

    def sleep(s):
        slept.append(round(s, 3))
        clock[0] += s

    lim = outbox.RateLimiter({"sms": 4}, clock=lambda: clock[0], sleep=sleep)
    for _ in range(5):
        lim.wait("sms")
    lim.wait("email")  # no limit configured for it
    assert slept == [0.25, 0.25, 0.25, 0.25]


def test_backoff_is_capped():
    assert outbox.backoff(1) == dt.timedelta(minutes=1)
    assert outbox.backoff(4) == dt.timedelta(minutes=8)
    assert outbox.backoff(30) == outbox.BACKOFF_MAX


def test_thank_you_once_per_customer_per_day_and_can_be_turned_off(book, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        apply_payment(book.org, book.en, "P-1", timezone.localdate(), 250_000, "USD")
    thanks = Message.objects.get(template="thank_you")
    assert thanks.customer_id == book.en.pk and thanks.channel == "sms"  # the preferred channel
    services.queue_thank_you(book.org, [book.en.pk], timezone.localdate())
    assert Message.objects.filter(template="thank_you").count() == 1
    book.org.options = {"thank_you": False}
    book.org.save()
    with django_capture_on_commit_callbacks(execute=True):
        apply_payment(book.org, book.pt, "P-2", timezone.localdate(), 98_765, "BRL")
    assert Message.objects.filter(template="thank_you").count() == 1


def test_thank_you_renders_without_invoices(book, queue):
    services.queue_thank_you(book.org, [book.es.pk], timezone.localdate())
    t = Recorder()
    run(book.org, t)
    assert len(t.sent) == 1 and "Recibimos su pago" in t.sent[0][2]


def test_old_payments_are_not_thanked(book):
    old = timezone.localdate() - dt.timedelta(days=services.THANK_YOU_WINDOW + 1)
    assert services.queue_thank_you(book.org, [book.es.pk], old) == 0
    assert services.queue_thank_you(book.org, [book.es.pk], timezone.localdate()) == 1


def test_thank_you_is_scheduled_by_the_recorders_clock(book, django_capture_on_commit_callbacks):
    """A replay (or the demo) records a payment at its own moment: the thank-you is queued for then,
    and the window is judged from then, not by the real clock (#13)."""
    replay = dt.datetime(2024, 3, 5, 14, 0, tzinfo=dt.UTC)
    with django_capture_on_commit_callbacks(execute=True):
        apply_payment(book.org, book.en, "P-R", replay.date(), 250_000, "USD", now=replay)
    thanks = Message.objects.get(template="thank_you")
    assert (thanks.scheduled_for, thanks.next_attempt_at) == (replay, replay)
    assert thanks.key == f"thanks:{book.en.pk}:2024-03-05"
    stale = replay.date() - dt.timedelta(days=services.THANK_YOU_WINDOW + 1)
    assert services.queue_thank_you(book.org, [book.pt.pk], stale, at=replay) == 0
    assert services.queue_thank_you(book.org, [book.pt.pk], replay.date(), at=replay) == 1


def test_cli_delivers_once_and_reports(book, queue, settings):
    import io
    import json

    from django.core.management import call_command

    settings.COBRO_SMS_ENABLED = False  # fails with a reason; email goes through the test backend
    queue(book.org, book.es, "overdue_friendly", "email", [book.inv["es1"]])
    queue(book.org, book.en, "overdue_neutral", "sms", [book.inv["en1"]])
    out = io.StringIO()
    call_command("outbox", "deliver", "--org", "acme", "--once", stdout=out)
    assert json.loads(out.getvalue()) | {"by_channel": None} == {"sent": 1, "retried": 0, "failed": 1, "cancelled": 0,
                                                                  "held": 0, "by_channel": None}
    from django.core import mail

    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["rosa@andes.cl"]
    out = io.StringIO()
    call_command("outbox", "status", "--org", "acme", stdout=out)
    assert json.loads(out.getvalue()) == {"failed/sms": 1, "sent/email": 1}
    with pytest.raises(Exception, match="no organization"):
        call_command("outbox", "deliver", "--org", "nope", "--once")


def test_deliver_task_runs_on_the_tasks_backend(book, queue):
    from cobro.messaging.tasks import deliver_outbox

    queue(book.org, book.es, "overdue_friendly", "email", [book.inv["es1"]])
    result = deliver_outbox.enqueue("acme")
    assert result.return_value["sent"] == 1


def test_country_rules_hold_a_message_that_lacks_what_the_law_asks(book, queue):
    # Brazil: the creditor's tax id in every collection message; the fixture's organization has one.
    book.pt.country = "BR"
    book.pt.save()
    ok = queue(book.org, book.pt, "overdue_friendly", "whatsapp", [book.inv["pt1"]])
    # United States: an opt-out in every text.
    MessageTemplate.objects.filter(code="overdue_neutral", channel="sms", language="en").update(
        body="{{ org_name }}: your balance is {{ total }}, due {{ due_date }}. Pay: {{ pay_link }}")
    held = queue(book.org, book.en, "overdue_neutral", "sms", [book.inv["en1"]])
    t = Recorder()
    report = run(book.org, t)
    ok.refresh_from_db()
    held.refresh_from_db()
    assert ok.status == "sent" and held.status == "held" and "opt_out" in held.last_error
    assert report.held == 1 and len(t.sent) == 1
    book.org.tax_id = ""
    book.org.save()
    again = queue(book.org, book.pt, "overdue_neutral", "whatsapp", [book.inv["pt1"]])
    run(book.org, t)
    again.refresh_from_db()
    assert again.status == "held" and "creditor_tax_id" in again.last_error
