"""The demo looks like a well-run month (#13), and runs by its own clock: with ``--today`` on a past
and on a future day, no moment in it is later than the demo's day or earlier than its set-up (the
real clock would show as either), and its figures are those of a real distributor's month."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import models

from cobro.ledger.demo import SET_UP_DAYS
from cobro.ledger.models import Customer, Invoice, Organization, Task, TimelineEvent
from cobro.messaging.models import Message

#: Moments that are plans, not stamps: a contact the rules moved to tomorrow is scheduled tomorrow.
PLANNED = {"dunning.Action.scheduled_for", "messaging.Message.scheduled_for", "messaging.Message.next_attempt_at",
           "messaging.Message.lease_until"}


def _moments(org: Organization):
    """(label, value) of every stored moment of the demo organization's rows."""
    for model in apps.get_models():
        if not model.__module__.startswith("cobro."):
            continue
        fields = [f.attname for f in model._meta.concrete_fields if isinstance(f, models.DateTimeField)]
        names = {f.name for f in model._meta.concrete_fields}
        if "organization" in names:
            rows = model.objects.filter(organization=org)
        elif model is Organization:
            rows = model.objects.filter(pk=org.pk)
        else:
            continue
        for name in fields:
            for value in rows.exclude(**{name: None}).values_list(name, flat=True):
                yield f"{model._meta.label}.{name}", value


@pytest.fixture(params=[dt.date(2025, 3, 14), dt.date(2027, 8, 2)], ids=["past", "future"])
def demo(request, transactional_db):
    today = request.param
    call_command("demo", today=today, customers=80, no_migrate=True, stdout=io.StringIO())
    return Organization.objects.get(slug="demo"), today


def test_the_demo_runs_by_its_own_clock(demo):
    org, today = demo
    zone = ZoneInfo(org.timezone)
    end = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    start = dt.datetime.combine(today - dt.timedelta(days=SET_UP_DAYS + 1), dt.time(0), tzinfo=zone)
    late, early = Counter(), Counter()
    for label, value in _moments(org):
        if value >= end and label not in PLANNED:
            late[label] += 1
        if value < start:
            early[label] += 1
    assert TimelineEvent.objects.for_org(org).count() > 300
    assert not late, f"stamped after the demo's day {today}: {dict(late)}"
    assert not early, f"stamped before the demo's set-up: {dict(early)}"
    # Payments are thanked by the demo's clock: queued when the payment was recorded, within the month
    # Cobro has been sending, and sent by the demo's worker (none left waiting on the real clock).
    from cobro.ledger.demo import SENDING_DAYS

    thanks = Message.objects.for_org(org).filter(template="thank_you")
    month = dt.datetime.combine(today - dt.timedelta(days=SENDING_DAYS), dt.time(0), tzinfo=zone)
    assert thanks.count() >= 5
    assert all(month <= m.scheduled_for < end for m in thanks), sorted(m.scheduled_for for m in thanks)[-3:]
    assert not thanks.filter(status="queued").exists()
    # Spread over the month as the payments are, not piled on its last day.
    per_day = Counter(m.scheduled_for.astimezone(zone).date() for m in thanks)
    assert per_day[today] <= 0.1 * thanks.count(), sorted(per_day.items())[-3:]
    assert all(m.sent_at is None or m.sent_at >= m.scheduled_for for m in thanks)


def test_the_demo_is_a_well_run_month(demo):
    org, today = demo
    out = Message.objects.for_org(org).filter(direction="out")
    total = out.count()
    assert total >= 30  # a month of a small book (the last week's approved notices not sent yet)
    templates = Counter(out.values_list("template", flat=True))
    statuses = Counter(out.values_list("status", flat=True))
    # Mostly kind reminders; the late-fee notice a small minority.
    assert templates["late_fee_notice"] <= 0.15 * total, templates
    friendly = out.filter(tone="friendly").count()
    assert friendly >= 0.4 * total, templates
    # Most delivered (many read), a few failed: the dashboard's delivery rate is that of a real month.
    assert statuses["delivered"] + statuses["read"] >= 0.6 * total, statuses
    assert statuses["read"] >= 0.2 * total and 0 < statuses["failed"] <= 0.1 * total, statuses
    # Approvals a minority of the open tasks: the manager went through the earlier ones.
    open_tasks = Counter(Task.objects.for_org(org).filter(status="open").values_list("kind", flat=True))
    assert sum(open_tasks.values()) >= 10
    assert open_tasks["approval"] <= 0.4 * sum(open_tasks.values()), open_tasks
    # The board spread over its stages, the last resorts included.
    from cobro.workspace import board

    ids = list(Customer.objects.for_org(org).values_list("pk", flat=True))
    stages = Counter(board.stage_of_customers(org, board.balances(org, today), ids, today, all_customers=True)
                     .values())
    wanted = {"promesa", "plan_de_pagos", "disputa", "mediacion", "legal"}
    assert wanted <= {s for s, n in stages.items() if n}, stages
    stored = Counter(apps.get_model("dunning", "CustomerStage").objects.filter(organization=org)
                     .values_list("stage", flat=True))
    assert len(stored) >= 5, stored
    # A bank account for every currency the invoices are in.
    from cobro.payments.models import BankAccount

    currencies = set(Invoice.objects.for_org(org).values_list("currency", flat=True))
    assert len(currencies) >= 3
    assert currencies <= set(BankAccount.objects.for_org(org).values_list("currency", flat=True))
