"""A/B tests of wording in the workspace: the list and the start form, one test's result, stop and
apply. Everyone in the organization may read them; only managers and admins start, stop and apply."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cobro.engine import abtest as engine
from cobro.insights import abtest
from cobro.insights.models import AbTest
from cobro.ledger.tenancy import require_role


def _can_run(request) -> bool:
    return request.membership is not None and request.membership.can("manager")


def _steps(org) -> list[dict]:
    labels = abtest.template_labels(org, get_language() or "es")
    return [{"value": f"{p}|{s}", "policy": p, "step": s, "name": _(n) if n else s,
             "template": labels.get(t, t)} for p, s, n, t in abtest.message_steps(org)]


@require_role("viewer")
def abtest_list(request):
    org = request.org
    labels = abtest.template_labels(org, get_language() or "es")
    tests = list(AbTest.objects.for_org(org).order_by("-started_at", "-id"))
    context = {
        "tests": [{"test": t, "a": labels.get(t.template_a, t.template_a), "b": labels.get(t.template_b, t.template_b)}
                  for t in tests],
        "can_run": _can_run(request), "form": request.POST or {}, "error": "",
    }
    status = 200
    if _can_run(request):
        context.update(steps=_steps(org), templates=sorted(labels.items(), key=lambda kv: kv[1]),
                       metrics=AbTest.Metric.choices, horizons=abtest.HORIZONS,
                       holdouts=[(repr(h), round(h * 100)) for h in abtest.HOLDOUTS])
    return render(request, "insights/abtests.html", context, status=status)


@require_POST
@require_role("manager")
def abtest_start(request):
    policy, _sep, step = request.POST.get("step", "").partition("|")
    try:
        test = abtest.start(request.org, policy_code=policy, step=step, template_b=request.POST.get("template_b", ""),
                            metric=request.POST.get("metric", ""), horizon_days=int(request.POST.get("horizon") or 0),
                            holdout=float(request.POST.get("holdout") or 0), actor=request.user,
                            name=request.POST.get("name", "").strip()[:120])
    except (abtest.AbTestError, ValueError) as exc:
        messages.error(request, str(exc) if isinstance(exc, abtest.AbTestError) else _("Revise los datos de la prueba."))
        return redirect("insights:abtests")
    messages.success(request, _("Prueba iniciada: cambia los mensajes desde el ciclo del %(day)s.") % {
        "day": formats.date_format(test.starts_on, "SHORT_DATE_FORMAT")})
    return redirect("insights:abtest", pk=test.pk)


@require_role("viewer")
def abtest_detail(request, pk: int):
    test = get_object_or_404(AbTest.objects.for_org(request.org), pk=pk)
    out = abtest.compute(request.org, test)
    labels = abtest.template_labels(request.org, get_language() or "es")
    names = {"A": _("A (la actual)"), "B": "B", engine.HOLDOUT: _("Control (sin mensaje)")}
    groups = [{"variant": g.variant, "name": names[g.variant], "template": labels.get(g.template, g.template),
               "n": g.n, "value": abtest.show_value(test, g.value) if g.n else "—"} for g in out.groups]
    r = out.result
    finite = r.low > float("-inf") and r.high < float("inf")
    return render(request, "insights/abtest.html", {
        "test": test, "outcome": out, "groups": groups, "can_run": _can_run(request),
        "effect": abtest.show_value(test, r.effect, True) if r.a.n and r.b.n else "—",
        "interval": (abtest.show_value(test, r.low, True), abtest.show_value(test, r.high, True)) if finite else None,
        "p_value": ("< " + formats.number_format(0.001, decimal_pos=3, use_l10n=True)) if r.p_value < 0.001
        else formats.number_format(r.p_value, decimal_pos=3, use_l10n=True),
        "level": round((1 - test.alpha) * 100), "min_per_arm": engine.MIN_PER_ARM,
    })


@require_POST
@require_role("manager")
def abtest_stop(request, pk: int):
    test = get_object_or_404(AbTest.objects.for_org(request.org), pk=pk)
    try:
        abtest.stop(request.org, test)
        messages.success(request, _("Prueba detenida: desde mañana todos reciben la plantilla A."))
    except abtest.AbTestError as exc:
        messages.error(request, str(exc))
    return redirect("insights:abtest", pk=test.pk)


@require_POST
@require_role("manager")
def abtest_apply(request, pk: int):
    test = get_object_or_404(AbTest.objects.for_org(request.org), pk=pk)
    try:
        abtest.apply_winner(request.org, test, actor=request.user)
        messages.success(request, _("Ganadora aplicada: la política quedó en la versión %(v)s.") % {
            "v": test.applied_version})
    except abtest.AbTestError as exc:
        messages.error(request, str(exc))
    return redirect("insights:abtest", pk=test.pk)
