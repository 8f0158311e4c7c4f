"""Settings pages over the dunning app's services: the policy and its steps, and the contact rules.

The dunning app owns the tables and every rule about them (validation, who may loosen a contact
rule, versions); these pages only show its data and hand edits to its services.
"""

from __future__ import annotations

import yaml
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from cobro.ledger.models import Channel, Customer
from cobro.ledger.tenancy import require_role
from cobro.workspace.settings_views import settings_tabs

#: How a step's codes read on the page (the YAML keeps the codes).
ACTION_LABELS = {"message": gettext_lazy("Mensaje"), "call_task": gettext_lazy("Tarea de llamada"),
                 "letter": gettext_lazy("Carta"), "fee": gettext_lazy("Cargo por mora"),
                 "stage": gettext_lazy("Cambio de etapa")}
TONE_LABELS = {"friendly": gettext_lazy("Amable"), "neutral": gettext_lazy("Neutral"),
               "firm": gettext_lazy("Firme"), "formal": gettext_lazy("Formal")}
CHANNEL_LABELS = {**dict(Channel.choices), "preferred": gettext_lazy("Canal preferido")}


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
    return render(request, "workspace/settings/policies.html", {
        **settings_tabs("policies"), "policies": shown, "yaml_text": text, "error": error}, status=status)


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
            messages.success(request, _("Reglas de contacto actualizadas para %(c)s.") % {"c": country})
            return redirect("settings_contact_rules")
    used = set(Customer.objects.for_org(request.org).values_list("country", flat=True).distinct())
    countries = sorted(used | set(_dunning().presets()))
    rules, changes = _effective_rules(request.org, countries)
    return render(request, "workspace/settings/contact_rules.html", {
        **settings_tabs("contact_rules"), "rules": rules, "changes": changes[::-1][:30], "used": used,
        "error": error, "countries": countries, "posted": request.POST}, status=status)
