"""Who may open a portal: the customer's signed link (messaging.links, purpose "pay"), and a new
link by e-mail for a debtor who lost theirs, asked with the tax id, sent only to contacts on file."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.utils import translation
from django.utils.translation import gettext as _

from cobro.ledger.models import Contact, Customer, Organization
from cobro.messaging import defaults, links

# The countries whose tax ids the start page understands, with python-stdnum's validators.
TAX_IDS = {"CL": ("cl.rut",), "CO": ("co.nit",), "MX": ("mx.rfc",), "ES": ("es.nif",),
           "BR": ("br.cpf", "br.cnpj"), "US": ("us.ein",)}
RATE_LIMIT = 5          # requests per hour, per address and per tax id
RATE_WINDOW = 3600


class BadTaxId(ValueError):
    pass


def _module(name: str):
    import importlib

    return importlib.import_module(f"stdnum.{name}")


def normalise_tax_id(country: str, raw: str) -> list[str]:
    """The spellings a valid tax id may be stored with (compact and formatted); BadTaxId if invalid."""
    for name in TAX_IDS.get(country.upper(), ()):
        mod = _module(name)
        try:
            compact = mod.validate(raw)
        except Exception:  # stdnum raises its own ValidationError subclasses
            continue
        spellings = {compact, raw.strip()}
        if hasattr(mod, "format"):
            spellings.add(mod.format(compact))
        return sorted(spellings)
    raise BadTaxId(_("El identificador tributario no es válido para el país elegido."))


def portal_url(customer: Customer, days: int | None = None) -> str:
    version = links.versions(customer.organization, [customer.pk])[customer.pk]
    return links.url(customer.organization_id, customer.pk, "pay", version, days=days)


def over_limit(*keys: str) -> bool:
    """Count this request against each key; True when any key went over the hourly limit."""
    over = False
    for key in keys:
        k = "portal-rl:" + hashlib.sha256(key.encode()).hexdigest()
        cache.add(k, 0, RATE_WINDOW)
        try:
            n = cache.incr(k)
        except ValueError:
            cache.set(k, 1, RATE_WINDOW)
            n = 1
        over = over or n > RATE_LIMIT
    return over


def send_magic_links(country: str, spellings: list[str]) -> int:
    """E-mail each matching customer's portal link to the addresses already on file; returns how many
    e-mails went out (never shown to the person asking)."""
    sent = 0
    customers = Customer.objects.filter(country=country.upper(), tax_id__in=spellings).select_related("organization")
    for customer in customers[:20]:
        org: Organization = customer.organization
        emails = sorted({e for e in Contact.objects.for_org(org).filter(customer=customer)
                         .exclude(email="").values_list("email", flat=True)})
        if not emails:
            continue
        with translation.override(defaults.language_of(customer.language or org.language).lower()):
            subject = _("%(org)s: su enlace al estado de cuenta") % {"org": org.name}
            body = _("Hola, %(name)s:\n\nPidieron un enlace nuevo a su estado de cuenta con %(org)s. "
                     "Ábralo aquí:\n%(url)s\n\nSi no lo pidió usted, puede ignorar este mensaje.") % {
                "name": customer.name, "org": org.name, "url": portal_url(customer)}
        send_mail(subject, body, org.email or settings.DEFAULT_FROM_EMAIL, emails)
        sent += 1
    return sent
