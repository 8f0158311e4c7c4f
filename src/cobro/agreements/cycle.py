"""What the daily cycle needs from agreements, read set-based: a few queries for a whole organization.

- ``evaluate(org, as_of)`` (``services.evaluate_agreements``) first settles the facts: promises kept
  or broken, instalments paid or missed, plans completed or broken. Idempotent: each transition is
  written once, with its timeline event (and a task for the team when something is broken).
- ``load(org, as_of)`` then returns the ``Hold``s that pause invoices (a pending promise until its
  date plus grace, an active or proposed plan, an open dispute) and the ``AgreementItem``s to tell
  the customer about (promise and instalment reminders, late instalments, broken promises,
  resolved disputes), each dated the day it should be told. Items carry stable keys, and the
  engine takes those due since its last run, so a re-run sends nothing twice and a day the
  cycle did not run is not a message lost (within ``ITEM_WINDOW_DAYS``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import connection, transaction
from django.db.models import F, OuterRef, Q, Subquery

from cobro.agreements.models import Dispute, DisputeReason, Instalment, Plan, Promise
from cobro.agreements.services import DEFAULT_DISPUTE_REASONS, noon_utc
from cobro.engine import agreements as maths
from cobro.engine.money import from_minor
from cobro.engine.snapshot import AgreementItem, Hold
from cobro.engine.text import Day, Text, gettext_noop
from cobro.ledger import services as ledger
from cobro.ledger.models import Allocation, Invoice, Organization, Payment, TimelineEvent

#: How many days back items are offered: the engine keeps those due since its last run, so a cycle
#: that did not run for a few days still tells them; older news is not worth a message.
ITEM_WINDOW_DAYS = 7

_LIVE_PLAN = (Plan.Status.ACTIVE, Plan.Status.PROPOSED)
_OPEN_DISPUTE = (Dispute.Status.OPEN, Dispute.Status.ANSWERED)


def _days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def load(org: Organization, as_of: dt.date) -> tuple[list[Hold], list[AgreementItem]]:
    """Holds and items for the whole organization on ``as_of`` (six queries, whatever its size).

    An item's ``due_date`` is the day it should be told (the engine sends those that fell due since
    its last run): a promise reminder ``promise_reminder_days`` before the date, an instalment
    reminder ``plan_reminder_days`` before it, a late-instalment nudge the day after it, a broken
    promise or a resolved dispute on the day it happened.
    """
    holds: list[Hold] = []
    items: list[AgreementItem] = []
    recent = as_of - _days(ITEM_WINDOW_DAYS)
    reminder_days = int(org.option("promise_reminder_days", 1))
    plan_lead = int(org.option("plan_reminder_days", 3))

    def told(day: dt.date) -> bool:
        return recent <= day <= as_of

    # Related rows are selected by subquery, not by lists of ids: at size L a list of 20,000 ids
    # would pass SQLite's limit on query parameters.
    promise_qs = Promise.objects.for_org(org).filter(
        Q(status=Promise.Status.PENDING) | Q(status=Promise.Status.BROKEN, resolved_on__gte=recent))
    promises = list(promise_qs.values_list("pk", "customer_id", "status", "made_on", "promised_date", "grace_days",
                                           "amount", "paid_amount", "currency", "resolved_on"))
    links = _links(Promise, promise_qs)
    for pid, cid, status, made_on, date, grace, amount, paid, currency, resolved_on in promises:
        inv_ids = tuple(sorted(links[pid]))
        if status == Promise.Status.PENDING:
            until = date + _days(grace)
            holds += [Hold(i, "promise", until, Text(gettext_noop("Promesa de pago al %(date)s"),
                                                                     date=Day(date))) for i in inv_ids]
            # Not on the day it was made: the customer has just said it.
            send = max(date - _days(reminder_days), made_on + _days(1))
            if send <= date and told(send) and paid < amount:
                items.append(AgreementItem(cid, "promise_reminder", f"promise:{pid}:reminder", send,
                                           amount - paid, currency, "promise_reminder", "", inv_ids))
        elif told(resolved_on):
            items.append(AgreementItem(cid, "promise_broken", f"promise:{pid}:broken", resolved_on,
                                       amount - paid, currency, "promise_broken", "", inv_ids))

    live = Plan.objects.for_org(org).filter(status__in=_LIVE_PLAN)
    plans = {p[0]: p for p in live.values_list("pk", "customer_id", "status", "currency", "start_date")}
    for pid, inv_ids in _links(Plan, live).items():
        reason = Text(gettext_noop("Plan de pagos vigente") if plans[pid][2] == Plan.Status.ACTIVE
                      else gettext_noop("Plan de pagos por aprobar"))
        holds += [Hold(inv_id, "plan", None, reason) for inv_id in inv_ids]
    for pid, number, due, amount, paid in (
            Instalment.objects.for_org(org).filter(plan__status=Plan.Status.ACTIVE, paid_amount__lt=F("amount"))
            .values_list("plan_id", "number", "due_date", "amount", "paid_amount")):
        _, cid, _, currency, start = plans[pid]
        label = "pie" if number == 0 else f"cuota {number}"
        send = max(due - _days(plan_lead), start + _days(1))
        if send <= due and told(send):
            items.append(AgreementItem(cid, "instalment_reminder", f"plan:{pid}:inst:{number}:reminder", send,
                                       amount - paid, currency, "instalment_reminder", label))
        if told(due + _days(1)):
            items.append(AgreementItem(cid, "instalment_late", f"plan:{pid}:inst:{number}:late", due + _days(1),
                                       amount - paid, currency, "instalment_late", label))

    # The reason's label comes with the dispute (one query): explain shows words, never the code.
    label = Subquery(DisputeReason.objects.filter(organization=OuterRef("organization"), code=OuterRef("reason"))
                     .values("label")[:1])
    for did, cid, inv_id, status, reason, resolved_at, ref, open_amount, currency, named in (
            Dispute.objects.for_org(org)
            .filter(Q(status__in=_OPEN_DISPUTE) | Q(resolved_at__date__gte=recent, resolved_at__date__lte=as_of))
            .annotate(reason_label=label)
            .values_list("pk", "customer_id", "invoice_id", "status", "reason", "resolved_at", "invoice__ref",
                         "invoice__open_amount", "invoice__currency", "reason_label")):
        if status in _OPEN_DISPUTE:
            holds.append(Hold(inv_id, "dispute", None, reason_words(reason, named)))
        else:
            items.append(AgreementItem(cid, "dispute_resolved", f"dispute:{did}:resolved", resolved_at.date(),
                                       open_amount, currency, "dispute_resolved", ref, (inv_id,)))
    return holds, items


def evaluate(org: Organization, as_of: dt.date, customer_ids=None) -> dict[str, int]:
    """Settle promises and plans as of ``as_of``; returns how many changed, by outcome."""
    counts = {"promises_kept": 0, "promises_broken": 0, "instalments_paid": 0, "instalments_missed": 0,
              "plans_completed": 0, "plans_broken": 0}
    promise_qs = Promise.objects.for_org(org).filter(status=Promise.Status.PENDING, made_on__lte=as_of)
    plan_qs = Plan.objects.for_org(org).filter(status=Plan.Status.ACTIVE, start_date__lte=as_of)
    if customer_ids is not None:
        ids = list(customer_ids)
        promise_qs, plan_qs = promise_qs.filter(customer_id__in=ids), plan_qs.filter(customer_id__in=ids)
    promises, plans = list(promise_qs), list(plan_qs)
    # Later queries select by subquery on these two querysets, never by lists of ids (SQLite's
    # parameter limit at size L).
    if not promises and not plans:
        return counts
    # What counts towards an agreement: money applied to the invoices it covers, plus money the
    # customer paid that went to no invoice (their credit: e.g. a plan's interest, which is not an
    # invoice). Payments to other invoices do not count. Three queries for all of them.
    starts = [p.made_on for p in promises] + [p.start_date for p in plans]
    since = min(starts)
    promise_links = _links(Promise, promise_qs)
    plan_links = _links(Plan, plan_qs)
    covered = (Q(invoice_id__in=Promise.invoices.through.objects.filter(promise__in=promise_qs).values("invoice_id"))
               | Q(invoice_id__in=Plan.invoices.through.objects.filter(plan__in=plan_qs).values("invoice_id")))
    applied: dict[int, list[tuple[dt.date, int]]] = defaultdict(list)
    for inv_id, day, amount in (Allocation.objects.for_org(org)
                                .filter(covered, date__gte=since, date__lte=as_of)
                                .values_list("invoice_id", "date", "amount")):
        applied[inv_id].append((day, amount))
    credit: dict[tuple[int, str], list[tuple[dt.date, int]]] = defaultdict(list)
    for cid, currency, day, amount in (Payment.objects.for_org(org)
                                       .filter(Q(customer_id__in=promise_qs.values("customer_id"))
                                               | Q(customer_id__in=plan_qs.values("customer_id")),
                                               unallocated__gt=0, date__gte=since, date__lte=as_of)
                                       .values_list("customer_id", "currency", "date", "unallocated")):
        credit[cid, currency].append((day, amount))

    def payments_for(agreement, links) -> list[tuple[dt.date, int]]:
        rows = [row for inv_id in links[agreement.pk] for row in applied[inv_id]]
        return rows + credit[agreement.customer_id, agreement.currency]

    events: list[TimelineEvent] = []
    broken_tasks: list[tuple[int, str, str, dict]] = []

    def event(cid, kind, summary, data):
        events.append(TimelineEvent(organization=org, customer_id=cid, kind=kind, summary=summary[:300],
                                    data=data, at=noon_utc(as_of)))

    # Promises: settled when everything they covered is closed, else judged on the payments.
    links = promise_links
    still_open = set(Invoice.objects.for_org(org).filter(
        pk__in=Promise.invoices.through.objects.filter(promise__in=promise_qs).values("invoice_id"),
        open_amount__gt=0).values_list("pk", flat=True))
    changed_promises = []
    for p in promises:
        settled = bool(links[p.pk]) and not (set(links[p.pk]) & still_open)
        out = maths.evaluate_promise(maths.PromiseFacts(p.made_on, p.promised_date, p.amount, p.grace_days),
                                     payments_for(p, links), as_of, settled=settled)
        if out.status == "pending" and out.paid == p.paid_amount:
            continue
        p.paid_amount = out.paid
        if out.status != "pending":
            p.status, p.resolved_on = out.status, as_of
            money = f"{from_minor(p.amount, p.currency)} {p.currency}"
            data = {"promise_id": p.pk, "amount": p.amount, "paid": out.paid, "currency": p.currency,
                    "promised_date": p.promised_date.isoformat()}
            if out.status == "kept":
                counts["promises_kept"] += 1
                event(p.customer_id, "promise.kept", f"Promesa de pago cumplida ({money})", data)
            else:
                counts["promises_broken"] += 1
                event(p.customer_id, "promise.broken", f"Promesa de pago del {p.promised_date:%d-%m-%Y} "
                      f"incumplida ({money})", data)
                broken_tasks.append((p.customer_id, f"promise:{p.pk}:broken",
                                     f"Llamar: promesa del {p.promised_date:%d-%m-%Y} incumplida", data))
        changed_promises.append(p)

    # Plans: what was paid towards the plan since it began fills its instalments in order.
    instalments = defaultdict(list)
    for inst in Instalment.objects.for_org(org).filter(plan__in=plan_qs).order_by("plan_id", "number"):
        instalments[inst.plan_id].append(inst)
    changed_inst, changed_plans = [], []
    for plan in plans:
        rows = instalments[plan.pk]
        pays = [(d, a) for d, a in payments_for(plan, plan_links) if d >= plan.start_date]
        total = sum(a for _, a in pays)
        sched = [maths.Instalment(i.number, i.due_date, i.amount) for i in rows]
        progress = maths.plan_progress(sched, total, as_of, grace_days=plan.grace_days, max_missed=plan.max_missed)
        done_on = maths.completion_dates([i.amount for i in rows], pays)
        for inst, paid, day in zip(rows, progress.paid, done_on, strict=True):
            missed = inst.number in progress.missed
            if (inst.paid_amount, inst.paid_on, inst.missed or missed) == (paid, day, inst.missed):
                continue
            label = "Pie" if inst.number == 0 else f"Cuota {inst.number}"
            data = {"plan_id": plan.pk, "number": inst.number, "amount": inst.amount, "paid": paid,
                    "currency": plan.currency, "due_date": inst.due_date.isoformat()}
            if day and not inst.paid_on:
                counts["instalments_paid"] += 1
                event(plan.customer_id, "plan.instalment_paid", f"{label} del plan de pagos pagada", data)
            if missed and not inst.missed:
                counts["instalments_missed"] += 1
                event(plan.customer_id, "plan.instalment_missed",
                      f"{label} del plan de pagos impaga (vencía el {inst.due_date:%d-%m-%Y})", data)
            inst.paid_amount, inst.paid_on, inst.missed = paid, day, inst.missed or missed
            changed_inst.append(inst)
        if plan.paid_amount != total or progress.status != "active":
            plan.paid_amount = min(total, plan.total)
            data = {"plan_id": plan.pk, "paid": plan.paid_amount, "missed": list(progress.missed)}
            if progress.status == "completed":
                plan.status, plan.ended_on = Plan.Status.COMPLETED, as_of
                counts["plans_completed"] += 1
                event(plan.customer_id, "plan.completed", "Plan de pagos pagado por completo", data)
            elif progress.status == "broken":
                plan.status, plan.ended_on = Plan.Status.BROKEN, as_of
                counts["plans_broken"] += 1
                event(plan.customer_id, "plan.broken",
                      f"Plan de pagos incumplido ({len(progress.missed)} cuotas impagas): se retoma la cobranza", data)
                broken_tasks.append((plan.customer_id, f"plan:{plan.pk}:broken",
                                     "Llamar: plan de pagos incumplido", data))
            changed_plans.append(plan)

    with transaction.atomic():
        _update_rows(Promise, ["status", "resolved_on", "paid_amount"], changed_promises)
        _update_rows(Instalment, ["paid_amount", "paid_on", "missed"], changed_inst)
        _update_rows(Plan, ["status", "ended_on", "paid_amount"], changed_plans)
        ledger.record_events(events)
        # Few per day: one task per broken agreement, idempotent through its source key.
        for cid, key, title, data in broken_tasks:
            ledger.create_task(org, cid, "agreement_broken", title, as_of, source_key=f"agreements:{key}", data=data)
    return counts


def _links(model, agreements) -> dict[int, list[int]]:
    """Agreement id → the invoice ids it covers, in one query (``agreements``: a queryset)."""
    fk = "promise" if model is Promise else "plan"
    out: dict[int, list[int]] = defaultdict(list)
    for aid, inv_id in (model.invoices.through.objects.filter(**{f"{fk}__in": agreements})
                        .values_list(f"{fk}_id", "invoice_id")):
        out[aid].append(inv_id)
    return out


def _update_rows(model, fields: list[str], rows: list) -> None:
    """Write ``fields`` of many rows with one prepared UPDATE run for each (executemany).

    Django's bulk_update builds a CASE expression per field with a branch per row in Python; at
    tens of thousands of rows (a first evaluation at size L) that alone took two minutes, where
    a prepared statement takes under a second on SQLite and PostgreSQL alike.
    """
    if not rows:
        return
    concrete = [model._meta.get_field(f) for f in fields]
    quote = connection.ops.quote_name
    sql = (f"UPDATE {quote(model._meta.db_table)} SET "
           + ", ".join(f"{quote(f.column)} = %s" for f in concrete) + f" WHERE {quote(model._meta.pk.column)} = %s")
    params = [[f.get_db_prep_save(getattr(row, f.attname), connection) for f in concrete] + [row.pk]
              for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)



_SHIPPED_REASONS = dict(DEFAULT_DISPUTE_REASONS)


def reason_words(code: str, label: str | None) -> Text | str:
    """What explain shows for a dispute's reason: the organization's label, in the reader's language
    while it is the label Cobro ships (the portal's catalog translates those), as written otherwise."""
    if not label:
        return code
    return Text(label) if _SHIPPED_REASONS.get(code) == label else label
