"""Settings → Portal: the bank accounts debtors pay into (by country and currency), the transfer
instructions per language, and the logo the portal and its PDFs show. Managers only; every row belongs to the organization in the session."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from cobro.ledger.tenancy import require_role
from cobro.payments.models import BankAccount
from cobro.portal import paying
from cobro.portal.forms import BankAccountForm, InstructionsForm, LogoForm
from cobro.workspace.settings_views import settings_tabs


@require_http_methods(["GET", "POST"])
@require_role("manager")
def settings_portal(request):
    org = request.org
    accounts = list(BankAccount.objects.for_org(org).order_by("-show_in_portal", "country", "currency", "name"))
    forms = {a.pk: BankAccountForm(instance=a, organization=org, prefix=f"acc{a.pk}") for a in accounts}
    new_form = BankAccountForm(organization=org, prefix="new")
    logo_form = LogoForm()
    instructions_form = InstructionsForm.for_org(org)
    status = 200
    if request.method == "POST":
        do = request.POST.get("do", "")
        if do == "instructions":
            instructions_form = InstructionsForm.for_org(org, request.POST)
            if instructions_form.is_valid():
                paying.save_instructions(org, instructions_form.texts())
                messages.success(request, _("Instrucciones de transferencia guardadas."))
                return redirect("portal_settings:home")
        elif do == "logo":
            logo_form = LogoForm(request.POST, request.FILES)
            if logo_form.is_valid():
                paying.save_logo(org, logo_form.cleaned_data["logo"])
                messages.success(request, _("Logo guardado."))
                return redirect("portal_settings:home")
        elif do == "remove_logo":
            paying.remove_logo(org)
            messages.success(request, _("Logo eliminado."))
            return redirect("portal_settings:home")
        elif do == "account":
            pk = request.POST.get("pk", "")
            instance = get_object_or_404(BankAccount.objects.for_org(org), pk=pk) if pk else None
            form = BankAccountForm(request.POST, instance=instance, organization=org,
                                   prefix=f"acc{instance.pk}" if instance else "new")
            if form.is_valid():
                acc = form.save()
                messages.success(request, _("Cuenta %(n)s guardada.") % {"n": acc.number})
                return redirect("portal_settings:home")
            if instance:
                forms[instance.pk] = form
            else:
                new_form = form
        status = 422
    rows = [{"account": a, "form": forms[a.pk]} for a in accounts]
    return render(request, "portal/settings.html", {
        **settings_tabs("portal"), "rows": rows, "new_form": new_form, "logo_form": logo_form,
        "instructions_form": instructions_form,
        "has_logo": bool(org.option(paying.LOGO_OPTION)), "logo_uri": paying.logo_data_uri(org)}, status=status)


@require_role("viewer")
def survey_results(request):
    """The "say thanks" survey: how easy debtors found paying, overall, per message template that led
    to the payment and per agent (as they were when the debtor answered), and the latest comments."""
    from django.db.models import Avg, Count

    from cobro.portal.models import Survey
    from cobro.workspace.labels import template_name

    qs = Survey.objects.for_org(request.org)
    overall = qs.aggregate(n=Count("id"), avg=Avg("rating"))
    spread = dict(qs.values_list("rating").annotate(n=Count("id")).order_by())
    dist = [{"rating": r, "n": spread.get(r, 0), "pct": round(100 * spread.get(r, 0) / overall["n"]) if overall["n"] else 0}
            for r in range(5, 0, -1)]
    by_template = [{"label": template_name(row["template"]) if row["template"] else _("Sin mensaje previo"),
                    "n": row["n"], "avg": row["avg"]}
                   for row in qs.values("template").annotate(n=Count("id"), avg=Avg("rating")).order_by("-n", "template")]
    by_agent = [{"label": (" ".join(p for p in (row["agent__first_name"], row["agent__last_name"]) if p)
                           or row["agent__username"] or _("Sin agente asignado")), "n": row["n"], "avg": row["avg"]}
                for row in qs.values("agent__username", "agent__first_name", "agent__last_name")
                .annotate(n=Count("id"), avg=Avg("rating")).order_by("-n", "agent__username")]
    comments = qs.exclude(comment="").select_related("customer").order_by("-created_at", "-pk")[:20]
    return render(request, "portal/surveys.html", {"overall": overall, "dist": dist, "by_template": by_template,
                                                   "by_agent": by_agent, "comments": comments})
