"""A/B tests of wording: start, split the cycle's messages, record exposures, compute the honest
result from the ledger, stop, and apply the winner as a new version of the policy.

The maths is ``cobro.engine.abtest``. The cycle calls ``split`` right after ``plan(snap)`` and
``record`` after its batches (``cobro.dunning.cycle``). A test changes the cycle's days from
``starts_on`` (the day after it was started) to the day before ``ends_on`` (the day after it was
stopped or applied), so one day's messages are never split between before and after a click.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import secrets
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from cobro.engine import abtest as engine
from cobro.engine.money import format_money
from cobro.insights.models import AbExposure, AbTest
from cobro.ledger.models import Organization, Payment, TimelineEvent

HORIZONS = (3, 7, 14, 30)
HOLDOUTS = (0.0, 0.05, 0.1, 0.2)


class AbTestError(ValueError):
    """A test that cannot be started, stopped or applied; the message is for the person."""


def _org_today(org: Organization) -> dt.date:
    return timezone.now().astimezone(ZoneInfo(org.timezone)).date()


def message_steps(org: Organization) -> list[tuple[str, str, str, str]]:
    """``(policy code, step code, step name, template)`` of every message step of the organization's
    policies (the shipped one while none is saved; reading writes nothing): what a test can be about."""
    from cobro.dunning import services as dunning
    from cobro.dunning.models import Policy

    rows = list(Policy.objects.for_org(org).order_by("code").values_list("code", "definition"))
    if not rows:
        shipped = dunning.default_policy_data()
        rows = [(shipped["code"], shipped)]
    out = []
    for code, definition in rows:
        for s in definition.get("steps") or ():
            if s.get("action") == "message" and s.get("template"):
                out.append((code, str(s["code"]), str(s.get("name") or ""), str(s["template"])))
    return out


def template_codes(org: Organization) -> list[str]:
    from cobro.messaging.models import MessageTemplate

    return sorted(set(MessageTemplate.objects.for_org(org).values_list("code", flat=True)))


def start(org: Organization, *, policy_code: str, step: str, template_b: str, metric: str, horizon_days: int,
          holdout: float = 0.0, alpha: float = 0.05, name: str = "", actor=None,
          today: dt.date | None = None) -> AbTest:
    """Start a test of ``template_b`` against the step's current template; it changes the cycle from
    tomorrow on. One running test per step of a policy."""
    from cobro.dunning import services as dunning

    today = today or _org_today(org)
    dunning.ensure_default_policy(org)  # the winner is applied to a saved policy
    steps = {(p, s): (n, t) for p, s, n, t in message_steps(org)}
    step_name, template_a = steps.get((policy_code, step), ("", None))
    if template_a is None:
        raise AbTestError(_("Ese paso no envía un mensaje en esa política."))
    if metric not in engine.METRICS:
        raise AbTestError(_("Elija una métrica de la lista."))
    if horizon_days not in HORIZONS:
        raise AbTestError(_("Elija un horizonte de la lista."))
    if holdout not in HOLDOUTS:
        raise AbTestError(_("Elija un grupo de control de la lista."))
    if template_b == template_a or template_b not in template_codes(org):
        raise AbTestError(_("La plantilla B debe ser otra plantilla de la organización."))
    with transaction.atomic():
        if _live(org, today + dt.timedelta(days=1)).filter(policy_code=policy_code, step=step).exists():
            raise AbTestError(_("Ese paso ya tiene una prueba en curso."))
        return AbTest.objects.create(
            organization=org, name=name or f"{step_name or step} ({step})",
            policy_code=policy_code, step=step, template_a=template_a, template_b=template_b, metric=metric,
            horizon_days=horizon_days, holdout=holdout, alpha=alpha, salt=secrets.token_hex(8),
            status=AbTest.Status.RUNNING, created_by=actor, started_at=timezone.now(),
            starts_on=today + dt.timedelta(days=1))


def _live(org: Organization, day: dt.date):
    """The tests that change the cycle of ``day``."""
    return (AbTest.objects.for_org(org).exclude(status=AbTest.Status.DRAFT)
            .filter(starts_on__lte=day).filter(Q(ends_on__isnull=True) | Q(ends_on__gt=day)))


def split(org: Organization, snap, decisions: list, as_of: dt.date) -> tuple[list, list[tuple]]:
    """The cycle's decisions with the tests of ``as_of`` applied, and the exposures to record as
    ``(test id, customer id, variant)``. A message of a tested step: B's customers get B's template
    (and a key of its own, ``…:B``, so a re-run plans the same keys); hold-out customers get nothing.
    A message that also carries agreement reminders is left out of the test (holding it back would
    hold back a promise's reminder)."""
    tests = {(t.policy_code, t.step): t for t in _live(org, as_of)}
    if not tests:
        return decisions, []
    out, exposures = [], []
    for d in decisions:
        test = None
        if d.action == "message" and not d.items:
            debtor = snap.debtors[d.customer_id]
            code = debtor.policy if debtor.policy in snap.policies else snap.default_policy
            test = tests.get((code, d.step))
        if test is None:
            out.append(d)
            continue
        variant = engine.assign(test.salt, d.customer_id, test.holdout)
        exposures.append((test.pk, d.customer_id, variant))
        if variant == "B":
            out.append(dataclasses.replace(d, key=f"{d.key}:B", template=test.template_b))
        elif variant == "A":
            out.append(d)
    return out, exposures


def record(org: Organization, exposures: list[tuple], as_of: dt.date) -> None:
    """Keep each customer's first exposure to each test (a re-run adds nothing)."""
    AbExposure.objects.bulk_create(
        [AbExposure(organization=org, test_id=t, customer_id=c, variant=v, day=as_of) for t, c, v in exposures],
        ignore_conflicts=True, batch_size=2000)


# ---- the result ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Group:
    variant: str
    template: str
    n: int
    value: float  # the metric's mean: a share (0..1) or minor units per customer


@dataclass(frozen=True)
class Outcome:
    test: AbTest
    as_of: dt.date
    groups: list[Group]
    result: engine.Result
    exposed: int  # customers exposed so far, windows over or not
    verdict: str

    @property
    def winner(self) -> str:
        return self.result.winner


def _values(org: Organization, test: AbTest, rows: list[tuple]) -> dict[int, float]:
    """Each exposed customer's metric over ``[day, day + horizon)``: 1/0, or minor units paid."""
    if not rows:
        return {}
    first = min(r[2] for r in rows)
    last = max(r[2] for r in rows) + dt.timedelta(days=test.horizon_days)
    day_of = {c: d for c, _v, d in rows}
    exposed = AbExposure.objects.for_org(org).filter(test=test).values("customer_id")
    got: dict[int, float] = {}

    def add(cid, on, amount=1):
        start = day_of.get(cid)
        if start is not None and start <= on < start + dt.timedelta(days=test.horizon_days):
            got[cid] = (got.get(cid, 0) + amount) if test.metric == "amount" else 1

    zone = ZoneInfo(org.timezone)
    since = dt.datetime.combine(first, dt.time(), tzinfo=zone)
    until = dt.datetime.combine(last, dt.time(), tzinfo=zone)
    if test.metric in ("paid", "amount"):
        payments = Payment.objects.for_org(org).filter(customer_id__in=exposed, date__gte=first, date__lt=last)
        if test.metric == "amount":
            payments = payments.filter(currency=org.currency)
        for cid, on, amount in payments.values_list("customer_id", "date", "amount"):
            add(cid, on, amount)
    elif test.metric == "reply":
        for cid, at in (TimelineEvent.objects.for_org(org)
                        .filter(customer_id__in=exposed, kind="message.reply", at__gte=since, at__lt=until)
                        .values_list("customer_id", "at")):
            add(cid, at.astimezone(zone).date())
    else:
        from cobro.messaging.models import OptOut

        for cid, at in (OptOut.objects.for_org(org).filter(customer_id__in=exposed, at__gte=since, at__lt=until)
                        .values_list("customer_id", "at")):
            add(cid, at.astimezone(zone).date())
    return got


def compute(org: Organization, test: AbTest, as_of: dt.date | None = None) -> Outcome:
    """The test's result on ``as_of``, replaying one look per day since its first window closed, so the
    answer is the same whoever looked when (and looking every day does not inflate errors)."""
    as_of = as_of or _org_today(org)
    rows = list(AbExposure.objects.for_org(org).filter(test=test, day__lte=as_of)
                .values_list("customer_id", "variant", "day"))
    values = _values(org, test, rows)
    horizon = dt.timedelta(days=test.horizon_days)
    ready: dict[dt.date, list[tuple[str, float]]] = {}
    for cid, variant, day in rows:
        if day + horizon <= as_of:
            ready.setdefault(day + horizon, []).append((variant, float(values.get(cid, 0))))
    seen: dict[str, list[float]] = {"A": [], "B": [], engine.HOLDOUT: []}
    state, last = engine.Look(), None
    for day in sorted(ready):
        for variant, value in ready[day]:
            seen[variant].append(value)
        last, state = engine.result(engine.Arm.of(seen["A"]), engine.Arm.of(seen["B"]), test.alpha, test.metric,
                                    state)
    if last is None:
        last, _ = engine.result(engine.Arm(), engine.Arm(), test.alpha, test.metric)
    groups = [Group(v, t, len(seen[v]), (sum(seen[v]) / len(seen[v])) if seen[v] else 0.0)
              for v, t in (("A", test.template_a), ("B", test.template_b), (engine.HOLDOUT, ""))
              if v != engine.HOLDOUT or test.holdout]
    return Outcome(test, as_of, groups, last, len(rows), verdict(test, last))


def _signed(value: float, digits: int = 1) -> str:
    text = formats.number_format(abs(value), decimal_pos=digits, use_l10n=True)
    return ("+" if value >= 0 else "−") + text


def show_value(test: AbTest, value: float, signed: bool = False) -> str:
    """A metric's value (or a difference) as the page shows it: points of a share, or money."""
    if test.metric == "amount":
        text = format_money(round(abs(value)), test.organization.currency)
        return (("+" if value >= 0 else "−") + text) if signed else text
    if signed:
        return _signed(value * 100)
    return formats.number_format(value * 100, decimal_pos=1, use_l10n=True) + " %"


def verdict(test: AbTest, r: engine.Result) -> str:
    """The result in plain words: the winner and by how much, with its interval, or no conclusion."""
    if not r.concluded:
        return _("Sin conclusión todavía")
    sign = 1 if r.winner == "B" else -1  # the winner minus the other one
    diff, low, high = sign * r.effect, min(sign * r.low, sign * r.high), max(sign * r.low, sign * r.high)
    level = formats.number_format(round((1 - r.alpha) * 100), use_l10n=True)
    words = {
        "paid": _("%(variant)s cobra más: %(diff)s puntos (IC %(level)s %% %(low)s a %(high)s)"),
        "amount": _("%(variant)s cobra más: %(diff)s por cliente (IC %(level)s %% %(low)s a %(high)s)"),
        "reply": _("%(variant)s recibe más respuestas: %(diff)s puntos (IC %(level)s %% %(low)s a %(high)s)"),
        "optout": _("%(variant)s causa menos bajas: %(diff)s puntos (IC %(level)s %% %(low)s a %(high)s)"),
    }[test.metric]
    if test.metric == "amount":
        parts = {"diff": show_value(test, diff, True), "low": show_value(test, low, True),
                 "high": show_value(test, high, True)}
    else:
        parts = {"diff": _signed(diff * 100), "low": _signed(low * 100), "high": _signed(high * 100)}
    return words % {"variant": r.winner, "level": level, **parts}


# ---- stop and apply ------------------------------------------------------------------------------

def stop(org: Organization, test: AbTest, today: dt.date | None = None) -> AbTest:
    """Stop sending B from tomorrow's cycle on; the result keeps maturing from what was exposed."""
    if test.status != AbTest.Status.RUNNING:
        raise AbTestError(_("La prueba no está en curso."))
    today = today or _org_today(org)
    test.status, test.stopped_at = AbTest.Status.STOPPED, timezone.now()
    test.ends_on = min(test.ends_on or dt.date.max, max(today + dt.timedelta(days=1), test.starts_on))
    test.save(update_fields=["status", "stopped_at", "ends_on"])
    return test


def apply_winner(org: Organization, test: AbTest, actor=None, today: dt.date | None = None) -> AbTest:
    """Make the winner the step's template through ``dunning.services.save_policy`` (a new version of
    the policy, with its change log), and end the test. Only once the result has a winner."""
    from cobro.dunning import services as dunning
    from cobro.dunning.models import Policy

    today = today or _org_today(org)
    if test.status == AbTest.Status.APPLIED:
        raise AbTestError(_("La ganadora ya se aplicó."))
    outcome = compute(org, test, today)
    if not outcome.winner:
        raise AbTestError(_("Todavía no hay una ganadora."))
    template = test.template_b if outcome.winner == "B" else test.template_a
    with transaction.atomic():
        row = Policy.objects.for_org(org).select_for_update().filter(code=test.policy_code).first()
        if row is None:
            raise AbTestError(_("La política de la prueba ya no existe."))
        definition = copy.deepcopy(row.definition)
        step = next((s for s in definition.get("steps") or () if str(s.get("code")) == test.step), None)
        if step is None:
            raise AbTestError(_("El paso de la prueba ya no está en la política."))
        step["template"] = template
        row = dunning.save_policy(org, test.policy_code, definition, actor=actor)
        test.status, test.winner, test.applied_version = AbTest.Status.APPLIED, outcome.winner, row.version
        test.stopped_at = test.stopped_at or timezone.now()
        test.ends_on = min(test.ends_on or dt.date.max, max(today + dt.timedelta(days=1), test.starts_on))
        test.save(update_fields=["status", "winner", "applied_version", "stopped_at", "ends_on"])
    return test


def template_labels(org: Organization, language: str) -> dict[str, str]:
    """Each template code by its words (its subject, or the start of its text, placeholders as "…") in
    ``language`` (the organization's Spanish ones when it has none in it): a code is not shown."""
    import re

    from cobro.messaging import defaults
    from cobro.messaging.models import MessageTemplate

    wanted = defaults.language_of(language)
    labels: dict[str, tuple[int, str]] = {}
    for code, lang, channel, subject, body in (MessageTemplate.objects.for_org(org)
                                               .values_list("code", "language", "channel", "subject", "body")):
        rank = (0 if lang == wanted else 1 if lang == "es" else 2) * 2 + (0 if channel == "email" else 1)
        text = re.sub(r"\{\{[^}]*\}\}", "…", subject or body.split("\n", 1)[0]).strip()[:90]
        if code not in labels or rank < labels[code][0]:
            labels[code] = (rank, text or code)
    return {code: text for code, (_rank, text) in labels.items()}
