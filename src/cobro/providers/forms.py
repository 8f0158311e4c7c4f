from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cobro.providers.models import Provider

LABELS = {
    "secret_key": _("Clave secreta"),
    "webhook_secret": _("Secreto del webhook"),
    "access_token": _("Token de acceso"),
    "commerce_code": _("Código de comercio"),
    "api_key": _("Llave secreta de la API"),
}


def _form(fields: tuple[str, ...]) -> type[forms.Form]:
    # Password inputs that never render their value: a stored secret is not shown back.
    attrs = {f: forms.CharField(label=LABELS[f], max_length=500, strip=True,
                                widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}))
             for f in fields}
    return type("CredentialForm", (forms.Form,), attrs)


CREDENTIAL_FORMS = {
    Provider.STRIPE.value: _form(("secret_key", "webhook_secret")),
    Provider.MERCADOPAGO.value: _form(("access_token", "webhook_secret")),
    Provider.TRANSBANK.value: _form(("commerce_code", "api_key")),
}
