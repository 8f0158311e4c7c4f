"""Contact rules: when a debtor may be contacted, and the first allowed slot for a new contact.

Everything is decided in the debtor's local calendar: allowed weekdays and hours, the public
holidays of the debtor's country, caps over rolling windows per channel and across channels, a
minimum gap between messages, and a cool-down after a real conversation. The rules arrive as data
(presets per country, tightened by the organization), never as code.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as holidays_lib

from cobro.engine.text import Country, Day, Text, gettext_noop, ngettext

#: Channels that carry a written message; at most one of these reaches a debtor per local day.
MESSAGE_CHANNELS = frozenset({"email", "sms", "whatsapp"})
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: "on Mondays"... for the sentences that say why a day is refused (rendered in the reader's language).
DAY_PHRASES = (gettext_noop("los lunes"), gettext_noop("los martes"), gettext_noop("los miércoles"),
               gettext_noop("los jueves"), gettext_noop("los viernes"), gettext_noop("los sábados"),
               gettext_noop("los domingos"))
#: How far ahead a contact is looked for before the engine gives up and says why.
HORIZON_DAYS = 120
UTC = dt.UTC


class RulesError(ValueError):
    """Contact-rule parameters that cannot be used; the message names the field."""


@dataclass(frozen=True, slots=True)
class Cap:
    """At most ``limit`` contacts in any ``days`` consecutive local days on ``channels`` (empty: all)."""

    limit: int
    days: int
    channels: frozenset[str] = frozenset()

    def counts(self, channel: str) -> bool:
        return not self.channels or channel in self.channels


@dataclass(frozen=True, slots=True)
class ContactRules:
    """The rules for debtors of one country. ``windows``: Mon..Sun, (start, end) minutes or None."""

    code: str
    windows: tuple[tuple[int, int] | None, ...]
    skip_holidays: bool = True
    caps: tuple[Cap, ...] = ()
    min_gap_days: int = 0
    cooldown_days: int = 0
    cooldown_channels: frozenset[str] = frozenset()
    version: str = ""


#: For a debtor whose country has no preset: the strictest window common to all presets.
STRICT = ContactRules(code="*", windows=((540, 1140),) * 5 + (None, None), skip_holidays=True,
                      version="strict-common")


def _minutes(text: str, where: str) -> int:
    try:
        hours, minutes = str(text).split(":")
        value = int(hours) * 60 + int(minutes)
    except ValueError:
        raise RulesError(f"{where}: {text!r} is not a time like 09:00") from None
    if not 0 <= value <= 1440:
        raise RulesError(f"{where}: {text!r} is outside the day")
    return value


def rules_from_params(code: str, params: dict) -> ContactRules:
    """Build rules from a preset's parameters (the YAML mapping, with any organization changes)."""
    windows: list[tuple[int, int] | None] = []
    hours = params.get("hours") or {}
    for day in WEEKDAYS:
        span = hours.get(day)
        if not span:
            windows.append(None)
            continue
        start, end = (_minutes(t, f"{code} hours.{day}") for t in str(span).split("-"))
        if end <= start:
            raise RulesError(f"{code} hours.{day}: {span!r} ends before it starts")
        windows.append((start, end))
    caps = []
    for n, cap in enumerate(params.get("caps") or (), start=1):
        try:
            caps.append(Cap(limit=int(cap["limit"]), days=int(cap["days"]),
                            channels=frozenset(cap.get("channels") or ())))
        except (KeyError, TypeError, ValueError):
            raise RulesError(f"{code} caps[{n}]: needs whole numbers 'limit' and 'days'") from None
    return ContactRules(
        code=code, windows=tuple(windows), skip_holidays=bool(params.get("skip_holidays", True)),
        caps=tuple(caps), min_gap_days=int(params.get("min_gap_days") or 0),
        cooldown_days=int(params.get("cooldown_days") or 0),
        cooldown_channels=frozenset(params.get("cooldown_channels") or ()),
        version=str(params.get("version") or ""))


#: The channels the engine plans contacts on (a cap or cool-down with no channels covers them all).
CONTACT_CHANNELS = ("email", "sms", "whatsapp", "call", "letter")


@dataclass(frozen=True, slots=True)
class Loosening:
    """One way new rules allow a contact the old ones forbid.

    ``kind``: "window" (``day`` is the weekday), "holidays", "cap" (``cap`` is the old cap, ``channels``
    the channels it no longer limits; none: each is still limited but not counted together),
    "min_gap" and "cooldown" (``old``/``new`` the days), "cooldown_channels" (``channels`` it no
    longer covers). Services turn it into a sentence in the reader's language.
    """

    kind: str
    day: str = ""
    cap: Cap | None = None
    channels: tuple[str, ...] = ()
    old: int = 0
    new: int = 0


def _holds(old: Cap, new: Cap) -> bool:
    """True when ``new`` alone forbids every contact ``old`` forbids, whatever the history.

    A cap over no listed channels counts contacts on every channel (including ones the engine does
    not plan, such as those logged by hand), so only another such cap can stand for it.
    """
    covers = not new.channels or (bool(old.channels) and old.channels <= new.channels)
    return covers and new.limit <= old.limit and new.days >= old.days


def _cap_loosening(old: Cap, caps: tuple[Cap, ...]) -> Loosening | None:
    if any(_holds(old, c) for c in caps):
        return None
    channels = sorted(old.channels, key=_channel_order) if old.channels else CONTACT_CHANNELS
    free = tuple(ch for ch in channels
                 if not any(c.counts(ch) and c.limit <= old.limit and c.days >= old.days for c in caps))
    return Loosening("cap", cap=old, channels=free)


def _channel_order(channel: str) -> tuple[int, str]:
    return (CONTACT_CHANNELS.index(channel) if channel in CONTACT_CHANNELS else len(CONTACT_CHANNELS), channel)


def loosenings(base: ContactRules, new: ContactRules) -> list[Loosening]:
    """Every way ``new`` allows a contact that ``base`` forbids (empty list: it only tightens).

    Each part is compared on its own: each weekday's window, holidays, each cap of ``base`` (kept only
    by one cap of ``new`` that is as low, as long and counts at least the same channels), the minimum
    gap, and the cool-down's length and channels.
    """
    found = []
    for day, (a, b) in enumerate(zip(base.windows, new.windows, strict=True)):
        if b is not None and (a is None or b[0] < a[0] or b[1] > a[1]):
            found.append(Loosening("window", day=WEEKDAYS[day]))
    if base.skip_holidays and not new.skip_holidays:
        found.append(Loosening("holidays"))
    found += filter(None, (_cap_loosening(cap, new.caps) for cap in base.caps))
    if new.min_gap_days < base.min_gap_days:
        found.append(Loosening("min_gap", old=base.min_gap_days, new=new.min_gap_days))
    if base.cooldown_days:
        if new.cooldown_days < base.cooldown_days:
            found.append(Loosening("cooldown", old=base.cooldown_days, new=new.cooldown_days))
        if new.cooldown_days and new.cooldown_channels:
            wanted = base.cooldown_channels or frozenset(CONTACT_CHANNELS)
            free = tuple(sorted(wanted - new.cooldown_channels, key=_channel_order))
            if free:
                found.append(Loosening("cooldown_channels", channels=free))
    return found


@lru_cache(maxsize=256)
def holiday_dates(country: str, year: int) -> frozenset[dt.date]:
    """Public holidays of a country in one year (moved holidays included); unknown country: none."""
    try:
        return frozenset(holidays_lib.country_holidays(country, years=year).keys())
    except NotImplementedError:
        return frozenset()


def holidays_for(countries, years) -> dict[str, frozenset[dt.date]]:
    """The holiday set per country over several years, built once per cycle."""
    return {c: frozenset().union(*(holiday_dates(c, y) for y in years)) for c in countries}


@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def local_date(at: dt.datetime, tz: ZoneInfo) -> dt.date:
    return at.astimezone(tz).date()


@dataclass(frozen=True, slots=True)
class Contact:
    """A contact made or planned, in the debtor's local calendar."""

    day: dt.date
    channel: str
    conversation: bool = False


def rules_name(rules: ContactRules) -> Country | Text:
    """Whose rules these are, for a sentence: the country's name, or the strict common ones."""
    if len(rules.code) == 2 and rules.code.isalpha():
        return Country(rules.code)
    if rules.code == STRICT.code:
        return Text(gettext_noop("reglas estrictas comunes"))
    return rules.code


def blocked(rules: ContactRules, holidays: frozenset[dt.date], day: dt.date, channel: str,
            contacts: list[Contact]) -> Text | str:
    """Why a contact on ``channel`` cannot happen on ``day`` (a ``Text``), or "" if it can."""
    if rules.windows[day.weekday()] is None:
        return Text(gettext_noop("%(days)s no se contacta (%(rules)s)"), days=Text(DAY_PHRASES[day.weekday()]),
                    rules=rules_name(rules))
    if rules.skip_holidays and day in holidays:
        return Text(gettext_noop("el %(day)s es feriado (%(rules)s)"), day=Day(day), rules=rules_name(rules))
    written = channel in MESSAGE_CHANNELS
    for c in contacts:
        if (c.conversation and rules.cooldown_days and c.day <= day < c.day + dt.timedelta(rules.cooldown_days)
                and (not rules.cooldown_channels or channel in rules.cooldown_channels)):
            return ngettext("pausa de %(count)s día tras la conversación del %(day)s (%(rules)s)",
                            "pausa de %(count)s días tras la conversación del %(day)s (%(rules)s)",
                            rules.cooldown_days, day=Day(c.day), rules=rules_name(rules))
        if written and c.channel in MESSAGE_CHANNELS:
            if c.day == day:
                return Text(gettext_noop("ya hay un mensaje para el %(day)s (uno por día)"), day=Day(day))
            if rules.min_gap_days and abs((c.day - day).days) < rules.min_gap_days:
                return ngettext("debe pasar %(count)s día entre mensajes (%(rules)s)",
                                "deben pasar %(count)s días entre mensajes (%(rules)s)",
                                rules.min_gap_days, rules=rules_name(rules))
    for cap in rules.caps:
        if not cap.counts(channel):
            continue
        days = sorted(c.day for c in contacts if cap.counts(c.channel)
                      and day - dt.timedelta(cap.days) < c.day < day + dt.timedelta(cap.days))
        if len(days) < cap.limit:
            continue
        # Every window of cap.days consecutive days that contains ``day`` must stay within the cap.
        for start in range(cap.days):
            lo = day - dt.timedelta(start)
            hi = lo + dt.timedelta(cap.days)
            if sum(1 for d in days if lo <= d < hi) + 1 > cap.limit:
                return Text(gettext_noop("tope de %(contacts)s en %(days)s (%(rules)s)"),
                            contacts=ngettext("%(count)s contacto", "%(count)s contactos", cap.limit),
                            days=ngettext("%(count)s día", "%(count)s días", cap.days), rules=rules_name(rules))
    return ""


def common_window(rules: ContactRules, day: dt.date, zones: tuple[ZoneInfo, ...]
                  ) -> tuple[dt.datetime, dt.datetime] | None:
    """The UTC moments [opens, closes) when ``day``'s window is open in every zone at once, or None.

    Each zone contributes the window of ``day`` on its own wall clock (the same local date
    everywhere); the common part is the latest opening to the earliest closing.
    """
    span = rules.windows[day.weekday()]
    if span is None:
        return None
    opens = max(_wall(day, span[0], tz) for tz in zones)
    closes = min(_wall(day, span[1], tz) for tz in zones)
    return (opens, closes) if opens < closes else None


def _wall(day: dt.date, minute: int, tz: ZoneInfo) -> dt.datetime:
    # Wall-clock arithmetic: 24:00 is the next midnight, and a gap in the clock keeps zoneinfo's fold.
    return (dt.datetime.combine(day, dt.time(), tzinfo=tz) + dt.timedelta(minutes=minute)).astimezone(UTC)


def next_slot(rules: ContactRules, holidays: frozenset[dt.date], zones: tuple[ZoneInfo, ...], start: dt.date,
              channel: str, contacts: list[Contact]) -> tuple[dt.datetime | None, list[Text | str]]:
    """The first allowed moment on or after ``start`` (UTC), and why earlier days were refused.

    ``zones``: every zone the debtor may be in (one, when their zone is known). The moment is the
    opening of that day's window common to all of them; a day whose windows do not overlap is
    skipped like a day off. None when nothing is allowed within the horizon (the reasons say why).
    """
    reasons: list[Text | str] = []
    day = start
    for _ in range(HORIZON_DAYS):
        why = blocked(rules, holidays, day, channel, contacts)
        if not why:
            common = common_window(rules, day, zones)
            if common is not None:
                return common[0], reasons
            why = ngettext("el %(day)s no hay una hora permitida en %(count)s zona horaria",
                           "el %(day)s no hay una hora permitida a la vez en %(count)s zonas horarias",
                           len(zones), day=Day(day))
        if not reasons or reasons[-1] != why:
            reasons.append(why)
        day += dt.timedelta(days=1)
    return None, reasons


def allowed_at(rules: ContactRules, holidays: frozenset[dt.date], at: dt.datetime,
               zones: tuple[ZoneInfo, ...]) -> bool:
    """True when the aware moment ``at`` falls inside an allowed window on a non-holiday in every zone."""
    for tz in zones:
        local = at.astimezone(tz)
        window = rules.windows[local.weekday()]
        if window is None or (rules.skip_holidays and local.date() in holidays):
            return False
        minute = local.hour * 60 + local.minute
        if not window[0] <= minute < window[1]:
            return False
    return bool(zones)
