"""Messages about a person's input that are shown in two places: a terminal and a page.

A ``Text`` holds a catalog message (Spanish, as every msgid in Cobro) and its named parameters, and is
rendered only when it is shown:

- ``str(text)`` is the English rendering (``en`` catalog): what the command line, the logs and the
  API have always said ("row 3, column amount: 'x' must be greater than zero");
- ``text.localized()`` is the rendering in the active language, for a page.

Parameters that are themselves ``Text`` are rendered the same way as the message that holds them, and
so are the values below that are shown in words in the reader's language when rendered: ``Day`` (a
date), ``Clock`` (a time of day), ``Amount`` (money), ``Country`` and ``Listing`` (several values, one
after another). Mark a message with ``gettext_noop`` where it is written, so that ``makemessages``
finds it; a message whose wording depends on a number is built with ``ngettext`` (singular, plural,
count), which ``makemessages`` finds too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


def gettext_noop(message: str) -> str:
    """Marks ``message`` for the catalogs (``makemessages`` looks for this name); translates nothing."""
    return message


def _language() -> str:
    try:
        from django.utils.translation import get_language

        return get_language() or "es"
    except Exception:
        return "es"


class Text:
    __slots__ = ("msgid", "params", "plural")

    def __init__(self, msgid: str, **params):
        self.msgid, self.params, self.plural = msgid, params, None

    def localized(self) -> str:
        """The message in the active language."""
        try:
            if self.plural is None:
                from django.utils.translation import gettext

                template = gettext(self.msgid)
            else:
                from django.utils.translation import ngettext as django_ngettext

                template = django_ngettext(self.msgid, self.plural, self.params["count"])
        except Exception:  # Django not configured (a bare script): the catalog's own text
            template = self.msgid if self.plural is None or self.params["count"] == 1 else self.plural
        if not self.params:
            return template
        return template % {k: v.localized() if hasattr(v, "localized") else v for k, v in self.params.items()}

    def english(self) -> str:
        try:
            from django.utils import translation

            with translation.override("en"):
                return self.localized()
        except Exception:
            return self.localized()

    def __str__(self) -> str:
        return self.english()

    def __repr__(self) -> str:
        return f"Text({self.english()!r})"

    def __eq__(self, other) -> bool:
        if isinstance(other, Text):
            return (self.msgid, self.plural, self.params) == (other.msgid, other.plural, other.params)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.msgid)

    def __contains__(self, part: str) -> bool:
        return part in self.english()


def ngettext(singular: str, plural: str, count: int, **params) -> Text:
    """A message whose wording depends on ``count`` (also its ``%(count)s``), chosen when rendered."""
    text = Text(singular, count=count, **params)
    text.plural = plural
    return text


@dataclass(frozen=True, slots=True)
class Day:
    """A date, in words in the reader's language ("19 de febrero de 2026", "Feb. 19, 2026")."""

    day: dt.date

    def localized(self) -> str:
        try:
            from django.utils.formats import date_format

            return date_format(self.day, "DATE_FORMAT")
        except Exception:
            return self.day.isoformat()


@dataclass(frozen=True, slots=True)
class Clock:
    """A time of day as the reader writes it ("09:00", "9 a.m.")."""

    time: dt.time

    def localized(self) -> str:
        try:
            from django.utils.formats import time_format

            return time_format(self.time, "TIME_FORMAT")
        except Exception:
            return self.time.strftime("%H:%M")


@dataclass(frozen=True, slots=True)
class Amount:
    """Money in minor units, shown as the reader expects ("$1.234.567", "COP 2.450.000,50")."""

    minor: int
    currency: str

    def localized(self) -> str:
        from cobro.engine.money import format_money

        try:
            return format_money(self.minor, self.currency, _language())
        except Exception:
            return f"{self.currency} {self.minor}"


@dataclass(frozen=True, slots=True)
class Country:
    """A country (ISO 3166 code) by its name in the reader's language; the code when it has none."""

    code: str

    def localized(self) -> str:
        try:
            from babel import Locale
            from django.utils.translation import to_locale

            return Locale.parse(to_locale(_language())).territories.get(self.code.upper(), self.code)
        except Exception:
            return self.code


@dataclass(frozen=True, slots=True)
class Listing:
    """Several values one after another ("a, b, c"), each rendered in the reader's language."""

    items: tuple

    def localized(self) -> str:
        return ", ".join(localized(item) for item in self.items)


def message_of(exc: BaseException) -> Text | str:
    """The message of an error, still translatable when it was raised with a ``Text``."""
    arg = exc.args[0] if len(exc.args) == 1 else None
    return arg if isinstance(arg, Text) else str(exc)


def localized(value) -> str:
    """A message, an exception or a plain value as text in the active language."""
    if isinstance(value, BaseException):
        value = message_of(value)
    if isinstance(value, Text):
        return value.localized()
    return str(value)
