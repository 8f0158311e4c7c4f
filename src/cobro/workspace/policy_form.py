"""The policy editor's form: the steps table as posted rows, its operations and its checks.

Works without JavaScript: every operation (add a step, remove one, move one up or down, preview) is
a submit button whose value names it, and the page comes back with the rows changed and nothing
saved. Only "save" writes, through ``cobro.dunning.services.save_policy``. Rows are posted as
``s-<i>-<field>`` in the order shown; ``orig`` is the step's code when the page was drawn, so the
parts of a step the table does not show (its conditions) are carried over from the stored policy.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from cobro.engine.policy import ACTIONS, STEP_CHANNELS, TONES, PolicyError, parse_policy, step_code, timeline

#: The days a step may fall on, counted from the due date (negative: before it).
MIN_OFFSET, MAX_OFFSET = -90, 365
ROW_FIELDS = ("offset", "name", "action", "channel", "template", "tone", "to_stage", "approval", "code", "orig")
#: Actions that reach the debtor on their channel (a fee or a bare stage move does not).
CONTACTING = {"message", "letter", "call_task"}
MAX_ROWS = 60


@dataclass
class Checked:
    """The rows after the checks: the definition to save (None when a row is wrong) and the errors."""

    definition: dict | None
    row_errors: dict[int, list[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def rows_from_definition(definition: dict) -> list[dict]:
    rows = []
    for s in definition.get("steps") or []:
        rows.append({"offset": str(s.get("offset", "")), "name": str(s.get("name") or ""),
                     "action": str(s.get("action") or "message"), "channel": str(s.get("channel") or "preferred"),
                     "template": str(s.get("template") or ""), "tone": str(s.get("tone") or "neutral"),
                     "to_stage": str(s.get("to_stage") or ""), "approval": str(s.get("approval") or ""),
                     "code": str(s.get("code") or ""), "orig": str(s.get("code") or "")})
    return rows


def rows_from_post(post) -> list[dict]:
    """The posted rows in the order shown (at most ``MAX_ROWS``)."""
    try:
        total = min(int(post.get("total", "0")), MAX_ROWS)
    except ValueError:
        total = 0
    rows = []
    for i in range(total):
        if f"s-{i}-offset" not in post:
            continue
        row = {f: post.get(f"s-{i}-{f}", "").strip() for f in ROW_FIELDS}
        row["approval"] = "manager" if row["approval"] in ("manager", "admin", "on", "1") else ""
        if post.get(f"s-{i}-approval") == "admin":
            row["approval"] = "admin"
        rows.append(row)
    return rows


def blank_row() -> dict:
    return {"offset": "", "name": "", "action": "message", "channel": "preferred", "template": "",
            "tone": "neutral", "to_stage": "", "approval": "", "code": "", "orig": ""}


def apply_op(rows: list[dict], op: str) -> list[dict]:
    """Add a blank row, or remove / move up / move down row ``i`` ("remove-3", "up-1", "down-0")."""
    rows = list(rows)
    if op == "add" and len(rows) < MAX_ROWS:
        rows.append(blank_row())
        return rows
    verb, _sep, index = op.partition("-")
    try:
        i = int(index)
    except ValueError:
        return rows
    if not 0 <= i < len(rows):
        return rows
    if verb == "remove":
        del rows[i]
    elif verb == "up" and i > 0:
        rows[i - 1], rows[i] = rows[i], rows[i - 1]
    elif verb == "down" and i < len(rows) - 1:
        rows[i + 1], rows[i] = rows[i], rows[i + 1]
    return rows


def _day(offset: int) -> str:
    return step_code(offset) if offset else "0"


def check(rows: list[dict], name: str, stored: dict, templates: set[str], stage_codes: set[str]) -> Checked:
    """Every row checked at once: a message per problem, on the row it concerns (numbered from 1)."""
    out = Checked(definition=None)
    name = name.strip()
    if not name:
        out.errors.append(_("La política necesita un nombre."))
    if not rows:
        out.errors.append(_("La política necesita al menos un paso."))
    kept = {s.get("code"): s for s in stored.get("steps") or []}
    seen_day_channel: dict[tuple[int, str], int] = {}
    steps = []
    for n, row in enumerate(rows, start=1):
        errs = out.row_errors.setdefault(n, [])
        try:
            offset = int(row["offset"])
        except ValueError:
            errs.append(_("El día «%(value)s» no es un número entero de días.") % {"value": row["offset"]}
                        if row["offset"] else _("Falta el día (días desde el vencimiento; negativo = antes)."))
            offset = None
        if offset is not None and not MIN_OFFSET <= offset <= MAX_OFFSET:
            errs.append(_("El día %(day)s está fuera de rango: use de %(min)s a %(max)s días desde el vencimiento.")
                        % {"day": offset, "min": MIN_OFFSET, "max": MAX_OFFSET})
        action = row["action"]
        if action not in ACTIONS:
            errs.append(_("Acción desconocida: «%(value)s».") % {"value": action})
        channel = row["channel"] or ("call" if action == "call_task" else "preferred")
        if action == "call_task":
            channel = "call"
        if channel not in STEP_CHANNELS:
            errs.append(_("Canal desconocido: «%(value)s».") % {"value": channel})
        if row["tone"] not in TONES:
            errs.append(_("Tono desconocido: «%(value)s».") % {"value": row["tone"]})
        template = row["template"]
        if template and template not in templates:
            errs.append(_("Plantilla desconocida: «%(value)s». Elija una de las plantillas de mensajes.")
                        % {"value": template})
        elif not template and action in ("message", "letter"):
            errs.append(_("Un paso de mensaje o carta necesita una plantilla."))
        to_stage = row["to_stage"] if action == "stage" else ""
        if action == "stage" and to_stage not in stage_codes:
            errs.append(_("Un cambio de etapa necesita la etapa de destino."))
        contacts = action in CONTACTING or (action == "stage" and template)
        if offset is not None and contacts and channel in STEP_CHANNELS:
            other = seen_day_channel.get((offset, channel))
            if other is not None:
                errs.append(_("Ya hay un paso el día %(day)s por este canal (fila %(row)s): quite uno o cambie "
                              "el día o el canal.") % {"day": _day(offset), "row": other})
            else:
                seen_day_channel[(offset, channel)] = n
        if errs or offset is None:
            continue
        base = kept.get(row["orig"]) or {}
        # A step keeps its code while its day stays: the code is part of every action's key.
        keep = row["orig"] if base and base.get("offset") == offset else ""
        step = {"code": keep, "offset": offset, "action": action, "channel": channel, "template": template,
                "tone": row["tone"], "name": row["name"][:200]}
        if to_stage:
            step["to_stage"] = to_stage
        if row["approval"]:
            step["approval"] = row["approval"]
        if base.get("conditions"):
            step["conditions"] = base["conditions"]
        steps.append(step)
    taken = {s["code"] for s in steps if s["code"]}
    for step in steps:
        if not step["code"]:
            code, k = step_code(step["offset"]), 2
            while code in taken:
                code, k = f"{step_code(step['offset'])}-{k}", k + 1
            step["code"] = code
            taken.add(code)
    out.row_errors = {n: e for n, e in out.row_errors.items() if e}
    if out.errors or out.row_errors:
        return out
    definition = {"code": stored.get("code", ""), "name": name, "steps": steps}
    if stored.get("stages"):
        definition["stages"] = stored["stages"]
    try:
        parse_policy(definition)
    except PolicyError as exc:  # a rule of the engine the checks above do not know yet
        out.errors.extend(exc.problems)
        return out
    out.definition = definition
    return out


def preview(definition: dict, due: dt.date, currency: str, open_minor: int | None) -> list:
    """The example invoice's timeline under ``definition``: (day, step) in date order."""
    return timeline(parse_policy(definition), due, currency=currency, open_minor=open_minor)
