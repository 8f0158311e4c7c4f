"""Messages about a person's input that are shown in two places: a terminal and a page.

A ``Text`` holds a catalog message (Spanish, as every msgid in Cobro) and its named parameters, and is
rendered only when it is shown:

- ``str(text)`` is the English rendering (``en`` catalog): what the command line, the logs and the
  API have always said ("row 3, column amount: 'x' must be greater than zero");
- ``text.localized()`` is the rendering in the active language, for a page.

Parameters that are themselves ``Text`` are rendered the same way as the message that holds them. Mark
a message with ``gettext_noop`` where it is written, so that ``makemessages`` finds it.
"""

from __future__ import annotations


def gettext_noop(message: str) -> str:
    """Marks ``message`` for the catalogs (``makemessages`` looks for this name); translates nothing."""
    return message


class Text:
    __slots__ = ("msgid", "params")

    def __init__(self, msgid: str, **params):
        self.msgid, self.params = msgid, params

    def localized(self) -> str:
        """The message in the active language."""
        try:
            from django.utils.translation import gettext

            template = gettext(self.msgid)
        except Exception:  # Django not configured (a bare script): the catalog's own text
            template = self.msgid
        if not self.params:
            return template
        return template % {k: v.localized() if isinstance(v, Text) else v for k, v in self.params.items()}

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
            return (self.msgid, self.params) == (other.msgid, other.params)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.msgid)

    def __contains__(self, part: str) -> bool:
        return part in self.english()


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
