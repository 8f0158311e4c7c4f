"""The transactional outbox: rows written with the action that caused them, delivered by workers.

Life of a message: ``queued`` → (claimed) ``sending`` → ``sent`` → ``delivered`` → ``read``, or back to
``queued`` with exponential back-off after a temporary error, or ``failed`` (with a task for the team)
after a permanent error or too many attempts. ``cancelled`` when it is no longer needed (paid before
it left, opted out); ``held`` when the tone check flags the rendered text.

Never twice: a row is claimed with a conditional UPDATE (``status='queued'`` → ``'sending'``) so two
workers cannot both take it, and the claim is committed before the provider is called. If the
process dies after the provider accepted the message but before "sent" is committed, the row stays
``sending``; when its lease runs out it is marked failed with a task asking a person to check, rather
than sent again. A lost message is visible and fixable; a duplicate demand for money is not.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from cobro.ledger.bulk import insert_rows, json_ints
from cobro.ledger.models import Organization, TimelineEvent
from cobro.ledger.services import record_events
from cobro.messaging import services
from cobro.messaging.models import CHANNELS, Message
from cobro.messaging.render import Renderer, RenderError
from cobro.messaging.transports import TransportError, get_transport

MAX_ATTEMPTS = 6
BACKOFF_BASE = dt.timedelta(minutes=1)
BACKOFF_MAX = dt.timedelta(hours=6)
LEASE = dt.timedelta(minutes=10)
ENABLED_SETTING = {"email": "COBRO_EMAIL_ENABLED", "sms": "COBRO_SMS_ENABLED",
                   "whatsapp": "COBRO_WHATSAPP_ENABLED", "letter": "COBRO_LETTER_ENABLED"}


def backoff(attempts: int) -> dt.timedelta:
    """1, 2, 4, 8... minutes after the 1st, 2nd, 3rd, 4th failed attempt, at most six hours."""
    return min(BACKOFF_BASE * (2 ** max(0, attempts - 1)), BACKOFF_MAX)


# ---- writing: the cycle's receiver -----------------------------------------------------------------

def queue_actions(organization, actions) -> int:
    """One outbox row per message or letter action, key = action.key, in one bulk insert.

    Runs inside the cycle's transaction (``dunning.signals.actions_created``), so it only writes:
    rendering happens at delivery. A second run with the same actions inserts nothing.
    """
    rows = [(a.customer_id, a.key, a.pk, a.template, a.channel, a.tone or "", json_ints(a.invoice_ids or ()),
             a.scheduled_for, a.scheduled_for)
            for a in actions if a.action in ("message", "letter") and a.channel in CHANNELS
            # A step waiting for a manager's approval is queued when approved (a new action then).
            and getattr(a, "status", "planned") in ("planned", "approved")]
    insert_rows(Message, QUEUE_COLUMNS, rows, constants={"organization_id": organization.pk})
    return len(rows)


QUEUE_COLUMNS = ("customer_id", "key", "action_id", "template", "channel", "tone", "invoice_ids", "scheduled_for",
                 "next_attempt_at")


# ---- delivering ------------------------------------------------------------------------------------

class RateLimiter:
    """At most ``rate`` sends per second per transport, spaced evenly (providers reject bursts)."""

    def __init__(self, rates: dict[str, int], clock=time.monotonic, sleep=time.sleep):
        self.rates, self.clock, self.sleep = rates, clock, sleep
        self.next_at: dict[str, float] = {}

    def wait(self, name: str) -> None:
        rate = self.rates.get(name)
        if not rate or rate <= 0:
            return
        now = self.clock()
        at = self.next_at.get(name, now)
        if at > now:
            self.sleep(at - now)
        self.next_at[name] = max(now, at) + 1.0 / rate


@dataclass
class Report:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    held: int = 0
    by_channel: dict = field(default_factory=lambda: defaultdict(int))

    def as_dict(self) -> dict:
        return {"sent": self.sent, "retried": self.retried, "failed": self.failed, "cancelled": self.cancelled,
                "held": self.held, "by_channel": dict(self.by_channel)}


def claim(org: Organization | None = None, *, limit: int = 100, now: dt.datetime | None = None) -> list[Message]:
    """Take up to ``limit`` due messages for this worker; no other worker can take the same ones."""
    now = now or timezone.now()
    token = uuid.uuid4().hex
    with transaction.atomic():
        due = Message.objects.filter(direction=Message.Direction.OUT, status=Message.Status.QUEUED,
                                     next_attempt_at__lte=now)
        if org is not None:
            due = due.filter(organization=org)
        due = due.order_by("next_attempt_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            # PostgreSQL: workers skip rows another worker is claiming instead of waiting for them.
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("pk", flat=True)[:limit])
        if not ids:
            return []
        # The status condition makes the claim safe even where SKIP LOCKED does not exist (SQLite,
        # whose IMMEDIATE transactions serialise writers anyway).
        Message.objects.filter(pk__in=ids, status=Message.Status.QUEUED).update(
            status=Message.Status.SENDING, claim=token, lease_until=now + LEASE, attempts=F("attempts") + 1)
    return list(Message.objects.filter(claim=token, status=Message.Status.SENDING)
                .select_related("organization").order_by("organization_id", "id"))


def recover_interrupted(now: dt.datetime | None = None) -> int:
    """Rows left ``sending`` by a worker that died: failed, with a task, never re-sent blindly."""
    now = now or timezone.now()
    stuck = list(Message.objects.filter(status=Message.Status.SENDING, lease_until__lt=now)
                 .select_related("organization"))
    for msg in stuck:
        reason = "the worker stopped while sending; not retried so it cannot arrive twice — check and resend"
        Message.objects.filter(pk=msg.pk, status=Message.Status.SENDING).update(
            status=Message.Status.FAILED, failed_at=now, last_error=reason)
        services._failed_task(msg, reason, at=now)
    return len(stuck)


def deliver(org: Organization | None = None, *, now: dt.datetime | None = None, batch: int = 100,
            transport: str | None = None, limiter: RateLimiter | None = None, max_batches: int | None = None,
            transports: dict | None = None, stand_in: str | None = None) -> Report:
    """Send every due message (of one organization, or all), batch by batch, and report the counts.

    ``transport`` forces one transport for every channel ("demo" for the demo organization).
    ``stand_in`` carries the messages of channels that are turned off instead of failing them
    (``cobro run`` passes "demo": the demo's texts and WhatsApps leave without a provider).
    """
    report = Report()
    recover_interrupted(now)
    limiter = limiter or RateLimiter(settings.COBRO_RATE_PER_SECOND)
    opened: dict[str, object] = dict(transports or {})
    try:
        batches = 0
        while max_batches is None or batches < max_batches:
            claimed = claim(org, limit=batch, now=now)
            if not claimed:
                break
            batches += 1
            by_org: dict[int, list[Message]] = defaultdict(list)
            for msg in claimed:
                by_org[msg.organization_id].append(msg)
            for msgs in by_org.values():
                _deliver_org(msgs[0].organization, msgs, report, opened, transport, limiter, now, stand_in)
    finally:
        for t in opened.values():
            t.close()
    return report


def _deliver_org(org, msgs, report, opened, forced, limiter, now, stand_in=None) -> None:
    renderer = Renderer(org, msgs)
    opted = services.opted_out_channels(org, {m.customer_id for m in msgs})
    ready = []
    for msg in msgs:
        use = forced or (stand_in if stand_in and not getattr(settings, ENABLED_SETTING[msg.channel]) else None)
        rendered = _prepare(msg, renderer, opted, use, report, now)
        if rendered is not None:
            ready.append((msg, rendered, use or msg.channel))
    events = []
    for msg, name, outcome in _send_all(ready, opened, limiter):
        if isinstance(outcome, TransportError):
            _retry_or_fail(msg, outcome, report, now)
            continue
        # Committed message by message, as soon as the provider accepted it: a crash loses the
        # bookkeeping of one message at most, never sends one twice (see the module's docstring).
        # Sent "now" on the clock the batch was claimed by, so a message never shows as sent before its time.
        msg.status, msg.sent_at, msg.provider_id = Message.Status.SENT, now or timezone.now(), outcome.provider_id[:128]
        msg.transport, msg.claim, msg.lease_until, msg.last_error = name, "", None, ""
        if outcome.data:
            msg.data = {**(msg.data or {}), **outcome.data}
        msg.save(update_fields=["status", "sent_at", "provider_id", "transport", "claim", "lease_until",
                                "last_error", "data", "to", "subject", "body_text", "body_html", "segments",
                                "language"])
        report.sent += 1
        report.by_channel[msg.channel] += 1
        events.append(TimelineEvent(organization=org, customer_id=msg.customer_id, at=msg.sent_at,
                                    kind="message.sent",
                                    summary=f"{msg.channel}: {msg.subject or msg.body_text}"[:300],
                                    data={"channel": msg.channel, "message_id": msg.pk,
                                          "template": msg.template, "transport": name}))
    if events:
        record_events(events)


def _prepare(msg, renderer, opted, forced, report, now=None):
    """Render a claimed message, or settle it (cancelled, failed, held) and return None."""
    if msg.channel in opted.get(msg.customer_id, ()):
        _finish(msg, Message.Status.CANCELLED, "opted out of this channel")
        report.cancelled += 1
        return None
    if not forced and not getattr(settings, ENABLED_SETTING[msg.channel]):
        _fail(msg, f"the {msg.channel} channel is turned off ({ENABLED_SETTING[msg.channel]})", report, now)
        return None
    try:
        rendered = renderer.render(msg)
    except RenderError as exc:
        if exc.cancel:
            _finish(msg, Message.Status.CANCELLED, str(exc))
            report.cancelled += 1
        else:
            _fail(msg, str(exc), report, now)
        return None
    _store_rendered(msg, rendered)
    if rendered.legal_missing:
        reason = f"required by law and missing: {', '.join(rendered.legal_missing)}"
        _finish(msg, Message.Status.HELD, reason)
        services._failed_task(msg, reason, at=now)
        report.held += 1
        return None
    tpl = renderer.templates.get((msg.template, rendered.context["language"], msg.channel))
    if rendered.tone.flagged and not (tpl and tpl.override_reason):
        words = "; ".join(f"{f.rule}: {', '.join(f.words)}" for f in rendered.tone.findings)
        _finish(msg, Message.Status.HELD, f"tone check: {words}")
        services._failed_task(msg, f"held by the tone check ({words})", at=now)
        report.held += 1
        return None
    return rendered


def _attempt(transport, msg, rendered):
    try:
        return transport.send(msg, rendered)
    except TransportError as exc:
        return exc


def _send_all(ready, opened, limiter):
    """Hand each rendered message to its transport; yield (message, transport name, result or error).

    A transport with ``parallel`` > 1 (email: a few SMTP connections) sends from that many threads,
    each with its own connection, because the time goes in waiting for the server's replies. Only the
    network calls run in threads; every database write stays in the calling thread.
    """
    by_name: dict[str, list] = defaultdict(list)
    for msg, rendered, name in ready:
        by_name[name].append((msg, rendered))
    for name, items in by_name.items():
        if name not in opened:
            opened[name] = get_transport(name)  # it connects on its first send
        transport = opened[name]
        lanes = getattr(transport, "parallel", 1)
        if lanes <= 1 or len(items) < 2:
            for msg, rendered in items:
                limiter.wait(name)
                yield msg, name, _attempt(transport, msg, rendered)
            continue
        local, spares, lock = threading.local(), [], threading.Lock()

        def work(msg, rendered, name=name, local=local, spares=spares, lock=lock):
            lane = getattr(local, "transport", None)
            if lane is None:
                lane = local.transport = get_transport(name)
                with lock:
                    spares.append(lane)
            return _attempt(lane, msg, rendered)

        with ThreadPoolExecutor(max_workers=lanes, thread_name_prefix=f"cobro-{name}") as pool:
            futures = {}
            for msg, rendered in items:
                limiter.wait(name)
                futures[pool.submit(work, msg, rendered)] = msg
            try:
                for future in as_completed(futures):
                    yield futures[future], name, future.result()
            finally:
                for lane in spares:
                    lane.close()


def _store_rendered(msg: Message, rendered) -> None:
    msg.to, msg.subject = rendered.to[:254], rendered.subject[:250]
    msg.body_text, msg.body_html, msg.segments = rendered.text, rendered.html, rendered.segments
    msg.language = rendered.context["language"]
    if rendered.whatsapp:
        msg.data = {**(msg.data or {}), "whatsapp": rendered.whatsapp}
    if rendered.context.get("template_used"):
        msg.data = {**(msg.data or {}), "template_used": rendered.context["template_used"]}


def _finish(msg: Message, status: str, reason: str) -> None:
    msg.status, msg.last_error, msg.claim, msg.lease_until = status, reason[:1000], "", None
    msg.save(update_fields=["status", "last_error", "claim", "lease_until", "to", "subject", "body_text",
                            "body_html", "segments", "language", "data"])


def _fail(msg: Message, reason: str, report: Report, now=None) -> None:
    msg.failed_at = now or timezone.now()  # the batch's clock, as sent_at
    msg.save(update_fields=["failed_at"])
    _finish(msg, Message.Status.FAILED, reason)
    services._failed_task(msg, reason, at=msg.failed_at)
    report.failed += 1


def _retry_or_fail(msg: Message, exc: TransportError, report: Report, now) -> None:
    if exc.permanent or msg.attempts >= MAX_ATTEMPTS:
        _fail(msg, str(exc), report, now)
        return
    wait = backoff(msg.attempts)
    if exc.retry_after:
        wait = max(wait, dt.timedelta(seconds=exc.retry_after))
    msg.next_attempt_at = (now or timezone.now()) + wait
    msg.save(update_fields=["next_attempt_at"])
    _finish(msg, Message.Status.QUEUED, str(exc))
    report.retried += 1
