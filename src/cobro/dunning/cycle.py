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
import json
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, field

from django.core.exceptions import EmptyResultSet
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Max
from django.utils import timezone

from cobro.engine.contact import MESSAGE_CHANNELS, holidays_for, zone
from cobro.engine.plan import Decision, candidates, plan
from cobro.engine.policy import parse_policy
from cobro.engine.segments import choose
from cobro.engine.snapshot import Contacted, Debtor, Hold, LazyMap, OpenInvoice, Snapshot
from cobro.engine.zones import candidate_zones
from cobro.ledger import services as ledger_services
from cobro.ledger.bulk import JsonOnce, insert_rows, json_ints, json_strs
from cobro.ledger.models import (
    Allocation,
    Contact,
    CreditNote,
    Customer,
    Invoice,
    Organization,
    Task,
    TimelineEvent,
)

from . import segments, services
from .models import (
    Action,
    ContactRuleChange,
    CustomerRisk,
    CustomerStage,
    CycleRun,
    Pause,
    PausedInvoice,
    PolicyAssignment,
    Segment,
)
from .models import Policy as PolicyRow
from .signals import actions_created

#: Contacts older than this cannot affect today's decision (longest cap window, longest cool-down).
HISTORY_DAYS = 35
CONTACT_KINDS = ("message.sent", "message.reply", "call.logged")
#: Up to this many customers, their rows are read with ``IN (...)`` (SQLite allows 32,766 parameters);
#: beyond it, the whole table is read.
PEOPLE_IN_LIMIT = 30000
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


def _rows(qs, *fields):
    """Rows of ``qs.values_list(*fields)`` read with a plain cursor: the ORM's per-value converters
    cost more than the read itself at a million rows. Callers convert what the driver leaves as text."""
    try:
        sql, params = qs.order_by().values_list(*fields).query.sql_with_params()
    except EmptyResultSet:  # an empty ``IN ()``: nobody to read
        return
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(20000):
            yield from batch


def _date(value):
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _moment(value):
    # SQLite keeps UTC datetimes naive (as text, or parsed by Django's converter); PostgreSQL gives
    # aware ones. A naive value read back as local time would shift every contact by the server's zone.
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def _json(value):
    return json.loads(value) if isinstance(value, str) else (value or {})


def load_snapshot(org: Organization, as_of: dt.date, customer_ids: Iterable[int] | None = None,
                  within: Container[int] | None = None) -> Snapshot:
    """Read everything the engine needs for one day, one query per table.

    ``within``: only the customers it contains (one shard of the book, ``dunning.shards``): the open
    invoices are read whole and filtered here, the rest is read for the remaining customers only.
    """
    ids = list(customer_ids) if customer_ids is not None else None

    def scoped(qs, field_name="customer_id"):
        return qs.filter(**{f"{field_name}__in": ids}) if ids is not None else qs

    invoices = tuple(OpenInvoice(pk, cid, ref, _date(due), currency, amount) for pk, cid, ref, due, currency, amount
                     in _rows(scoped(Invoice.objects.for_org(org).filter(status=Invoice.Status.OPEN,
                                                                         open_amount__gt=0)),
                              "id", "customer_id", "ref", "due_date", "currency", "open_amount"))
    if within is not None:
        invoices = tuple(inv for inv in invoices if inv.customer_id in within)

    policy_rows = list(PolicyRow.objects.for_org(org).values_list("pk", "code", "is_default", "segment", "definition"))
    if not any(r[2] for r in policy_rows):
        # No policy chosen yet: the shipped default applies (saved by ``ensure_default_policy``).
        shipped = services.default_policy_data()
        policy_rows.append((None, shipped["code"], True, "", shipped))
    policies = {code: parse_policy(definition) for _, code, _, _, definition in policy_rows}
    code_by_pk = {pk: code for pk, code, *_ in policy_rows}
    default_code = next(code for _, code, is_default, *_ in policy_rows if is_default)
    by_tag = segments.legacy_labels((code, segment) for _, code, _, segment, _ in policy_rows)
    rule_set = segments.rules(org)
    last_run = (CycleRun.objects.for_org(org).filter(as_of__lt=as_of).aggregate(m=Max("as_of"))["m"])
    holds: list[Hold] = []
    items = ()
    load_agreements = _optional("cobro.agreements.cycle", "load")
    if load_agreements is not None:
        agreement_holds, items = load_agreements(org, as_of)
        if ids is not None:
            wanted = set(ids)
            open_ids = {inv.id for inv in invoices}
            agreement_holds = [h for h in agreement_holds if h.invoice_id in open_ids]
            items = [i for i in items if i.customer_id in wanted]
        if within is not None:
            items = [i for i in items if i.customer_id in within]
        holds.extend(agreement_holds)

    # Customers, contacts and contact history are read only for the customers who may have a step
    # today (a superset the engine computes from the due dates), when that is a small part of the
    # book; they are kept raw and turned into engine records on demand (see ``LazyMap``).
    people = ids
    if ids is None:
        maybe = candidates(invoices, policies, as_of, last_run)
        if maybe is None and within is not None:
            # The plan looks only at customers with an open invoice or an instalment due.
            maybe = {inv.customer_id for inv in invoices}
        if maybe is not None and len(maybe) + len(items) <= PEOPLE_IN_LIMIT:
            people = sorted(maybe | {i.customer_id for i in items})

    def about(qs, field_name="customer_id"):
        return qs.filter(**{f"{field_name}__in": people}) if people is not None else qs

    contact_rows: dict[int, list[tuple]] = {}
    for row in _rows(about(Contact.objects.for_org(org)), "customer_id", "email", "phone", "whatsapp",
                     "consent_email", "consent_sms", "consent_whatsapp", "consent_call"):
        contact_rows.setdefault(row[0], []).append(row)
    opted = {}
    opted_out_channels = _optional("cobro.messaging.services", "opted_out_channels")
    if opted_out_channels is not None:
        opted = opted_out_channels(org, people) if people is not None else opted_out_channels(org)

    stored = dict(about(CustomerStage.objects.for_org(org)).values_list("customer_id", "stage"))
    earliest: dict[int, dt.date] = {}
    for inv in invoices:
        if inv.customer_id not in earliest or inv.due_date < earliest[inv.customer_id]:
            earliest[inv.customer_id] = inv.due_date

    assigned = {cid: code_by_pk[pk] for cid, pk in about(PolicyAssignment.objects.for_org(org))
                .values_list("customer_id", "policy_id")}

    customers = about(Customer.objects.for_org(org), "pk")
    customer_rows = {row[0]: row for row in _rows(customers, "pk", "ref", "country", "timezone",
                                                  "preferred_channel", "segment", "region")}
    # Segments: loaded once; what their rules read (bands, open amounts, first invoices) only when
    # some rule asks, one query each (the open amounts come from the invoices already read).
    by_band, by_amount, by_days = segments.needs(rule_set)
    band = segments.bands(org, people) if by_band else {}
    first = {cid: _date(d) for cid, d in segments.first_issued(org, people).items()} if by_days else {}
    owed: dict[int, dict[str, int]] = {}
    if by_amount:
        for inv in invoices:
            mine = owed.setdefault(inv.customer_id, {})
            mine[inv.currency] = mine.get(inv.currency, 0) + inv.open_amount
    known = frozenset(policies)

    def debtor(cid: int, row: tuple) -> Debtor:
        _, ref, country, tz, preferred, segment, region = row
        where = candidate_zones(tz, country, _phones(contact_rows.get(cid, ())), fallback=org.timezone,
                                region=region)
        chosen = choose(rule_set, segments.facts(country, segment, band.get(cid), owed.get(cid), first.get(cid),
                                                 as_of),
                        default_code, assigned=assigned.get(cid), by_tag=by_tag, known=known)
        return Debtor(
            id=cid, ref=ref, country=country, timezone=tz, preferred=preferred,
            zones=where.names, zone_source=where.source,
            reachable=_reachable(contact_rows.get(cid, ())), opted_out=frozenset(opted.get(cid, ())),
            segment=segment, stage=services.derive_stage(stored.get(cid), earliest.get(cid), as_of),
            policy=chosen.policy, policy_source=chosen.source,
            policy_segment=chosen.segment.name if chosen.segment is not None else "")

    holds.extend(_pause_holds(org, as_of, invoices, scoped))
    since = dt.datetime.combine(as_of - dt.timedelta(days=HISTORY_DAYS), dt.time(), tzinfo=dt.UTC)
    history: dict[int, list[tuple]] = {}
    # Actions of earlier days that have not gone yet (or just went) count as contacts; this day's own
    # actions do not, so that a re-run after a crash plans exactly what the first attempt planned.
    for cid, at, channel in _rows(about(Action.objects.for_org(org).filter(
            as_of__lt=as_of, scheduled_for__gte=since, channel__in=[*MESSAGE_CHANNELS, "call", "letter"],
            action__in=["message", "call_task", "letter"]).exclude(
            status__in=["cancelled", "rejected", "pending_approval"])), "customer_id", "scheduled_for", "channel"):
        history.setdefault(cid, []).append((at, "action", channel))
    for cid, at, kind, data in _rows(about(TimelineEvent.objects.for_org(org).filter(
            kind__in=CONTACT_KINDS, at__gte=since, at__lt=dt.datetime.combine(as_of + dt.timedelta(days=1),
                                                                             dt.time(), tzinfo=dt.UTC))),
            "customer_id", "at", "kind", "data"):
        history.setdefault(cid, []).append((at, kind, data))

    countries = {row[2] for row in customer_rows.values()}
    return Snapshot(
        organization_id=org.pk, as_of=as_of, invoices=invoices, debtors=LazyMap(customer_rows, debtor),
        policies=policies,
        default_policy=default_code, rules=services.contact_rules(org, countries),
        holidays=Holidays((as_of.year - 1, as_of.year, as_of.year + 1)), last_run=last_run,
        holds=tuple(holds), items=tuple(items), contacts=LazyMap(history, _contacts))


def _pause_holds(org: Organization, as_of: dt.date, invoices: tuple[OpenInvoice, ...], scoped) -> list[Hold]:
    """Live pauses as holds: a pause that names invoices holds those (the portal's "I have paid");
    one that names none holds every open invoice of its customer. Two queries, the second only
    when some live pause exists (and reading only the links of live pauses)."""
    live = scoped(Pause.objects.for_org(org).filter(lifted_at__isnull=True))
    current = {pk: (cid, until, reason) for pk, cid, until, reason
               in live.values_list("pk", "customer_id", "until", "reason") if until is None or until >= as_of}
    if not current:
        return []
    named: dict[int, list[int]] = {}
    for pause_id, inv_id in PausedInvoice.objects.for_org(org).filter(pause__in=live).values_list(
            "pause_id", "invoice_id"):
        if pause_id in current:
            named.setdefault(pause_id, []).append(inv_id)
    whole: dict[int, Hold] = {}
    holds: list[Hold] = []
    open_ids = {inv.id for inv in invoices}
    for pk, (cid, until, reason) in current.items():
        if pk in named:
            holds.extend(Hold(i, "pause", until, reason) for i in named[pk] if i in open_ids)
        else:
            whole[cid] = Hold(0, "pause", until, reason)
    if whole:
        holds.extend(Hold(inv.id, "pause", whole[inv.customer_id].until, whole[inv.customer_id].reason)
                     for inv in invoices if inv.customer_id in whole)
    return holds


class Holidays(Mapping):
    """Country -> its public holidays over ``years``, built the first time a country is asked for.

    A debtor's phone may point to a zone of another country, whose holidays then count too; reading
    every phone of the book to know these countries beforehand would cost more than the cycle.
    """

    def __init__(self, years):
        self.years = tuple(years)
        self._built: dict[str, frozenset[dt.date]] = {}

    def __getitem__(self, country: str) -> frozenset[dt.date]:
        if country not in self._built:
            self._built[country] = holidays_for([country], self.years)[country]
        return self._built[country]

    def __iter__(self):
        return iter(self._built)

    def __len__(self) -> int:
        return len(self._built)


def _phones(rows) -> list[str]:
    """Every phone and WhatsApp number of one customer's contacts, each once."""
    return list(dict.fromkeys(n for row in rows for n in (row[2], row[3]) if n))


def _reachable(rows) -> frozenset[str]:
    """Channels a customer can be reached on: an address and the debtor's consent for it."""
    got = set()
    for _, email, phone, wa, c_email, c_sms, c_wa, c_call in rows:
        if email and c_email:
            got.add("email")
        if phone and c_sms:
            got.add("sms")
        if (wa or phone) and c_wa:
            got.add("whatsapp")
        if phone and c_call:
            got.add("call")
    return frozenset(got)


def _contacts(cid: int, rows: list[tuple]) -> tuple[Contacted, ...]:
    """One customer's contacts from planned actions and the timeline, each counted once."""
    out, seen = [], set()
    for at, kind, data in rows:
        if kind == "action":
            at = _moment(at)
            seen.add((at.date(), data))
            out.append(Contacted(cid, at, data))
    for at, kind, data in rows:
        if kind == "action":
            continue
        at, data = _moment(at), _json(data)
        channel = str(data.get("channel") or "email")
        if kind == "call.logged":
            out.append(Contacted(cid, at, "call", data.get("outcome") == "reached"))
        elif kind == "message.reply":
            out.append(Contacted(cid, at, channel, True))
        elif (at.date(), channel) not in seen:  # the timeline's record of a message the cycle planned
            out.append(Contacted(cid, at, channel))
    return tuple(out)


@dataclass
class CycleResult:
    as_of: dt.date
    created: list[dict] = field(default_factory=list)
    planned: int = 0
    skipped: bool = False


def fingerprint(org: Organization) -> str:
    """A cheap summary of everything the plan reads; unchanged since a finished run: nothing to do.

    Invoices are summarised by count and highest id, and their balances by the latest allocation
    and credit note (``ledger.services`` changes open amounts only through those): reading every
    invoice's ``updated_at`` would cost a fifth of the cycle at a million invoices. An edit of an
    existing invoice's due date after the day's run is picked up by the next day's run.
    """
    parts: list = []
    for model, aggregates in (
            (Invoice, {"n": Count("id"), "m": Max("id")}),
            (Allocation, {"m": Max("id")}),
            (CreditNote, {"m": Max("id")}),
            (Customer, {"m": Max("updated_at")}),
            (Contact, {"n": Count("id"), "m": Max("id")}),
            (TimelineEvent, {"m": Max("id")}),
            (Pause, {"n": Count("lifted_at"), "m": Max("id")}),
            (PolicyRow, {"m": Max("updated_at")}),
            (PolicyAssignment, {"n": Count("id"), "m": Max("id")}),
            (Segment, {"n": Count("id"), "m": Max("updated_at")}),
            (CustomerRisk, {"n": Count("id"), "m": Max("id")}),
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
        "scheduled_for": d.scheduled_for.astimezone(zone(debtor.zone_names[0])).isoformat(),
    }


def prepare_day(org: Organization, as_of: dt.date, batch_customers: int = 2000) -> None:
    """What a day's cycle does before it reads the book: finish a run that died midway (so its missing
    actions are not lost to the window), apply the bank statements left in the accounts' folders (a
    payment that arrived this morning stops today's reminder), and settle promises and instalments."""
    for earlier in CycleRun.objects.for_org(org).filter(as_of__lt=as_of, finished_at__isnull=True) \
            .order_by("as_of").values_list("as_of", flat=True):
        run_cycle(org, earlier, batch_customers=batch_customers)
    read_statements = _optional("cobro.payments.cycle", "read_statements")
    if read_statements is not None:
        read_statements(org, as_of)
    evaluate_agreements = _optional("cobro.agreements.cycle", "evaluate")
    if evaluate_agreements is not None:
        evaluate_agreements(org, as_of)


def begin_run(org: Organization, as_of: dt.date, started_at: dt.datetime) -> CycleRun:
    """The day's ``CycleRun`` row, created if it is the first attempt (two writers may race for it)."""
    done = CycleRun.objects.for_org(org).filter(as_of=as_of).first()
    if done is None:
        try:
            with transaction.atomic():
                done = CycleRun.objects.create(organization=org, as_of=as_of, started_at=started_at)
        except IntegrityError:
            done = CycleRun.objects.for_org(org).get(as_of=as_of)
    return done


def run_cycle(org: Organization, as_of: dt.date, *, dry_run: bool = False, batch_customers: int = 2000,
              on_batch=None, now: dt.datetime | None = None, shard: Container[int] | None = None) -> CycleResult:
    """Run (or, with ``dry_run``, preview) the cycle of one organization for one day.

    ``created`` lists the actions this call wrote (dry run: would write), as the JSON objects of
    ``cobro cycle --json``. ``on_batch`` is called after each committed batch (the crash test uses it).
    ``now``: the clock the run goes by (its start and finish, the actions', tasks' and stage moves'
    moments); default the real clock. A replay or the demo, running a past day, passes that day's.
    ``shard``: plan and write only the customers it contains (``dunning.shards.Shard``); the day's
    preparation and its ``CycleRun`` row are then the business of whoever split the day (``shards.begin``).
    """
    clock = (lambda: now) if now is not None else timezone.now
    whole = shard is None
    if whole:
        if not dry_run:
            prepare_day(org, as_of, batch_customers)
        stamp = fingerprint(org)
        done = CycleRun.objects.for_org(org).filter(as_of=as_of).first()
        if done and done.finished_at and done.fingerprint == stamp:
            return CycleResult(as_of=as_of, skipped=True)
    snap = load_snapshot(org, as_of, within=shard)
    decisions = plan(snap).decisions
    split_tests = _optional("cobro.insights.abtest", "split")
    exposures: list[tuple] = []
    if split_tests is not None:
        # Running A/B tests of wording: B's customers get B's template, hold-out ones no message.
        decisions, exposures = split_tests(org, snap, decisions, as_of)
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
    if whole and done is None:
        done = begin_run(org, as_of, clock())
    start, encode = 0, JsonOnce()
    while start < len(new):
        # Batches end on a customer boundary so one customer's actions commit together.
        end = min(start + batch_customers, len(new))
        while end < len(new) and new[end].customer_id == new[end - 1].customer_id:
            end += 1
        batch = new[start:end]
        mine = {a.key for a in _persist(org, snap, batch, refs, as_of, encode, clock())}
        result.created.extend(as_json(d, snap, refs, as_of) for d in batch if d.key in mine)
        start = end
        if on_batch is not None:
            on_batch(start)
    if exposures:
        _optional("cobro.insights.abtest", "record")(org, exposures, as_of)
    if whole:
        CycleRun.objects.for_org(org).filter(pk=done.pk).update(
            finished_at=clock(), fingerprint=stamp, created=(done.created or 0) + len(result.created))
    return result


class Planned:
    """A saved action as the cycle's receivers see it: the attributes of ``dunning.Action`` that
    messaging and agreements read, without building a model instance per row (#16)."""

    __slots__ = ("pk", "organization_id", "customer_id", "key", "as_of", "step", "action", "channel", "template",
                 "tone", "invoice_ids", "invoice_refs", "scheduled_for", "status", "data")

    def __init__(self, org_id: int, d: Decision, refs: dict[int, str], as_of: dt.date):
        self.pk = None
        self.organization_id, self.customer_id, self.key, self.as_of = org_id, d.customer_id, d.key, as_of
        self.step, self.action, self.channel, self.template, self.tone = d.step, d.action, d.channel, d.template, d.tone
        self.invoice_ids = list(d.invoice_ids)
        self.invoice_refs = [refs.get(i, str(i)) for i in d.invoice_ids]
        self.scheduled_for, self.status = d.scheduled_for, d.status
        self.data = {k: v for k, v in (("reason", d.reason), ("to_stage", d.to_stage), ("items", list(d.items)))
                     if v}

    @property
    def id(self):
        return self.pk


ACTION_COLUMNS = ("customer_id", "key", "step", "action", "channel", "template", "tone", "invoice_ids",
                  "invoice_refs", "scheduled_for", "status", "data")


def _persist(org: Organization, snap: Snapshot, batch: list[Decision], refs: dict[int, str], as_of: dt.date,
             encode: JsonOnce, now: dt.datetime | None = None) -> list[Planned]:
    """Write one batch of decisions with what follows from them, in one transaction; returns the
    actions this call inserted (a key another process wrote first is that process's to follow up)."""
    planned = [Planned(org.pk, d, refs, as_of) for d in batch]
    params = []
    for p, d in zip(planned, batch, strict=True):
        # Agreement items make a payload of their own; everything else repeats across customers.
        data = json.dumps(p.data) if d.items else encode(p.data, ("data", d.reason, d.to_stage))
        params.append((p.customer_id, p.key, p.step, p.action, p.channel, p.template, p.tone,
                       json_ints(p.invoice_ids), json_strs(p.invoice_refs),
                       p.scheduled_for, p.status, data))
    with transaction.atomic():
        ids = dict(insert_rows(Action, ACTION_COLUMNS, params, returning=("key", "id"),
                               constants={"organization_id": org.pk, "as_of": as_of,
                                          "created_at": now or timezone.now()}))
        actions = []
        for p in planned:
            if p.key in ids:
                p.pk = ids[p.key]
                actions.append(p)
        tasks = [(a, "approval") if a.status == Action.Status.PENDING_APPROVAL
                 else (a, "no_contact" if "buscar datos" in a.data.get("reason", "") else "call")
                 for a in actions if a.status == Action.Status.PENDING_APPROVAL or a.action == "call_task"]
        if tasks:
            _open_tasks(org, snap, tasks, now)
        for a in actions:
            if a.action == "stage" and a.status == Action.Status.PLANNED and a.data.get("to_stage"):
                _stage(org, a, now)
        actions_created.send(sender=Action, organization=org, actions=actions)
    return actions


def _open_tasks(org: Organization, snap: Snapshot, tasks: list[tuple[Planned, str]],
                now: dt.datetime | None = None) -> None:
    """The team's tasks for call steps, approvals and customers nobody can reach, opened in bulk
    through the ledger (one per cause, the customer's owner as assignee)."""
    rows = []
    for a, kind in tasks:
        title = TASK_TITLES[kind].format(step=a.step, template=a.template)
        if a.invoice_refs:
            title += ": " + ", ".join(a.invoice_refs[:5])
        rows.append((a.customer_id, "approval" if kind == "approval" else "call", title,
                     a.scheduled_for.astimezone(zone(snap.debtors[a.customer_id].zone_names[0])).date(),
                     f"dunning:{a.key}",
                     json.dumps({"action_key": a.key, "reason": a.data.get("reason", ""), "template": a.template})))
    ledger_services.create_task_rows(org, rows, now=now)


def _stage(org: Organization, a: Planned, now: dt.datetime | None = None) -> None:
    customer = Customer.objects.for_org(org).get(pk=a.customer_id)
    try:
        services.move_stage(org, customer, a.data["to_stage"], reason=f"paso {a.step}", at=now)
    except services.DunningError:
        pass  # the customer is already past that stage (or in a dispute): the board keeps it


def open_tasks_for(org: Organization, keys: list[str]) -> dict[str, int]:
    """Task ids opened by the cycle for these action keys (for the workspace and tests)."""
    return dict(Task.objects.for_org(org).filter(source_key__in=[f"dunning:{k}" for k in keys])
                .values_list("source_key", "pk"))

