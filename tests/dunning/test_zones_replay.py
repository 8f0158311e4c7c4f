"""A year of the cycle, replayed for debtors of multi-zone countries who have no zone of their own:
nobody is contacted outside the window of any zone they may be in."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import translation

from cobro.dunning import services
from cobro.dunning.services import ensure_default_policy
from cobro.dunning.simulate import simulate
from cobro.engine.contact import STRICT, allowed_at, holidays_for, zone
from cobro.engine.zones import country_zones, phone_zones, region_zones
from cobro.ledger.models import Customer, Organization
from cobro.ledger.services import add_invoice, get_or_create_customer

D = dt.date
START, END = D(2026, 1, 1), D(2026, 12, 31)
#: ref -> (country, own zone, phone, region of the address). No zone, no telling phone and no known
#: region: every zone of the country.
PEOPLE = {
    "US-ALL": ("US", "", "", ""), "US-808": ("US", "", "+18085551234", ""),
    "US-TOLLFREE": ("US", "", "+18005551234", ""),
    "MX-ALL": ("MX", "", "", ""), "BR-ALL": ("BR", "", "", ""), "CL-ALL": ("CL", "", "", ""),
    "ES-ALL": ("ES", "", "", ""), "AR-ALL": ("AR", "", "", ""), "CA-ALL": ("CA", "", "", ""),
    "AU-ALL": ("AU", "", "", ""),
    "US-CHI": ("US", "America/Chicago", "", ""), "CO-OWN": ("CO", "America/Bogota", "", ""),
    # Placed by their address: a state of two zones, a state of one, islands, a region unknown to Cobro,
    # and a telling phone that wins over the address.
    "US-TX": ("US", "", "+18005551234", "Texas"), "US-CA": ("US", "", "", "US-CA"),
    "MX-BC": ("MX", "", "", "Baja California"), "ES-CN": ("ES", "", "", "Las Palmas"),
    "CL-MAG": ("CL", "", "", "Región de Magallanes"), "US-NOWHERE": ("US", "", "", "Narnia"),
    "US-808-TX": ("US", "", "+18085551234", "TX"),
}


@pytest.fixture
def book(db):
    org = Organization.objects.create(slug="zonas", name="Zonas", country="US", currency="USD",
                                      timezone="America/New_York", language="en")
    ensure_default_policy(org)
    for n, (ref, (country, own, phone, region)) in enumerate(PEOPLE.items()):
        customer, _ = get_or_create_customer(org, ref, ref, country=country, email=f"{ref.lower()}@example.com",
                                             phone=phone, timezone_name=own)
        assert customer.timezone == own  # nothing filled in behind the customer's back
        Customer.objects.filter(pk=customer.pk).update(region=region)
        # An invoice every 30 days (a different day of the week for each debtor), never paid.
        for k in range(13):
            issue = START - dt.timedelta(days=20) + dt.timedelta(days=30 * k + n)
            add_invoice(org, customer, f"{ref}-{k}", issue, issue + dt.timedelta(days=30), "USD", 10000 + k)
    return org


def expected_zones(country, own, phone, region):
    return ((own,) if own else (phone_zones(phone) if phone else ()) or region_zones(country, region)
            or country_zones(country))


def test_a_year_replayed_contacts_nobody_outside_any_of_their_zones_windows(book):
    actions = simulate(book, START, END)
    countries = {c for c, *_ in PEOPLE.values()}
    rules = services.contact_rules(book, countries)
    holidays = holidays_for(countries, (2025, 2026, 2027))
    contacts = [a for a in actions if a["action"] in ("message", "call_task", "letter")]
    seen: dict[str, int] = {}
    moved = 0
    for a in contacts:
        country, own, phone, region = PEOPLE[a["customer_ref"]]
        names = expected_zones(country, own, phone, region)
        zones = tuple(zone(n) for n in names)
        at = dt.datetime.fromisoformat(a["scheduled_for"])
        rule = rules.get(country, STRICT)
        for tz in zones:
            assert allowed_at(rule, holidays[country], at, (tz,)), (
                f"{a['key']} at {at.isoformat()} is {at.astimezone(tz):%a %H:%M} in {tz.key}")
        opens = rule.windows[at.astimezone(zones[0]).weekday()][0]
        local = at.astimezone(zones[0])
        if len(zones) > 1 and local.hour * 60 + local.minute != opens:
            moved += 1  # later than the first zone's opening: the old engine would have gone earlier
        elif len(zones) == 1:
            assert local.hour * 60 + local.minute == opens  # one known zone: at its opening, as before
        seen[a["customer_ref"]] = seen.get(a["customer_ref"], 0) + 1
    # Every debtor was reminded all year long (the check above is not vacuous), and for most of the
    # multi-zone ones the common window opened later than their first zone's.
    assert set(seen) == set(PEOPLE), set(PEOPLE) - set(seen)
    assert min(seen.values()) >= 12
    assert moved > len(contacts) / 3
    # The Honolulu phone decides alone: 08:00 in Honolulu, whatever New York's clock says.
    hawaii = [dt.datetime.fromisoformat(a["scheduled_for"]).astimezone(zone("Pacific/Honolulu"))
              for a in contacts if a["customer_ref"] in ("US-808", "US-808-TX")]
    assert {t.hour for t in hawaii} == {8}
    # California by its address: 08:00 in Los Angeles (11:00 in New York), never New York's 08:00.
    california = {dt.datetime.fromisoformat(a["scheduled_for"]).astimezone(zone("America/Los_Angeles")).hour
                  for a in contacts if a["customer_ref"] == "US-CA"}
    assert california == {8}
    # Texas spans Central and Mountain time: 08:00 in El Paso is 09:00 in Houston.
    texas = {dt.datetime.fromisoformat(a["scheduled_for"]).astimezone(zone("America/Denver")).hour
             for a in contacts if a["customer_ref"] == "US-TX"}
    assert texas == {8}


def test_explain_names_the_zones_and_where_they_came_from(book):
    everywhere = Customer.objects.get(ref="US-ALL")
    hawaii = Customer.objects.get(ref="US-808")
    chicago = Customer.objects.get(ref="US-CHI")
    day = D(2026, 3, 3)
    with translation.override("en"):
        lines = services.explain(book, everywhere, day)
        line = next(x for x in lines if x.startswith("Time zones considered:"))
        assert "United States (New York) Time" in line and "(Honolulu)" in line and "(Adak)" in line
        assert "their country" in line and "all of them at once" in line
        (line,) = [x for x in services.explain(book, hawaii, day) if x.startswith("Time zones considered:")]
        assert line == "Time zones considered: United States (Honolulu) Time, from the phone numbers of their contacts (no time zone of their own)."
        texas = Customer.objects.get(ref="US-TX")
        (line,) = [x for x in services.explain(book, texas, day) if x.startswith("Time zones considered:")]
        assert line == ("Time zones considered: United States (Chicago) Time; United States (Denver) Time, from the region of their address "
                        "(no time zone of their own, and no phone number that says where they are). Contact "
                        "happens only when the allowed window is open in all of them at once.")
        nowhere = Customer.objects.get(ref="US-NOWHERE")
        (line,) = [x for x in services.explain(book, nowhere, day) if x.startswith("Time zones considered:")]
        assert "United States (Adak) Time" in line and "no phone number or region in their address" in line
    with translation.override("es"):
        (line,) = [x for x in services.explain(book, Customer.objects.get(ref="ES-CN"), day)
                   if x.startswith("Zonas horarias")]
        assert line == ("Zonas horarias consideradas: hora de España (Canarias), según la región de su dirección (no tiene "
                        "zona propia ni un teléfono que diga dónde está).")
    with translation.override("pt-br"):
        (line,) = [x for x in services.explain(book, chicago, day) if x.startswith("Fusos horários")]
        assert line == "Fusos horários considerados: Horário Estados Unidos (Chicago), segundo o fuso horário do próprio cliente."
    with translation.override("es"):  # the command speaks the organization's language (English here)
        out = StringIO()
        call_command("explain", "US-ALL", "--org", "zonas", "--as-of", "2026-03-03", stdout=out)
        assert "Time zones considered: United States (New York) Time; United States (Detroit) Time" in out.getvalue()
        assert "from their country" in out.getvalue()
