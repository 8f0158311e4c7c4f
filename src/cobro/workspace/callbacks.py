"""Callbacks: "call back Thursday after 15:00", read on the debtor's clock and checked against the
contact rules of their country before it becomes a task.

The debtor's zone comes from the engine's zone resolution (``dunning.services.customer_zones``:
their own setting, else their phones', else their country's). The time the agent types is read in
the first of these zones (the one that dates the debtor's day); when the debtor may be in several
zones the moment must be allowed in every one of them, as the cycle requires for its own contacts.
The rules are those the cycle applies (the country's preset with the organization's changes), for
the day, the hours and the public holidays. Caps and cool-downs are not applied here: the debtor
asked to be called at that moment.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cobro.ledger.models import Customer, Organization

#: Monday..Sunday as a sentence says them ("on Sundays").
DAYS = (gettext_lazy("los lunes"), gettext_lazy("los martes"), gettext_lazy("los miércoles"),
        gettext_lazy("los jueves"), gettext_lazy("los viernes"), gettext_lazy("los sábados"),
        gettext_lazy("los domingos"))


class CallbackRefused(ValueError):
    """The moment asked for cannot be a call; the message (in the reader's language) says why."""


@dataclass(frozen=True)
class Moment:
    at: dt.datetime  # UTC
    zone: str  # the debtor's zone the time was read in
    local: dt.datetime  # ``at`` on the debtor's clock


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def resolve(org: Organization, customer: Customer, day: dt.date, time: dt.time,
            now: dt.datetime | None = None) -> Moment:
    """The UTC moment of ``day`` ``time`` on the debtor's clock, or ``CallbackRefused`` with the reason."""
    from cobro.dunning import services as dunning
    from cobro.engine.contact import STRICT, common_window, holiday_dates, zone
    from cobro.engine.text import Country
    from cobro.engine.zones import zone_country

    now = now or timezone.now()
    names = dunning.customer_zones(org, customer).names
    first = zone(names[0])
    local = dt.datetime.combine(day, time.replace(second=0, microsecond=0), tzinfo=first)
    at = local.astimezone(dt.UTC)
    when = {"date": date_format(day, "DATE_FORMAT"), "time": time.strftime("%H:%M"),
            "zone": dunning.zone_city(names[0])}
    if at <= now:
        raise CallbackRefused(_("El %(date)s a las %(time)s (hora de %(zone)s) ya pasó: elija un momento futuro.")
                              % when)
    country = customer.country or org.country
    rules = dunning.contact_rules(org, [country]).get(country, STRICT)
    country_words = Country(country).localized()
    countries = {country, *filter(None, map(zone_country, names))}
    for name in names:
        there = at.astimezone(zone(name))
        span = rules.windows[there.weekday()]
        place = {"country": country_words, "zone": dunning.zone_city(name), "day": DAYS[there.weekday()],
                 "date": date_format(there.date(), "DATE_FORMAT"), "time": there.strftime("%H:%M")}
        if span is None:
            raise CallbackRefused(_("Las reglas de contacto de %(country)s no permiten llamar %(day)s "
                                    "(en %(zone)s sería el %(date)s): elija otro día.") % place)
        if rules.skip_holidays and any(there.date() in holiday_dates(c, there.year) for c in countries):
            raise CallbackRefused(_("El %(date)s es feriado en %(country)s y las reglas de contacto no "
                                    "permiten llamar: elija otro día.") % place)
    outside = []  # (minutes from the window, zone, local time) of each zone where it is out of hours
    for name in names:
        there = at.astimezone(zone(name))
        span = rules.windows[there.weekday()]
        minute = there.hour * 60 + there.minute
        if not span[0] <= minute < span[1]:
            outside.append((max(span[0] - minute, minute - span[1] + 1), name, there, span))
    if outside:
        _gap, name, there, span = max(outside, key=lambda o: o[0])  # the zone furthest out of hours
        place = {"country": country_words, "zone": dunning.zone_city(name), "time": there.strftime("%H:%M"),
                 "from": _hhmm(span[0]), "to": _hhmm(span[1])}
        if len(names) == 1:
            raise CallbackRefused(_("A las %(time)s en %(zone)s está fuera del horario de contacto de "
                                    "%(country)s para ese día (de %(from)s a %(to)s): elija otra hora.") % place)
        common = common_window(rules, day, tuple(zone(n) for n in names))
        if common is None:
            raise CallbackRefused(_("El cliente puede estar en %(n)d zonas horarias y el %(date)s no hay una hora "
                                    "permitida en todas a la vez: elija otro día.")
                                  % {"n": len(names), "date": when["date"]})
        raise CallbackRefused(_("A las %(time)s en %(zone)s está fuera del horario de contacto de %(country)s "
                                "para ese día (de %(from)s a %(to)s), y el cliente puede estar en esa zona: "
                                "llame entre las %(lo)s y las %(hi)s, hora de %(first)s.")
                              % {**place, "first": dunning.zone_city(names[0]), "lo": common[0].astimezone(first).strftime("%H:%M"),
                                 "hi": common[1].astimezone(first).strftime("%H:%M")})
    return Moment(at, names[0], local)
