"""The daily cycle: load the open book (one query per table), ask the engine, persist its decisions.

Exactly once: every decision has a deterministic key under a unique constraint. Actions are written
in batches of customers, each batch in one transaction together with what other apps do on
``actions_created`` (messaging's outbox rows, agreements' fees) and the tasks it opens, so a crash
leaves whole batches or nothing. A re-run for the same day plans the same keys (the run's own
earlier actions are left out of the contact history on purpose) and writes only the missing ones.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Count, Max
from django.utils import timezone

from cobro.engine.contact import MESSAGE_CHANNELS, holidays_for, zone
from cobro.engine.plan import Decision, plan
from cobro.engine.policy import parse_policy
from cobro.engine.snapshot import Contacted, Debtor, Hold, OpenInvoice, Snapshot
from cobro.ledger.models import Contact, Customer, Invoice, Organization, Task, TimelineEvent
from cobro.ledger.services import create_task, record_events

from . import services
from .models import Action, ContactRuleChange, CustomerStage, CycleRun, Pause, PolicyAssignment
from .models import Policy as PolicyRow
from .signals import actions_created

#: Contacts older than this cannot affect today's decision (longest cap window, longest cool-down).
HISTORY_DAYS = 35
CONTACT_KINDS = ("message.sent", "message.reply", "call.logged")
TASK_TITLES = {
    "call": "Llamar al cliente ({step})",
    "no_contact": "Sin forma de contacto: conseguir datos ({step})",
    "approval": "Aprobar paso {step} ({template})",
}


def _optional(module: str, name: str):
    """A function another app provides, or None while that app has not shipped it yet."""
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


def load_snapshot(org: Organization, as_of: dt.date, customer_ids: Iterable[int] | None = None) -> Snapshot:
    """Read everything the engine needs for one day, one query per table."""
    ids = list(customer_ids) if customer_ids is not None else None

    def scoped(qs, field_name="customer_id"):
        return qs.filter(**{f"{field_name}__in": ids}) if ids is not None else qs

    invoices = tuple(OpenInvoice(*row) for row in scoped(
        Invoice.objects.for_org(org).filter(status=Invoice.Status.OPEN, open_amount__gt=0)
    ).values_list("id", "customer_id", "ref", "due_date", "currency", "open_amount").iterator(chunk_size=20000))

    reach: dict[int, set[str]] = {}
    for cid, email, phone, wa, c_email, c_sms, c_wa, c_call in scoped(Contact.objects.for_org(org)).values_list(
            "customer_id", "email", "phone", "whatsapp", "consent_email", "consent_sms", "consent_whatsapp",
            "consent_call").iterator(chunk_size=20000):
        got = reach.setdefault(cid, set())
        if email and c_email:
            got.add("email")
        if phone and c_sms:
            got.add("sms")
        if (wa or phone) and c_wa:
            got.add("whatsapp")
        if phone and c_call:
            got.add("call")
    opted = {}
    opted_out_channels = _optional("cobro.messaging.services", "opted_out_channels")
    if opted_out_channels is not None:
        opted = opted_out_channels(org)

    stored = dict(scoped(CustomerStage.objects.for_org(org)).values_list("customer_id", "stage"))
    earliest: dict[int, dt.date] = {}
    for inv in invoices:
        if inv.customer_id not in earliest or inv.due_date < earliest[inv.customer_id]:
            earliest[inv.customer_id] = inv.due_date

    policy_rows = list(PolicyRow.objects.for_org(org).values_list("pk", "code", "is_default", "segment", "definition"))
    if not any(r[2] for r in policy_rows):
        # No policy chosen yet: the shipped default applies (saved by ``ensure_default_policy``).
        shipped = services.default_policy_data()
        policy_rows.append((None, shipped["code"], True, "", shipped))
    policies = {code: parse_policy(definition) for _, code, _, _, definition in policy_rows}
    code_by_pk = {pk: code for pk, code, *_ in policy_rows}
    default_code = next(code for _, code, is_default, *_ in policy_rows if is_default)
    by_segment = {segment: code for _, code, _, segment, _ in policy_rows if segment}
    assigned = {cid: code_by_pk[pk] for cid, pk in scoped(PolicyAssignment.objects.for_org(org))
                .values_list("customer_id", "policy_id")}

    debtors = {}
    customers = Customer.objects.for_org(org)
    if ids is not None:
        customers = customers.filter(pk__in=ids)
    for cid, ref, country, tz, preferred, segment in customers.values_list(
            "pk", "ref", "country", "timezone", "preferred_channel", "segment").iterator(chunk_size=20000):
        debtors[cid] = Debtor(
            id=cid, ref=ref, country=country, timezone=tz, preferred=preferred,
            reachable=frozenset(reach.get(cid, ())), opted_out=frozenset(opted.get(cid, ())), segment=segment,
            stage=services.derive_stage(stored.get(cid), earliest.get(cid), as_of),
            policy=assigned.get(cid) or by_segment.get(segment, ""))

    holds: list[Hold] = []
    paused: dict[int, Hold] = {}
    for cid, until, reason in scoped(Pause.objects.for_org(org).filter(lifted_at__isnull=True)).values_list(
            "customer_id", "until", "reason"):
        if until is None or until >= as_of:
            paused[cid] = Hold(0, "pause", until, reason)
    if paused:
        holds.extend(Hold(inv.id, "pause", paused[inv.customer_id].until, paused[inv.customer_id].reason)
                     for inv in invoices if inv.customer_id in paused)
    items = ()
    load_agreements = _optional("cobro.agreements.cycle", "load")
    if load_agreements is not None:
        agreement_holds, items = load_agreements(org, as_of)
        if ids is not None:
            wanted = set(ids)
            open_ids = {inv.id for inv in invoices}
            agreement_holds = [h for h in agreement_holds if h.invoice_id in open_ids]
            items = [i for i in items if i.customer_id in wanted]
        holds.extend(agreement_holds)

    since = dt.datetime.combine(as_of - dt.timedelta(days=HISTORY_DAYS), dt.time(), tzinfo=dt.UTC)
    contacts: list[Contacted] = []
    seen: set[tuple[int, dt.date, str]] = set()
    # Actions of earlier days that have not gone yet (or just went) count as contacts; this day's own
    # actions do not, so that a re-run after a crash plans exactly what the first attempt planned.
    for cid, at, channel in scoped(Action.objects.for_org(org).filter(
            as_of__lt=as_of, scheduled_for__gte=since, channel__in=[*MESSAGE_CHANNELS, "call", "letter"],
            action__in=["message", "call_task", "letter"]).exclude(
            status__in=["cancelled", "rejected", "pending_approval"])).values_list(
            "customer_id", "scheduled_for", "channel").iterator(chunk_size=20000):
        seen.add((cid, at.date(), channel))
        contacts.append(Contacted(cid, at, channel))
    for cid, at, kind, data in scoped(TimelineEvent.objects.for_org(org).filter(
            kind__in=CONTACT_KINDS, at__gte=since, at__lt=dt.datetime.combine(as_of + dt.timedelta(days=1),
                                                                             dt.time(), tzinfo=dt.UTC))
            ).values_list("customer_id", "at", "kind", "data").iterator(chunk_size=20000):
        data = data or {}
        if kind == "call.logged":
            contacts.append(Contacted(cid, at, "call", data.get("outcome") == "reached"))
        elif kind == "message.reply":
            contacts.append(Contacted(cid, at, str(data.get("channel") or "email"), True))
        elif (cid, at.date(), str(data.get("channel"))) not in seen:
            contacts.append(Contacted(cid, at, str(data.get("channel") or "email")))

    last_run = (CycleRun.objects.for_org(org).filter(as_of__lt=as_of).aggregate(m=Max("as_of"))["m"])
    countries = {d.country for d in debtors.values()}
    return Snapshot(
        organization_id=org.pk, as_of=as_of, invoices=invoices, debtors=debtors, policies=policies,
        default_policy=default_code, rules=services.contact_rules(org, countries),
        holidays=holidays_for(countries, (as_of.year - 1, as_of.year, as_of.year + 1)), last_run=last_run,
        holds=tuple(holds), items=tuple(items), contacts=tuple(contacts))


@dataclass
class CycleResult:
    as_of: dt.date
    created: list[dict] = field(default_factory=list)
    planned: int = 0
    skipped: bool = False


def fingerprint(org: Organization) -> str:
    """A cheap summary of everything the plan reads; unchanged since a finished run: nothing to do."""
    parts: list = []
    for model, aggregates in (
            (Invoice, {"n": Count("id"), "m": Max("updated_at")}),
            (Customer, {"m": Max("updated_at")}),
            (Contact, {"n": Count("id"), "m": Max("id")}),
            (TimelineEvent, {"m": Max("id")}),
            (Pause, {"n": Count("lifted_at"), "m": Max("id")}),
            (PolicyRow, {"m": Max("updated_at")}),
            (PolicyAssignment, {"n": Count("id"), "m": Max("id")}),
            (ContactRuleChange, {"m": Max("id")}),
            (CustomerStage, {"m": Max("since")})):
        row = model.objects.for_org(org).aggregate(**aggregates)
        parts.extend(str(row[k]) for k in sorted(row))
    return hashlib.sha1("|".join(parts).encode()).hexdigest()


def as_json(d: Decision, snap: Snapshot, refs: dict[int, str], as_of: dt.date) -> dict:
    debtor = snap.debtors[d.customer_id]
    return {
        "key": d.key, "as_of": as_of.isoformat(), "customer_ref": debtor.ref,
        "invoice_refs": [refs.get(i, str(i)) for i in d.invoice_ids], "step": d.step, "action": d.action,
        "channel": d.channel, "template": d.template, "tone": d.tone, "status": d.status,
        "scheduled_for": d.scheduled_for.astimezone(zone(debtor.timezone)).isoformat(),
    }


def run_cycle(org: Organization, as_of: dt.date, *, dry_run: bool = False, batch_customers: int = 2000,
              on_batch=None) -> CycleResult:
    """Run (or, with ``dry_run``, preview) the cycle of one organization for one day.

    ``created`` lists the actions this call wrote (dry run: would write), as the JSON objects of
    ``cobro cycle --json``. ``on_batch`` is called after each committed batch (the crash test uses it).
    """
    if not dry_run:
        # A run that died midway is finished first, so its missing actions are not lost to the window.
        for earlier in CycleRun.objects.for_org(org).filter(as_of__lt=as_of, finished_at__isnull=True) \
                .order_by("as_of").values_list("as_of", flat=True):
            run_cycle(org, earlier, batch_customers=batch_customers)
    evaluate_agreements = _optional("cobro.agreements.cycle", "evaluate")
    if evaluate_agreements is not None and not dry_run:
        # Promises kept or broken and instalments missed are settled before the book is read.
        evaluate_agreements(org, as_of)
    stamp = fingerprint(org)
    done = CycleRun.objects.for_org(org).filter(as_of=as_of).first()
    if done and done.finished_at and done.fingerprint == stamp:
        return CycleResult(as_of=as_of, skipped=True)
    snap = load_snapshot(org, as_of)
    decisions = plan(snap).decisions
    existing = set(Action.objects.for_org(org).filter(as_of=as_of).values_list("key", flat=True))
    new = [d for d in decisions if d.key not in existing]
    refs = {inv.id: inv.ref for inv in snap.invoices}
    missing = {i for d in new for i in d.invoice_ids if i not in refs}
    if missing:
        refs.update(Invoice.objects.for_org(org).filter(pk__in=missing).values_list("pk", "ref"))
    result = CycleResult(as_of=as_of, planned=len(decisions))
    if dry_run:
        result.created = [as_json(d, snap, refs, as_of) for d in new]
        return result
    if done is None:
        try:
            with transaction.atomic():
                done = CycleRun.objects.create(organization=org, as_of=as_of, started_at=timezone.now())
        except IntegrityError:
            done = CycleRun.objects.for_org(org).get(as_of=as_of)
    start = 0
    while start < len(new):
        # Batches end on a customer boundary so one customer's actions commit together.
        end = min(start + batch_customers, len(new))
        while end < len(new) and new[end].customer_id == new[end - 1].customer_id:
            end += 1
        batch = new[start:end]
        _persist(org, snap, batch, refs, as_of)
        result.created.extend(as_json(d, snap, refs, as_of) for d in batch)
        start = end
        if on_batch is not None:
            on_batch(start)
    CycleRun.objects.for_org(org).filter(pk=done.pk).update(
        finished_at=timezone.now(), fingerprint=stamp, created=(done.created or 0) + len(new))
    return result


def _persist(org: Organization, snap: Snapshot, batch: list[Decision], refs: dict[int, str], as_of: dt.date):
    rows = [Action(
        organization=org, customer_id=d.customer_id, key=d.key, as_of=as_of, step=d.step, action=d.action,
        channel=d.channel, template=d.template, tone=d.tone, invoice_ids=list(d.invoice_ids),
        invoice_refs=[refs.get(i, str(i)) for i in d.invoice_ids], scheduled_for=d.scheduled_for,
        status=d.status, data={k: v for k, v in (("reason", d.reason), ("to_stage", d.to_stage),
                                                 ("items", list(d.items))) if v})
        for d in batch]
    now = timezone.now()
    with transaction.atomic():
        actions = Action.objects.bulk_create(rows)
        events = []
        for a in actions:
            events.append(TimelineEvent(
                organization=org, customer_id=a.customer_id, at=now, kind="action.planned",
                summary=f"{a.action} {a.step} por {a.channel}: {', '.join(a.invoice_refs)}"[:300],
                data={"key": a.key, "scheduled_for": a.scheduled_for.isoformat(), "status": a.status}))
            if a.status == Action.Status.PENDING_APPROVAL:
                _task(org, snap, a, "approval")
            elif a.action == "call_task":
                _task(org, snap, a, "no_contact" if "buscar datos" in a.data.get("reason", "") else "call")
            elif a.action == "stage" and a.data.get("to_stage"):
                _stage(org, a)
        record_events(events)
        actions_created.send(sender=Action, organization=org, actions=actions)


def _task(org: Organization, snap: Snapshot, a: Action, kind: str) -> None:
    local_day = a.scheduled_for.astimezone(zone(snap.debtors[a.customer_id].timezone)).date()
    title = TASK_TITLES[kind].format(step=a.step, template=a.template)
    if a.invoice_refs:
        title += ": " + ", ".join(a.invoice_refs[:5])
    create_task(org, a.customer_id, "approval" if kind == "approval" else "call", title, local_day,
                source_key=f"dunning:{a.key}",
                data={"action_key": a.key, "reason": a.data.get("reason", ""), "template": a.template})


def _stage(org: Organization, a: Action) -> None:
    customer = Customer.objects.for_org(org).get(pk=a.customer_id)
    try:
        services.move_stage(org, customer, a.data["to_stage"], reason=f"paso {a.step}")
    except services.DunningError:
        pass  # the customer is already past that stage (or in a dispute): the board keeps it


def open_tasks_for(org: Organization, keys: list[str]) -> dict[str, int]:
    """Task ids opened by the cycle for these action keys (for the workspace and tests)."""
    return dict(Task.objects.for_org(org).filter(source_key__in=[f"dunning:{k}" for k in keys])
                .values_list("source_key", "pk"))

