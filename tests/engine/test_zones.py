"""Where a debtor may be, and contacts allowed in every zone at once (examples and hypothesis)."""

import datetime as dt
from importlib import resources

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cobro.engine.contact import (
    HORIZON_DAYS,
    STRICT,
    Contact,
    ContactRules,
    allowed_at,
    blocked,
    common_window,
    holidays_for,
    next_slot,
    rules_from_params,
    zone,
)
from cobro.engine.text import localized
from cobro.engine.zones import (
    Zones,
    candidate_zones,
    country_zones,
    phone_zones,
    region_known,
    region_zones,
    zone_country,
)

D = dt.date
UTC = dt.UTC
PRESETS = yaml.safe_load((resources.files("cobro.dunning") / "presets" / "contact_rules.yaml")
                         .read_text(encoding="utf-8"))
RULES = {c: rules_from_params(c, p) for c, p in PRESETS.items()}
HOLIDAYS = holidays_for(RULES, range(2024, 2033))
#: Countries of several zones, without a preset: they get the strict common window.
WIDE = ("RU", "AU", "CA", "AR", "ID", "KZ")


def test_every_zone_of_the_country_comes_from_the_tz_database():
    us = country_zones("US")
    assert us[0] == "America/New_York" and {"America/Los_Angeles", "America/Anchorage", "America/Adak",
                                            "Pacific/Honolulu", "America/Phoenix"} <= set(us)
    assert {"America/Tijuana", "America/Cancun", "America/Mexico_City"} <= set(country_zones("MX"))
    assert {"America/Noronha", "America/Rio_Branco"} <= set(country_zones("br"))
    assert set(country_zones("ES")) == {"Europe/Madrid", "Africa/Ceuta", "Atlantic/Canary"}
    assert "Pacific/Easter" in country_zones("CL")
    assert country_zones("CO") == ("America/Bogota",) and country_zones("ZZ") == ()
    for country in [*RULES, *WIDE]:
        for name in country_zones(country):
            zone(name).utcoffset(dt.datetime(2026, 1, 1))  # zoneinfo knows every one of them
            assert zone_country(name) == country and zone(name).key == name


def test_phone_numbers_give_zones_only_when_they_say_where():
    assert phone_zones("+18085551234") == ("Pacific/Honolulu",)
    assert phone_zones("+12135551234") == ("America/Los_Angeles",)
    assert phone_zones("+525512345678") == ("America/Mexico_City",)
    assert phone_zones("+18005551234") == ()  # toll-free: anywhere in the North American plan
    assert phone_zones("+56912345678") == ()  # a Chilean mobile: nothing beyond the country
    assert phone_zones("+15555551234") == () and phone_zones("not a phone") == ()
    # The North American plan's zones outside the number's own country are left out.
    assert all(zone_country(z) == "CA" for z in phone_zones("+14165551234"))


def test_candidate_zones_in_order_customer_phone_country():
    assert candidate_zones("America/Chicago", "US", ["+18085551234"]) == Zones(("America/Chicago",), "customer")
    got = candidate_zones("", "US", ["+18085551234", "+12125551234", "+18005551234"])
    assert got.source == "phone" and got.names == ("America/New_York", "Pacific/Honolulu")
    assert candidate_zones("", "US", ["+12125551234", "+18085551234"]) == got  # the same in any order
    everywhere = candidate_zones("", "US", ["+18005551234"])
    assert everywhere.source == "country" and everywhere.names == country_zones("US")
    assert candidate_zones("Mars/Olympus", "MX", []).source == "country"  # an unknown setting is no setting
    assert candidate_zones("", "ZZ", [], fallback="America/Lima") == Zones(("America/Lima",), "fallback")


REGION_TABLE = [line for line in (resources.files("cobro.engine") / "data" / "region_zones.csv")
                .read_text(encoding="utf-8").splitlines()[1:] if line and not line.startswith(("#", "country,"))]


def _table():
    import csv

    return list(csv.reader(REGION_TABLE))


def test_the_region_table_names_every_region_once_and_reaches_every_populated_zone():
    per_country: dict[str, int] = {}
    claimed: dict[tuple[str, str], str] = {}
    reached: dict[str, set[str]] = {}
    for country, code, names, zones in _table():
        per_country[country] = per_country.get(country, 0) + 1
        whole = set(country_zones(country))
        assert len(whole) > 1, f"{country} has one zone: its regions say nothing"
        for choice in zones.split():
            assert any(name in whole for name in choice.split("|")), f"{country}-{code}: {choice} not in zone.tab"
        got = region_zones(country, code)
        assert got and set(got) <= whole and got == region_zones(country, f"{country}-{code}")
        reached.setdefault(country, set()).update(got)
        for spelling in (code, *names.split("|")):
            key = "".join(ch for ch in spelling.casefold() if ch.isalnum())
            # No spelling means two regions (of one country): an address is placed in one place only.
            assert claimed.setdefault((country, key), code) == code, f"{country}: {spelling!r} names two regions"
            assert region_zones(country, spelling) == got
    # Every first-level region of each country (ISO 3166-2), and every zone people live in.
    assert per_country == {"US": 51, "MX": 32, "BR": 27, "AR": 24, "CL": 16, "ES": 19, "PT": 20, "EC": 24,
                           "CA": 13, "AU": 8}
    for country, zones in reached.items():
        assert set(country_zones(country)) - zones <= {"Antarctica/Macquarie"}, country


def test_a_region_is_found_by_code_or_name_in_any_spelling():
    assert region_zones("US", "TX") == region_zones("us", "US-TX") == region_zones("US", " texas ") == (
        "America/Chicago", "America/Denver")
    assert region_zones("MX", "Baja California") == ("America/Tijuana",)
    assert region_zones("MX", "baja california sur") == ("America/Mazatlan",)
    assert region_zones("MX", "Ciudad de México") == region_zones("MX", "CDMX") == ("America/Mexico_City",)
    assert region_zones("CL", "Región de Magallanes") == ("America/Punta_Arenas",)
    assert region_zones("CL", "Valparaíso") == ("America/Santiago", "Pacific/Easter")
    assert region_zones("BR", "SÃO PAULO") == ("America/Sao_Paulo",)
    assert region_zones("BR", "Pernambuco") == ("America/Recife", "America/Noronha")  # most people first
    assert region_zones("ES", "Santa Cruz de Tenerife") == ("Atlantic/Canary",)
    assert region_zones("ES", "Melilla") == ("Africa/Ceuta",)
    assert region_zones("US", "Narnia") == () and region_zones("US", "") == ()
    assert region_zones("CO", "Antioquia") == ()  # one zone: the country says it all
    assert region_known("CO", "Antioquia") and region_known("US", "Texas") and not region_known("US", "Narnia")


def test_candidate_zones_in_order_customer_phone_address_country():
    assert candidate_zones("", "US", [], region="CA") == Zones(("America/Los_Angeles",), "address")
    # The phone that says where comes before the address; the customer's own zone before both.
    assert candidate_zones("", "US", ["+18085551234"], region="CA") == Zones(("Pacific/Honolulu",), "phone")
    assert candidate_zones("America/Denver", "US", [], region="CA").source == "customer"
    # A phone that says nothing (toll-free, mobile of the whole country) leaves the address to decide.
    assert candidate_zones("", "US", ["+18005551234"], region="Florida") == Zones(
        ("America/New_York", "America/Chicago"), "address")
    assert candidate_zones("", "CL", ["+56912345678"], region="Magallanes") == Zones(
        ("America/Punta_Arenas",), "address")
    # A region Cobro does not know, or a country of one zone: the country's zones, as before.
    assert candidate_zones("", "US", [], region="Narnia") == Zones(country_zones("US"), "country")
    assert candidate_zones("", "CO", [], region="Antioquia") == Zones(("America/Bogota",), "country")


def test_all_us_zones_share_a_window_and_it_opens_at_eight_in_honolulu():
    us = RULES["US"]
    zones = tuple(zone(n) for n in country_zones("US"))
    at, reasons = next_slot(us, frozenset(), zones, D(2026, 7, 6), "email", [])
    assert not reasons
    # Summer: 08:00 in Honolulu (UTC-10) is 14:00 in New York, inside its 08:00-21:00.
    assert at == dt.datetime(2026, 7, 6, 18, 0, tzinfo=UTC)
    assert at.astimezone(zone("America/New_York")).hour == 14
    assert allowed_at(us, frozenset(), at, zones) and not allowed_at(us, frozenset(), at - dt.timedelta(minutes=1), zones)
    # Before the change a debtor without a zone got 08:00 New York, 02:00 in Honolulu.
    old = dt.datetime(2026, 7, 6, 12, 0, tzinfo=UTC)
    assert not allowed_at(us, frozenset(), old, zones) and allowed_at(us, frozenset(), old, (zone("America/New_York"),))


def test_an_empty_intersection_moves_the_contact_to_the_next_day_that_has_one():
    # Monday 09:00-09:30 cannot hold both Madrid and the Canaries (one hour apart); Tuesday can.
    rules = rules_from_params("ES", {"hours": {"mon": "09:00-09:30", "tue": "09:00-21:00"}})
    zones = (zone("Europe/Madrid"), zone("Atlantic/Canary"))
    assert common_window(rules, D(2026, 3, 2), zones) is None
    at, reasons = next_slot(rules, frozenset(), zones, D(2026, 3, 2), "email", [])
    assert at == dt.datetime(2026, 3, 3, 9, 0, tzinfo=UTC)  # 10:00 Madrid, 09:00 Canaries
    assert [localized(r) for r in reasons] == ["el 2 de marzo de 2026 no hay una hora permitida a la vez en 2 zonas horarias"]
    # Kaliningrad to Kamchatka (ten hours): the strict 09:00-19:00 never holds both; nothing is planned,
    # and the reasons say why.
    far = (zone("Europe/Kaliningrad"), zone("Asia/Kamchatka"))
    at, reasons = next_slot(STRICT, frozenset(), far, D(2026, 3, 2), "email", [])
    said = [localized(r) for r in reasons]
    assert at is None and "no hay una hora permitida a la vez en 2 zonas" in said[0]
    assert all("no hay una hora" in r or "no se contacta" in r for r in said)


def _old_next_slot(rules, holidays, tz, start, channel, contacts):
    """The engine before several zones: the first day no rule blocks, at its window's opening."""
    day = start
    for _ in range(HORIZON_DAYS):
        if not blocked(rules, holidays, day, channel, contacts):
            opens = rules.windows[day.weekday()][0]
            return dt.datetime.combine(day, dt.time(opens // 60, opens % 60), tzinfo=tz).astimezone(UTC)
        day += dt.timedelta(days=1)
    return None


def _sometime_allowed_on(rules, holidays, day, zones):
    """Brute force: is there a 15-minute step of ``day`` allowed in every zone, on that local date?"""
    moment = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(), tzinfo=UTC)
    for _ in range(3 * 96):
        if all(moment.astimezone(tz).date() == day for tz in zones) and allowed_at(rules, holidays, moment, zones):
            return True
        moment += dt.timedelta(minutes=15)
    return False


countries = st.sampled_from(sorted(RULES))


@st.composite
def debtors(draw, pool=countries):
    """A country with a preset, some (or all) of its zones, a start day, a channel and booked contacts."""
    country = draw(pool)
    names = country_zones(country)
    every = draw(st.booleans())
    chosen = names if every else draw(st.lists(st.sampled_from(names), min_size=1, max_size=5, unique=True))
    start = D(2026, 1, 1) + dt.timedelta(draw(st.integers(0, 5 * 365)))
    channel = draw(st.sampled_from(["email", "sms", "whatsapp", "call", "letter"]))
    booked = [Contact(start + dt.timedelta(draw(st.integers(-10, 20))), draw(st.sampled_from(["email", "call"])),
                      draw(st.booleans())) for _ in range(draw(st.integers(0, 4)))]
    return country, tuple(zone(n) for n in chosen), start, channel, booked


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(debtors())
def test_any_slot_is_allowed_in_every_candidate_zone(case):
    country, zones, start, channel, booked = case
    rules, hol = RULES[country], HOLIDAYS[country]
    at, _ = next_slot(rules, hol, zones, start, channel, booked)
    assert at is not None, "every preset country has a common window on some day"
    day = at.astimezone(zones[0]).date()
    assert day >= start
    for tz in zones:
        assert allowed_at(rules, hol, at, (tz,)), f"{at} is outside the window in {tz.key}"
        assert at.astimezone(tz).date() == day, "the same calendar day in every zone"
    assert not blocked(rules, hol, day, channel, booked)
    # Not later than needed: the minute before is outside some zone's window (or on another day there).
    before = at - dt.timedelta(minutes=1)
    assert not allowed_at(rules, hol, before, zones) or any(before.astimezone(tz).date() != day for tz in zones)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(debtors(st.sampled_from([*sorted(RULES), *WIDE])),
       st.lists(st.one_of(st.none(), st.tuples(st.integers(6 * 60, 20 * 60), st.integers(10, 6 * 60))),
                min_size=7, max_size=7))
def test_days_without_a_common_hour_are_skipped_never_used(case, spans):
    country, zones, start, channel, booked = case
    # Narrow generated windows over zones hours apart: intersections are often empty.
    windows = tuple(None if s is None else (s[0], min(s[0] + s[1], 1440)) for s in spans)
    rules = ContactRules(code=country, windows=windows, skip_holidays=True)
    hol = holidays_for([country], range(start.year - 1, start.year + 2))[country]
    at, reasons = next_slot(rules, hol, zones, start, channel, booked)
    if at is None:
        assert reasons
        last = start + dt.timedelta(days=21)
    else:
        assert allowed_at(rules, hol, at, zones)
        last = at.astimezone(zones[0]).date()
    day = max(start, last - dt.timedelta(days=21))
    while day < last:  # every day before the chosen one was blocked or had no common hour
        assert blocked(rules, hol, day, channel, booked) or not _sometime_allowed_on(rules, hol, day, zones), day
        day += dt.timedelta(days=1)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(debtors(st.sampled_from([*sorted(RULES), *WIDE])))
def test_a_single_zone_debtor_behaves_exactly_as_before(case):
    country, zones, start, channel, booked = case
    rules, hol = RULES.get(country, STRICT), HOLIDAYS.get(country, frozenset())
    tz = zones[0]
    at, _ = next_slot(rules, hol, (tz,), start, channel, booked)
    assert at == _old_next_slot(rules, hol, tz, start, channel, booked)
    if at is not None:
        assert allowed_at(rules, hol, at, (tz,))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([row for row in _table() if row[0] in RULES]),
       st.dates(D(2026, 1, 1), D(2030, 12, 31)), st.sampled_from(["email", "sms", "whatsapp", "call"]))
def test_a_debtor_placed_by_their_address_is_contacted_inside_every_zone_of_their_region(row, start, channel):
    country, code, names, _ = row
    spelling = names.split("|")[0]
    where = candidate_zones("", country, [], region=spelling)
    assert where.source == "address" and set(where.names) <= set(country_zones(country))
    zones = tuple(zone(n) for n in where.names)
    at, _ = next_slot(RULES[country], HOLIDAYS[country], zones, start, channel, [])
    assert at is not None
    for tz in zones:
        assert allowed_at(RULES[country], HOLIDAYS[country], at, (tz,)), f"{at} outside the window in {tz.key}"
