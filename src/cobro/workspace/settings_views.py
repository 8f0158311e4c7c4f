"""Settings for managers: scripts, reasons for delay, team members; links to other apps' editors."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.text import slugify
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from cobro.ledger.models import Membership, Role
from cobro.ledger.tenancy import SESSION_KEY, require_role
from cobro.workspace import invitations, services
from cobro.workspace.forms import InviteForm, ReasonForm, ScriptForm
from cobro.workspace.models import DelayReason, Invitation, Situation
from cobro.workspace.scripts import load_scripts

SCRIPT_LANGUAGES = [("es", "Español"), ("en", "English"), ("pt-br", "Português (Brasil)")]

#: Settings pages other apps own, shown in the same menu when they are installed (url name, label).
OTHER_PAGES = [
    ("providers:settings", gettext_lazy("Pagos en línea")),
    ("portal_settings:home", gettext_lazy("Portal y cuentas bancarias")),
    ("messaging:templates", gettext_lazy("Plantillas de mensajes")),
    ("messaging:outbox", gettext_lazy("Bandeja de salida")),
    ("api_settings:home", gettext_lazy("API y webhooks")),
]


def _other_pages():
    pages = []
    for name, label in OTHER_PAGES:
        try:
            pages.append((reverse(name), str(label)))
        except NoReverseMatch:
            continue
    return pages


def worker_status(now=None) -> dict | None:
    """When the background worker last ran (its heartbeat), for the line on every settings page."""
    try:
        from cobro.dunning import heartbeat
    except ImportError:  # pragma: no cover - the workspace without the dunning app
        return None
    now = now or timezone.now()
    row = heartbeat.last_beat()
    if row is None:
        return {"never": True, "stale": True}
    return {"never": False, "at": row.beat_at, "ago": timesince(row.beat_at, now, depth=1),
            "stale": heartbeat.is_stale(row, now)}


def settings_tabs(active):
    return {"active": active, "other_pages": _other_pages(), "worker": worker_status()}


@require_role("manager")
def settings_home(request):
    return redirect("settings_scripts")


@require_http_methods(["GET", "POST"])
@require_role("manager")
def settings_scripts(request):
    if request.method == "POST":
        form = ScriptForm(request.POST)
        if form.is_valid():
            try:
                services.save_script(request.org, form.cleaned_data["situation"], form.cleaned_data["language"],
                                     form.cleaned_data["body"], actor=request.user)
            except services.WorkspaceError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, _("Guion guardado."))
        else:
            messages.error(request, _("Revise el guion."))
        return redirect(f"{request.path}?lang={request.POST.get('language', 'es')}")
    lang = request.GET.get("lang", "es")
    if lang not in dict(SCRIPT_LANGUAGES):
        lang = "es"
    texts = load_scripts(request.org)
    scripts = [(code, label, ScriptForm(initial={"situation": code, "language": lang,
                                                 "body": texts[(code, lang)]}))
               for code, label in Situation.choices]
    return render(request, "workspace/settings/scripts.html", {
        **settings_tabs("scripts"), "scripts": scripts, "lang": lang, "languages": SCRIPT_LANGUAGES})


@require_http_methods(["GET", "POST"])
@require_role("manager")
def settings_reasons(request):
    if request.method == "POST":
        form = ReasonForm(request.POST)
        if form.is_valid():
            label = form.cleaned_data["label"]
            code = slugify(label)[:40] or "motivo"
            services.save_reason(request.org, code, label)
            messages.success(request, _("Motivo agregado."))
        else:
            messages.error(request, _("Escriba el motivo."))
        return redirect("settings_reasons")
    services.ensure_reasons(request.org)
    return render(request, "workspace/settings/reasons.html", {
        **settings_tabs("reasons"), "reasons": DelayReason.objects.for_org(request.org), "form": ReasonForm()})


@require_POST
@require_role("manager")
def settings_reason_toggle(request, pk: int):
    reason = get_object_or_404(DelayReason.objects.for_org(request.org), pk=pk)
    services.save_reason(request.org, reason.code, reason.label, active=not reason.active)
    return redirect("settings_reasons")


@require_http_methods(["GET", "POST"])
@require_role("manager")
def settings_team(request):
    form = InviteForm()
    if request.method == "POST":
        if not request.membership.can("admin"):
            messages.error(request, _("Solo un administrador puede invitar miembros."))
            return redirect("settings_team")
        form = InviteForm(request.POST)
        if form.is_valid():
            email = form.cleaned_data["email"]
            invitations.invite(request.org, email, form.cleaned_data["role"], request.user,
                               lambda token: request.build_absolute_uri(reverse("invitation", args=[token])))
            # The same words whether or not an account exists for the address (issue #10.2).
            messages.success(request, _("Invitación enviada a %(e)s: será miembro cuando la acepte.") % {"e": email})
            return redirect("settings_team")
    members = Membership.objects.filter(organization=request.org).select_related("user").order_by("user__username")
    is_admin = request.membership.can("admin")
    return render(request, "workspace/settings/team.html", {
        **settings_tabs("team"), "members": members, "form": form, "roles": Role.choices, "is_admin": is_admin,
        "pending": list(invitations.pending(request.org)) if is_admin else []})


@require_POST
@require_role("admin")
def settings_invitation_revoke(request, pk: int):
    """Withdraw a pending invitation: its link stops working at once."""
    try:
        row = invitations.revoke(request.org, pk)
    except Invitation.DoesNotExist:
        raise Http404 from None
    messages.success(request, _("Invitación a %(e)s anulada.") % {"e": row.email})
    return redirect("settings_team")


@require_POST
@require_role("admin")
def settings_member_role(request, pk: int):
    member = get_object_or_404(Membership, organization=request.org, pk=pk)
    role = request.POST.get("role", "")
    try:
        services.set_role(request.org, member, role, actor_membership=request.membership)
    except services.WorkspaceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Rol actualizado."))
    return redirect("settings_team")



@require_http_methods(["GET", "POST"])
def invitation(request, token: str):
    """The invited person's page: sign in or create an account, then accept; nothing exists before."""
    try:
        data = invitations.read(token)
    except invitations.InvitationError as exc:
        return render(request, "workspace/invitation.html", {"error": str(exc)}, status=410)
    error, username = "", ""
    if request.method == "POST":
        try:
            if request.POST.get("do") == "accept" and request.user.is_authenticated:
                member = invitations.accept(token, request.user)
            elif request.POST.get("do") == "create" and not request.user.is_authenticated:
                username = request.POST.get("username", "")
                user = invitations.accept_with_new_account(token, username, request.POST.get("password", ""))
                auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                member = Membership.objects.get(organization=data["org"], user=user)
            else:
                raise invitations.InvitationError(_("Elija entrar con su cuenta o crear una."))
        except invitations.InvitationError as exc:
            error = str(exc)
        else:
            request.session[SESSION_KEY] = member.organization.slug
            messages.success(request, _("Ahora es miembro de %(org)s.") % {"org": member.organization.name})
            return redirect("home")
    return render(request, "workspace/invitation.html", {
        "invitation": data, "role_label": Role(data["r"]).label, "error": error, "username": username},
        status=422 if error else 200)


@require_role("manager")
def settings_rates(request):
    """The organization's exchange-rate table, used to rank the day's work across currencies."""
    from cobro.ledger.models import Invoice
    from cobro.workspace.models import ExchangeRate

    if request.method == "POST":
        try:
            row = services.save_exchange_rate(request.org, request.POST.get("currency", ""),
                                              request.POST.get("rate", ""), actor=request.user)
        except services.WorkspaceError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Tipo de cambio guardado: 1 %(c)s = %(r)s %(h)s.") % {
                "c": row.currency, "r": number_format(row.rate.normalize(), force_grouping=True),
                "h": request.org.currency})
        return redirect("settings_rates")
    rates = {r.currency: r for r in ExchangeRate.objects.for_org(request.org)}
    used = set(Invoice.objects.for_org(request.org).order_by().values_list("currency", flat=True).distinct())
    rows = [(c, rates.get(c)) for c in sorted((used | set(rates)) - {request.org.currency})]
    return render(request, "workspace/settings/rates.html", {**settings_tabs("rates"), "rows": rows})
