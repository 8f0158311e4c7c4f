"""Where a debtor may be: the time zones the contact rules must hold in.

A customer's own zone setting is taken as it is. Without one, the zones come from the phone numbers
of the customer's contacts (phonenumbers knows the zones of a number's area code), then from the
region of the customer's address (state, province or autonomous community: ``data/region_zones.csv``,
from zone.tab's region comments), and when none of these says more than the country, from the country
itself: every zone the tz database lists for it in ``zone.tab``. When several zones remain, a contact
may only happen at a moment allowed in all of them (see ``contact.next_slot``).

``zone.tab`` is read from the tz database Python's ``zoneinfo`` uses: the first directory of
``zoneinfo.TZPATH`` that has it, else the ``tzdata`` package. Nothing here knows about Django.
"""

from __future__ import annotations

import csv
import io
import unicodedata
import zoneinfo
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import phonenumbers
from phonenumbers import timezone as phone_timezone

#: Where the zones came from, in the order they are tried.
SOURCES = ("customer", "phone", "address", "country", "fallback")
UNKNOWN = "Etc/Unknown"


class ZoneDataError(RuntimeError):
    """The tz database's zone.tab cannot be found: the country's zones are unknown."""


@dataclass(frozen=True, slots=True)
class Zones:
    """The zones a debtor may be in (never empty), and which source gave them (one of ``SOURCES``)."""

    names: tuple[str, ...]
    source: str


def _zone_tab_text() -> str:
    for directory in zoneinfo.TZPATH:
        path = Path(directory) / "zone.tab"
        if path.is_file():
            return path.read_text(encoding="utf-8")
    try:
        return (resources.files("tzdata") / "zoneinfo" / "zone.tab").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        raise ZoneDataError("zone.tab of the tz database was not found in zoneinfo.TZPATH "
                            f"({', '.join(zoneinfo.TZPATH) or 'empty'}) nor in the tzdata package; "
                            "install the system's tzdata or the Python package tzdata") from None


@lru_cache(maxsize=1)
def _by_country() -> dict[str, tuple[str, ...]]:
    """Country code -> its zones, in zone.tab's order (the most populous region first)."""
    out: dict[str, list[str]] = {}
    for line in _zone_tab_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        code, _coordinates, name, *_ = line.split("\t")
        out.setdefault(code, []).append(name)
    return {code: tuple(names) for code, names in out.items()}


@lru_cache(maxsize=1)
def _country_of() -> dict[str, str]:
    return {name: code for code, names in _by_country().items() for name in names}


def country_zones(country: str) -> tuple[str, ...]:
    """Every zone the tz database lists for ``country`` (ISO 3166 alpha-2); () when it lists none."""
    return _by_country().get(country.upper(), ())


def zone_country(name: str) -> str:
    """The country a zone of zone.tab belongs to ("" for zones such as UTC)."""
    return _country_of().get(name, "")


def phone_zones(number: str) -> tuple[str, ...]:
    """The zones a phone number may be answered in, when its number plan says more than its country.

    Unknown, invalid and non-geographic numbers (toll-free...), and numbers whose zones are all the
    zones of their country, say nothing: (). Zones outside the number's own country (the North
    American plan spans several) are left out.
    """
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return ()
    if not phonenumbers.is_number_geographical(parsed):
        return ()  # toll-free, premium, universal numbers: anywhere in the number plan
    region = phonenumbers.region_code_for_number(parsed) or ""
    whole = set(country_zones(region))
    found = tuple(z for z in phone_timezone.time_zones_for_number(parsed) if z != UNKNOWN and z in whole)
    if not found or (len(whole) > 1 and set(found) == whole):
        return ()
    return found


def phone_countries(numbers) -> set[str]:
    """The countries of the zones these phone numbers point to (for their holidays)."""
    return {zone_country(name) for number in numbers for name in phone_zones(number)} - {""}


def _key(text: str) -> str:
    """A region's name as addresses spell it in any way: no accents, case, punctuation or spaces."""
    bare = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    return "".join(ch for ch in bare.casefold() if ch.isalnum())


@lru_cache(maxsize=1)
def _regions() -> dict[str, dict[str, tuple[str, ...]]]:
    """Country -> {region key (its ISO 3166-2 code, "US-CA" and every listed name) -> its zones}.

    Zones the installed tz database does not list for the country are dropped ("A|B": the first one
    it lists); a region left with none is not kept, so its customers get their country's zones.
    """
    text = (resources.files("cobro.engine") / "data" / "region_zones.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(io.StringIO("".join(line for line in text.splitlines(keepends=True)
                                              if not line.startswith("#"))))
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for row in rows:
        country = row["country"]
        whole = set(country_zones(country))
        names: list[str] = []
        for choice in row["zones"].split():
            known = next((name for name in choice.split("|") if name in whole), None)
            if known and known not in names:
                names.append(known)
        if not names:
            continue
        keys = out.setdefault(country, {})
        for spelling in (row["code"], f"{country}-{row['code']}", *row["names"].split("|")):
            keys.setdefault(_key(spelling), tuple(names))
    return out


def region_zones(country: str, region: str) -> tuple[str, ...]:
    """The zones of a region of ``country`` named by its ISO 3166-2 code ("CA", "US-CA") or its name
    ("California", "Baja California Sur", "Región de Magallanes"); () when Cobro does not know it or
    when the country has a single zone (the country says as much)."""
    if not region:
        return ()
    return _regions().get(country.upper(), {}).get(_key(region), ())


def region_known(country: str, region: str) -> bool:
    """Whether ``region`` names a region of ``country`` that Cobro can place (always true for a country
    of a single zone, where the region does not matter)."""
    return len(country_zones(country)) <= 1 or bool(region_zones(country, region))


def candidate_zones(own: str, country: str, phones=(), fallback: str = "UTC", region: str = "") -> Zones:
    """The zones of one debtor: their own setting, else their phones', else their address's region's,
    else their country's.

    ``own``: the customer's zone setting ("" when unset; a name zoneinfo does not know counts as
    unset). ``phones``: every phone and WhatsApp number of the customer's contacts (the debtor may
    answer any of them). ``region``: the state, province or community of the customer's address, by
    code or name. ``fallback``: the zone used when the country is not in the tz database.
    """
    if own and _known(own):
        return Zones((own,), "customer")
    found: list[str] = []
    for number in phones:
        for name in phone_zones(number):
            if name not in found:
                found.append(name)
    if found:
        # In zone.tab's order (the most populous first), the debtor's own country first: the same
        # phones in any order give the same zones, and the first one dates the debtor's contacts.
        return Zones(_ranked(found, country), "phone")
    from_address = region_zones(country, region)
    if from_address and len(country_zones(country)) > 1:
        return Zones(from_address, "address")  # the table's order: where most of the region lives first
    names = country_zones(country)
    if names:
        return Zones(names, "country")
    return Zones((fallback,), "fallback")


def _ranked(names, country: str) -> tuple[str, ...]:
    """In zone.tab's order (the most populous first), the debtor's own country first: the same zones
    found in any order give the same tuple, and its first zone dates the debtor's contacts."""
    rank = {name: n for n, name in enumerate(country_zones(country))}
    return tuple(sorted(names, key=lambda name: (name not in rank, rank.get(name, 0), name)))


@lru_cache(maxsize=1024)
def _known(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True
