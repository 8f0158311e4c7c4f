"""Loosening of contact rules, part by part: windows, holidays, each cap per channel, the minimum gap and
the cool-down's length and channels.

The property tests check ``loosenings`` against the engine itself: a contact (a history, a day, a
minute and a channel) that the old rules refuse and the new ones allow is a loosening, and it must be
reported; rules built only by tightening must never be reported, and the engine must refuse under them
everything it refused before.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cobro.engine.contact import (
    CONTACT_CHANNELS,
    Cap,
    Contact,
    ContactRules,
    blocked,
    loosenings,
    rules_from_params,
)

PRESETS = Path(__file__).resolve().parents[2] / "src" / "cobro" / "dunning" / "presets" / "contact_rules.yaml"
START = dt.date(2026, 3, 2)  # a Monday; every day of the tests is within two weeks of it
HOLIDAYS = frozenset({dt.date(2026, 3, 9), dt.date(2026, 3, 19)})
LOGGED = (*CONTACT_CHANNELS, "visit")  # history may hold channels the engine never plans


def params(code: str) -> dict:
    return yaml.safe_load(PRESETS.read_text(encoding="utf-8"))[code]


def preset(code: str, **changes) -> ContactRules:
    """A country's shipped rules, with ``changes`` on top as an organization would write them."""
    return rules_from_params(code, {**params(code), **changes})


def kinds(base, new) -> set[str]:
    return {item.kind for item in loosenings(base, new)}


# --- The cases of issue #10, item 4 (each failed before) ------------------------------------------

def test_dropping_every_cap_gap_and_cool_down_is_a_loosening_in_each_country():
    none = {"caps": [], "min_gap_days": 0, "cooldown_days": 0}
    for code, expected in {"CO": {"cap", "cooldown"}, "CL": {"cap", "min_gap"}, "US": {"cap", "cooldown"}}.items():
        assert kinds(preset(code), preset(code, **none)) == expected, code


def test_keeping_caps_for_calls_and_letters_leaves_messages_uncapped():
    cl = preset("CL")  # 1 call a week; 2 of email, sms, whatsapp and letter a week
    new = preset("CL", caps=[{"limit": 1, "days": 7, "channels": ["call"]},
                             {"limit": 2, "days": 7, "channels": ["letter"]}])
    (item,) = loosenings(cl, new)
    assert item.kind == "cap" and item.cap.limit == 2 and item.channels == ("email", "sms", "whatsapp")
    co = preset("CO")  # 2 a week over every channel
    new = preset("CO", caps=[{"limit": 2, "days": 7, "channels": ["call", "letter"]}])
    (item,) = loosenings(co, new)
    assert item.kind == "cap" and item.channels == ("email", "sms", "whatsapp")


def test_caps_per_channel_are_not_a_cap_over_the_channels_together():
    base = ContactRules("XX", windows=((0, 1440),) * 7, caps=(Cap(2, 7, frozenset({"email", "sms"})),))
    new = ContactRules("XX", windows=((0, 1440),) * 7,
                       caps=(Cap(2, 7, frozenset({"email"})), Cap(2, 7, frozenset({"sms"}))))
    (item,) = loosenings(base, new)
    assert item.kind == "cap" and item.channels == ()
    # Real: two SMS logged this week, an e-mail is refused before and allowed after.
    history = [Contact(START, "sms"), Contact(START + dt.timedelta(2), "sms")]
    day = START + dt.timedelta(4)
    assert blocked(base, frozenset(), day, "email", history) and not blocked(new, frozenset(), day, "email", history)


def test_cool_down_channels_are_compared():
    us = preset("US")  # 7 days after a conversation, no calls
    new = preset("US", cooldown_channels=["letter"])
    (item,) = loosenings(us, new)
    assert (item.kind, item.channels) == ("cooldown_channels", ("call",))
    co = preset("CO")  # cool-down over every channel
    new = preset("CO", cooldown_channels=["call", "email"])
    (item,) = loosenings(co, new)
    assert item.channels == ("sms", "whatsapp", "letter")
    wider = preset("US", cooldown_channels=[])
    assert loosenings(us, wider) == []  # every channel now: tighter


def test_a_cap_over_every_channel_is_kept_only_by_another_over_every_channel():
    co = preset("CO")
    listed = preset("CO", caps=[{"limit": 2, "days": 7, "channels": list(CONTACT_CHANNELS)}])
    (item,) = loosenings(co, listed)  # a visit or a manual contact of another kind is no longer counted
    assert item.kind == "cap" and item.channels == ()
    lower = preset("CO", caps=[{"limit": 1, "days": 14}])
    assert loosenings(co, lower) == []


# --- Properties ----------------------------------------------------------------------------------

channel_sets = st.frozensets(st.sampled_from(CONTACT_CHANNELS), max_size=3)
caps = st.builds(Cap, limit=st.integers(1, 3), days=st.integers(1, 7), channels=channel_sets)


@st.composite
def windows(draw):
    out = []
    for _ in range(7):
        if draw(st.booleans()):
            start = draw(st.integers(0, 23)) * 60
            out.append((start, draw(st.integers(start // 60 + 1, 24)) * 60))
        else:
            out.append(None)
    return tuple(out)


rules = st.builds(ContactRules, code=st.just("XX"), windows=windows(), skip_holidays=st.booleans(),
                  caps=st.lists(caps, max_size=3).map(tuple), min_gap_days=st.integers(0, 4),
                  cooldown_days=st.integers(0, 6), cooldown_channels=channel_sets)
days = st.integers(0, 13).map(lambda n: START + dt.timedelta(n))
history = st.lists(st.builds(Contact, day=days, channel=st.sampled_from(LOGGED), conversation=st.booleans()),
                   max_size=10)
attempt = st.tuples(days, st.integers(0, 1439), st.sampled_from(CONTACT_CHANNELS))


def allows(r: ContactRules, contacts, day: dt.date, minute: int, channel: str) -> bool:
    """The engine's answer for one contact at ``minute`` of ``day``: inside the window, not refused."""
    window = r.windows[day.weekday()]
    return (window is not None and window[0] <= minute < window[1]
            and not blocked(r, HOLIDAYS, day, channel, contacts))


def with_part(base: ContactRules, new: ContactRules, part: str) -> ContactRules:
    """``base`` with one part taken from ``new``: what changes when only that part does."""
    fields = {"window": ("windows",), "holidays": ("skip_holidays",), "cap": ("caps",),
              "min_gap": ("min_gap_days",), "cooldown": ("cooldown_days", "cooldown_channels")}[part]
    values = {f: getattr(base, f) for f in ContactRules.__slots__}
    values.update({f: getattr(new, f) for f in fields})
    return ContactRules(**values)


def _nudge(draw, channels: frozenset[str]) -> frozenset[str]:
    """The same channels, one more, one fewer, or every channel (none listed)."""
    how = draw(st.sampled_from(["same", "add", "drop", "all"]))
    if how == "add":
        return channels | {draw(st.sampled_from(CONTACT_CHANNELS))}
    if how == "drop" and channels:
        return channels - {draw(st.sampled_from(sorted(channels)))}
    return frozenset() if how == "all" else channels


@st.composite
def neighbour(draw, base: ContactRules) -> ContactRules:
    """Rules near ``base``: each part kept, nudged either way or redrawn (where loosenings hide)."""
    spans = tuple(span if draw(st.booleans()) else draw(windows())[day] for day, span in enumerate(base.windows))
    kept = []
    for cap in base.caps:
        if draw(st.integers(0, 4)):  # one in five is dropped
            kept.append(Cap(max(1, cap.limit + draw(st.integers(-1, 1))), max(1, cap.days + draw(st.integers(-2, 2))),
                            _nudge(draw, cap.channels)))
    return ContactRules("XX", windows=spans, skip_holidays=draw(st.booleans()),
                        caps=tuple(kept + draw(st.lists(caps, max_size=1))),
                        min_gap_days=max(0, base.min_gap_days + draw(st.integers(-2, 2))),
                        cooldown_days=max(0, base.cooldown_days + draw(st.integers(-2, 2))),
                        cooldown_channels=_nudge(draw, base.cooldown_channels))


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), base=rules, contacts=history, tries=st.lists(attempt, min_size=1, max_size=12),
       part=st.sampled_from(["window", "holidays", "cap", "min_gap", "cooldown"]))
def test_every_contact_newly_allowed_is_reported_in_the_part_that_allows_it(data, base, contacts, tries, part):
    changed = with_part(base, data.draw(neighbour(base)), part)
    found = kinds(base, changed)
    for day, minute, channel in tries:
        if not allows(base, contacts, day, minute, channel) and allows(changed, contacts, day, minute, channel):
            assert found & ({"cooldown", "cooldown_channels"} if part == "cooldown" else {part}), (
                part, day, minute, channel)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base=rules, new=rules, contacts=history, tries=st.lists(attempt, min_size=1, max_size=12))
def test_any_contact_newly_allowed_by_a_random_pair_is_reported(base, new, contacts, tries):
    for day, minute, channel in tries:
        if not allows(base, contacts, day, minute, channel) and allows(new, contacts, day, minute, channel):
            assert loosenings(base, new), (day, minute, channel)


@st.composite
def tightened(draw, base: ContactRules) -> ContactRules:
    """Rules that only tighten ``base``: narrower windows, holidays skipped, every cap kept by one as low,
    as long and over at least its channels (plus new caps), a longer gap, a longer cool-down over more."""
    spans = []
    for span in base.windows:
        if span is None or draw(st.booleans()) and draw(st.booleans()):
            spans.append(None)
            continue
        start = draw(st.integers(span[0], span[1] - 1))
        spans.append((start, draw(st.integers(start + 1, span[1]))))
    kept = []
    for cap in base.caps:
        more = draw(channel_sets) | cap.channels if cap.channels else frozenset()
        kept.append(Cap(draw(st.integers(1, cap.limit)), draw(st.integers(cap.days, cap.days + 7)),
                        frozenset() if draw(st.booleans()) else more))
    cool = draw(st.integers(base.cooldown_days, base.cooldown_days + 5))
    cool_channels = frozenset() if not base.cooldown_channels or draw(st.booleans()) else (
        base.cooldown_channels | draw(channel_sets))
    return ContactRules("XX", windows=tuple(spans), skip_holidays=base.skip_holidays or draw(st.booleans()),
                        caps=tuple(kept + draw(st.lists(caps, max_size=2))),
                        min_gap_days=draw(st.integers(base.min_gap_days, base.min_gap_days + 3)),
                        cooldown_days=cool, cooldown_channels=cool_channels)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), base=rules, contacts=history, tries=st.lists(attempt, min_size=1, max_size=6))
def test_tightening_is_never_reported_and_allows_nothing_new(data, base, contacts, tries):
    new = data.draw(tightened(base))
    assert loosenings(base, new) == []
    for day, minute, channel in tries:
        assert allows(base, contacts, day, minute, channel) or not allows(new, contacts, day, minute, channel)
