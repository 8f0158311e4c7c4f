"""The workspace's part of the demo: reasons list, today's calls, and a few calls already logged."""

from __future__ import annotations

import datetime as dt
import random

from django.db.models import Min, Sum

from cobro.ledger.models import Invoice, Organization, TimelineEvent
from cobro.ledger.services import create_task, record_events
from cobro.workspace.services import DEFAULT_REASONS, OUTCOMES, ensure_reasons

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
    _last_resorts(org, today)
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


def _last_resorts(org: Organization, today: dt.date) -> None:
    """A well-run month has a few accounts past collection proper: the oldest debts without any
    agreement go to mediation, and the oldest of those on to legal (as a manager would approve)."""
    try:
        from cobro.dunning import services as dunning
        from cobro.dunning.models import CustomerStage
    except ImportError:
        return
    if CustomerStage.objects.for_org(org).filter(stage__in=["mediacion", "legal"]).exists():
        return
    from cobro.workspace.board import agreement_stages

    busy = agreement_stages(org)
    oldest = list(Invoice.objects.for_org(org).filter(status=Invoice.Status.OPEN, due_date__lt=today - dt.timedelta(days=75))
                  .exclude(customer_id__in=list(busy)).values("customer_id").annotate(oldest=Min("due_date"))
                  .order_by("oldest", "customer_id").values_list("customer_id", flat=True)[:3])
    from cobro.ledger.models import Customer

    for i, cid in enumerate(oldest):
        customer = Customer.objects.for_org(org).get(pk=cid)
        dunning.move_stage(org, customer, "mediacion", reason="demo: 75 días sin acuerdo")
        if i == 0:
            dunning.move_stage(org, customer, "legal", reason="demo: mediación sin respuesta")


#: What one unit of each currency was worth in CLP at the end of 2026 (rounded): the demo's own table.
DEMO_RATES_CLP = {"USD": "940", "EUR": "1020", "MXN": "52", "COP": "0.24", "PEN": "250", "BRL": "170"}


def _exchange_rates(org: Organization) -> None:
    from cobro.workspace.models import ExchangeRate

    if org.currency != "CLP":
        return
    for currency, rate in DEMO_RATES_CLP.items():
        ExchangeRate.objects.get_or_create(organization=org, currency=currency, defaults={"rate": rate})
