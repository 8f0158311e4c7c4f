"""Settings pages over the dunning app's services: the policy and its steps, and the contact rules.

The dunning app owns the tables and every rule about them (validation, who may loosen a contact
rule, versions); these pages only show its data and hand edits to its services.
"""

from __future__ import annotations

import datetime as dt

import yaml
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from cobro.engine.money import MoneyError, to_minor
from cobro.engine.policy import STAGES, PolicyError, parse_policy
from cobro.ledger.models import Channel, Customer
from cobro.ledger.tenancy import require_role
from cobro.workspace import policy_form
from cobro.workspace.labels import template_name
from cobro.workspace.settings_views import settings_tabs

#: How a step's codes read on the page (the YAML keeps the codes).
ACTION_LABELS = {"message": gettext_lazy("Mensaje"), "call_task": gettext_lazy("Tarea de llamada"),
                 "letter": gettext_lazy("Carta"), "fee": gettext_lazy("Cargo por mora"),
                 "stage": gettext_lazy("Cambio de etapa")}
TONE_LABELS = {"friendly": gettext_lazy("Amable"), "neutral": gettext_lazy("Neutral"),
               "firm": gettext_lazy("Firme"), "formal": gettext_lazy("Formal")}
CHANNEL_LABELS = {**dict(Channel.choices), "preferred": gettext_lazy("Canal preferido"),
                  "call": gettext_lazy("Llamada")}
#: What the change log says for each kind of change (``dunning.services.step_changes``).
CHANGE_LABELS = {"added": gettext_lazy("añadió el paso del día %(day)s"),
                 "removed": gettext_lazy("quitó el paso del día %(day)s"),
                 "changed": gettext_lazy("cambió el paso del día %(day)s (%(fields)s)"),
                 "reordered": gettext_lazy("cambió el orden de los pasos"),
                 "renamed": gettext_lazy("cambió el nombre de la política"),
                 "created": gettext_lazy("creó la política")}
FIELD_LABELS = {"offset": gettext_lazy("día"), "name": gettext_lazy("nombre"), "action": gettext_lazy("acción"),
                "channel": gettext_lazy("canal"), "template": gettext_lazy("plantilla"),
                "tone": gettext_lazy("tono"), "approval": gettext_lazy("aprobación"),
                "to_stage": gettext_lazy("etapa"), "conditions": gettext_lazy("condiciones"),
                "code": gettext_lazy("código")}
#: The example invoice of the preview: due on the organization's today unless the person picks a day.
EXAMPLE_AMOUNT = "500000"


def _labelled(steps):
    return [{**s, "action_label": ACTION_LABELS.get(s.get("action"), s.get("action")),
             "tone_label": TONE_LABELS.get(s.get("tone"), s.get("tone")),
             "channel_label": CHANNEL_LABELS.get(s.get("channel"), s.get("channel"))} for s in steps]


def _dunning():
    from cobro.dunning import services

    return services


def _policies(org):
    from cobro.dunning.models import Policy

    return list(Policy.objects.for_org(org).order_by("-is_default", "code"))


@require_http_methods(["GET", "POST"])
@require_role("manager")
def settings_policies(request):
    dunning = _dunning()
    status, error = 200, ""
    if request.method == "POST":
        text = request.POST.get("yaml", "")
        try:
            rows = dunning.import_policies(request.org, text, actor=request.user)
        except ValueError as exc:  # DunningError: every problem, by policy and step
            error, status = str(exc), 422
        else:
            messages.success(request, _("Políticas guardadas: %(codes)s.") % {
                "codes": ", ".join(r.code for r in rows)})
            return redirect("settings_policies")
    else:
        policies = _policies(request.org)
        text = (dunning.export_policies(request.org) if policies
                else yaml.safe_dump(dunning.default_policy_data(), allow_unicode=True, sort_keys=False))
    policies = _policies(request.org)
    shown = [(p.code, p.name, p.is_default, p.segment, p.version, _labelled(p.definition.get("steps", [])))
             for p in policies] or [("estandar", _("Política estándar (aún sin guardar)"), True, "", 0,
                                     _labelled(dunning.default_policy_data().get("steps", [])))]
    from cobro.workspace import segment_views
    from cobro.workspace.views import org_today

    return render(request, "workspace/settings/policies.html", {
        **settings_tabs("policies"), "policies": shown, "yaml_text": text, "error": error,
        **segment_views.listing(request.org, org_today(request.org))}, status=status)


def _effective_rules(org, countries):
    """Each country's preset with the organization's recorded changes on top, for display."""
    from cobro.dunning.models import ContactRuleChange

    presets = _dunning().presets()
    changes = list(ContactRuleChange.objects.for_org(org).order_by("created_at", "id"))
    out = [(country, _dunning().effective_params(country, changes), country in presets) for country in countries]
    return out, changes


@require_http_methods(["GET", "POST"])
@require_role("manager")
def settings_contact_rules(request):
    status, error = 200, ""
    if request.method == "POST":
        country = request.POST.get("country", "").upper()
        try:
            params = yaml.safe_load(request.POST.get("params", "") or "{}")
            if not isinstance(params, dict):
                raise ValueError(_("Escriba los parámetros como «clave: valor», uno por línea."))
            _dunning().change_contact_rules(request.org, country, params, actor=request.user,
                                            reason=request.POST.get("reason", ""))
        except yaml.YAMLError as exc:
            error, status = _("Parámetros ilegibles: %(e)s") % {"e": exc}, 422
        except ValueError as exc:  # DunningError: loosening without an admin or a reason, bad values
            error, status = str(exc), 422
        else:
            messages.success(request, _("Reglas de contacto actualizadas para %(c)s.")
                             % {"c": _("todos los países") if country == "*" else country})
            return redirect("settings_contact_rules")
    used = set(Customer.objects.for_org(request.org).values_list("country", flat=True).distinct())
    countries = sorted(used | set(_dunning().presets()))
    rules, changes = _effective_rules(request.org, countries)
    return render(request, "workspace/settings/contact_rules.html", {
        **settings_tabs("contact_rules"), "rules": rules, "changes": changes[::-1][:30], "used": used,
        "error": error, "countries": countries, "posted": request.POST}, status=status)


def _templates(org) -> set[str]:
    """Template codes a step may use: Cobro's defaults and the organization's own."""
    try:
        from cobro.messaging import defaults
        from cobro.messaging.models import MessageTemplate
    except ImportError:  # pragma: no cover - the workspace without the messaging app
        return set()
    own = MessageTemplate.objects.for_org(org).order_by().values_list("code", flat=True).distinct()
    return set(defaults.codes()) | set(own)


def _change_lines(change_rows) -> list[tuple]:
    """The change log as (when, who, version, sentence) in the reader's language."""
    out = []
    for row in change_rows:
        parts = []
        for c in row.changes:
            label = CHANGE_LABELS.get(c.get("kind"))
            if label is None:
                continue
            offset = c.get("offset")
            day = f"+{offset}" if isinstance(offset, int) and offset > 0 else str(offset)
            fields = ", ".join(str(FIELD_LABELS.get(f, f)) for f in c.get("fields", ()))
            parts.append(str(label) % {"day": day, "fields": fields})
        who = (row.actor.get_full_name() or row.actor.get_username()) if row.actor else _("el sistema")
        out.append((row.created_at, who, row.version, "; ".join(parts)))
    return out


def _example(request, org_today: dt.date) -> tuple[dt.date, str, list[str]]:
    source = request.POST if request.method == "POST" else request.GET
    errors = []
    due = org_today
    text = source.get("example_due", "")
    if text:
        try:
            due = dt.date.fromisoformat(text)
        except ValueError:
            errors.append(_("La fecha de vencimiento del ejemplo no es una fecha válida."))
    amount = source.get("example_amount", "") or EXAMPLE_AMOUNT
    return due, amount, errors


@require_http_methods(["GET", "POST"])
@require_role("manager")
def settings_policy_edit(request, code):
    """The steps of one policy as a table: add, remove, reorder, check, preview one invoice, save."""
    from cobro.dunning.models import Policy, PolicyChange
    from cobro.workspace.views import org_today

    dunning = _dunning()
    org = request.org
    row = Policy.objects.for_org(org).filter(code=code).first()
    if row is None and code == dunning.default_policy_data().get("code") and not _policies(org):
        row = dunning.ensure_default_policy(org)  # the shipped policy, saved the first time it is edited
    if row is None:
        raise Http404(_("No hay una política con ese código."))
    try:
        stage_choices = list(parse_policy(row.definition).stages)
    except PolicyError:  # a stored policy is valid; an old broken one still opens, with the usual stages
        stage_choices = list(STAGES)
    templates = _templates(org)
    today = org_today(org)
    due, amount_text, example_errors = _example(request, today)
    status, checked, show_errors = 200, None, False
    name = row.name
    if request.method == "POST":
        rows = policy_form.rows_from_post(request.POST)
        name = request.POST.get("name", "")
        op = request.POST.get("op", "preview")
        if op not in ("save", "preview"):
            rows = policy_form.apply_op(rows, op)
        checked = policy_form.check(rows, name, row.definition, templates, {c for c, _l in stage_choices})
        show_errors = op in ("save", "preview")
        if op == "save" and checked.definition is not None:
            try:
                dunning.save_policy(org, row.code, checked.definition, actor=request.user)
            except ValueError as exc:  # DunningError: refused by the service
                checked.errors.append(str(exc))
            else:
                messages.success(request, _("Política guardada: %(name)s.") % {"name": checked.definition["name"]})
                return redirect("settings_policy_edit", code=row.code)
        if show_errors and (checked.errors or checked.row_errors):
            status = 422
    else:
        rows = policy_form.rows_from_definition(row.definition)
        checked = policy_form.check(rows, name, row.definition, templates, {c for c, _l in stage_choices})
    currency = org.currency or "CLP"
    try:
        open_minor = to_minor(amount_text, currency)
    except MoneyError:
        example_errors.append(_("El monto del ejemplo no es un monto válido en %(currency)s.") % {"currency": currency})
        open_minor = None
    timeline = []
    if checked.definition is not None:
        timeline = [(p.day, p.step, p.day - today) for p in
                    policy_form.preview(checked.definition, due, currency, open_minor)]
    template_options = sorted(((c, template_name(c)) for c in templates), key=lambda t: str(t[1]))
    errors_by_row = checked.row_errors if show_errors else {}
    table = [(i, r, errors_by_row.get(i + 1, [])) for i, r in enumerate(rows)]
    changes = PolicyChange.objects.for_org(org).filter(policy=row).select_related("actor")[:10]
    return render(request, "workspace/settings/policy_edit.html", {
        **settings_tabs("policies"), "policy": row, "name": name, "table": table, "total": len(rows),
        "blank": policy_form.blank_row(), "errors": checked.errors if show_errors else [],
        "has_row_errors": bool(errors_by_row), "timeline": timeline, "example_due": due,
        "example_amount": amount_text, "example_errors": example_errors, "currency": currency,
        "template_options": template_options, "unknown_templates": sorted({r["template"] for r in rows
                                                                           if r["template"] and r["template"] not in templates}),
        "stage_choices": stage_choices, "stage_labels": dict(stage_choices),
        "action_choices": list(ACTION_LABELS.items()), "action_labels": ACTION_LABELS,
        "channel_choices": [(c, CHANNEL_LABELS.get(c, c)) for c in policy_form.STEP_CHANNELS],
        "channel_labels": CHANNEL_LABELS, "tone_choices": list(TONE_LABELS.items()),
        "min_offset": policy_form.MIN_OFFSET, "max_offset": policy_form.MAX_OFFSET,
        "changes": _change_lines(changes)}, status=status)
