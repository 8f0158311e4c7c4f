"""Template helpers for showing money and dates the way the reader expects."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.translation import get_language

from cobro.engine.money import format_amounts, format_money

register = template.Library()


@register.filter
def money(minor, currency: str) -> str:
    """``{{ invoice.open_amount|money:invoice.currency }}`` → "$1.234.567"; "COP 2.450.000,50" when the
    currency is not the organization's (set per request by the tenancy middleware)."""
    if minor is None or not currency:
        return ""
    return format_money(int(minor), currency, get_language() or "es")


@register.filter
def money_map(amounts: dict, home: str = "") -> str:
    """A per-currency dict as "CLP 12.714.000 · MXN 49.608,00", largest first; "—" when empty.

    Several currencies write "$": when more than one is listed, or the only one is not the
    organization's (``home``), each amount leads with its ISO code, so "$" never means two things.
    """
    if not amounts:
        return "—"
    ordered = dict(sorted(amounts.items(), key=lambda kv: -kv[1]))
    return " · ".join(format_amounts(ordered, get_language() or "es", home=home or None))


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


@register.filter
def bucket_badge(invoice) -> str:
    """The ageing bucket of an invoice (``days_overdue``, ``bucket``) as a badge coloured by age."""
    days = getattr(invoice, "days_overdue", 0) or 0
    kind = "ok" if not days else "danger" if days > 60 else "warn" if days > 30 else "info"
    return format_html('<span class="badge badge-{}">{}</span>', kind, invoice.bucket)


@register.filter
def percent(value) -> str:
    """A share (0.4567) as the reader writes a percentage: "46 %" in Spanish, "46%" in English."""
    if value is None:
        return "—"
    from babel.numbers import format_percent
    from django.utils.translation import to_locale

    return format_percent(value, locale=to_locale(get_language() or "es"))


@register.simple_tag(takes_context=True)
def inbox_count(context) -> int:
    """Items waiting in the organization's inbox, for the top bar: one COUNT, once per request."""
    request, org = context.get("request"), context.get("org")
    if request is None or org is None:
        return 0
    if not hasattr(request, "_cobro_inbox_count"):
        from cobro.workspace.inbox import count

        request._cobro_inbox_count = count(org)
    return request._cobro_inbox_count


@register.filter
def language_name(code: str) -> str:
    """A language code as its name in the reader's language: "es" → "español", "Spanish", "espanhol"."""
    from babel import Locale, UnknownLocaleError

    from cobro.dunning.services import reader_locale

    if not code:
        return ""
    try:
        return Locale.parse(code.replace("-", "_")).get_display_name(reader_locale()) or code
    except (ValueError, UnknownLocaleError):
        return code


@register.filter
def zone_words(zone: str) -> str:
    """An IANA zone as a place and its clock now, in the reader's words: "hora de Chile (Santiago de
    Chile), 18:00 (UTC−3)"; "" for a zone that is not one."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from django.utils import timezone
    from django.utils.formats import time_format

    from cobro.dunning.services import zone_place

    try:
        tz = ZoneInfo(zone)
    except (KeyError, ValueError, TypeError):
        return ""
    here = timezone.now().astimezone(tz)
    minutes = int((here.utcoffset() or dt.timedelta()).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "−"
    hours, rest = divmod(abs(minutes), 60)
    offset = f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")
    place = zone_place(zone)
    return f"{place}, {time_format(here.time(), 'TIME_FORMAT')} ({offset})"


@register.filter
def country_name(code: str) -> str:
    """An ISO 3166 code as the country's name in the reader's language ("CL" → "Chile")."""
    from cobro.engine.text import Country

    return Country(code).localized() if code else ""


@register.filter
def person(user) -> str:
    """Who did something, by name: the full name, else the part of the login before "@" (never an e-mail)."""
    if user is None:
        return "Cobro"
    return user.get_full_name() or user.get_username().split("@", 1)[0]


@register.filter
def zone_city(zone: str) -> str:
    """The city an IANA zone is named after, in the reader's language ("Santiago de Chile")."""
    from cobro.dunning.services import zone_city as city

    return city(zone) if zone else ""
