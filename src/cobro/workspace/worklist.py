"""Today's worklist: open tasks due by today for one person, in priority order, each with its script.

Priority = amount at stake × days overdue × risk. The risk is deliberately simple and explained on
screen until the insights app provides a score: it starts at 1 and grows with promises broken in
the last 180 days and with how long the oldest invoice has waited.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cobro.engine.money import exponent, format_money
from cobro.ledger.models import Contact, Invoice, Organization, Task, TimelineEvent
from cobro.workspace.inbox import INBOX_ONLY
from cobro.workspace.scripts import load_scripts, normalize_language, render_script, situation_for
from cobro.workspace.services import exchange_rates

BROKEN_PROMISE_WEIGHT = 0.5
LONG_OVERDUE_DAYS = 60
LONG_OVERDUE_WEIGHT = 0.25


APPROVAL = "approval"  # the cycle's kind for a mediation or legal step waiting for a manager

#: How each task kind reads on the worklist; kinds not listed show as written.
KIND_LABELS = {
    "call": gettext_lazy("Llamada"), "reply": gettext_lazy("Respuesta del cliente"), "message_failed": gettext_lazy("Mensaje fallido"),
    "unreachable": gettext_lazy("Sin forma de contacto"), "promise_broken": gettext_lazy("Promesa incumplida"),
    "instalment_late": gettext_lazy("Cuota atrasada"), "plan_proposal": gettext_lazy("Propuesta de plan"),
    "dispute_resolved": gettext_lazy("Reclamo resuelto"), "agreement_broken": gettext_lazy("Acuerdo incumplido"),
    "callback": gettext_lazy("Volver a llamar"), APPROVAL: gettext_lazy("Aprobación"),
}


@dataclass
class WorkItem:
    task: Task
    score: float
    explanation: str
    overdue: dict[str, int]
    days_overdue: int
    risk: float
    situation: str
    script: str
    invoices: list[Invoice]
    also: list[Task] = field(default_factory=list)  # the customer's other tasks today, closed with this one

    @property
    def is_approval(self) -> bool:
        return self.task.kind == APPROVAL

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS.get(self.task.kind, self.task.kind))


def risk_of(broken_promises: int, days_overdue: int) -> tuple[float, list[str]]:
    risk, why = 1.0, []
    if broken_promises:
        risk += BROKEN_PROMISE_WEIGHT * broken_promises
        why.append(_("%(n)d promesa(s) incumplida(s)") % {"n": broken_promises})
    if days_overdue > LONG_OVERDUE_DAYS:
        risk += LONG_OVERDUE_WEIGHT
        why.append(_("más de %(d)d días de atraso") % {"d": LONG_OVERDUE_DAYS})
    return risk, why


def worklist(org: Organization, user, today: dt.date, language: str = "es", approvals: bool = False
             ) -> list[WorkItem]:
    """Five queries whatever the number of tasks: tasks, invoices, contacts, events, scripts.

    ``approvals``: include the steps waiting for a manager's approval (only managers can act on them).
    """
    mine = Q(assignee=user) | Q(assignee__isnull=True)
    tasks = Task.objects.for_org(org).filter(status=Task.Status.OPEN, due_on__lte=today)
    # The cycle gives approval tasks to the customer's owner, usually an agent who may not approve:
    # every manager sees them all, agents none.
    tasks = tasks.filter(mine | Q(kind=APPROVAL)) if approvals else tasks.filter(mine).exclude(kind=APPROVAL)
    # A dispute waits in the inbox for someone to answer it: it is not a call of the day.
    tasks = list(tasks.exclude(kind__in=INBOX_ONLY).select_related("customer").order_by("due_on", "id"))
    ids = {t.customer_id for t in tasks}
    invoices: dict[int, list[Invoice]] = defaultdict(list)
    for inv in (Invoice.objects.for_org(org).filter(customer_id__in=ids, status=Invoice.Status.OPEN)
                .order_by("due_date")):
        invoices[inv.customer_id].append(inv)
    contacts: dict[int, str] = {}
    for cid, name in (Contact.objects.for_org(org).filter(customer_id__in=ids)
                      .order_by("-is_primary", "id").values_list("customer_id", "name")):
        contacts.setdefault(cid, name)
    since = today - dt.timedelta(days=180)
    broken = Counter(TimelineEvent.objects.for_org(org)
                     .filter(customer_id__in=ids, kind="promise.broken", at__date__gte=since)
                     .values_list("customer_id", flat=True))
    scripts = load_scripts(org)
    agent = user.first_name or user.get_username()
    rates = exchange_rates(org)
    moot = moot_approvals(org, [t for t in tasks if t.kind == APPROVAL])
    tasks = [t for t in tasks if t.pk not in moot]

    items = []
    for task in tasks:
        cid = task.customer_id
        overdue: dict[str, int] = {}
        oldest = None
        for inv in invoices[cid]:
            if inv.due_date < today:
                overdue[inv.currency] = overdue.get(inv.currency, 0) + inv.open_amount
                oldest = oldest or inv.due_date
        days = (today - oldest).days if oldest else 0
        # The stake in the organization's currency, through its own exchange-rate table, so a EUR
        # debt and a CLP debt compare; a score, not money (amounts shown stay in their currency).
        stake, unrated = home_stake(overdue, rates, org.currency)
        risk, why = risk_of(broken[cid], days)
        score = float(stake) * max(days, 1) * risk
        amount_text = " + ".join(format_money(v, c, language) for c, v in overdue.items()) or "—"
        if any(c != org.currency for c in overdue):
            amount_text += " ≈ " + format_money(int(stake * 10 ** exponent(org.currency)), org.currency, language)
        explanation = _("Monto en juego %(amount)s × %(days)d días de atraso × riesgo %(risk).2f") % {
            "amount": amount_text, "days": max(days, 1), "risk": risk}
        if unrated:
            why.append(_("sin tipo de cambio para %(c)s: cuenta por su cifra") % {"c": ", ".join(unrated)})
        if why:
            explanation += " (" + ", ".join(why) + ")"
        situation = situation_for(task.kind, task.data)
        lang = normalize_language(task.customer.language)
        body = scripts.get((situation, lang)) or scripts[(situation, "es")]
        script = render_script(
            body, customer=task.customer.name, contact=contacts.get(cid) or task.customer.name, agent=agent,
            org=org.name, amount=amount_text, days=str(days),
            invoices=", ".join(i.ref for i in invoices[cid] if i.due_date < today)[:200],
            promise_date=str(task.data.get("promised_date", "")))
        items.append(WorkItem(task, score, explanation, overdue, days, risk, situation, script, invoices[cid]))
    items.sort(key=lambda i: (-i.score, i.task.due_on, i.task.pk))
    return once_per_customer(items)


def once_per_customer(items: list[WorkItem]) -> list[WorkItem]:
    """One call per customer a day: a customer's further tasks ride on its first (highest) item and
    are closed with it; approvals stay apart because only a manager can act on them."""
    first: dict[tuple[int, bool], WorkItem] = {}
    out = []
    for item in items:
        key = (item.task.customer_id, item.is_approval)
        if key in first:
            first[key].also.append(item.task)
            continue
        first[key] = item
        out.append(item)
    return out


def home_stake(overdue: dict[str, int], rates: dict, home: str) -> tuple[Decimal, list[str]]:
    """What ``overdue`` is worth in major units of ``home``, and the currencies without a rate
    (counted at face value so they still rank, and named in the explanation)."""
    total, unrated = Decimal(0), []
    for currency, minor in overdue.items():
        major = Decimal(minor) / (10 ** exponent(currency))
        rate = rates.get(currency)
        if rate is None:
            unrated.append(currency)
            rate = Decimal(1)
        total += major * rate
    return total, sorted(unrated)


def moot_approvals(org: Organization, approvals: list[Task]) -> set[int]:
    """Approval tasks overtaken by the customer: a promise or payment plan made after the step was
    put up for approval makes mediation or legal moot (they cannot be approved any more)."""
    if not approvals:
        return set()
    try:
        from cobro.agreements.models import Plan, Promise
    except ImportError:
        return set()
    ids = {t.customer_id for t in approvals}
    latest: dict[int, dt.datetime] = {}
    for model, where in ((Promise, {"status": Promise.Status.PENDING}),
                         (Plan, {"status__in": [Plan.Status.ACTIVE, Plan.Status.PROPOSED]})):
        for cid, at in model.objects.for_org(org).filter(customer_id__in=ids, **where).values_list(
                "customer_id", "created_at"):
            if cid not in latest or at > latest[cid]:
                latest[cid] = at
    return {t.pk for t in approvals if t.customer_id in latest and latest[t.customer_id] >= t.created_at}
