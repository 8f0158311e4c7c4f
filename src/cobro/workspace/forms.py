"""Forms of the workspace: every field labelled, every error said in the user's language."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from cobro.engine.money import MoneyError, format_money, parse_amount
from cobro.ledger.models import Role
from cobro.workspace.models import Situation
from cobro.workspace.services import OUTCOMES

DISPUTE_REASONS = [
    ("amount", _("Monto incorrecto")),
    ("not_received", _("Producto o servicio no recibido")),
    ("quality", _("Problema de calidad")),
    ("duplicate", _("Factura duplicada")),
    ("other", _("Otro")),
]


class CallOutcomeForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Resultado"), choices=list(OUTCOMES.items()), widget=forms.RadioSelect)
    reason = forms.ChoiceField(label=_("Motivo del atraso"), required=False)
    note = forms.CharField(label=_("Nota"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))
    promise_date = forms.DateField(label=_("Promete pagar el"), required=False,
                                   widget=forms.DateInput(attrs={"type": "date"}))
    promise_amount = forms.CharField(label=_("Monto prometido"), required=False, max_length=32)
    plan_proposal = forms.CharField(label=_("Propuesta de plan"), required=False, max_length=500,
                                    help_text=_("Ej.: pie de 30% y 3 cuotas mensuales"))
    dispute_invoice = forms.ChoiceField(label=_("Factura en reclamo"), required=False)
    dispute_reason = forms.ChoiceField(label=_("Tipo de reclamo"), required=False, choices=DISPUTE_REASONS)
    dispute_text = forms.CharField(label=_("Detalle del reclamo"), required=False, max_length=1000)
    callback_date = forms.DateField(label=_("Volver a llamar el"), required=False,
                                    widget=forms.DateInput(attrs={"type": "date"}))
    callback_time = forms.TimeField(label=_("a las (hora del cliente)"), required=False,
                                    widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))

    def __init__(self, *args, reasons=(), invoices=(), currency="CLP", today=None, dispute_reasons=None,
                 **kwargs):
        super().__init__(*args, **kwargs)
        if dispute_reasons is not None:
            self.fields["dispute_reason"].choices = list(dispute_reasons)
        # A promise is in the currency the customer owes in, whatever the organization's own is.
        self.invoices = list(invoices)
        self.currency = self.invoices[0].currency if self.invoices else currency
        self.today = today or dt.date.today()
        self.fields["reason"].choices = [("", "—")] + list(reasons)
        self.fields["dispute_invoice"].choices = [("", "—")] + [(str(i.pk), i.ref) for i in invoices]

    def clean(self):
        data = super().clean()
        date, amount = data.get("promise_date"), (data.get("promise_amount") or "").strip()
        if date or amount:
            if not date:
                self.add_error("promise_date", _("Indique la fecha de la promesa."))
            elif date < self.today:
                self.add_error("promise_date", _("La fecha prometida no puede estar en el pasado."))
            if not amount:
                self.add_error("promise_amount", _("Indique el monto prometido."))
            else:
                try:
                    data["promise_minor"] = parse_amount(amount, self.currency)
                except MoneyError:
                    self.add_error("promise_amount", _("«%(v)s» no es un monto: escriba solo cifras, por ejemplo "
                                                       "150.000.") % {"v": amount[:32]})
                else:
                    owed = sum(i.open_amount for i in self.invoices if i.currency == self.currency)
                    if data["promise_minor"] <= 0:
                        self.add_error("promise_amount", _("El monto debe ser mayor que cero."))
                    elif data["promise_minor"] > owed:
                        lang = get_language() or "es"
                        self.add_error("promise_amount", _(
                            "La promesa (%(p)s) supera lo que el cliente debe (%(o)s): indique a lo más la deuda.")
                            % {"p": format_money(data["promise_minor"], self.currency, lang),
                               "o": format_money(owed, self.currency, lang)})
        if data.get("dispute_invoice") and not data.get("dispute_reason"):
            self.add_error("dispute_reason", _("Elija el tipo de reclamo."))
        if data.get("dispute_invoice") and not (data.get("dispute_text") or "").strip():
            self.add_error("dispute_text", _("Describa el reclamo en pocas palabras."))
        day, time = data.get("callback_date"), data.get("callback_time")
        if day and not time and not self.errors.get("callback_time"):
            self.add_error("callback_time", _("Indique a qué hora volver a llamar."))
        elif time and not day and not self.errors.get("callback_date"):
            self.add_error("callback_date", _("Indique qué día volver a llamar."))
        elif day and day < self.today - dt.timedelta(days=1):
            # A day back is allowed: the debtor's calendar may still be on the team's yesterday.
            self.add_error("callback_date", _("El día para volver a llamar no puede estar en el pasado."))
        agreed = date or amount or data.get("plan_proposal") or data.get("dispute_invoice")
        if agreed and data.get("outcome") and data["outcome"] != "reached":
            self.add_error("outcome", _("Solo se registra un acuerdo si se habló con el cliente."))
        return data


class PauseForm(forms.Form):
    days = forms.IntegerField(label=_("Días de pausa"), min_value=1, max_value=90, initial=7)
    reason = forms.CharField(label=_("Motivo"), max_length=300)


class NoteForm(forms.Form):
    text = forms.CharField(label=_("Nota"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class OwnerForm(forms.Form):
    owner = forms.ChoiceField(label=_("Responsable"), required=False)

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [("", _("Sin responsable"))] + [
            (str(m.user_id), m.user.get_full_name() or m.user.username) for m in members]


class ScriptForm(forms.Form):
    situation = forms.ChoiceField(label=_("Situación"), choices=Situation.choices, widget=forms.HiddenInput)
    language = forms.ChoiceField(label=_("Idioma"), choices=[("es", "Español"), ("en", "English"),
                                                               ("pt-br", "Português (Brasil)")],
                                 widget=forms.HiddenInput)
    body = forms.CharField(label=_("Guion"), widget=forms.Textarea(attrs={"rows": 9}), max_length=4000)


class ReasonForm(forms.Form):
    label = forms.CharField(label=_("Nuevo motivo"), max_length=120)


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Correo"))
    role = forms.ChoiceField(label=_("Rol"), choices=Role.choices, initial=Role.AGENT)
