"""The daily decision: for every open invoice, what happens today, and why.

``plan(snapshot)`` is pure. It reads the snapshot (one organization, one ``as_of`` day) and returns
``Decision`` values the dunning app persists. The rules it honours, in order:

1. An invoice on hold (dispute, promise, plan, manual pause) is not chased; paid invoices are not
   in the snapshot at all.
2. A step is a candidate when its day (due date + offset) fell after the last run and on or before
   ``as_of``. When the cycle missed days and several steps fell due, only the most relevant one
   (the latest whose conditions hold) is taken: a debtor never gets a burst of old reminders.
3. One written message per customer and day: every message step of the day is folded into one
   message, with the most advanced step's template and tone, listing every invoice due or overdue.
   Agreement items (promise and instalment reminders...) join that message or go on their own.
4. The channel is the step's (or the customer's preferred one), falling back to other channels the
   customer can be reached on and has not opted out of; with none, the team gets a call task.
5. Contact rules of the debtor's country decide the slot: the first allowed day from ``as_of`` at the
   opening of its window. A contact that cannot go today is moved, never dropped. A debtor who may
   be in several zones (``Debtor.zones``) is contacted only when the window is open in all of them,
   on a day that is a holiday in none of their countries; the first zone dates their contacts.
6. Keys are ``org:customer:step:as_of``: the same day planned twice gives the same keys.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from cobro.engine.contact import MESSAGE_CHANNELS, STRICT, UTC, Contact, local_date, next_slot, zone
from cobro.engine.policy import Policy, Step
from cobro.engine.snapshot import AgreementItem, Debtor, Hold, OpenInvoice, Snapshot
from cobro.engine.text import Amount, Clock, Day, Listing, Text, gettext_noop, ngettext
from cobro.engine.zones import zone_country

#: When the step's channel cannot be used, try these next (the preferred one always first).
FALLBACK = ("email", "whatsapp", "sms")
TONE_RANK = {"friendly": 0, "neutral": 1, "firm": 2, "formal": 3}
# The words the notes use for codes, rendered in the reader's language (``Text``); a code not listed
# shows as it is.
CHANNEL_NAMES = {"email": Text(gettext_noop("correo")), "sms": "SMS", "whatsapp": "WhatsApp",
                 "call": Text(gettext_noop("llamada")), "letter": Text(gettext_noop("carta"))}
HOLD_NAMES = {"dispute": Text(gettext_noop("disputa")), "promise": Text(gettext_noop("promesa de pago")),
              "plan": Text(gettext_noop("plan de pagos")), "pause": Text(gettext_noop("pausa manual"))}
ACTION_NAMES = {"message": Text(gettext_noop("mensaje")), "call_task": Text(gettext_noop("tarea de llamada")),
                "letter": Text(gettext_noop("carta")), "fee": Text(gettext_noop("cargo por mora")),
                "stage": Text(gettext_noop("cambio de etapa"))}
ITEM_NAMES = {"promise_reminder": Text(gettext_noop("Recordatorio de promesa")),
              "promise_broken": Text(gettext_noop("Promesa incumplida")),
              "instalment_reminder": Text(gettext_noop("Recordatorio de cuota")),
              "instalment_late": Text(gettext_noop("Cuota atrasada")),
              "dispute_resolved": Text(gettext_noop("Reclamo resuelto"))}
# Why a call task is opened (``Decision.reason``, stored as it is written here and shown translated).
NO_WRITTEN_CHANNEL = gettext_noop("sin canal escrito autorizado: llamar")
NO_CONTACT = gettext_noop("sin ninguna forma de contacto: buscar datos")
NO_PHONE = gettext_noop("sin teléfono: buscar datos")


def stage_name(policy: Policy, code: str) -> Text | str:
    """A stage by its label: the shipped Spanish labels are translated, a label the organization gave
    is shown as written."""
    label = dict(policy.stages).get(code) or code
    return Text(label) if label else code


def step_name(step: Step) -> Text:
    """A step by its name (the shipped names are translated), or by its code when it has none."""
    return Text(step.name) if step.name else Text(gettext_noop("paso %(step)s"), step=step.code)


def channel_name(code: str) -> Text | str:
    return CHANNEL_NAMES.get(code, code)


@dataclass(frozen=True, slots=True)
class Decision:
    customer_id: int
    key: str
    step: str
    action: str
    channel: str
    template: str
    tone: str
    invoice_ids: tuple[int, ...]
    scheduled_for: dt.datetime
    status: str = "planned"
    reason: str = ""
    to_stage: str = ""
    items: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass
class Plan:
    decisions: list[Decision] = field(default_factory=list)
    #: Sentences per customer (only for the customers asked about in ``explain_for``), as ``Text``:
    #: rendered in the reader's language where they are shown (``cobro.engine.text.localized``).
    notes: dict[int, list[Text]] = field(default_factory=dict)


def action_key(org_id: int, customer_id: int, step: str, day: dt.date) -> str:
    return f"{org_id}:{customer_id}:{step}:{day.isoformat()}"


def _applies(step: Step, debtor: Debtor, inv: OpenInvoice, policy: Policy | None = None) -> Text | str:
    """Why ``step`` does not apply to this invoice ("" when it does)."""
    if step.segments and debtor.segment not in step.segments:
        return ngettext("solo para el segmento %(segments)s", "solo para los segmentos %(segments)s",
                        len(step.segments), segments=Listing(tuple(step.segments)))
    if step.stages and debtor.stage not in step.stages:
        names = tuple(stage_name(policy, c) if policy is not None else c for c in step.stages)
        return ngettext("solo en la etapa %(stages)s", "solo en las etapas %(stages)s", len(names),
                        stages=Listing(names))
    minimum = step.minimum(inv.currency)
    if inv.open_amount < minimum:
        return Text(gettext_noop("el saldo es menor que el mínimo del paso, %(minimum)s"),
                    minimum=Amount(minimum, inv.currency))
    return ""


def _fired(policy: Policy, debtor: Debtor, inv: OpenInvoice, as_of: dt.date, last_run: dt.date | None,
           notes: list | None, steps_at: dict[int, tuple[Step, ...]] | None = None) -> list[Step]:
    """The steps this invoice gets today: those of the latest applicable offset in the window.

    ``steps_at``: the policy's steps by offset (``plan`` builds it once per policy)."""
    overdue = (as_of - inv.due_date).days
    offsets = policy.offsets
    idx = bisect_right(offsets, overdue) - 1
    floor = (last_run - inv.due_date).days if last_run is not None else None
    skipped_old = False
    while idx >= 0 and (floor is None or offsets[idx] > floor):
        offset = offsets[idx]
        steps = steps_at[offset] if steps_at is not None else [s for s in policy.steps if s.offset == offset]
        ok = []
        for s in steps:
            why = _applies(s, debtor, inv, policy)
            if why and notes is not None:
                notes.append(Text(gettext_noop("%(ref)s: %(step)s no aplica (%(why)s)."), ref=inv.ref,
                                  step=step_name(s), why=why))
            elif not why:
                ok.append(s)
        if ok:
            if notes is not None and (idx > 0 and (floor is None or offsets[idx - 1] > floor)):
                skipped_old = True
            if notes is not None:
                notes.append(Text(gettext_noop("%(ref)s: vence el %(due)s (%(days)s); hoy corresponde: %(steps)s."),
                                  ref=inv.ref, due=Day(inv.due_date), days=_days(overdue),
                                  steps=Listing(tuple(step_name(s) for s in ok))))
                if skipped_old:
                    notes.append(Text(gettext_noop(
                        "El ciclo no corrió los días anteriores: se toma solo el paso más reciente.")))
            return ok
        idx -= 1
    if notes is not None:
        upcoming = [o for o in offsets if o > overdue]
        notes.append(Text(gettext_noop("%(ref)s: vence el %(due)s (%(days)s); hoy no corresponde ningún paso."),
                          ref=inv.ref, due=Day(inv.due_date), days=_days(overdue)))
        if upcoming:
            steps = steps_at[upcoming[0]] if steps_at is not None else [
                s for s in policy.steps if s.offset == upcoming[0]]
            notes.append(Text(gettext_noop("El próximo paso, %(steps)s, es el %(day)s."),
                              steps=Listing(tuple(step_name(s) for s in steps)),
                              day=Day(inv.due_date + dt.timedelta(upcoming[0]))))
        else:
            notes.append(Text(gettext_noop("Ya pasó el último paso de la política.")))
    return []


def _days(overdue: int) -> Text:
    if overdue > 0:
        return ngettext("%(count)s día de atraso", "%(count)s días de atraso", overdue)
    if overdue == 0:
        return Text(gettext_noop("vence hoy"))
    return ngettext("falta %(count)s día", "faltan %(count)s días", -overdue)


def _channel(wanted: str, debtor: Debtor, notes: list | None) -> str:
    """The written channel to use, or "" when the customer cannot be written to."""
    first = debtor.preferred if wanted == "preferred" else wanted
    order = [first] + [c for c in FALLBACK if c != first]
    for ch in order:
        if ch not in MESSAGE_CHANNELS:
            continue
        if ch in debtor.opted_out:
            if notes is not None:
                notes.append(Text(gettext_noop(
                    "No se escribe por %(channel)s: el cliente pidió no recibir mensajes por ese canal."),
                    channel=channel_name(ch)))
            continue
        if ch not in debtor.reachable:
            if notes is not None and ch == first:
                notes.append(Text(gettext_noop(
                    "No se escribe por %(channel)s: falta la dirección o la autorización del cliente."),
                    channel=channel_name(ch)))
            continue
        return ch
    return ""


def candidates(invoices, policies: dict, as_of: dt.date, last_run: dt.date | None) -> set[int] | None:
    """Customers who may have a step today: a superset, for loading only what the plan will look at.

    None on a first run or after a long gap, when nearly every customer with an open invoice may.
    """
    if last_run is None or last_run >= as_of or (as_of - last_run).days > 400:
        return None
    gap = (as_of - last_run).days
    dates = frozenset(as_of - dt.timedelta(days=o + k) for p in policies.values() for o in p.offsets
                      for k in range(gap))
    return {inv.customer_id for inv in invoices if inv.due_date in dates}


def plan(snap: Snapshot, explain_for: frozenset[int] | set[int] = frozenset()) -> Plan:
    as_of = snap.as_of
    org = snap.organization_id
    last_run = snap.last_run if snap.last_run is not None and snap.last_run < as_of else None
    holds: dict[int, Hold] = {}
    for h in snap.holds:
        if h.until is None or as_of <= h.until:
            # A dispute outranks the others: it is the one to tell a caller about.
            if h.invoice_id not in holds or h.kind == "dispute":
                holds[h.invoice_id] = h
    items_lo = last_run if last_run is not None else as_of - dt.timedelta(days=1)
    items: dict[int, list[AgreementItem]] = {}
    for item in snap.items:
        if items_lo < item.due_date <= as_of:
            items.setdefault(item.customer_id, []).append(item)

    # A quick pass finds the customers with a step in the window; only they are looked at closely.
    debtors, policies = snap.debtors, snap.policies
    default = policies[snap.default_policy]
    active = set(items) | set(explain_for)
    if last_run is not None and (as_of - last_run).days <= 400:
        # A normal day: an invoice has a step today when its due date is one of a few dates.
        gap = (as_of - last_run).days
        fire = {code: frozenset(as_of - dt.timedelta(days=o + k) for o in p.offsets for k in range(gap))
                for code, p in policies.items()}
        if len(policies) == 1:
            dates = fire[snap.default_policy]
            active.update(inv.customer_id for inv in snap.invoices if inv.due_date in dates)
        else:
            for inv in snap.invoices:
                cid = inv.customer_id
                if cid not in active and cid in debtors and inv.due_date in fire.get(
                        debtors[cid].policy, fire[snap.default_policy]):
                    active.add(cid)
    else:
        today = as_of.toordinal()
        offsets_of = {code: p.offsets for code, p in policies.items()}
        for inv in snap.invoices:
            cid = inv.customer_id
            if cid in active or cid not in debtors:
                continue
            offsets = offsets_of.get(debtors[cid].policy) or default.offsets
            if bisect_right(offsets, today - inv.due_date.toordinal()) > 0:
                active.add(cid)
    invoices: dict[int, list[OpenInvoice]] = {cid: [] for cid in active}
    for inv in snap.invoices:
        if inv.customer_id in invoices:
            invoices[inv.customer_id].append(inv)

    # Built once per plan, not per customer (#16): steps by offset, each distinct calendar, and each
    # slot asked with the same rules, calendar, channel and bookings (``next_slot`` is pure).
    steps_at = {code: {o: tuple(s for s in p.steps if s.offset == o) for o in p.offsets}
                for code, p in policies.items()}
    memo = _Memo()
    result = Plan()
    for cid in sorted(active):
        debtor = debtors.get(cid)
        if debtor is None:
            continue
        notes: list | None = [] if cid in explain_for else None
        code = debtor.policy if debtor.policy in policies else snap.default_policy
        policy, by_offset = policies[code], steps_at[code]
        invs = sorted(invoices.get(cid, ()), key=lambda i: (i.due_date, i.id))
        fired: list[tuple[OpenInvoice, list[Step]]] = []
        listed: list[int] = []
        for inv in invs:
            hold = holds.get(inv.id)
            if hold is not None:
                if notes is not None:
                    notes.append(_hold_note(inv, hold))
                continue
            if inv.due_date <= as_of:
                listed.append(inv.id)
            steps = _fired(policy, debtor, inv, as_of, last_run, notes, by_offset)
            if steps:
                fired.append((inv, steps))
        decisions = _decide(org, as_of, debtor, fired, listed, sorted(items.get(cid, ()), key=lambda i: i.key),
                            holds, snap, snap.contacts.get(cid, ()), notes, memo)
        result.decisions.extend(decisions)
        if notes is not None:
            if not decisions:
                notes.append(Text(gettext_noop("Hoy no hay ninguna acción para este cliente.")))
            result.notes[cid] = notes
    return result


def _hold_note(inv: OpenInvoice, hold: Hold) -> Text:
    params = {"ref": inv.ref, "hold": HOLD_NAMES.get(hold.kind, hold.kind), "reason": hold.reason}
    if hold.until and hold.reason:
        return Text(gettext_noop("%(ref)s: en %(hold)s hasta el %(until)s (%(reason)s); no se cobra."),
                    until=Day(hold.until), **params)
    if hold.until:
        return Text(gettext_noop("%(ref)s: en %(hold)s hasta el %(until)s; no se cobra."), until=Day(hold.until),
                    **params)
    if hold.reason:
        return Text(gettext_noop("%(ref)s: en %(hold)s (%(reason)s); no se cobra."), **params)
    return Text(gettext_noop("%(ref)s: en %(hold)s; no se cobra."), **params)


def calendar(snap: Snapshot, debtor: Debtor) -> tuple[tuple[ZoneInfo, ...], frozenset[dt.date]]:
    """The zones a debtor may be in, and the holidays of every country of these zones and their own."""
    names = debtor.zone_names
    countries = {debtor.country, *filter(None, map(zone_country, names))}
    return tuple(zone(n) for n in names), frozenset().union(*(snap.holidays.get(c, frozenset()) for c in countries))


class _Memo:
    """What ``plan`` works out once and many customers share: calendars and contact slots."""

    def __init__(self):
        self.calendars: dict = {}
        self.slots: dict = {}

    def calendar(self, snap: Snapshot, debtor: Debtor):
        key = (debtor.zone_names, debtor.country)
        got = self.calendars.get(key)
        if got is None:
            got = self.calendars[key] = calendar(snap, debtor)
        return got

    def next_slot(self, rules, holidays, zones, as_of, channel, booked):
        key = (id(rules), id(holidays), zones, as_of, channel, tuple(booked))
        got = self.slots.get(key)
        if got is None:
            got = self.slots[key] = next_slot(rules, holidays, zones, as_of, channel, booked)
        return got


def _decide(org: int, as_of: dt.date, debtor: Debtor, fired, listed: list[int], items: list[AgreementItem],
            holds: dict[int, Hold], snap: Snapshot, history, notes: list | None,
            memo: _Memo | None = None) -> list[Decision]:
    memo = memo or _Memo()
    rules = snap.rules.get(debtor.country, STRICT)
    names = debtor.zone_names
    zones, holidays = memo.calendar(snap, debtor)
    tz = zones[0]
    booked = [Contact(local_date(c.at, tz), c.channel, c.conversation) for c in history]
    out: list[Decision] = []

    def slot(channel: str) -> dt.datetime | None:
        # The reasons are sentences for ``explain``: asked for, the slot is worked out afresh.
        at, reasons = (next_slot(rules, holidays, zones, as_of, channel, booked) if notes is not None
                       else memo.next_slot(rules, holidays, zones, as_of, channel, booked))
        if notes is not None:
            notes.extend(Text(gettext_noop("No se contacta el día previsto: %(why)s."), why=r) for r in reasons)
            if at is None:
                notes.append(Text(gettext_noop(
                    "No hay un momento permitido en los próximos meses; revise las reglas.")))
        return at

    def add(step: str, action: str, channel: str, template: str, tone: str, invoice_ids, at, what=None, **extra):
        d = Decision(customer_id=debtor.id, key=action_key(org, debtor.id, step, as_of), step=step,
                     action=action, channel=channel, template=template, tone=tone,
                     invoice_ids=tuple(invoice_ids), scheduled_for=at, **extra)
        out.append(d)
        if action in ("message", "call_task", "letter"):
            booked.append(Contact(local_date(at, tz), channel))
        if notes is not None:
            notes.append(_action_note(what or Text(gettext_noop("paso %(step)s"), step=step), action, channel,
                                      at.astimezone(tz), names if len(zones) > 1 else (), extra.get("to_stage"),
                                      snap, debtor))
            if extra.get("reason"):
                notes.append(Text(gettext_noop("Motivo: %(reason)s."), reason=Text(extra["reason"])))
            if extra.get("status") == "pending_approval":
                notes.append(Text(gettext_noop("Espera la aprobación de un responsable.")))

    by_kind: dict[str, list[tuple[OpenInvoice, Step]]] = {}
    for inv, steps in fired:
        for s in steps:
            by_kind.setdefault(s.action, []).append((inv, s))

    lead: Step | None = None
    if by_kind.get("message"):
        lead = max((s for _, s in by_kind["message"]), key=lambda s: (s.offset, TONE_RANK.get(s.tone, 0), s.code))
    if lead is not None or items:
        item_ids = {i for item in items for i in item.invoice_ids if i not in holds}
        # Oldest due date first, as a person would list them; agreement invoices last.
        rank = {i: n for n, i in enumerate(listed)}
        rank.update({inv.id: len(listed) + n for n, (inv, _) in enumerate(fired) if inv.id not in rank})
        ids = sorted(set(listed) | {inv.id for inv, _ in by_kind.get("message", ())} | item_ids,
                     key=lambda i: (rank.get(i, 1 << 30), i))
        if lead is not None:
            step, template, tone, wanted = lead.code, lead.template, lead.tone, lead.channel
        else:
            first = items[0]
            step, template, wanted = first.kind, first.template, "preferred"
            tone = "friendly" if first.kind.endswith("reminder") else "neutral"
        if notes is not None and items:
            notes.append(Text(gettext_noop("Acuerdos que se avisan hoy: %(items)s."),
                              items=Listing(tuple(ITEM_NAMES.get(i.kind, i.kind) for i in items))))
        what = None if notes is None else step_name(lead) if lead is not None else ITEM_NAMES.get(step, step)
        item_keys = tuple(i.key for i in items)
        channel = _channel(wanted, debtor, notes)
        if channel:
            at = slot(channel)
            if at is not None:
                add(step, "message", channel, template, tone, ids, at, what=what, items=item_keys)
        else:
            # Nobody can be written to: a person must call or find a way, never a silent skip.
            why = NO_WRITTEN_CHANNEL if "call" in debtor.reachable else NO_CONTACT
            at = slot("call")
            if at is not None:
                add(step, "call_task", "call", template, tone, ids, at, what=what, reason=why, items=item_keys)

    for kind in ("call_task", "letter", "fee", "stage"):
        groups: dict[str, list[tuple[OpenInvoice, Step]]] = {}
        for inv, s in by_kind.get(kind, ()):
            groups.setdefault(s.code, []).append((inv, s))
        for code, pairs in sorted(groups.items()):
            s = pairs[0][1]
            ids = [inv.id for inv, _ in pairs]
            if kind in ("fee", "stage"):
                at = dt.datetime.combine(as_of, dt.time(0, 0), tzinfo=tz).astimezone(UTC)
            else:
                at = slot("call" if kind == "call_task" else "letter")
                if at is None:
                    continue
            reason = "" if kind != "call_task" or "call" in debtor.reachable else NO_PHONE
            channel = {"call_task": "call", "letter": "letter"}.get(kind) or (
                _channel("preferred", debtor, None) or "letter")
            add(code, kind, channel, s.template, s.tone, ids, at, what=step_name(s) if notes is not None else None,
                status="pending_approval" if s.approval else "planned", reason=reason, to_stage=s.to_stage)
    return out


def _action_note(what, action: str, channel: str, local: dt.datetime, zones: tuple[str, ...], to_stage: str | None,
                 snap: Snapshot, debtor: Debtor) -> Text:
    """The sentence for one decision: what, by which channel, when (in the debtor's time)."""
    day, clock = Day(local.date()), Clock(local.time().replace(second=0, microsecond=0))
    when = (Text(gettext_noop("el %(day)s a las %(time)s, hora de %(zone)s"), day=day, time=clock, zone=zones[0])
            if zones else Text(gettext_noop("el %(day)s a las %(time)s, hora local"), day=day, time=clock))
    if action == "message":
        return Text(gettext_noop("%(what)s: mensaje por %(channel)s %(when)s."), what=what,
                    channel=channel_name(channel), when=when)
    if action == "call_task":
        return Text(gettext_noop("%(what)s: tarea de llamar al cliente %(when)s."), what=what, when=when)
    if action == "letter":
        return Text(gettext_noop("%(what)s: carta %(when)s."), what=what, when=when)
    if action == "fee":
        return Text(gettext_noop("%(what)s: cargo por mora el %(day)s."), what=what, day=day)
    if action == "stage" and to_stage:
        policy = snap.policies.get(debtor.policy) or snap.policies[snap.default_policy]
        return Text(gettext_noop("%(what)s: pasa a la etapa «%(stage)s» el %(day)s."), what=what,
                    stage=stage_name(policy, to_stage), day=day)
    return Text(gettext_noop("%(what)s: %(action)s por %(channel)s %(when)s."), what=what, action=action,
                channel=channel_name(channel), when=when)
