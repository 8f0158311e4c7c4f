"""Message templates are data, never code: a small renderer with a fixed vocabulary (issue #10.1).

A template written by a person of the organization is rendered with plain values only (strings,
numbers and, for ``invoices``, a list of plain dicts) that the outbox computed itself. Nothing else of
Django's template language exists here: no attribute walking into objects, no ``{% load %}``,
``{% include %}``, ``{% url %}``, ``{% debug %}``, no filters but a handful of harmless ones. Anything
else is refused with a message naming the construct, on save, on preview and at send time alike.

Syntax::

    {{ variable }}                    one of VARIABLES
    {{ variable|upper }}              filters in FILTERS; ``default:"text"`` takes a quoted argument
    {% for invoice in invoices %}     at most MAX_LOOP rows, over plain dicts with INVOICE_FIELDS
      {{ invoice.ref }} {{ invoice.amount }}
    {% endfor %}
    {# a comment #}
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

#: The variables a template may name; each is a plain string or number computed by the outbox.
VARIABLES = ("contact_name", "customer_name", "customer_ref", "org_name", "org_tax_id", "org_phone", "org_email",
             "creditor", "signature", "invoice_list", "invoice_count", "discount_short", "total", "due_date",
             "days_overdue", "amount", "promised_date", "pay_link", "opt_out_link", "language")
#: What each ``invoice`` of ``{% for invoice in invoices %}`` carries (already formatted text).
INVOICE_FIELDS = ("ref", "due", "when", "amount", "discount")
FILTERS = ("upper", "lower", "capfirst", "title", "default")
#: A loop never runs more rows than this, whatever the data.
MAX_LOOP = 200
MAX_SOURCE = 20_000

_TOKEN = re.compile(r"\{\{(.*?)\}\}|\{%(.*?)%\}|\{#.*?#\}", re.S)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
_DEFAULT_ARG = re.compile(r'"([^"]*)"$|\'([^\']*)\'$')


class TemplateRefused(ValueError):
    """The template uses something outside the sandbox; ``construct`` is what was refused."""

    def __init__(self, message: str, construct: str = ""):
        super().__init__(message)
        self.construct = construct


@dataclass(frozen=True)
class _Var:
    name: str  # "total" or "invoice.ref"
    filters: tuple[tuple[str, str], ...]
    source: str


@dataclass(frozen=True)
class _Loop:
    body: tuple


def _refuse_tag(source: str) -> TemplateRefused:
    return TemplateRefused(
        _("La etiqueta «%(tag)s» no está permitida en una plantilla de mensaje; solo se admite "
          "{%% for invoice in invoices %%} … {%% endfor %%}.") % {"tag": source}, source)


def _parse_var(inner: str, in_loop: bool) -> _Var:
    source = "{{" + inner + "}}"
    parts = [p.strip() for p in inner.split("|")]
    name, filters = parts[0], []
    if not _NAME.match(name):
        raise TemplateRefused(_("La expresión «%(x)s» no está permitida: escriba solo el nombre de una "
                                "variable, como {{ total }}.") % {"x": source}, source)
    head, _dot, attr = name.partition(".")
    if attr:
        if not (in_loop and head == "invoice" and attr in INVOICE_FIELDS):
            raise TemplateRefused(
                _("La variable «%(x)s» no existe en una plantilla de mensaje; dentro de "
                  "{%% for invoice in invoices %%} se puede usar: %(fields)s.")
                % {"x": source, "fields": ", ".join(f"invoice.{f}" for f in INVOICE_FIELDS)}, source)
    elif name not in VARIABLES:
        raise TemplateRefused(_("La variable «%(x)s» no existe en una plantilla de mensaje; las disponibles "
                                "son: %(names)s.") % {"x": source, "names": ", ".join(VARIABLES)}, source)
    for part in parts[1:]:
        fname, _colon, arg = part.partition(":")
        fname = fname.strip()
        if fname not in FILTERS:
            raise TemplateRefused(_("El filtro «|%(f)s» no está permitido en una plantilla de mensaje; los "
                                    "permitidos son: %(names)s.") % {"f": part, "names": ", ".join(FILTERS)},
                                  "|" + part)
        if fname == "default":
            m = _DEFAULT_ARG.match(arg.strip())
            if not m:
                raise TemplateRefused(_('El filtro «|%(f)s» necesita un texto entre comillas, como '
                                        '|default:"sin datos".') % {"f": part}, "|" + part)
            arg = m.group(1) if m.group(1) is not None else m.group(2)
        elif arg:
            raise TemplateRefused(_("El filtro «|%(f)s» no lleva argumento.") % {"f": part}, "|" + part)
        filters.append((fname, arg))
    return _Var(name, tuple(filters), source)


def parse(source: str) -> tuple:
    """The template as nodes (text, variables, one level of loop), or ``TemplateRefused``."""
    if len(source) > MAX_SOURCE:
        raise TemplateRefused(_("La plantilla es demasiado larga (máximo %(n)s caracteres).") % {"n": MAX_SOURCE})
    stack: list[list] = [[]]
    last = 0
    for m in _TOKEN.finditer(source):
        _text(source[last:m.start()], stack[-1])
        last = m.end()
        var, tag = m.group(1), m.group(2)
        if var is not None:
            stack[-1].append(_parse_var(var, in_loop=len(stack) > 1))
        elif tag is not None:
            words = tag.split()
            if words == ["for", "invoice", "in", "invoices"] and len(stack) == 1:
                stack.append([])
            elif words == ["endfor"] and len(stack) == 2:
                body = stack.pop()
                stack[-1].append(_Loop(tuple(body)))
            elif words == ["endfor"]:
                raise TemplateRefused(_("Hay un {%% endfor %%} sin su {%% for invoice in invoices %%}.") % {},
                                      "{% endfor %}")
            else:
                raise _refuse_tag(m.group(0))
        # comments render as nothing
    _text(source[last:], stack[-1])
    if len(stack) > 1:
        raise TemplateRefused(_("Falta {%% endfor %%} para cerrar {%% for invoice in invoices %%}.") % {},
                              "{% for %}")
    return tuple(stack[0])


def _text(chunk: str, out: list) -> None:
    for opener in ("{{", "{%", "{#"):
        if opener in chunk:
            raise TemplateRefused(_("Hay un «%(o)s» sin cerrar.") % {"o": opener}, opener)
    if chunk:
        out.append(chunk)


def check(source: str) -> None:
    """Raise ``TemplateRefused`` for anything outside the sandbox; returns nothing when it is fine."""
    parse(source or "")


def _apply(value, filters) -> str:
    text = "" if value is None else str(value)
    for name, arg in filters:
        if name == "default":
            text = text or arg
        elif name == "upper":
            text = text.upper()
        elif name == "lower":
            text = text.lower()
        elif name == "title":
            text = text.title()
        elif name == "capfirst":
            text = text[:1].upper() + text[1:]
    return text


def _plain(value):
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, (str, int)):
        return value
    raise TypeError(f"not a plain value: {type(value).__name__}")


def render(source: str, values: dict) -> str:
    """Render with ``values`` (VARIABLES → str/int, ``invoices`` → list of dicts of str); never code."""
    scalars = {k: _plain(values.get(k, "")) for k in VARIABLES}
    rows = [{f: _plain(r.get(f, "")) for f in INVOICE_FIELDS} for r in list(values.get("invoices") or [])[:MAX_LOOP]]
    out: list[str] = []
    for node in parse(source or ""):
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, _Var):
            out.append(_apply(scalars[node.name], node.filters))
        else:
            for row in rows:
                for inner in node.body:
                    if isinstance(inner, str):
                        out.append(inner)
                    else:
                        head, _dot, attr = inner.name.partition(".")
                        value = row[attr] if attr else scalars[inner.name]
                        out.append(_apply(value, inner.filters))
    return "".join(out)


def names(source: str) -> list[str]:
    """The top-level variables in order of appearance (WhatsApp templates send them as parameters)."""
    return [n.name for n in parse(source or "") if isinstance(n, _Var)]
