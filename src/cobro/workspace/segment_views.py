"""Segments on the policies page: each one's rules in words and how many customers it holds today, and
the form to create, change, reorder and delete them (managers only; ``dunning.segments`` checks and
writes)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from cobro.engine.money import MoneyError, format_money, from_minor, parse_amount
from cobro.engine.text import Country, message_of
from cobro.ledger.models import Invoice
from cobro.ledger.tenancy import require_role
from cobro.workspace.settings_views import settings_tabs

BAND_LABELS = {"low": gettext_lazy("bajo"), "medium": gettext_lazy("medio"), "high": gettext_lazy("alto")}


def _lib():
    from cobro.dunning import segments

    return segments


def _money(minor: int, currency: str) -> str:
    return format_money(minor, currency, get_language() or "es")


def rules_in_words(seg) -> list[str]:
    """A segment's conditions as short sentences in the reader's language ("Riesgo: alto")."""
    out = []
    if seg.bands:
        out.append(_("Riesgo: %(bands)s") % {"bands": ", ".join(str(BAND_LABELS.get(b, b)) for b in seg.bands)})
    lo, hi = seg.amount_min, seg.amount_max
    if lo is not None and hi is not None:
        out.append(_("Deuda abierta desde %(low)s y menos de %(high)s") % {
            "low": _money(lo, seg.currency), "high": _money(hi, seg.currency)})
    elif lo is not None:
        out.append(_("Deuda abierta desde %(low)s") % {"low": _money(lo, seg.currency)})
    elif hi is not None:
        out.append(_("Deuda abierta de menos de %(high)s") % {"high": _money(hi, seg.currency)})
    if seg.countries:
        out.append(_("País: %(countries)s") % {"countries": ", ".join(Country(c).localized() for c in seg.countries)})
    if seg.tags:
        out.append(_("Etiqueta: %(tags)s") % {"tags": ", ".join(seg.tags)})
    dmin, dmax = seg.days_min, seg.days_max
    if dmin is not None and dmax is not None:
        out.append(_("Primera factura hace entre %(low)s y %(high)s días") % {"low": dmin, "high": dmax})
    elif dmin is not None:
        out.append(_("Primera factura hace %(low)s días o más") % {"low": dmin})
    elif dmax is not None:
        out.append(_("Primera factura hace %(high)s días o menos") % {"high": dmax})
    return out or [_("Todos los clientes")]


def listing(org, today) -> dict:
    """What the policies page shows about segments (one evaluation of the whole book)."""
    from cobro.dunning.models import Segment

    held, own, rest = _lib().held_today(org, today)
    rows = [{"segment": s, "rules": rules_in_words(s), "customers": held.get(s.pk, 0)}
            for s in Segment.objects.for_org(org).select_related("policy")]
    return {"segments": rows, "segments_own": own, "segments_rest": rest}


def _currencies(org) -> list[str]:
    used = Invoice.objects.for_org(org).order_by().values_list("currency", flat=True).distinct()
    return sorted({org.currency or "CLP", *used})


def _read(post, lang: str) -> tuple[dict, dict[str, str]]:
    """The form's fields as the service takes them, and the problems of reading them, by field."""
    errors: dict[str, str] = {}
    currency = post.get("currency", "").strip().upper()
    mark = "." if lang.startswith("en") else ","
    amounts = {}
    for key in ("amount_min", "amount_max"):
        text = post.get(key, "").strip()
        amounts[key] = None
        if text:
            try:
                amounts[key] = parse_amount(text, currency or "CLP", mark)
                if amounts[key] < 0:
                    raise MoneyError(_("no puede ser negativo"))
            except MoneyError as exc:
                message = message_of(exc)
                errors[key] = _("Monto ilegible: %(error)s") % {
                    "error": message.localized() if hasattr(message, "localized") else message}
    days = {}
    for key in ("days_min", "days_max"):
        text = post.get(key, "").strip()
        days[key] = None
        if text:
            if text.isdigit():
                days[key] = int(text)
            else:
                errors[key] = _("Escriba un número entero de días (0 o más).")

    def split(name):
        return [part.strip() for part in post.get(name, "").replace(";", ",").split(",") if part.strip()]

    data = {"name": post.get("name", ""), "policy": post.get("policy", ""), "bands": post.getlist("bands"),
            "countries": split("countries"), "tags": split("tags"), "currency": currency, **amounts, **days}
    return data, errors


def _form(request, segment):
    from cobro.dunning.models import Policy

    org = request.org
    lib = _lib()
    status, problems, field_errors = 200, [], {}
    lang = get_language() or "es"
    if request.method == "POST":
        data, field_errors = _read(request.POST, lang)
        if not field_errors:
            try:
                saved = lib.save_segment(org, data, segment)
            except ValueError as exc:  # DunningError: every problem of the rules, in the reader's language
                problems = [str(exc)]
            else:
                messages.success(request, _("Segmento guardado: %(name)s.") % {"name": saved.name})
                return redirect("settings_policies")
        status = 422
        values = {**request.POST.dict(), "bands": request.POST.getlist("bands")}
    elif segment is not None:
        exp_of = {k: getattr(segment, k) for k in ("amount_min", "amount_max")}
        values = {"name": segment.name, "policy": segment.policy.code, "bands": segment.bands,
                  "countries": ", ".join(segment.countries), "tags": ", ".join(segment.tags),
                  "currency": segment.currency or org.currency,
                  **{k: "" if v is None else _plain(v, segment.currency, lang) for k, v in exp_of.items()},
                  "days_min": "" if segment.days_min is None else segment.days_min,
                  "days_max": "" if segment.days_max is None else segment.days_max}
    else:
        values = {"currency": org.currency or "CLP", "bands": []}
    policies = list(Policy.objects.for_org(org).order_by("-is_default", "name").values_list("code", "name"))
    if not policies:
        from cobro.dunning import services

        services.ensure_default_policy(org)
        policies = list(Policy.objects.for_org(org).values_list("code", "name"))
    return render(request, "workspace/settings/segment_form.html", {
        **settings_tabs("policies"), "segment": segment, "values": values, "problems": problems,
        "field_errors": field_errors, "policies": policies, "currencies": _currencies(org),
        "bands": list(BAND_LABELS.items())}, status=status)


def _plain(minor: int, currency: str, lang: str) -> str:
    """An amount as the form shows it back: digits and the reader's decimal mark, no grouping."""
    text = str(from_minor(minor, currency or "CLP"))
    return text if lang.startswith("en") else text.replace(".", ",")


def _own(request, pk):
    from cobro.dunning.models import Segment

    segment = Segment.objects.for_org(request.org).select_related("policy").filter(pk=pk).first()
    if segment is None:
        raise Http404(_("No hay un segmento con ese número."))
    return segment


@require_http_methods(["GET", "POST"])
@require_role("manager")
def segment_new(request):
    return _form(request, None)


@require_http_methods(["GET", "POST"])
@require_role("manager")
def segment_edit(request, pk):
    return _form(request, _own(request, pk))


@require_POST
@require_role("manager")
def segment_move(request, pk):
    segment = _own(request, pk)
    _lib().move_segment(request.org, segment, -1 if request.POST.get("direction") == "up" else 1)
    return redirect("settings_policies")


@require_POST
@require_role("manager")
def segment_delete(request, pk):
    segment = _own(request, pk)
    _lib().delete_segment(request.org, segment)
    messages.success(request, _("Segmento eliminado: %(name)s.") % {"name": segment.name})
    return redirect("settings_policies")
