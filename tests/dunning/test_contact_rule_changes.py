"""Changes of contact rules through the service (issue #10 item 4): a change for "*" is a change for
every country, and whether it loosens is decided in each of them, day by day, cap by cap, channel by
channel. The property tests ask the engine itself whether a contact is newly allowed somewhere and
require the refusal to name that country."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cobro.dunning import services
from cobro.dunning.models import ContactRuleChange
from cobro.engine.contact import CONTACT_CHANNELS, WEEKDAYS, Contact, blocked
from cobro.ledger.models import Membership
from cobro.ledger.services import get_or_create_customer

START = dt.date(2026, 3, 2)  # a Monday
HOLIDAYS = frozenset({dt.date(2026, 3, 9)})
#: Every place a "*" change reaches in the ``org`` fixture: the presets, AR (a customer, no preset)
#: and "*" itself (debtors of any other country), named "otros países" in the refusal.
PLACES = sorted(services.presets()) + ["AR", "*"]


def member(org, name, role):
    user = get_user_model().objects.create_user(name, password="x")
    Membership.objects.create(user=user, organization=org, role=role)
    return user


@pytest.fixture
def people(org):
    get_or_create_customer(org, "K-9", "Sin Preset", country="AR", email="ar@example.com")
    return member(org, "jefa", "manager"), member(org, "dueña", "admin")


def rules_of(org, place, extra=()):
    return services._effective(place, [*ContactRuleChange.objects.for_org(org), *extra])


# --- "hours" change day by day -------------------------------------------------------------------

def test_a_change_of_one_weekday_keeps_the_other_days(org, people):
    manager, admin = people
    before = {p: rules_of(org, p) for p in PLACES}
    services.change_contact_rules(org, "*", {"hours": {"sat": None}}, actor=manager)  # tightens only
    for place in PLACES:
        after = rules_of(org, place)
        assert after.windows[:5] == before[place].windows[:5] and after.windows[5] is None, place
        assert after.windows[6] == before[place].windows[6], place
    with pytest.raises(services.DunningError) as refused:
        services.change_contact_rules(org, "*", {"hours": {"sun": "10:00-12:00"}}, actor=admin)
    said = str(refused.value)
    # Sundays open where they were closed, and nothing else is reported.
    closed = [p for p in PLACES if before[p].windows[6] is None]
    assert said.count("el horario de los domingos es más amplio") == len(closed) == said.count("; ") + 1
    assert all(f"{'otros países' if p == '*' else p}: el horario de los domingos" in said for p in closed)


# --- Properties over random changes ------------------------------------------------------------------

span = st.integers(0, 23).flatmap(lambda h: st.integers(h + 1, 24).map(lambda e: f"{h:02d}:00-{e:02d}:00"))
channels = st.lists(st.sampled_from(CONTACT_CHANNELS), max_size=3, unique=True)
cap = st.fixed_dictionaries({"limit": st.integers(1, 3), "days": st.integers(1, 7), "channels": channels})
change = st.fixed_dictionaries({}, optional={
    "hours": st.dictionaries(st.sampled_from(WEEKDAYS), st.none() | span, max_size=3),
    "skip_holidays": st.booleans(),
    "caps": st.lists(cap, max_size=2),
    "min_gap_days": st.integers(0, 3),
    "cooldown_days": st.integers(0, 10),
    "cooldown_channels": channels,
})
day = st.integers(0, 13).map(lambda n: START + dt.timedelta(n))
history = st.lists(st.builds(Contact, day=day, channel=st.sampled_from(CONTACT_CHANNELS),
                             conversation=st.booleans()), max_size=8)
attempt = st.tuples(day, st.integers(0, 1439), st.sampled_from(CONTACT_CHANNELS))


def allows(rules, contacts, on: dt.date, minute: int, channel: str) -> bool:
    window = rules.windows[on.weekday()]
    return (window is not None and window[0] <= minute < window[1]
            and not blocked(rules, HOLIDAYS, on, channel, contacts))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(earlier=st.lists(st.tuples(st.sampled_from(PLACES), change), max_size=2), proposed=change,
       where=st.just("*") | st.sampled_from(PLACES), contacts=history,
       tries=st.lists(attempt, min_size=20, max_size=60))
def test_a_change_that_allows_a_new_contact_anywhere_is_refused_naming_that_country(
        org, people, earlier, proposed, where, contacts, tries):
    manager, admin = people
    with transaction.atomic():
        for place, params in earlier:  # what the organization already changed, recorded as is
            ContactRuleChange.objects.create(organization=org, country=place, params=params)
        reached = PLACES if where == "*" else [where]
        newly = set()
        for place in reached:
            before = rules_of(org, place)
            after = rules_of(org, place, [ContactRuleChange(organization=org, country=where, params=proposed)])
            if any(not allows(before, contacts, *t) and allows(after, contacts, *t) for t in tries):
                newly.add("otros países" if place == "*" else place)
        try:
            services.change_contact_rules(org, where, proposed, actor=manager)
        except services.DunningError as exc:
            said = str(exc)
            assert said.startswith("Solo un administrador puede aflojar las reglas de contacto")
            assert all(f"{name}: " in said for name in newly), (newly, said)
        else:
            assert not newly, newly  # a manager's change went through while it allows a new contact
        transaction.set_rollback(True)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(proposed=change)
def test_a_change_for_every_country_loosens_exactly_where_some_country_loosens(org, people, proposed):
    manager, _admin = people
    with transaction.atomic():
        expected = [f"{'otros países' if p == '*' else p}: "
                    for p in PLACES
                    if services.loosenings(rules_of(org, p), rules_of(
                        org, p, [ContactRuleChange(organization=org, country="*", params=proposed)]))]
        try:
            services.change_contact_rules(org, "*", proposed, actor=manager)
        except services.DunningError as exc:
            said = str(exc)
            assert expected and all(e in said for e in expected), (expected, said)
            named = {p for p in PLACES if f"{'otros países' if p == '*' else p}: " in said}
            assert len(named) == len(expected)  # and no country where nothing loosens
        else:
            assert expected == []
            assert ContactRuleChange.objects.for_org(org).get().loosens is False
        transaction.set_rollback(True)
