from pathlib import Path

import pytest
import yaml

from cobro.engine.policy import PolicyError, dump_policy, parse_policy

SHIPPED = Path(__file__).resolve().parents[2] / "src" / "cobro" / "dunning" / "presets" / "default_policy.yaml"


def shipped():
    with open(SHIPPED, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def test_shipped_default_policy_parses_and_round_trips():
    policy = parse_policy(shipped())
    assert policy.offsets == (-3, 0, 3, 7, 15, 30, 60, 90)
    assert [s.code for s in policy.steps if s.approval] == ["+60", "+90"]
    assert parse_policy(dump_policy(policy)) == policy


def test_every_problem_is_reported_with_its_step():
    with pytest.raises(PolicyError) as err:
        parse_policy({"code": "x", "steps": [
            {"offset": "tres", "action": "message"},
            {"offset": 3, "action": "shout", "channel": "pigeon", "tone": "angry"},
            {"offset": 7, "action": "message"},
            {"offset": 7, "action": "message", "template": "t"},
            {"offset": 9, "action": "stage", "to_stage": "carcel"},
        ]})
    text = str(err.value)
    for expected in ("step 1: offset 'tres'", "step +3: action 'shout'", "channel 'pigeon'", "tone 'angry'",
                     "step +7: a message step needs a template", "step +7: code used twice",
                     "to_stage 'carcel'"):
        assert expected in text


def test_conditions_parse_minimum_in_minor_units():
    policy = parse_policy({"code": "p", "steps": [
        {"offset": 30, "action": "fee", "conditions": {"min_amount": {"usd": "100.50", "CLP": 50000},
                                                        "segments": ["pyme"]}}]})
    (step,) = policy.steps
    assert step.minimum("USD") == 10050 and step.minimum("CLP") == 50000 and step.minimum("EUR") == 0
    assert step.segments == ("pyme",)
