"""Writes to the dunning tables, and the stage, pause, policy and contact-rule services others call.

Stages move through ``move_stage`` only: it checks the move against ``ALLOWED``, records a
"stage.moved" event on the customer's timeline and keeps the board's row.
"""

from __future__ import annotations

import copy
import datetime as dt
from functools import lru_cache
from pathlib import Path

import yaml
from django.db import transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from cobro.engine.contact import STRICT, ContactRules, Loosening, RulesError, loosenings, rules_from_params
from cobro.engine.policy import STAGES, Policy, PolicyError, dump_policy, parse_policy
from cobro.engine.zones import Zones, candidate_zones
from cobro.ledger.models import Channel, Contact, Customer, Invoice, Membership, Organization
from cobro.ledger.services import record_event

from .models import Action, ContactRuleChange, CustomerStage, Pause, PolicyAssignment, PolicyChange
from .models import Policy as PolicyRow

PRESETS = Path(__file__).parent / "presets"


class DunningError(ValueError):
    """A refused change; the message is safe to show to the person who asked for it."""


# Where a customer may go from each stage. Mediation and legal come only after collection proper;
# "pagada" is reachable from anywhere because money can arrive at any moment.
ALLOWED: dict[str, set[str]] = {
    "por_vencer": {"vencida", "en_gestion", "promesa", "plan_de_pagos", "disputa", "pagada"},
    "vencida": {"por_vencer", "en_gestion", "promesa", "plan_de_pagos", "disputa", "mediacion", "pagada"},
    "en_gestion": {"vencida", "promesa", "plan_de_pagos", "disputa", "mediacion", "pagada"},
    "promesa": {"vencida", "en_gestion", "plan_de_pagos", "disputa", "mediacion", "pagada"},
    "plan_de_pagos": {"vencida", "en_gestion", "promesa", "disputa", "mediacion", "pagada"},
    "disputa": {"vencida", "en_gestion", "promesa", "plan_de_pagos", "mediacion", "legal", "pagada"},
    "mediacion": {"en_gestion", "promesa", "plan_de_pagos", "disputa", "legal", "pagada"},
    "legal": {"mediacion", "promesa", "plan_de_pagos", "disputa", "pagada"},
    "pagada": {"por_vencer", "vencida", "en_gestion"},
}
#: Stages a person or the cycle puts a customer in; the others follow from the open invoices.
STICKY = {"en_gestion", "promesa", "plan_de_pagos", "disputa", "mediacion", "legal"}
#: Moving a customer here needs a manager: the last resorts of the seeds' "mediation, then legal".
NEEDS_MANAGER = {"mediacion", "legal"}


def stages(org: Organization) -> list[tuple[str, str]]:
    """The board's columns in order, as (code, label); labels from the default policy."""
    policy = default_policy(org, create=False)
    return list(policy.stages if policy else STAGES)


def derive_stage(stored: str | None, earliest_due: dt.date | None, as_of: dt.date) -> str:
    """The stage from the stored one and the earliest due date of the open invoices (None: none)."""
    if earliest_due is None:
        return "pagada"
    if stored in STICKY:
        return stored
    return "vencida" if earliest_due < as_of else "por_vencer"


def current_stages(org: Organization, customer_ids=None, as_of: dt.date | None = None) -> dict[int, str]:
    """Stage per customer id (every customer of the organization, or only ``customer_ids``)."""
    as_of = as_of or timezone.localdate()
    customers = Customer.objects.for_org(org)
    stored_q = CustomerStage.objects.for_org(org)
    open_q = Invoice.objects.for_org(org).filter(status=Invoice.Status.OPEN, open_amount__gt=0)
    if customer_ids is not None:
        ids = list(customer_ids)
        customers, stored_q = customers.filter(pk__in=ids), stored_q.filter(customer_id__in=ids)
        open_q = open_q.filter(customer_id__in=ids)
    stored = dict(stored_q.values_list("customer_id", "stage"))
    earliest = dict(open_q.values("customer_id").annotate(d=Min("due_date")).values_list("customer_id", "d"))
    return {cid: derive_stage(stored.get(cid), earliest.get(cid), as_of)
            for cid in customers.values_list("pk", flat=True)}


def move_stage(org: Organization, customer: Customer, to_stage: str, actor=None, reason: str = "", *,
               at: dt.datetime | None = None) -> None:
    """Move a customer on the board, if the move is allowed; records "stage.moved". ``at``: when
    (``since`` and the event; default now: the cycle passes the clock it runs by)."""
    codes = {c for c, _ in stages(org)}
    if to_stage not in codes:
        raise DunningError(f"unknown stage {to_stage!r}; the stages are {', '.join(sorted(codes))}")
    # Judged on the day of ``at`` (an invoice due after today's real date is overdue on the demo's day).
    current = current_stages(org, [customer.pk], as_of=timezone.localdate(at) if at else None)[customer.pk]
    if current == to_stage:
        return
    if to_stage not in ALLOWED.get(current, set()):
        raise DunningError(f"a customer in {current!r} cannot move to {to_stage!r}")
    if to_stage in NEEDS_MANAGER and actor is not None and not _is(org, actor, "manager"):
        raise DunningError(f"moving a customer to {to_stage!r} needs a manager")
    with transaction.atomic():
        CustomerStage.objects.update_or_create(
            organization=org, customer=customer,
            defaults={"stage": to_stage, "since": at or timezone.now(), "moved_by": actor})
        record_event(org, customer, "stage.moved", f"Etapa: {current} → {to_stage}",
                     data={"from": current, "to": to_stage, "reason": reason}, actor=actor, at=at)


def _is(org: Organization, user, role: str) -> bool:
    membership = Membership.objects.filter(organization=org, user=user).first()
    return bool(membership and membership.can(role))


def pause_customer(org: Organization, customer: Customer, until: dt.date | None, reason: str, actor=None, *,
                   invoices=None) -> Pause:
    """Stop chasing a customer until a date (None: until lifted): every open invoice, or with
    ``invoices`` (that customer's), those invoices only; the others keep being collected."""
    if not reason.strip():
        raise DunningError("a pause needs a reason (it is shown to whoever looks at the customer)")
    scope = list(invoices or ())
    if any(inv.customer_id != customer.pk or inv.organization_id != org.pk for inv in scope):
        raise DunningError("a pause covers invoices of its own customer only")
    refs = [inv.ref for inv in scope]
    with transaction.atomic():
        pause = Pause.objects.create(organization=org, customer=customer, until=until, reason=reason[:300],
                                     actor=actor)
        if scope:
            pause.invoices.set(scope, through_defaults={"organization": org})
        of = f" de {', '.join(refs)}" if refs else ""
        record_event(org, customer, "collection.paused",
                     f"Cobranza{of} en pausa{' hasta ' + until.isoformat() if until else ''}: {reason}"[:300],
                     data={"until": until.isoformat() if until else None, "pause_id": pause.pk, "reason": reason,
                           **({"invoice_refs": refs} if refs else {})}, actor=actor)
    return pause


def lift_pause(org: Organization, pause: Pause, actor=None, reason: str = "") -> bool:
    """End a pause now; False (and nothing written) when it was already lifted."""
    with transaction.atomic():
        lifted = Pause.objects.for_org(org).filter(pk=pause.pk, lifted_at__isnull=True).update(
            lifted_at=timezone.now())
        if not lifted:
            return False
        refs = sorted(pause.invoices.values_list("ref", flat=True))
        of = f" de {', '.join(refs)}" if refs else ""
        record_event(org, pause.customer_id, "collection.resumed",
                     f"Cobranza{of} reanudada{': ' + reason if reason else ''}"[:300],
                     data={"pause_id": pause.pk, "reason": reason, **({"invoice_refs": refs} if refs else {})},
                     actor=actor)
    return True


ZONE_SOURCES = {
    "customer": gettext_lazy("la zona horaria del cliente"),
    "phone": gettext_lazy("los teléfonos de sus contactos (no tiene zona propia)"),
    "address": gettext_lazy("la región de su dirección (no tiene zona propia ni un teléfono que diga dónde está)"),
    "country": gettext_lazy("su país: no tiene zona propia, ni un teléfono o una región en su dirección que "
                            "digan dónde está; se toman todas las zonas"),
    "fallback": gettext_lazy("la zona de la organización: su país no figura en la base de zonas horarias"),
}


def reader_locale() -> str:
    """The active language as babel names locales ("pt-br" → "pt_BR")."""
    from django.utils.translation import get_language

    return (get_language() or "es").replace("-", "_").replace("_br", "_BR")


def zone_place(zone: str, *, city: bool = False) -> str:
    """An IANA zone as people name it, in the active language: "America/Santiago" → "hora de Chile
    (Santiago de Chile)", "Chile (Santiago) Time"; with ``city``, the city alone ("Santiago de Chile"),
    for sentences that say "hora de …". "UTC", the "Etc/" zones and a name babel does not know: as written."""
    from babel.dates import get_timezone_location

    if "/" not in zone or zone.startswith("Etc/"):
        return zone.removeprefix("Etc/")
    try:
        return get_timezone_location(zone, locale=reader_locale(), return_city=city)
    except (LookupError, ValueError):
        return zone


def zone_city(zone: str) -> str:
    return zone_place(zone, city=True)


def zones_sentence(names, source: str) -> str:
    """Which zones the contact rules hold in for a debtor, and why (in the active language)."""
    text = _("Zonas horarias consideradas: %(zones)s, según %(source)s.") % {
        "zones": "; ".join(zone_place(n) for n in names), "source": ZONE_SOURCES.get(source, source)}
    if len(names) > 1:
        text += " " + _("Solo se contacta cuando la ventana permitida está abierta en todas ellas a la vez.")
    return text


#: The names of the shipped policy (presets/default_policy.yaml), for the catalogs: ``explain`` shows a
#: policy's and a step's name translated while the organization keeps the shipped one.
SHIPPED_NAMES = (
    gettext_noop("Política estándar"),
    gettext_noop("Recordatorio amable antes del vencimiento"),
    gettext_noop("Aviso amable el día del vencimiento"),
    gettext_noop("Primer recordatorio de factura vencida"),
    gettext_noop("Segundo recordatorio"),
    gettext_noop("Recordatorio firme"),
    gettext_noop("Llamada de gestión"),
    gettext_noop("Aviso de cargo por mora"),
    gettext_noop("Cargo por mora"),
    gettext_noop("Mediación"),
    gettext_noop("Revisión legal"),
)


def _by(msgid: str):
    from cobro.engine.text import Text

    return lambda debtor, customer: Text(msgid, segment=debtor.policy_segment, tags=customer.segment)


#: Who chose the customer's policy (``engine.segments.choose``), for ``explain``.
POLICY_SOURCES = {
    "customer": _by(gettext_noop("La política está asignada a este cliente: ningún segmento la cambia.")),
    "segment": _by(gettext_noop("La política la eligió el segmento «%(segment)s», el primero que incluye "
                                "a este cliente.")),
    "tag": _by(gettext_noop("La política corresponde a la etiqueta del cliente (%(tags)s): ningún segmento "
                            "lo incluye.")),
    "default": _by(gettext_noop("Ningún segmento incluye a este cliente: rige la política por defecto de la "
                                "organización.")),
}


def explain(org: Organization, customer: Customer, as_of: dt.date) -> list[str]:
    """Why the cycle does what it does for this customer on this day, as sentences in the active
    language (dates, amounts, stages and channels in words)."""
    from cobro.dunning.cycle import load_snapshot
    from cobro.engine.contact import rules_name
    from cobro.engine.plan import ACTION_NAMES, ITEM_NAMES, channel_name, plan, stage_name, step_name
    from cobro.engine.text import Day, Text, localized, ngettext

    snap = load_snapshot(org, as_of, customer_ids=[customer.pk])
    debtor = snap.debtors.get(customer.pk)
    lines: list = [Text(gettext_noop("%(name)s (%(ref)s), %(day)s:"), name=customer.name, ref=customer.ref,
                        day=Day(as_of))]
    policy = snap.policies.get(debtor.policy if debtor is not None else None) or snap.policies.get(snap.default_policy)
    if debtor is not None:
        rules = (Text(gettext_noop("las de %(country)s"), country=rules_name(snap.rules[debtor.country]))
                 if debtor.country in snap.rules
                 else Text(gettext_noop("las estrictas comunes a todos los países (su país no tiene reglas propias)")))
        lines.append(Text(gettext_noop("Etapa: %(stage)s. Política: %(policy)s. Reglas de contacto: %(rules)s."),
                          stage=stage_name(policy, debtor.stage) if policy is not None else debtor.stage,
                          policy=Text(policy.name) if policy is not None and policy.name
                          else debtor.policy or snap.default_policy, rules=rules))
        lines.append(POLICY_SOURCES.get(debtor.policy_source, POLICY_SOURCES["default"])(debtor, customer))
        lines.append(zones_sentence(debtor.zone_names, debtor.zone_source))
    if snap.last_run is None:
        lines.append(Text(gettext_noop(
            "El ciclo no ha corrido antes de este día: se toma el paso más reciente de cada factura.")))
    if not snap.invoices:
        lines.append(Text(gettext_noop("No tiene facturas abiertas: no se le cobra nada.")))
    result = plan(snap, explain_for={customer.pk})
    lines.extend(result.notes.get(customer.pk, []))
    steps = {s.code: s for s in policy.steps} if policy is not None else {}
    statuses = dict(Action.Status.choices)
    done = Action.objects.for_org(org).filter(customer=customer, as_of=as_of).order_by("key")
    for a in done:
        step = steps.get(a.step)
        what = step_name(step) if step is not None else ITEM_NAMES.get(
            a.step, Text(gettext_noop("paso %(step)s"), step=a.step))
        lines.append(ngettext(
            "Ya registrada: %(action)s, %(what)s, por %(channel)s (%(status)s), factura %(refs)s.",
            "Ya registrada: %(action)s, %(what)s, por %(channel)s (%(status)s), facturas %(refs)s.",
            len(a.invoice_refs), action=ACTION_NAMES.get(a.action, a.action), what=what,
            channel=channel_name(a.channel), status=statuses.get(a.status, a.status),
            refs=", ".join(a.invoice_refs)))
    return [localized(line) for line in lines]


# --- Policies -------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _default_policy() -> dict:
    return yaml.safe_load((PRESETS / "default_policy.yaml").read_text(encoding="utf-8"))


def default_policy_data() -> dict:
    """The shipped policy as a fresh dict (callers change it: a shared cached one would change for all)."""
    return copy.deepcopy(_default_policy())


def default_policy(org: Organization, create: bool = True) -> Policy | None:
    row = PolicyRow.objects.for_org(org).filter(is_default=True).first()
    if row is None:
        if not create:
            return None
        row = ensure_default_policy(org)
    return parse_policy(row.definition)


def ensure_default_policy(org: Organization) -> PolicyRow:
    """The organization's default policy, created from the shipped one the first time."""
    row = PolicyRow.objects.for_org(org).filter(is_default=True).first()
    if row is None:
        data = default_policy_data()
        row, _created = PolicyRow.objects.get_or_create(
            organization=org, code=data["code"],
            defaults={"name": data["name"], "definition": data, "is_default": True})
        if not row.is_default:
            PolicyRow.objects.for_org(org).filter(pk=row.pk).update(is_default=True)
    return row


def import_policies(org: Organization, text: str, actor=None) -> list[PolicyRow]:
    """Create or replace policies from YAML (one mapping, or a list under ``policies``); all or nothing."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DunningError(f"the file is not valid YAML: {exc}") from None
    items = data.get("policies") if isinstance(data, dict) and "policies" in data else [data]
    problems, parsed = [], []
    for n, item in enumerate(items, start=1):
        try:
            parsed.append((item, parse_policy(item)))
        except PolicyError as exc:
            problems.extend(f"policy {n}: {p}" for p in exc.problems)
    if problems:
        raise DunningError("; ".join(problems))
    rows = []
    with transaction.atomic():
        for raw, policy in parsed:
            row = PolicyRow.objects.for_org(org).filter(code=policy.code).first()
            definition = dump_policy(policy)
            before = row.definition if row is not None else {}
            if row is None:
                row = PolicyRow.objects.create(organization=org, code=policy.code, name=policy.name,
                                               definition=definition, segment=str(raw.get("segment") or ""),
                                               is_default=bool(raw.get("default")))
            else:
                row.name, row.definition, row.version = policy.name, definition, row.version + 1
                row.segment = str(raw.get("segment") or row.segment)
                row.save(update_fields=["name", "definition", "version", "segment", "updated_at"])
            _log_change(org, row, before, definition, actor, "yaml")
            if raw.get("default"):
                PolicyRow.objects.for_org(org).exclude(pk=row.pk).update(is_default=False)
                PolicyRow.objects.for_org(org).filter(pk=row.pk).update(is_default=True)
            rows.append(row)
    return rows


def step_changes(before: dict, after: dict) -> list[dict]:
    """What differs between two definitions of a policy, step by step (by step code)."""
    old = {s.get("code"): s for s in before.get("steps") or []}
    new = {s.get("code"): s for s in after.get("steps") or []}
    out: list[dict] = []
    if before.get("name") and before.get("name") != after.get("name"):
        out.append({"kind": "renamed", "from": before.get("name"), "to": after.get("name")})
    for code, step in new.items():
        if code not in old:
            out.append({"kind": "added", "step": code, "offset": step.get("offset")})
        else:
            fields = sorted(k for k in set(step) | set(old[code]) if step.get(k) != old[code].get(k))
            if fields:
                out.append({"kind": "changed", "step": code, "offset": step.get("offset"), "fields": fields})
    out.extend({"kind": "removed", "step": code, "offset": step.get("offset")}
               for code, step in old.items() if code not in new)
    common = [c for c in old if c in new]
    if common != [c for c in new if c in old]:
        out.append({"kind": "reordered"})
    return out


def _log_change(org: Organization, row: PolicyRow, before: dict, after: dict, actor, source: str) -> None:
    changes = step_changes(before, after) if before else [{"kind": "created"}]
    if changes:
        PolicyChange.objects.create(organization=org, policy=row, version=row.version, actor=actor, source=source,
                                    changes=changes, before=before or {}, after=after)


def save_policy(org: Organization, code: str, definition: dict, actor=None) -> PolicyRow:
    """Replace the name and steps of one existing policy (the settings form); all or nothing.

    The steps are kept in the order given (the engine orders them by day); the version goes up and
    a ``PolicyChange`` row records who changed what. Saving an unchanged policy writes nothing.
    """
    try:
        policy = parse_policy({**definition, "code": code})
    except PolicyError as exc:
        raise DunningError("; ".join(exc.problems)) from None
    dumped = dump_policy(policy)
    by_code = {s["code"]: s for s in dumped["steps"]}
    order = [str(raw.get("code") or "") for raw in definition.get("steps") or []]
    after = {**dumped, "steps": [by_code[c] for c in order if c in by_code]}
    with transaction.atomic():
        row = PolicyRow.objects.for_org(org).select_for_update().filter(code=code).first()
        if row is None:
            raise DunningError(_("No hay una política con el código %(code)s.") % {"code": code})
        before = row.definition or {}
        if not step_changes(before, after) and before.get("stages") == after.get("stages"):
            return row
        row.name, row.definition, row.version = policy.name, after, row.version + 1
        row.save(update_fields=["name", "definition", "version", "updated_at"])
        _log_change(org, row, before, after, actor, "form")
    return row


def export_policies(org: Organization) -> str:
    out = []
    for row in PolicyRow.objects.for_org(org).order_by("code"):
        item = dump_policy(parse_policy(row.definition))
        if row.is_default:
            item["default"] = True
        if row.segment:
            item["segment"] = row.segment
        out.append(item)
    return yaml.safe_dump({"policies": out}, allow_unicode=True, sort_keys=False)


def assign_policy(org: Organization, customer: Customer, code: str | None) -> None:
    """Give one customer its own policy (None: back to the segment's or the organization's)."""
    if code is None:
        PolicyAssignment.objects.for_org(org).filter(customer=customer).delete()
        return
    row = PolicyRow.objects.for_org(org).filter(code=code).first()
    if row is None:
        raise DunningError(f"no policy with code {code!r}")
    PolicyAssignment.objects.update_or_create(organization=org, customer=customer, defaults={"policy": row})


# --- Contact rules --------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def presets() -> dict[str, dict]:
    return yaml.safe_load((PRESETS / "contact_rules.yaml").read_text(encoding="utf-8"))


#: Where a debtor's country has no preset: the strictest window common to all presets (as
#: ``engine.contact.STRICT``), the base that changes for "*" or for that country apply to.
STRICT_PARAMS = {"hours": dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), "09:00-19:00"),
                 "skip_holidays": True, "version": "strict-common"}


def effective_params(country: str, changes) -> dict:
    """A country's preset (or ``STRICT_PARAMS``) with the changes for it and for "*" on top, in order.

    ``hours`` change day by day (``{"sun": "08:00-12:00"}`` touches Sundays only; ``{"sat": None}``
    drops Saturdays); every other key is replaced whole.
    """
    params = dict(presets().get(country) or STRICT_PARAMS)
    for row in changes:
        if row.country in (country, "*"):
            update = dict(row.params)
            if isinstance(update.get("hours"), dict) and isinstance(params.get("hours"), dict):
                update["hours"] = {**params["hours"], **update["hours"]}
            params.update(update)
    return params


def _effective(country: str, changes) -> ContactRules:
    """The rules the engine applies to debtors of ``country`` under ``changes`` (a list, in order)."""
    if country not in presets() and not any(c.country in (country, "*") for c in changes):
        return STRICT
    return rules_from_params(country, effective_params(country, changes))


def contact_rules(org: Organization, countries) -> dict[str, ContactRules]:
    """The rules for debtors of each country: the preset (or the strict common rules) with the
    organization's changes, for that country and for "*", on top. Countries left out get ``STRICT``."""
    changes = list(ContactRuleChange.objects.for_org(org))
    out = {}
    for country in countries:
        rules = _effective(country, changes)
        if rules is not STRICT:
            out[country] = rules
    return out


def _day_names() -> dict[str, str]:
    return {"mon": _("lunes"), "tue": _("martes"), "wed": _("miércoles"), "thu": _("jueves"),
            "fri": _("viernes"), "sat": _("sábados"), "sun": _("domingos")}


def _loosening_text(country: str, item: Loosening) -> str:
    """One loosening as a sentence in the reader's language, naming the country it affects."""
    where = _("otros países") if country == "*" else country
    labels = dict(Channel.choices)
    channels = ", ".join(str(labels.get(ch, ch)) for ch in item.channels)
    if item.kind == "window":
        text = _("el horario de los %(day)s es más amplio") % {"day": _day_names()[item.day]}
    elif item.kind == "holidays":
        text = _("ya no se respetan los feriados")
    elif item.kind == "cap" and item.channels:
        text = _("el tope de contactos (%(limit)s en %(days)s días) ya no limita: %(channels)s") % {
            "limit": item.cap.limit, "days": item.cap.days, "channels": channels}
    elif item.kind == "cap":
        text = _("el tope de contactos (%(limit)s en %(days)s días) ya no cuenta juntos sus canales") % {
            "limit": item.cap.limit, "days": item.cap.days}
    elif item.kind == "min_gap":
        text = _("la separación mínima entre mensajes baja de %(old)s a %(new)s días") % {
            "old": item.old, "new": item.new}
    elif item.kind == "cooldown":
        text = _("la pausa tras una conversación baja de %(old)s a %(new)s días") % {
            "old": item.old, "new": item.new}
    else:
        text = _("la pausa tras una conversación ya no cubre: %(channels)s") % {"channels": channels}
    return f"{where}: {text}"


def change_contact_rules(org: Organization, country: str, params: dict, actor=None, reason: str = ""
                         ) -> ContactRuleChange:
    """Change the rules for one country's debtors ("*": every country). Tightening is free; loosening
    needs an admin and a reason.

    The change is tried on every country it reaches (for "*": every country with a preset, every
    country of the organization's customers, every country with changes of its own, and any other
    country, which gets the strict common rules), and each country's rules before and after are
    compared part by part.
    """
    country = country.upper()
    changes = list(ContactRuleChange.objects.for_org(org))
    proposed = ContactRuleChange(organization=org, country=country, params=params)
    if country == "*":
        used = Customer.objects.for_org(org).exclude(country="").values_list("country", flat=True)
        reached = sorted({*presets(), *used, *(c.country for c in changes)} - {"*"}) + ["*"]
    else:
        reached = [country]
    looser = []
    for place in reached:
        try:
            new = _effective(place, [*changes, proposed])
        except RulesError as exc:
            raise DunningError(str(exc)) from None
        looser += [_loosening_text(place, item) for item in loosenings(_effective(place, changes), new)]
    if looser:
        if actor is None or not _is(org, actor, "admin"):
            raise DunningError(_("Solo un administrador puede aflojar las reglas de contacto: %(what)s.")
                               % {"what": "; ".join(looser)})
        if not reason.strip():
            raise DunningError(_("Aflojar las reglas de contacto requiere un motivo registrado: %(what)s.")
                               % {"what": "; ".join(looser)})
    proposed.loosens, proposed.reason, proposed.actor = bool(looser), reason[:300], actor
    proposed.save()
    return proposed


# --- Approvals ------------------------------------------------------------------------------------

def approve_action(org: Organization, action: Action, actor, *, now: dt.datetime | None = None) -> Action | None:
    """A manager approves a mediation or legal step: the stage moves and the notice goes out.
    ``now``: when (default the clock's now; the demo approves by its own)."""
    from cobro.dunning.signals import actions_created

    if not _is(org, actor, "manager"):
        raise DunningError("approving this step needs a manager")
    with transaction.atomic():
        locked = Action.objects.for_org(org).select_for_update().get(pk=action.pk)
        if locked.status != Action.Status.PENDING_APPROVAL:
            raise DunningError(f"this action is {locked.status}, not waiting for approval")
        locked.status = Action.Status.APPROVED
        locked.save(update_fields=["status"])
        customer = Customer.objects.for_org(org).get(pk=locked.customer_id)
        to_stage = locked.data.get("to_stage")
        if to_stage:
            try:
                move_stage(org, customer, to_stage, actor=actor, reason=f"aprobado: {locked.step}", at=now)
            except DunningError:
                pass  # already further along (e.g. legal after a manual move): the notice still goes
        notice = None
        if locked.template:
            notice = Action.objects.create(
                organization=org, customer=customer, key=f"{locked.key}:aprobada", as_of=timezone.localdate(now),
                step=locked.step, action="message", channel=locked.channel, template=locked.template,
                tone=locked.tone, invoice_ids=locked.invoice_ids, invoice_refs=locked.invoice_refs,
                scheduled_for=_next_allowed(org, customer, locked.channel, now), data={"approved_by": actor.pk})
            actions_created.send(sender=Action, organization=org, actions=[notice])
        record_event(org, customer, "action.approved", f"Paso {locked.step} aprobado", actor=actor,
                     data={"key": locked.key}, at=now)
    return notice


def customer_zones(org: Organization, customer: Customer) -> Zones:
    """The zones this customer may be in, and why (their setting, their contacts' phones, the country)."""
    phones = Contact.objects.for_org(org).filter(customer=customer).values_list("phone", "whatsapp")
    return candidate_zones(customer.timezone, customer.country,
                           list(dict.fromkeys(n for pair in phones for n in pair if n)), fallback=org.timezone,
                           region=customer.region)


def _next_allowed(org: Organization, customer: Customer, channel: str, now: dt.datetime | None = None
                  ) -> dt.datetime:
    """The first moment from now the contact rules allow ``channel`` for this customer (in every zone
    they may be in)."""
    from cobro.dunning.cycle import load_snapshot
    from cobro.engine.contact import STRICT, allowed_at, local_date, next_slot, zone
    from cobro.engine.contact import Contact as Booked
    from cobro.engine.plan import calendar

    now = now or timezone.now()
    today = now.astimezone(zone(customer_zones(org, customer).names[0])).date()
    snap = load_snapshot(org, today, customer_ids=[customer.pk])
    zones, holidays = calendar(snap, snap.debtors[customer.pk])
    rules = snap.rules.get(customer.country, STRICT)
    booked = [Booked(local_date(c.at, zones[0]), c.channel, c.conversation)
              for c in snap.contacts.get(customer.pk, ())]
    at, _why = next_slot(rules, holidays, zones, today, channel, booked)
    if at is not None and at < now:
        # Today's window opened already: now, if still inside it, else the next allowed day.
        if allowed_at(rules, holidays, now, zones):
            return now
        at, _why = next_slot(rules, holidays, zones, today + dt.timedelta(days=1), channel, booked)
    return at or now
