"""Settings → API y webhooks: keys (shown once) and webhook endpoints with their deliveries. Admins only."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from cobro.api import keys, webhooks
from cobro.api.models import EVENT_TYPES, ApiKey, WebhookDelivery, WebhookEndpoint
from cobro.engine.text import localized
from cobro.ledger.tenancy import require_role
from cobro.ledger.validation import check_tax_id
from cobro.workspace.settings_views import settings_tabs


class KeyForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Nombre"), max_length=100,
                           help_text=gettext_lazy("Qué la usa, por ejemplo «ERP, sincronización nocturna»."))
    scope = forms.ChoiceField(label=gettext_lazy("Alcance"), choices=ApiKey.Scope.choices)


class EndpointForm(forms.Form):
    url = forms.URLField(label=gettext_lazy("URL"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(label=gettext_lazy("Eventos"), required=False,
                                       choices=[(e, e) for e in EVENT_TYPES],
                                       widget=forms.CheckboxSelectMultiple,
                                       help_text=gettext_lazy("Ninguno marcado: todos los eventos."))


class TaxIdForm(forms.Form):
    """The organization's own tax id: electronic invoices issued by any other are refused."""

    tax_id = forms.CharField(label=gettext_lazy("Identificador tributario de la organización"), max_length=32,
                             required=False,
                             help_text=gettext_lazy("RUT, NIT, RFC...: el emisor de las facturas electrónicas "
                                                    "que se importan."))

    def __init__(self, *args, org=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.org = org

    def clean_tax_id(self):
        value = self.cleaned_data["tax_id"].strip()
        try:
            return check_tax_id(value, self.org.country) if value else ""
        except ValueError as exc:
            raise forms.ValidationError(localized(exc)) from None


def _page(request, key_form=None, endpoint_form=None, new_key=None, new_secret=None, tax_form=None,
          status=200):
    org = request.org
    endpoints = list(WebhookEndpoint.objects.for_org(org))
    for e in endpoints:
        e.recent = list(WebhookDelivery.objects.for_org(org).filter(endpoint=e)[:10])
    return render(request, "api/settings.html", {
        **settings_tabs("api"), "keys": ApiKey.objects.for_org(org), "endpoints": endpoints,
        "key_form": key_form or KeyForm(), "endpoint_form": endpoint_form or EndpointForm(),
        "new_key": new_key, "new_secret": new_secret,
        "tax_form": tax_form or TaxIdForm(initial={"tax_id": org.tax_id}, org=org)}, status=status)


@require_http_methods(["GET", "POST"])
@require_role("admin")
def settings_api(request):
    if request.method == "GET":
        return _page(request)
    if request.POST.get("form") == "key":
        form = KeyForm(request.POST)
        if not form.is_valid():
            return _page(request, key_form=form, status=400)
        key, text = keys.create_key(request.org, form.cleaned_data["name"], form.cleaned_data["scope"])
        return _page(request, new_key=(key, text))
    if request.POST.get("form") == "tax_id":
        form = TaxIdForm(request.POST, org=request.org)
        if not form.is_valid():
            return _page(request, tax_form=form, status=400)
        request.org.tax_id = form.cleaned_data["tax_id"]
        request.org.save(update_fields=["tax_id"])
        messages.success(request, _("Identificador tributario guardado."))
        return redirect("api_settings:home")
    form = EndpointForm(request.POST)
    if not form.is_valid():
        return _page(request, endpoint_form=form, status=400)
    endpoint = webhooks.create_endpoint(request.org, form.cleaned_data["url"], form.cleaned_data["events"])
    return _page(request, new_secret=(endpoint, endpoint.secret))


@require_POST
@require_role("admin")
def revoke_key(request, pk: int):
    key = get_object_or_404(ApiKey.objects.for_org(request.org), pk=pk, revoked_at=None)
    keys.revoke(request.org, key.prefix)
    messages.success(request, _("Clave %(name)s revocada.") % {"name": key.name})
    return redirect("api_settings:home")


@require_POST
@require_role("admin")
def toggle_endpoint(request, pk: int):
    endpoint = get_object_or_404(WebhookEndpoint.objects.for_org(request.org), pk=pk)
    endpoint.active = not endpoint.active
    if endpoint.active:
        endpoint.failures, endpoint.disabled_at = 0, None
    endpoint.save(update_fields=["active", "failures", "disabled_at", "updated_at"])
    messages.success(request, _("Webhook activado.") if endpoint.active else _("Webhook desactivado."))
    return redirect("api_settings:home")


@require_POST
@require_role("admin")
def redeliver(request, pk: int):
    delivery = get_object_or_404(WebhookDelivery.objects.for_org(request.org).select_related("endpoint"), pk=pk)
    delivery.status = WebhookDelivery.Status.PENDING
    delivery.save(update_fields=["status"])
    if webhooks.deliver(delivery):
        messages.success(request, _("Evento entregado de nuevo."))
    else:
        messages.error(request, _("El receptor no aceptó el evento; se reintentará."))
    return redirect("api_settings:home")
