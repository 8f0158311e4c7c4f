"""Exact money: integer minor units per ISO 4217 currency, never float.

Amounts travel through Cobro as ``int`` counts of the currency's minor unit (cents for USD, pesos for
CLP, which has none). ``Decimal`` appears only at the edges: parsing what a person typed and showing
an amount back.

How many minor units a currency has is a fact of ISO 4217 (the ``iso4217`` package ships the list
maintained by SIX for ISO, with its publication date): it decides storage, import, arithmetic and
rounding. CLDR (Babel) changes between releases (Babel 2.19 gives COP no decimals, ISO gives it two)
and is used only to *show* an amount: symbol, separators, where the sign goes.
"""

from __future__ import annotations

import copy
import re
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import cache, lru_cache

import iso4217
from babel.core import Locale
from babel.numbers import get_currency_symbol, get_decimal_symbol, get_group_symbol, get_minus_sign_symbol

from cobro.engine.text import Text, gettext_noop, message_of

ZERO = 0


class MoneyError(ValueError):
    """An amount or currency that cannot be read; the message is safe to show to a person (``str`` in
    English, the ``Text`` argument in any language: see ``cobro.engine.text``)."""


def _too_large(text, currency: str) -> MoneyError:
    return MoneyError(Text(gettext_noop("%(text)r supera el mayor monto que Cobro acepta (menos de %(most)s "
                                        "%(currency)s)"), text=text, most=f"{MAX_MAJOR:,}", currency=currency))


@cache
def _iso_minor_units() -> dict[str, int]:
    """ISO 4217 list one: code -> minor units. Entries without them ("N.A.": gold, SDR, XXX) are not money."""
    return {code: int(row["CcyMnrUnts"]) for code, row in iso4217.raw_table.items()
            if code and (row["CcyMnrUnts"] or "").isdigit()}


#: Publication date of the ISO 4217 list in use (shown in docs/money.md and checked by the tests).
ISO_4217_PUBLISHED = iso4217.__published__


@cache
def known_currencies() -> frozenset[str]:
    """The ISO 4217 currencies Cobro accepts: every current code that has minor units."""
    return frozenset(_iso_minor_units())


def check_currency(code: str) -> str:
    """Return the ISO code in upper case, or raise MoneyError naming it."""
    norm = (code or "").strip().upper()
    if norm not in known_currencies():
        raise MoneyError(Text(gettext_noop("moneda desconocida %(code)r (se espera un código ISO 4217 como CLP, USD, "
                                           "EUR)"), code=code))
    return norm


@cache
def exponent(currency: str) -> int:
    """Digits after the decimal point, from ISO 4217: CLP 0, COP 2, USD 2, JPY 0, BHD 3, CLF 4."""
    return _iso_minor_units()[check_currency(currency)]


#: The largest amount Cobro stores, in major units of any currency: a thousand million million. Far above
#: any real invoice (also in IRR, VND or IDR), and with four decimals (CLF) still inside a 64-bit column.
MAX_MAJOR = 10**15


def max_minor(currency: str) -> int:
    """The largest count of minor units an amount in ``currency`` may have (beyond is a typo or an attack)."""
    return min(MAX_MAJOR * 10 ** exponent(currency), 2**63 - 1) - 1


def _in_range(minor: int, currency: str, text) -> int:
    if abs(minor) > max_minor(currency):
        raise _too_large(text, currency)
    return minor


def to_minor(amount: Decimal | int | str, currency: str) -> int:
    """Decimal major units -> int minor units, rejecting more precision than the currency has."""
    try:
        value = Decimal(str(amount)) if not isinstance(amount, Decimal) else amount
    except InvalidOperation as exc:
        raise MoneyError(Text(gettext_noop("no es un número: %(amount)r"), amount=amount)) from exc
    if not value.is_finite():
        raise MoneyError(Text(gettext_noop("no es un número: %(amount)r"), amount=amount))
    if value.adjusted() >= 16:  # at least 10**16: refused before scaling (Decimal("1e300") is a short string)
        raise _too_large(str(amount)[:40], currency)
    scaled = value.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise MoneyError(Text(gettext_noop("%(amount)s tiene más decimales de los que admite %(currency)s "
                                           "(%(exp)s)"), amount=str(amount), currency=currency, exp=exponent(currency)))
    return _in_range(int(scaled), currency, str(amount)[:40])


def from_minor(minor: int, currency: str) -> Decimal:
    """int minor units -> Decimal major units with the currency's exponent (500 USD cents -> 5.00)."""
    exp = exponent(currency)
    return Decimal(minor).scaleb(-exp).quantize(Decimal(1).scaleb(-exp))


def round_minor(value: Decimal) -> int:
    """Round a computed (fractional) number of minor units to a whole one, half to even (banker's)."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def split(total: int, parts: int) -> list[int]:
    """Split ``total`` minor units into ``parts`` equal shares, the remainder on the last one.

    The shares always add up to ``total`` exactly; used for instalments.
    """
    if parts <= 0:
        raise MoneyError(Text(gettext_noop("no se puede dividir en cero partes")))
    base = total // parts if total >= 0 else -((-total) // parts)
    shares = [base] * parts
    shares[-1] += total - base * parts
    return shares


_DIGITS = re.compile(r"^[+-]?[\d.,' \u00a0]+$")
_PLAIN = re.compile(r"^(\d+)(?:\.(\d+))?$")


def parse_amount(text: str, currency: str, decimal_mark: str | None = None) -> int:
    """Read an amount as people write it and return minor units.

    Accepts "1234.56", "1,234.56", "1.234,56", "1 234,56", "450.000" and "$ 450.000". When the
    separator is ambiguous (a single "." or "," followed by exactly three digits, as in "450.000"),
    ``decimal_mark`` (what the rest of the file uses, see ``guess_decimal_mark``) decides; without
    it, the mark groups thousands unless the currency has three decimals.
    """
    raw = (text or "").strip()
    plain = _PLAIN.match(raw)
    if plain and (decimal_mark in (None, ".") and len(plain.group(2) or "") != 3 or not plain.group(2)):
        # The common case in machine-made files ("1234.56", "450000"): no separators to untangle.
        whole, frac = plain.group(1), plain.group(2) or ""
        exp = exponent(currency)
        if len(frac) > exp:
            raise MoneyError(Text(gettext_noop("%(text)r: %(amount)s tiene más decimales de los que admite "
                                               "%(currency)s (%(exp)s)"), text=text[:40], amount=raw[:40],
                                  currency=currency, exp=exp))
        if len(whole.lstrip("0")) > 16:  # before int(): a 5,000-digit cell is not money
            return _in_range(MAX_MAJOR * 10 ** (exp + 1), currency, text[:40])
        return _in_range(int(whole + frac.ljust(exp, "0")), currency, text[:40])
    for symbol in ("$", "€", "US", "R", "£"):
        raw = raw.replace(symbol, "")
    raw = raw.strip().replace("\u00a0", " ")
    if raw.startswith("(") and raw.endswith(")"):  # accounting negative
        raw = "-" + raw[1:-1]
    if not raw or not _DIGITS.match(raw):
        raise MoneyError(Text(gettext_noop("no es un monto: %(text)r"), text=text))
    sign = -1 if raw.startswith("-") else 1
    body = raw.lstrip("+-").replace(" ", "").replace("'", "")
    mark = _decimal_mark(body, currency, decimal_mark)
    if mark == ",":
        body = body.replace(".", "").replace(",", ".")
    elif mark == ".":
        body = body.replace(",", "")
    else:
        body = body.replace(",", "").replace(".", "")
    if body.count(".") > 1 or not body.replace(".", "").isdigit():
        raise MoneyError(Text(gettext_noop("no es un monto: %(text)r"), text=text))
    try:
        return sign * to_minor(Decimal(body), currency)
    except MoneyError as exc:
        raise MoneyError(Text(gettext_noop("%(text)r: %(error)s"), text=text, error=message_of(exc))) from None


def _decimal_mark(body: str, currency: str, hint: str | None) -> str | None:
    """Which character is the decimal mark in ``body``: ".", "," or None (an integer)."""
    dots, commas = body.count("."), body.count(",")
    if dots and commas:  # both: the last one is the decimal mark
        return "." if body.rfind(".") > body.rfind(",") else ","
    sep = "." if dots else "," if commas else None
    if sep is None:
        return None
    if body.count(sep) > 1:  # "1.234.567": thousands
        return None
    tail = len(body) - body.rfind(sep) - 1
    if tail != 3:  # "12,5" or "1234.56": decimals
        return sep
    if hint:  # "450.000": the file tells which it is
        return sep if hint == sep else None
    # Alone, three digits after the mark are thousands unless the currency itself has three
    # decimals (BHD, KWD): nobody writes 1.50 dollars as "1.500".
    return sep if exponent(currency) >= 3 else None


def guess_decimal_mark(samples: list[str]) -> str | None:
    """The decimal mark a column of amounts uses, judged from the unambiguous ones, or None.

    "1.234,56" or "12,5" say ","; "1,234.56" or "12.5" say "."; "450.000" alone says nothing.
    """
    votes = {".": 0, ",": 0}
    for s in samples:
        body = s.strip()
        dots, commas = body.count("."), body.count(",")
        if dots and commas:
            votes["." if body.rfind(".") > body.rfind(",") else ","] += 1
        elif dots + commas == 1:
            sep = "." if dots else ","
            if len(body) - body.rfind(sep) - 1 != 3:
                votes[sep] += 1
        elif dots > 1:
            votes[","] += 1  # "1.234.567" means "." groups thousands, so "," is the decimal mark
        elif commas > 1:
            votes["."] += 1
    if votes["."] == votes[","]:
        return None
    return "." if votes["."] > votes[","] else ","


@lru_cache(maxsize=64)
def _locale(tag: str) -> Locale:
    return Locale.parse(tag.replace("-", "_"))


_HOME: ContextVar[str | None] = ContextVar("cobro_home_currency", default=None)


@contextmanager
def home_currency(code: str | None):
    """Within this block, ``format_money`` knows the organization's currency (the web layer sets it
    per request): any other currency is then shown with its ISO code."""
    token = _HOME.set(code)
    try:
        yield
    finally:
        _HOME.reset(token)


def format_money(minor: int, currency: str, locale: str = "es", *, home: str | None = None,
                 code: bool = False) -> str:
    """Show an amount as a person of ``locale`` expects, so that no reader can mistake its currency.

    The organization's own currency (``home``, or the one set by ``home_currency``) is shown the local
    way, by CLDR: "$1.234.567" (CLP, es_CL), "1.234,56 €". Any other currency, and every amount when
    ``code`` is true (a list that mixes currencies, see ``format_amounts``), leads with its ISO code:
    "CLP 450.000", "COP 2.450.000,50", in English "COP 28,453,000.00", with the separators the
    reader uses for the home currency. The number of decimals shown is always ISO's, so what is
    shown is exactly what is stored; ``parse_money`` reads every form back.
    """
    home = home or _HOME.get()
    if code or (home and currency != home):
        return _with_code(minor, currency, _locale(_money_locale(home or currency, locale)))
    loc = _locale(_money_locale(currency, locale))
    if get_currency_symbol(currency, loc) == currency:  # CLDR has no symbol: "COP 28,453,000.00", not "COP28,…"
        return _with_code(minor, currency, loc)
    pattern = copy.copy(loc.currency_formats["standard"])
    exp = exponent(currency)
    pattern.frac_prec = (exp, exp)
    return pattern.apply(from_minor(minor, currency), loc, currency=currency, currency_digits=False)


def format_amounts(amounts: dict[str, int], locale: str = "es", *, home: str | None = None) -> list[str]:
    """Several amounts for one list: with their ISO codes when more than one currency is in it."""
    mixed = len(amounts) > 1
    return [format_money(v, c, locale, home=home, code=mixed) for c, v in amounts.items()]


def _symbols(loc: Locale) -> tuple[str, str, str]:
    return get_group_symbol(loc), get_decimal_symbol(loc), get_minus_sign_symbol(loc)


def _with_code(minor: int, currency: str, loc: Locale) -> str:
    group, decimal, minus = _symbols(loc)
    exp = exponent(currency)
    whole, frac = divmod(abs(minor), 10**exp)
    number = f"{whole:,}".replace(",", group) + (decimal + str(frac).zfill(exp) if exp else "")
    return f"{currency} {minus if minor < 0 else ''}{number}"


def parse_money(text: str, locale: str = "es", *, currency: str | None = None,
                home: str | None = None) -> tuple[int, str]:
    """Read back what ``format_money`` showed: ("CLP 450.000", "es") -> (450000, "CLP").

    An amount that leads with its ISO code names its currency; one shown with a local symbol ("$")
    needs ``currency``. ``locale`` and ``home`` must be what the amount was shown with (they decide
    the separators). Raises MoneyError for anything else.
    """
    raw = (text or "").strip().replace("\u00a0", " ")
    head = raw[:3]
    if len(raw) > 4 and raw[3] == " " and head.isalpha() and head.isupper():
        cur = check_currency(head)
        number = raw[4:]
        loc = _locale(_money_locale(home or cur, locale))
    else:
        if not currency:
            raise MoneyError(Text(gettext_noop("%(text)r no dice su moneda (se espera un código ISO como CLP "
                                           "450.000)"), text=text))
        cur = check_currency(currency)
        loc = _locale(_money_locale(cur, locale))
        number = raw.replace(get_currency_symbol(cur, loc), "").replace(cur, "").strip()
    group, decimal, minus = _symbols(loc)
    number = number.replace(" ", "")
    sign = 1
    if number.startswith((minus, "-")):
        sign, number = -1, number[1:]
    whole, _, frac = number.replace(group, "").partition(decimal)
    exp = exponent(cur)
    if not whole.isdigit() or not (frac.isdigit() or not frac) or not frac and decimal in number \
            or len(frac) > exp or not whole.isascii() or not frac.isascii():
        raise MoneyError(Text(gettext_noop("no es un monto en %(currency)s: %(text)r"), currency=cur, text=text))
    return _in_range(sign * int(whole + frac.ljust(exp, "0")), cur, text), cur


# Spanish-speaking debtors see their own country's conventions for their currency ("$" for CLP in
# Chile, not "CLP"); other languages fall back to the language's default region.
_ES_REGION = {"CLP": "es_CL", "COP": "es_CO", "MXN": "es_MX", "ARS": "es_AR", "PEN": "es_PE",
              "UYU": "es_UY", "EUR": "es_ES", "USD": "es_US"}
_PT_REGION = {"BRL": "pt_BR", "EUR": "pt_PT"}


def _money_locale(currency: str, language: str) -> str:
    lang = language.replace("-", "_").split("_")[0].lower()
    if lang == "es":
        return _ES_REGION.get(currency, "es")
    if lang == "pt":
        return _PT_REGION.get(currency, "pt_BR")
    return "en_US" if currency == "USD" else "en"
