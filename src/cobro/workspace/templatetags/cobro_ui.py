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
