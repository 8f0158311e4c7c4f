"""Today's worklist: open tasks due by today for one person, in priority order, each with its script.

Priority = amount at stake × days overdue × risk. The risk is deliberately simple and explained on
screen until the insights app provides a score: it starts at 1 and grows with promises broken in
the last 180 days and with how long the oldest invoice has waited.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cobro.engine.money import exponent, format_money
from cobro.ledger.models import Contact, Invoice, Organization, Task, TimelineEvent
from cobro.workspace.scripts import load_scripts, normalize_language, render_script, situation_for

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
    APPROVAL: gettext_lazy("Aprobación"),
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
    tasks = list(tasks.select_related("customer").order_by("due_on", "id"))
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
        # Amount in major units so a CLP book and a USD book weigh alike; a score, not money.
        stake = sum(v / 10 ** exponent(c) for c, v in overdue.items())
        risk, why = risk_of(broken[cid], days)
        score = stake * max(days, 1) * risk
        amount_text = " + ".join(format_money(v, c, language) for c, v in overdue.items()) or "—"
        explanation = _("Monto en juego %(amount)s × %(days)d días de atraso × riesgo %(risk).2f") % {
            "amount": amount_text, "days": max(days, 1), "risk": risk}
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
    return items
