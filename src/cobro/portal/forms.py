"""Settings forms of the portal: the bank accounts debtors pay into, the transfer instructions in
each of the debtors' languages, and the creditor's logo."""

from __future__ import annotations

import re

from babel import Locale
from django import forms
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from cobro.engine.money import MoneyError, check_currency
from cobro.payments.models import BankAccount
from cobro.portal import access, paying

SWIFT = re.compile(r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$")


def country_choices() -> list[tuple[str, str]]:
    names = Locale.parse((get_language() or "es").replace("-", "_")).territories
    return sorted(((code, names[code]) for code in names if len(code) == 2 and code.isalpha() and code != "ZZ"),
                  key=lambda item: item[1])


class BankAccountForm(forms.ModelForm):
    """An account as debtors read it. Shown in the portal only to customers of ``country`` owing in
    ``currency``, so the holder's tax id is checked against that country where Cobro knows how."""

    class Meta:
        model = BankAccount
        fields = ["show_in_portal", "country", "currency", "bank_name", "account_type", "number", "holder",
                  "holder_tax_id", "swift", "name", "instructions"]
        widgets = {"instructions": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.fields["country"] = forms.ChoiceField(label=gettext_lazy("País de los deudores"),
                                                   choices=country_choices(), initial=organization.country)
        self.fields["currency"].initial = organization.currency
        self.fields["name"].required = False
        self.fields["name"].help_text = gettext_lazy("Como lo nombran sus cartolas; si lo deja vacío, el banco y el número.")

    def clean_currency(self):
        try:
            return check_currency(self.cleaned_data["currency"])
        except MoneyError:
            raise forms.ValidationError(_("La moneda %(c)s no es un código ISO 4217 (por ejemplo CLP, MXN, USD).")
                                        % {"c": self.cleaned_data["currency"]}) from None

    def clean_number(self):
        number = self.cleaned_data["number"].strip()
        clash = BankAccount.objects.for_org(self.organization).filter(number=number)
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError(_("Ya hay una cuenta con el número %(n)s.") % {"n": number})
        return number

    def clean_swift(self):
        swift = self.cleaned_data["swift"].strip().upper().replace(" ", "")
        if swift and not SWIFT.match(swift):
            raise forms.ValidationError(_("El código SWIFT/BIC debe tener 8 u 11 letras y números."))
        return swift

    def clean(self):
        data = super().clean()
        country, tax_id = data.get("country", ""), (data.get("holder_tax_id") or "").strip()
        if tax_id and country in access.TAX_IDS:
            try:
                access.normalise_tax_id(country, tax_id)
            except access.BadTaxId:
                self.add_error("holder_tax_id", _("El identificador tributario no es válido para el país elegido."))
        if data.get("show_in_portal"):
            for field in ("bank_name", "holder"):
                if not (data.get(field) or "").strip():
                    self.add_error(field, _("Se necesita para mostrar la cuenta a los deudores."))
        if not (data.get("name") or "").strip():
            data["name"] = " ".join(p for p in (data.get("bank_name", ""), data.get("number", "")) if p)[:100]
        return data

    def save(self, commit=True):
        self.instance.organization = self.organization
        return super().save(commit)


class LogoForm(forms.Form):
    logo = forms.FileField(label=gettext_lazy("Logo (PNG o JPEG, hasta 1 MB)"))

    def clean_logo(self):
        upload = self.cleaned_data["logo"]
        if upload.size > paying.MAX_LOGO:
            raise forms.ValidationError(_("El logo supera el máximo de 1 MB."))
        content = upload.read(paying.MAX_LOGO + 1)
        if paying.logo_kind(content) is None:
            raise forms.ValidationError(_("El logo debe ser una imagen PNG o JPEG."))
        return content


class InstructionsForm(forms.Form):
    """The organization's own transfer instructions, one text per language debtors read; a debtor
    whose language has none reads the organization's language's."""

    LANGUAGES = {"es": "es", "en": "en", "pt_BR": "pt-BR"}  # field name -> language code
    es = forms.CharField(label=gettext_lazy("En español"), required=False, max_length=2000,
                         widget=forms.Textarea(attrs={"rows": 3}))
    en = forms.CharField(label=gettext_lazy("En inglés"), required=False, max_length=2000,
                         widget=forms.Textarea(attrs={"rows": 3}))
    pt_BR = forms.CharField(label=gettext_lazy("En portugués (Brasil)"), required=False, max_length=2000,
                            widget=forms.Textarea(attrs={"rows": 3}))

    @classmethod
    def for_org(cls, org, data=None):
        texts = paying.instructions(org)
        return cls(data, prefix="ti", initial={field: texts.get(lang, "") for field, lang in cls.LANGUAGES.items()})

    def texts(self) -> dict[str, str]:
        return {lang: self.cleaned_data[field] for field, lang in self.LANGUAGES.items()}
