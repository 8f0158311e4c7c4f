"""How a debtor pays by transfer: the creditor's bank accounts for the debtor's country and currency
(``payments.BankAccount`` rows marked ``show_in_portal``), and the creditor's logo. Shared by the
portal page and its PDFs."""

from __future__ import annotations

import base64
from collections import defaultdict

from babel import Locale, UnknownLocaleError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from cobro.messaging.defaults import language_of
from cobro.portal import lists

LOGO_OPTION = "portal_logo"          # org.options key: the logo's path in the default storage
INSTRUCTIONS_OPTION = "transfer_instructions_i18n"  # org.options key: {"es"|"en"|"pt-BR": text}
LOGO_TYPES = {b"\x89PNG\r\n\x1a\n": ("png", "image/png"), b"\xff\xd8\xff": ("jpg", "image/jpeg")}
MAX_LOGO = 2**20


def debtor_country(org, customer) -> str:
    return (customer.country or org.country or "").upper()


def country_name(code: str, language: str) -> str:
    try:
        return Locale.parse(language.replace("-", "_")).territories.get(code, code)
    except (UnknownLocaleError, ValueError):
        return code


def instructions(org) -> dict[str, str]:
    """The organization's own transfer instructions per language (es, en, pt-BR), as set in
    Settings → Portal; the older single text (``transfer_instructions``, else
    ``payment_instructions``) counts as written in the organization's language."""
    texts = {lang: text for lang, text in (org.option(INSTRUCTIONS_OPTION) or {}).items() if text}
    legacy = org.option("transfer_instructions") or org.option("payment_instructions", "")
    if legacy:
        texts.setdefault(language_of(org.language), legacy)
    return texts


def instructions_for(org, language: str) -> tuple[str, str]:
    """(text, its language) for a debtor reading ``language``: theirs when the organization wrote
    it, else the organization's own language's (the account numbers in it still help), else ""."""
    texts = instructions(org)
    for lang in (language, language_of(org.language)):
        if texts.get(lang):
            return texts[lang], lang
    return "", ""


def save_instructions(org, texts: dict[str, str]) -> None:
    """Store the texts per language (empty ones dropped); they replace the older single text."""
    options = {k: v for k, v in (org.options or {}).items()
               if k not in ("transfer_instructions", "payment_instructions")}
    options[INSTRUCTIONS_OPTION] = {lang: text.strip() for lang, text in texts.items() if text.strip()}
    org.options = options
    org.save(update_fields=["options"])


def transfer_options(org, customer, currencies, language: str) -> list[dict]:
    """For each currency owed, the accounts the debtor may pay into: only accounts for the debtor's
    own country and that currency, never another country's. The organization's free-text
    instructions (written for its home market) stand in only for a customer of the organization's
    country owing in its currency, and only while no account is set for it: in the debtor's
    language when the organization wrote them in it (``note_lang`` says which language shows)."""
    currencies = sorted(set(currencies))
    if not currencies:
        return []
    country = debtor_country(org, customer)
    accounts = defaultdict(list)
    for acc in lists.bank_accounts(org):  # shown in the portal, by name
        if acc.country == country and acc.currency in currencies:
            accounts[acc.currency].append(acc)
    note, note_lang = instructions_for(org, language)
    home = country == (org.country or "").upper()
    return [{"currency": c, "accounts": accounts[c], "note_lang": note_lang,
             "note": note if note and home and c == org.currency and not accounts[c] else ""}
            for c in currencies]


def logo_kind(content: bytes) -> tuple[str, str] | None:
    """(extension, content type) of a PNG or JPEG by its first bytes, else None."""
    return next((kind for magic, kind in LOGO_TYPES.items() if content.startswith(magic)), None)


def save_logo(org, content: bytes) -> None:
    ext, _type = logo_kind(content)
    old = org.option(LOGO_OPTION)
    path = default_storage.save(f"portal/logos/{org.pk}/logo.{ext}", ContentFile(content))
    org.options = {**(org.options or {}), LOGO_OPTION: path}
    org.save(update_fields=["options"])
    if old and old != path:
        default_storage.delete(old)


def remove_logo(org) -> None:
    old = org.option(LOGO_OPTION)
    if old:
        default_storage.delete(old)
        org.options = {k: v for k, v in org.options.items() if k != LOGO_OPTION}
        org.save(update_fields=["options"])


def logo(org) -> tuple[bytes, str] | None:
    """The logo's bytes and content type, or None when there is none (or its file went missing)."""
    path = org.option(LOGO_OPTION)
    if not path:
        return None
    try:
        with default_storage.open(path, "rb") as fh:
            content = fh.read(MAX_LOGO + 1)
    except OSError:
        return None
    kind = logo_kind(content)
    return (content, kind[1]) if kind else None


def logo_data_uri(org) -> str:
    found = logo(org)
    return f"data:{found[1]};base64,{base64.b64encode(found[0]).decode()}" if found else ""
