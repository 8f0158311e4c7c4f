"""Collection policies as plain data: an ordered list of steps relative to the due date.

A policy arrives as a dict (from YAML or the database) and leaves as an immutable ``Policy``.
``parse_policy`` reports every problem at once, naming the step and the field, and never returns a
half-valid policy.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from cobro.engine.money import MoneyError, from_minor, to_minor
from cobro.engine.text import gettext_noop

ACTIONS = ("message", "call_task", "letter", "fee", "stage")
STEP_CHANNELS = ("preferred", "email", "sms", "whatsapp", "letter", "call")
TONES = ("friendly", "neutral", "firm", "formal")
#: Board order. Pagada last: a customer whose book is clear.
STAGES = (
    ("por_vencer", gettext_noop("Por vencer")),
    ("vencida", gettext_noop("Vencida")),
    ("en_gestion", gettext_noop("En gestión")),
    ("promesa", gettext_noop("Promesa")),
    ("plan_de_pagos", gettext_noop("Plan de pagos")),
    ("disputa", gettext_noop("Disputa")),
    ("mediacion", gettext_noop("Mediación")),
    ("legal", gettext_noop("Legal")),
    ("pagada", gettext_noop("Pagada")),
)
_CODE = re.compile(r"^[A-Za-z0-9+\-_.]{1,40}$")


class PolicyError(ValueError):
    """A policy that cannot be used; ``problems`` lists every one, each naming its step and field."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True, slots=True)
class Step:
    """One step. ``offset`` days from the due date (negative: before it).

    ``code`` is what actions carry as ``step`` (default "+7", "-3", "0"); two steps on the same day
    need different codes. ``min_amount`` maps a currency to the minor-unit open amount an invoice
    needs for the step to apply (currencies not named: no minimum). ``approval`` "manager": the
    step waits for a manager before anything reaches the debtor.
    """

    code: str
    offset: int
    action: str
    channel: str = "preferred"
    template: str = ""
    tone: str = "neutral"
    name: str = ""
    min_amount: tuple[tuple[str, int], ...] = ()
    segments: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()
    approval: str = ""
    to_stage: str = ""

    def minimum(self, currency: str) -> int:
        for cur, amount in self.min_amount:
            if cur == currency:
                return amount
        return 0


@dataclass(frozen=True, slots=True)
class Policy:
    code: str
    name: str
    steps: tuple[Step, ...]
    stages: tuple[tuple[str, str], ...] = STAGES
    offsets: tuple[int, ...] = field(default=())

    def __post_init__(self):
        object.__setattr__(self, "offsets", tuple(sorted({s.offset for s in self.steps})))


def step_code(offset: int) -> str:
    return f"+{offset}" if offset > 0 else str(offset)


def parse_policy(data: dict) -> Policy:
    """Build a ``Policy`` from its dict form (the YAML file), or raise ``PolicyError``."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise PolicyError(["a policy must be a mapping with 'code', 'name' and 'steps'"])
    code = str(data.get("code") or "").strip()
    if not _CODE.match(code):
        problems.append(f"code {code!r}: use 1-40 letters, digits or + - _ .")
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        problems.append("steps: a policy needs a non-empty list of steps")
        raw_steps = []
    stage_codes = {c for c, _ in STAGES}
    stages = STAGES
    if data.get("stages") is not None:
        try:
            stages = tuple((str(s["code"]), str(s.get("label") or s["code"])) for s in data["stages"])
            stage_codes = {c for c, _ in stages}
        except (TypeError, KeyError):
            problems.append("stages: a list of {code, label}")
    steps: list[Step] = []
    seen: set[str] = set()
    for n, raw in enumerate(raw_steps, start=1):
        where = f"step {n}"
        if not isinstance(raw, dict):
            problems.append(f"{where}: must be a mapping")
            continue
        try:
            offset = int(raw.get("offset"))
        except (TypeError, ValueError):
            problems.append(f"{where}: offset {raw.get('offset')!r} is not a whole number of days")
            continue
        scode = str(raw.get("code") or step_code(offset))
        where = f"step {scode}"
        if scode in seen:
            problems.append(f"{where}: code used twice (give one of the steps its own 'code')")
        seen.add(scode)
        action = raw.get("action")
        if action not in ACTIONS:
            problems.append(f"{where}: action {action!r} is not one of {', '.join(ACTIONS)}")
        channel = raw.get("channel", "call" if action == "call_task" else "preferred")
        if channel not in STEP_CHANNELS:
            problems.append(f"{where}: channel {channel!r} is not one of {', '.join(STEP_CHANNELS)}")
        tone = raw.get("tone", "neutral")
        if tone not in TONES:
            problems.append(f"{where}: tone {tone!r} is not one of {', '.join(TONES)}")
        template = str(raw.get("template") or "")
        if action in ("message", "letter") and not template:
            problems.append(f"{where}: a {action} step needs a template")
        to_stage = str(raw.get("to_stage") or "")
        if action == "stage" and to_stage not in stage_codes:
            problems.append(f"{where}: to_stage {to_stage!r} is not a stage of this policy")
        approval = str(raw.get("approval") or "")
        if approval not in ("", "manager", "admin"):
            problems.append(f"{where}: approval {approval!r} must be 'manager', 'admin' or empty")
        conditions = raw.get("conditions") or {}
        minimum: list[tuple[str, int]] = []
        for cur, amount in (conditions.get("min_amount") or {}).items():
            try:
                minimum.append((str(cur).upper(), to_minor(str(amount), str(cur))))
            except MoneyError as exc:
                problems.append(f"{where}: min_amount {cur}: {exc}")
        bad_stages = [s for s in conditions.get("stages") or () if s not in stage_codes]
        if bad_stages:
            problems.append(f"{where}: conditions.stages {bad_stages} are not stages of this policy")
        steps.append(Step(
            code=scode, offset=offset, action=str(action), channel=str(channel), template=template,
            tone=str(tone), name=str(raw.get("name") or ""), min_amount=tuple(sorted(minimum)),
            segments=tuple(str(s) for s in conditions.get("segments") or ()),
            stages=tuple(str(s) for s in conditions.get("stages") or ()),
            approval=approval, to_stage=to_stage))
    if problems:
        raise PolicyError(problems)
    steps.sort(key=lambda s: (s.offset, ACTIONS.index(s.action), s.code))
    return Policy(code=code, name=str(data.get("name") or code), steps=tuple(steps), stages=stages)


def dump_policy(policy: Policy) -> dict:
    """The dict form ``parse_policy`` reads back (for YAML export)."""
    steps = []
    for s in policy.steps:
        raw: dict = {"code": s.code, "offset": s.offset, "action": s.action, "channel": s.channel,
                     "template": s.template, "tone": s.tone}
        if s.name:
            raw["name"] = s.name
        conditions: dict = {}
        if s.min_amount:
            conditions["min_amount"] = {cur: str(from_minor(amount, cur)) for cur, amount in s.min_amount}
        if s.segments:
            conditions["segments"] = list(s.segments)
        if s.stages:
            conditions["stages"] = list(s.stages)
        if conditions:
            raw["conditions"] = conditions
        if s.approval:
            raw["approval"] = s.approval
        if s.to_stage:
            raw["to_stage"] = s.to_stage
        steps.append(raw)
    return {"code": policy.code, "name": policy.name, "steps": steps,
            "stages": [{"code": c, "label": label} for c, label in policy.stages]}



@dataclass(frozen=True, slots=True)
class PlannedStep:
    """One step of an invoice's timeline: the day it falls on and the step."""

    day: dt.date
    step: Step


def timeline(policy: Policy, due_date: dt.date, currency: str = "", open_minor: int | None = None,
             segment: str = "") -> list[PlannedStep]:
    """The days each step of ``policy`` falls on for one invoice due on ``due_date``, in order.

    The day is the due date plus the step's offset. A step whose conditions the invoice does not
    meet (a minimum amount in its currency, a segment list without the customer's) is left out when
    the amount (or segment) is given. Contact rules and holidays may still move a message within its
    day's window; the day itself is this.
    """
    out = []
    for s in policy.steps:
        if open_minor is not None and currency and open_minor < s.minimum(currency):
            continue
        if segment and s.segments and segment not in s.segments:
            continue
        out.append(PlannedStep(due_date + dt.timedelta(days=s.offset), s))
    return out
