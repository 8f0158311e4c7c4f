import datetime as dt
from pathlib import Path

import pytest
import yaml

from cobro.engine.contact import (
    STRICT,
    Contact,
    RulesError,
    allowed_at,
    blocked,
    holiday_dates,
    loosenings,
    next_slot,
    rules_from_params,
    zone,
)
from cobro.engine.text import localized

PRESETS = Path(__file__).resolve().parents[2] / "src" / "cobro" / "dunning" / "presets" / "contact_rules.yaml"
D = dt.date


def preset(code):
    with open(PRESETS, encoding="utf-8") as fh:
        return rules_from_params(code, yaml.safe_load(fh)[code])


def test_every_preset_has_source_and_verify_note_and_parses():
    with open(PRESETS, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    assert set(data) == {"CO", "MX", "CL", "PE", "ES", "BR", "US"}
    for code, params in data.items():
        assert params["source"] and params["verify"], code
        rules = rules_from_params(code, params)
        assert any(rules.windows), code


def test_colombia_no_sundays_no_holidays_and_saturday_short():
    co = preset("CO")
    hol = holiday_dates("CO", 2026)
    assert D(2026, 3, 23) in hol  # San José, moved to Monday
    at, reasons = next_slot(co, hol, (zone("America/Bogota"),), D(2026, 3, 22), "email", [])  # a Sunday
    assert at == dt.datetime(2026, 3, 24, 12, 0, tzinfo=dt.UTC)  # Tuesday 07:00 in Bogotá
    assert len(reasons) == 2 and "domingo" in localized(reasons[0]) and "feriado" in localized(reasons[1])
    assert co.windows[5] == (8 * 60, 15 * 60)


def test_one_message_per_day_and_rolling_cap():
    co = preset("CO")  # at most 2 contacts in any 7 days
    tz = zone("America/Bogota")
    booked = [Contact(D(2026, 3, 2), "email"), Contact(D(2026, 3, 4), "sms")]
    at, reasons = next_slot(co, frozenset(), (tz,), D(2026, 3, 4), "whatsapp", booked)
    # 2 contacts in the window 3/2..3/8: the first day a third fits is 3/9 (window 3/3..3/9 has one).
    assert at.astimezone(tz).date() == D(2026, 3, 9)
    said = [localized(r) for r in reasons]
    assert any("uno por día" in r for r in said) and any("tope de 2" in r for r in said)


def test_cap_looks_forward_at_planned_contacts_too():
    co = preset("CO")
    booked = [Contact(D(2026, 3, 10), "email"), Contact(D(2026, 3, 12), "email")]
    assert blocked(co, frozenset(), D(2026, 3, 6), "email", booked)  # 3/6..3/12 would hold three
    assert not blocked(co, frozenset(), D(2026, 3, 5), "email", booked)


def test_cool_down_after_a_conversation():
    us = preset("US")
    booked = [Contact(D(2026, 3, 2), "call", conversation=True)]
    assert "pausa" in localized(blocked(us, frozenset(), D(2026, 3, 8), "call", booked))
    assert not blocked(us, frozenset(), D(2026, 3, 9), "call", booked)
    assert not blocked(us, frozenset(), D(2026, 3, 3), "email", booked)  # US cool-down is for calls


def test_chile_two_days_between_messages():
    cl = preset("CL")
    booked = [Contact(D(2026, 3, 3), "email")]
    assert "2 días" in localized(blocked(cl, frozenset(), D(2026, 3, 4), "sms", booked))
    assert not blocked(cl, frozenset(), D(2026, 3, 5), "sms", booked)


def test_strict_window_and_allowed_at_with_daylight_saving():
    tz = zone("America/New_York")
    assert allowed_at(STRICT, frozenset(), dt.datetime(2026, 3, 9, 13, 0, tzinfo=dt.UTC), (tz,))  # 09:00 EDT
    assert not allowed_at(STRICT, frozenset(), dt.datetime(2026, 3, 6, 13, 30, tzinfo=dt.UTC), (tz,))  # 08:30 EST
    at, _ = next_slot(STRICT, frozenset(), (tz,), D(2026, 3, 7), "email", [])  # Saturday
    assert at == dt.datetime(2026, 3, 9, 13, 0, tzinfo=dt.UTC)


def test_loosenings_are_named_and_tightening_is_not_one():
    co = preset("CO")
    tighter = rules_from_params("CO", {"hours": {"mon": "09:00-17:00"}, "caps": [{"limit": 1, "days": 7}],
                                       "cooldown_days": 10})
    assert loosenings(co, tighter) == []
    looser = rules_from_params("CO", {"hours": {d: "06:00-22:00" for d in ("mon", "sun")}, "skip_holidays": False,
                                      "caps": []})
    found = {(f.kind, f.day) for f in loosenings(co, looser)}
    assert found == {("window", "mon"), ("window", "sun"), ("holidays", ""), ("cap", ""), ("cooldown", "")}


def test_bad_parameters_name_the_field():
    with pytest.raises(RulesError, match="hours.mon"):
        rules_from_params("XX", {"hours": {"mon": "9-17"}})
    with pytest.raises(RulesError, match="ends before it starts"):
        rules_from_params("XX", {"hours": {"tue": "18:00-08:00"}})
    with pytest.raises(RulesError, match=r"caps\[1\]"):
        rules_from_params("XX", {"caps": [{"limit": "two"}]})
