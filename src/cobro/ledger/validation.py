"""Checks for the things people type about a customer: country, zone, phone, email, tax id.

Each ``check_*`` returns the normalized value or raises ``ValueError`` with a message that names the
problem in words a person understands (the importer puts it after "row N, column X:").
"""

from __future__ import annotations

import re
import zoneinfo
from functools import lru_cache

import phonenumbers
from babel import Locale
from stdnum.exceptions import ValidationError as StdnumError

from cobro.engine.text import Text, gettext_noop

LANGUAGES = ("es", "en", "pt-br")

#: A sensible zone for a customer of each country when the file gives none (the capital's).
COUNTRY_TIMEZONE = {
    "AR": "America/Argentina/Buenos_Aires", "BO": "America/La_Paz", "BR": "America/Sao_Paulo",
    "CL": "America/Santiago", "CO": "America/Bogota", "CR": "America/Costa_Rica",
    "DO": "America/Santo_Domingo", "EC": "America/Guayaquil", "ES": "Europe/Madrid",
    "GT": "America/Guatemala", "HN": "America/Tegucigalpa", "MX": "America/Mexico_City",
    "NI": "America/Managua", "PA": "America/Panama", "PE": "America/Lima", "PT": "Europe/Lisbon",
    "PY": "America/Asuncion", "SV": "America/El_Salvador", "US": "America/New_York",
    "UY": "America/Montevideo", "VE": "America/Caracas", "GB": "Europe/London", "FR": "Europe/Paris",
    "DE": "Europe/Berlin", "IT": "Europe/Rome", "CA": "America/Toronto",
}

#: The language a customer of each country reads by default.
COUNTRY_LANGUAGE = {"BR": "pt-br", "PT": "pt-br", "US": "en", "GB": "en", "CA": "en", "AU": "en", "IE": "en"}

#: Tax-id schemes per country, tried in order (python-stdnum module names).
TAX_ID_SCHEMES = {
    "AR": ["cuit"], "BR": ["cnpj", "cpf"], "CL": ["rut"], "CO": ["nit"], "EC": ["ruc", "ci"],
    "ES": ["nif"], "MX": ["rfc"], "PE": ["ruc"], "PT": ["nif"], "US": ["ein"], "UY": ["rut"],
    "VE": ["rif"], "CR": ["cpj", "cpf"], "DO": ["rnc", "cedula"], "GT": ["nit"], "PY": ["ruc"],
}


@lru_cache(maxsize=1)
def countries() -> frozenset[str]:
    # CLDR also names groupings and placeholders with two letters: not countries a debtor lives in.
    not_countries = {"ZZ", "EU", "EZ", "UN", "QO", "XA", "XB"}
    return frozenset(code for code in Locale("en").territories
                     if len(code) == 2 and code.isalpha() and code not in not_countries)


@lru_cache(maxsize=1)
def timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_country(value: str) -> str:
    code = (value or "").strip().upper()
    if code not in countries():
        raise ValueError(Text(gettext_noop("%(value)r no es un código de país ISO 3166 (como CL, CO, MX, ES)"),
                              value=value))
    return code


def check_timezone(value: str) -> str:
    zone = (value or "").strip()
    if zone not in timezones():
        raise ValueError(Text(gettext_noop("%(value)r no es una zona horaria (use un nombre IANA como "
                                           "America/Santiago)"), value=value))
    return zone


def check_language(value: str) -> str:
    low = (value or "").strip().lower().replace("_", "-")
    if low in ("pt", "pt-br"):
        return "pt-br"
    if low[:2] in ("es", "en") and len(low) in (2, 5):
        return low[:2]
    raise ValueError(Text(gettext_noop("%(value)r no es un idioma que Cobro hable (es, en o pt-BR)"), value=value))


@lru_cache(maxsize=200_000)
def check_phone(value: str, country: str) -> str:
    """A phone as E.164 ("+56912345678"), read in the customer's country when it has no prefix."""
    try:
        number = phonenumbers.parse(value, country or None)
    except phonenumbers.NumberParseException:
        raise ValueError(Text(gettext_noop("%(value)r no es un número de teléfono"), value=value)) from None
    # "Possible" (right length for the country) rather than "valid" (a range known to be assigned):
    # the numbering plans change faster than the library, and a rejected real number costs more
    # than a message that bounces.
    if not phonenumbers.is_possible_number(number):
        if country:
            raise ValueError(Text(gettext_noop("%(value)r no es un número de teléfono de %(country)s (largo "
                                               "incorrecto)"), value=value, country=country))
        raise ValueError(Text(gettext_noop("%(value)r no es un número de teléfono de su país (largo incorrecto)"),
                              value=value))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]{2,}$")


def check_email(value: str) -> str:
    email = (value or "").strip()
    if not _EMAIL.match(email):
        raise ValueError(Text(gettext_noop("%(value)r no es una dirección de correo"), value=value))
    return email.lower()


def check_tax_id(value: str, country: str) -> str:
    """Validate a tax id with the country's scheme(s) (RUT, NIT, RFC, NIF, CNPJ...) and format it.

    Countries without a known scheme keep the value as typed.
    """
    raw = (value or "").strip()
    schemes = TAX_ID_SCHEMES.get(country, [])
    if not schemes:
        return raw
    from stdnum.util import get_cc_module

    for name in schemes:
        module = get_cc_module(country.lower(), name)
        if module is None:
            continue
        try:
            number = module.validate(raw)
        except StdnumError:
            continue
        return module.format(number) if hasattr(module, "format") else number
    raise ValueError(Text(gettext_noop("%(value)r no es un %(names)s válido de %(country)s"), value=value,
                          names=Text(gettext_noop("%(a)s o %(b)s"), a=schemes[0].upper(), b=schemes[1].upper())
                          if len(schemes) == 2 else schemes[0].upper(), country=country))
