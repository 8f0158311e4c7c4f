"""Template helpers for showing money and dates the way the reader expects."""

from __future__ import annotations

from django import template
from django.utils.translation import get_language

from cobro.engine.money import format_money

register = template.Library()


@register.filter
def money(minor, currency: str) -> str:
    """``{{ invoice.open_amount|money:invoice.currency }}`` → "$ 1.234.567"."""
    if minor is None or not currency:
        return ""
    return format_money(int(minor), currency, get_language() or "es")


@register.filter
def money_map(amounts: dict, home: str = "") -> str:
    """A per-currency dict as "$12.714.000 · $49,608.00 MXN", largest first; "—" when empty.

    Several currencies write "$"; any currency other than the organization's (``home``) gets its
    ISO code after the amount so "$" never means two things on one screen.
    """
    if not amounts:
        return "—"
    lang = get_language() or "es"
    return " · ".join(format_money(v, c, lang) + ("" if c == home else f" {c}")
                      for c, v in sorted(amounts.items(), key=lambda kv: -kv[1]))


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None


@register.filter
def task_title(task) -> str:
    from cobro.workspace.labels import task_title as title

    return title(task)


@register.filter
def template_name(code: str) -> str:
    from cobro.workspace.labels import template_name as name

    return name(code or "")


@register.filter
def event_name(kind: str) -> str:
    from cobro.workspace.labels import event_name as name

    return name(kind or "")


@register.simple_tag(takes_context=True)
def event_summary(context, event) -> str:
    from cobro.workspace.board import stages
    from cobro.workspace.labels import event_summary as summary

    org = context.get("org")
    labels = dict(stages(org)) if org is not None and event.kind == "stage.moved" else {}
    return summary(event, labels)


@register.filter
def weekday(code: str) -> str:
    from cobro.workspace.labels import weekday as name

    return name(code or "")


@register.filter
def verify_note(text: str) -> str:
    from cobro.workspace.labels import verify_note as note

    return note(text or "")
