"""The workspace's part of the demo: reasons list, today's calls, the month's calls already made (some
with a promise), the board's stages as the team left them, and a few calls logged earlier.

Everything is dated by the demo's clock: a call made on a past day is logged at that day's hour."""

from __future__ import annotations

import datetime as dt
import random

from django.db.models import Min, Sum

from cobro.ledger.models import Invoice, Organization, Task, TimelineEvent
from cobro.ledger.services import create_task, record_events
from cobro.workspace.services import DEFAULT_REASONS, OUTCOMES, PromiseInput, ensure_reasons, log_call

TODAY_CALLS = 12
PAST_CALLS = 30


def populate(org: Organization, today: dt.date) -> None:
    """Idempotent: tasks carry source keys and the past calls are written once (marked ``demo``)."""
    ensure_reasons(org)
    _exchange_rates(org)
    overdue = list(Invoice.objects.for_org(org).filter(status=Invoice.Status.OPEN, due_date__lt=today)
                   .values("customer_id").annotate(total=Sum("open_amount"), oldest=Min("due_date"))
                   .order_by("-total")[:TODAY_CALLS + PAST_CALLS])
    for row in overdue[:TODAY_CALLS]:
        days = (today - row["oldest"]).days
        create_task(org, row["customer_id"], "call", f"Llamar: {days} días de atraso", today,
                    source_key=f"demo:call:{row['customer_id']}:{today.isoformat()}")
    _month_calls(org, today)
    _last_resorts(org, today)
    _board(org, today)
    if TimelineEvent.objects.for_org(org).filter(kind="call.logged", data__demo=True).exists():
        return
    rng = random.Random(6)
    reasons = [code for code, _label in DEFAULT_REASONS]
    # Calls are made by people: the account's owner, else one of the agents (the team figures count them).
    from cobro.ledger.models import Customer, Membership

    agents = sorted(Membership.objects.filter(organization=org, role="agent").values_list("user_id", flat=True))
    owners = dict(Customer.objects.for_org(org).filter(pk__in=[r["customer_id"] for r in overdue])
                  .values_list("pk", "owner_id"))
    events = []
    for row in overdue[TODAY_CALLS:]:
        outcome = rng.choice(list(OUTCOMES))
        reason = rng.choice(reasons) if outcome == "reached" else ""
        at = dt.datetime.combine(today - dt.timedelta(days=rng.randint(2, 20)), dt.time(13 + rng.randint(0, 5)),
                                 tzinfo=dt.UTC)
        note = "Pide que le llamemos la próxima semana." if outcome == "reached" else ""
        actor = owners.get(row["customer_id"]) or (rng.choice(agents) if agents else None)
        events.append(TimelineEvent(organization=org, customer_id=row["customer_id"], at=at, kind="call.logged",
                                    summary=str(OUTCOMES[outcome]), actor_id=actor,
                                    data={"outcome": outcome, "reason": reason, "note": note, "demo": True}))
    record_events(events)


def _at(org: Organization, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    from zoneinfo import ZoneInfo

    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ZoneInfo(org.timezone or "UTC"))


def _month_calls(org: Organization, today: dt.date) -> None:
    """The calls the cycle asked for on earlier days were made on their day: most reached the
    customer, a third of those with a promise to pay next week (the board's "Promesa")."""
    from django.contrib.auth import get_user_model

    rng = random.Random(13)
    people = {u.pk: u for u in get_user_model().objects.filter(memberships__organization=org)}
    from cobro.ledger.models import Membership

    agents = sorted(Membership.objects.filter(organization=org, role="agent").values_list("user_id", flat=True))
    past = list(Task.objects.for_org(org).filter(kind="call", status=Task.Status.OPEN, due_on__lt=today)
                .select_related("customer").order_by("due_on", "pk"))
    for task in past:
        task.refresh_from_db(fields=["status"])
        if task.status != Task.Status.OPEN:
            continue  # closed by an earlier call to the same customer
        actor = people.get(task.assignee_id) or (people.get(rng.choice(agents)) if agents else None)
        at = _at(org, task.due_on, rng.randint(10, 17), rng.choice([0, 15, 30, 45]))
        roll = rng.random()
        outcome = "reached" if roll < 0.6 else "no_answer" if roll < 0.92 else "wrong_number"
        promise = None
        if outcome == "reached" and rng.random() < 0.35:
            oldest = (Invoice.objects.for_org(org).filter(customer=task.customer, status=Invoice.Status.OPEN,
                                                          open_amount__gt=0).order_by("due_date").first())
            if oldest is not None:
                promise = PromiseInput(today + dt.timedelta(days=rng.randint(2, 10)), oldest.open_amount,
                                       oldest.currency)
        reason = rng.choice([code for code, _label in DEFAULT_REASONS]) if outcome == "reached" else ""
        try:
            log_call(org, task.customer, actor, outcome=outcome, reason=reason, task=task, promise=promise, at=at,
                     note="Se compromete a pagar la próxima semana." if promise else "")
        except ValueError:
            log_call(org, task.customer, actor, outcome=outcome, reason=reason, task=task, at=at)


def _board(org: Organization, today: dt.date) -> None:
    """The board as the team keeps it: a customer with a live agreement sits in its column (the agent
    moved the card when it was agreed), one being worked in "En gestión"."""
    try:
        from cobro.dunning import services as dunning
    except ImportError:
        return
    from cobro.ledger.models import Customer
    from cobro.workspace.board import agreement_stages

    current = dunning.current_stages(org, as_of=today)
    at = _at(org, today, 9)
    moves = dict(agreement_stages(org))
    worked = (TimelineEvent.objects.for_org(org).filter(kind="call.logged", data__outcome="reached", at__lt=at)
              .order_by("customer_id").values_list("customer_id", flat=True).distinct())
    for cid in worked:
        moves.setdefault(cid, "en_gestion")
    for cid, stage in sorted(moves.items()):
        if current.get(cid) in ("mediacion", "legal", "pagada", stage):
            continue
        try:
            dunning.move_stage(org, Customer.objects.for_org(org).get(pk=cid), stage, reason="demo", at=at)
        except dunning.DunningError:
            pass


def _last_resorts(org: Organization, today: dt.date) -> None:
    """A well-run month has a few accounts past collection proper: the oldest debts without any
    agreement go to mediation, and the oldest of those on to legal (as a manager would approve)."""
    try:
        from cobro.dunning import services as dunning
        from cobro.dunning.models import CustomerStage
    except ImportError:
        return
    if CustomerStage.objects.for_org(org).filter(stage="legal").exists():
        return  # (the month's cycle may have put some in mediation already; legal needs this step)
    from cobro.workspace.board import agreement_stages

    busy = agreement_stages(org)
    oldest = list(Invoice.objects.for_org(org).filter(status=Invoice.Status.OPEN, due_date__lt=today - dt.timedelta(days=75))
                  .exclude(customer_id__in=list(busy)).values("customer_id").annotate(oldest=Min("due_date"))
                  .order_by("oldest", "customer_id").values_list("customer_id", flat=True)[:3])
    from cobro.ledger.models import Customer

    for i, cid in enumerate(oldest):
        customer = Customer.objects.for_org(org).get(pk=cid)
        dunning.move_stage(org, customer, "mediacion", reason="demo: 75 días sin acuerdo",
                           at=_at(org, today - dt.timedelta(days=6), 11))
        if i == 0:
            dunning.move_stage(org, customer, "legal", reason="demo: mediación sin respuesta",
                               at=_at(org, today - dt.timedelta(days=1), 11))


#: What one unit of each currency was worth in CLP at the end of 2026 (rounded): the demo's own table.
DEMO_RATES_CLP = {"USD": "940", "EUR": "1020", "MXN": "52", "COP": "0.24", "PEN": "250", "BRL": "170"}


def _exchange_rates(org: Organization) -> None:
    from cobro.workspace.models import ExchangeRate

    if org.currency != "CLP":
        return
    for currency, rate in DEMO_RATES_CLP.items():
        ExchangeRate.objects.get_or_create(organization=org, currency=currency, defaults={"rate": rate})
