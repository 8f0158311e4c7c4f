"""Reading the board: stages, cards, counts and totals, set-based so 10,000 customers stay fast.

The stages themselves belong to the dunning app (``cobro.dunning.services``). Until it is
installed the board derives a stage from the ledger alone (upcoming / overdue / paid) and cannot
move cards, so the page still tells the truth about the book.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import BigIntegerField, Case, DateField, Min, Q, Sum, Value, When
from django.utils.translation import gettext_lazy as _

from cobro.ledger.models import Customer, Invoice, Organization, Task

PAGE_SIZE = 20

FALLBACK_STAGES = [
    ("por_vencer", _("Por vencer")), ("vencida", _("Vencida")), ("en_gestion", _("En gestión")),
    ("promesa", _("Promesa")), ("plan_de_pagos", _("Plan de pagos")), ("disputa", _("Disputa")),
    ("mediacion", _("Mediación")), ("legal", _("Legal")), ("pagada", _("Pagada")),
]
#: The badge each agreement-like stage shows on a card.
STAGE_BADGES = {"promesa": ("promise", _("Promesa")), "plan_de_pagos": ("plan", _("Plan")),
                "disputa": ("dispute", _("Disputa"))}


def _dunning():
    try:
        from cobro.dunning import services
    except ImportError:
        return None
    return services if hasattr(services, "current_stages") else None


def can_move() -> bool:
    return _dunning() is not None


def stages(org: Organization) -> list[tuple[str, str]]:
    """The columns as (code, label) in the reader's language: a policy's own label is kept only
    when the organization renamed the stage (the default Spanish names go through gettext)."""
    services = _dunning()
    if not services:
        return [(c, str(label)) for c, label in FALLBACK_STAGES]
    default = {code: label for code, label in FALLBACK_STAGES}
    from cobro.engine.policy import STAGES

    spanish = dict(STAGES)
    return [(code, str(default[code]) if code in default and label == spanish.get(code) else label)
            for code, label in services.stages(org)]


@dataclass
class Balance:
    """What one customer owes: open and overdue per currency, and the oldest overdue due date."""

    open: dict[str, int] = field(default_factory=dict)
    overdue: dict[str, int] = field(default_factory=dict)
    oldest_due: dt.date | None = None

    def days_overdue(self, today: dt.date) -> int:
        return (today - self.oldest_due).days if self.oldest_due else 0

    def weight(self) -> int:
        # Sorting key inside a column: biggest overdue first; currencies are summed as-is because
        # an organization's book is nearly always in one currency and this only orders cards.
        return sum(self.overdue.values())


def balances(org: Organization, today: dt.date, customer_ids=None) -> dict[int, Balance]:
    """Open and overdue balances for every customer with open invoices: one grouped query."""
    rows = Invoice.objects.for_org(org).filter(status=Invoice.Status.OPEN)
    if customer_ids is not None:
        rows = rows.filter(customer_id__in=customer_ids)
    overdue = Q(due_date__lt=today)
    rows = rows.values("customer_id", "currency").annotate(
        open=Sum("open_amount"),
        overdue=Sum(Case(When(overdue, then="open_amount"), default=Value(0), output_field=BigIntegerField())),
        oldest=Min(Case(When(overdue, then="due_date"), output_field=DateField())))
    out: dict[int, Balance] = defaultdict(Balance)
    for row in rows.values_list("customer_id", "currency", "open", "overdue", "oldest"):
        cid, currency, open_, late, oldest = row
        b = out[cid]
        b.open[currency] = open_
        if late:
            b.overdue[currency] = late
        if oldest is not None and (b.oldest_due is None or oldest < b.oldest_due):
            b.oldest_due = oldest
    return out


def _derived_stage(balance: Balance | None) -> str:
    if balance is None or not balance.open:
        return "pagada"
    return "vencida" if balance.overdue else "por_vencer"


#: Stages that only follow the invoices' dates: a live promise, plan or dispute says more.
DATE_STAGES = {"por_vencer", "vencida"}


def agreement_stages(org: Organization, customer_ids=None) -> dict[int, str]:
    """The stage the agreements say a customer is in: an open dispute, then a live plan, then a
    pending promise (three queries; empty without the agreements app)."""
    try:
        from cobro.agreements.models import Dispute, Plan, Promise
    except ImportError:
        return {}
    out: dict[int, str] = {}
    sources = [  # lowest precedence first: a later source overwrites an earlier one
        (Promise, {"status": Promise.Status.PENDING}, "promesa"),
        (Plan, {"status__in": [Plan.Status.ACTIVE, Plan.Status.PROPOSED]}, "plan_de_pagos"),
        (Dispute, {"status__in": [Dispute.Status.OPEN, Dispute.Status.ANSWERED]}, "disputa"),
    ]
    for model, where, stage in sources:
        qs = model.objects.for_org(org).filter(**where)
        if customer_ids is not None:
            qs = qs.filter(customer_id__in=list(customer_ids))
        for cid in qs.order_by().values_list("customer_id", flat=True).distinct():
            out[cid] = stage
    return out


def stage_of_customers(org: Organization, bals: dict[int, Balance], customer_ids, today: dt.date,
                       all_customers: bool = False) -> dict[int, str]:
    """Each customer's stage: the one a person or the cycle set, else what the agreements say (a
    promise puts the card in Promesa), else what the invoices' dates say."""
    services = _dunning()
    known = {}
    ids = None if all_customers else list(customer_ids)
    if services:
        known = services.current_stages(org, customer_ids=ids, as_of=today)
    facts = agreement_stages(org, ids)
    out = {}
    for cid in customer_ids:
        stage = known.get(cid) or _derived_stage(bals.get(cid))
        if stage in DATE_STAGES and cid in facts:
            stage = facts[cid]
        out[cid] = stage
    return out


def allowed_moves(code: str) -> set[str] | None:
    """Where a card in this column may go (None: anywhere the dunning app accepts)."""
    services = _dunning()
    allowed = getattr(services, "ALLOWED", None) if services else None
    return set(allowed.get(code, set())) if allowed is not None else None


@dataclass
class Filters:
    owner: str = ""      # "", "me", "none" or a user id
    segment: str = ""
    country: str = ""
    min_overdue: int = 0  # minor units of the organization's currency
    q: str = ""

    def apply(self, qs, user):
        if self.owner == "me":
            qs = qs.filter(owner=user)
        elif self.owner == "none":
            qs = qs.filter(owner__isnull=True)
        elif self.owner.isdigit():
            qs = qs.filter(owner_id=int(self.owner))
        if self.segment:
            qs = qs.filter(segment=self.segment)
        if self.country:
            qs = qs.filter(country=self.country.upper())
        if self.q:
            qs = qs.filter(name__icontains=self.q) | qs.filter(ref__iexact=self.q)
        return qs


@dataclass
class Column:
    code: str
    label: str
    customer_ids: list[int]
    totals: dict[str, int]
    cards: list = field(default_factory=list)
    has_more: bool = False
    offset: int = 0
    stage_options: str = ""


def build_columns(org: Organization, user, filters: Filters, today: dt.date) -> tuple[list[Column], dict]:
    """Every column with its count and totals; the cards themselves are filled page by page."""
    customer_ids = list(filters.apply(Customer.objects.for_org(org), user).values_list("id", flat=True))
    bals = balances(org, today)
    if filters.min_overdue:
        customer_ids = [c for c in customer_ids if c in bals and bals[c].weight() >= filters.min_overdue]
    # Past a few hundred ids, reading every customer's stage beats a long IN list.
    stage_by_customer = stage_of_customers(org, bals, customer_ids, today, all_customers=len(customer_ids) > 500)
    columns = {code: Column(code, str(label), [], {}) for code, label in stages(org)}
    for cid in customer_ids:
        col = columns.get(stage_by_customer[cid])
        if col is None:
            continue
        col.customer_ids.append(cid)
        # What the column's customers owe now: the overdue part, or the open part before it is due.
        owed = (bals[cid].overdue or bals[cid].open) if cid in bals else {}
        for currency, amount in owed.items():
            col.totals[currency] = col.totals.get(currency, 0) + amount
    empty = Balance()
    for col in columns.values():
        col.customer_ids.sort(key=lambda c: -bals.get(c, empty).weight())
    return list(columns.values()), bals


@dataclass
class Card:
    customer: Customer
    balance: Balance
    days_overdue: int
    next_label: str
    next_date: dt.date | None
    badges: list
    stage: str


def fill_cards(org: Organization, columns: list[Column], bals: dict[int, Balance], today: dt.date,
               offset: int = 0, limit: int = PAGE_SIZE) -> None:
    """One page of cards for each column, with the same six queries for one column or all nine."""
    pages = {}
    for column in columns:
        pages[column.code] = column.customer_ids[offset:offset + limit]
        column.offset = offset + len(pages[column.code])
        column.has_more = column.offset < len(column.customer_ids)
    ids = [cid for page in pages.values() for cid in page]
    customers = {c.pk: c for c in Customer.objects.for_org(org).filter(pk__in=ids).select_related("owner")}
    nexts: dict[int, tuple[dt.date, str]] = {}
    from cobro.workspace.labels import task_title

    for task in (Task.objects.for_org(org).filter(customer_id__in=ids, status=Task.Status.OPEN)
                 .order_by("due_on", "id").only("customer_id", "due_on", "title", "kind", "data")):
        if task.customer_id not in nexts:
            nexts[task.customer_id] = (task.due_on, task_title(task))
    for cid, when, label in _planned_actions(org, ids):
        if cid not in nexts or when < nexts[cid][0]:
            nexts[cid] = (when, label)
    badges = _agreement_badges(org, ids)
    empty = Balance()
    for column in columns:
        stage_badge = STAGE_BADGES.get(column.code)
        column.cards = []
        for cid in pages[column.code]:
            if cid not in customers:
                continue
            bal = bals.get(cid, empty)
            when, label = nexts.get(cid, (None, ""))
            own = badges.get(cid) or ([stage_badge] if stage_badge else [])
            column.cards.append(Card(customers[cid], bal, bal.days_overdue(today), label, when, own, column.code))


def _agreement_badges(org: Organization, ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """Promise / plan / dispute badges from the agreements app's live rows (three queries)."""
    try:
        from cobro.agreements.models import Dispute, Plan, Promise
    except ImportError:
        return {}
    out: dict[int, list[tuple[str, str]]] = defaultdict(list)
    sources = [
        (Promise, {"status": Promise.Status.PENDING}, STAGE_BADGES["promesa"]),
        (Plan, {"status__in": [Plan.Status.ACTIVE, Plan.Status.PROPOSED]}, STAGE_BADGES["plan_de_pagos"]),
        (Dispute, {"status__in": [Dispute.Status.OPEN, Dispute.Status.ANSWERED]}, STAGE_BADGES["disputa"]),
    ]
    for model, where, badge in sources:
        for cid in set(model.objects.for_org(org).filter(customer_id__in=ids, **where)
                       .values_list("customer_id", flat=True)):
            out[cid].append((badge[0], str(badge[1])))
    return out


def _planned_actions(org: Organization, ids: list[int]):
    """The next action the engine has planned per customer, once the dunning app is there."""
    try:
        from cobro.dunning.models import Action
    except ImportError:
        return []
    rows = (Action.objects.for_org(org).filter(customer_id__in=ids, status=Action.Status.PLANNED)
            .values("customer_id").annotate(when=Min("scheduled_for")))
    return [(r["customer_id"], r["when"].date(), str(_("Acción planificada"))) for r in rows]


def overdue_total(org: Organization, today: dt.date) -> dict[str, int]:
    rows = (Invoice.objects.for_org(org).filter(status=Invoice.Status.OPEN, due_date__lt=today)
            .values("currency").annotate(total=Sum("open_amount")))
    return {r["currency"]: r["total"] for r in rows}


def move_refusal(org: Organization, customer: Customer, to_stage: str, today: dt.date,
                 is_manager: bool) -> str | None:
    """Why this move cannot happen, as a sentence for the person (None: it may).

    Checked before the dunning app is asked, so a refusal names the stages in the reader's
    language, and a move the facts would undo at once (back to Vencida while nothing is overdue,
    out of Promesa into Vencida while the promise is pending) is refused instead of pretending.
    """
    labels = dict(stages(org))
    bals = balances(org, today, customer_ids=[customer.pk])
    current = stage_of_customers(org, bals, [customer.pk], today)[customer.pk]
    if current == to_stage:
        return str(_("%(c)s ya está en «%(to)s».") % {"c": customer.name, "to": labels.get(to_stage, to_stage)})
    allowed = allowed_moves(current)
    if allowed is not None and to_stage not in allowed:
        options = ", ".join(f"«{labels[c]}»" for c, _l in stages(org) if c in allowed)
        return str(_("%(c)s está en «%(from)s» y no puede pasar a «%(to)s». Desde «%(from)s» puede pasar a: "
                     "%(options)s.") % {"c": customer.name, "from": labels.get(current, current),
                                        "to": labels.get(to_stage, to_stage), "options": options})
    if to_stage in {"mediacion", "legal"} and not is_manager:
        return str(_("Solo un supervisor puede pasar un cliente a «%(to)s».") % {"to": labels.get(to_stage, to_stage)})
    bal = bals.get(customer.pk)
    if to_stage in DATE_STAGES or to_stage == "pagada":
        facts = agreement_stages(org, [customer.pk])
        if customer.pk in facts and to_stage != "pagada":
            return str(_("%(c)s tiene un acuerdo vigente y queda en «%(stage)s»: cierre el acuerdo antes de "
                         "moverlo.") % {"c": customer.name, "stage": labels.get(facts[customer.pk])})
        follows = _derived_stage(bal)
        if follows != to_stage:
            reasons = {
                "vencida": _("%(c)s no tiene facturas vencidas: no puede estar en «%(to)s»."),
                "por_vencer": _("%(c)s tiene facturas vencidas: no puede estar en «%(to)s»."),
                "pagada": _("%(c)s tiene facturas abiertas: pasa a «%(to)s» cuando se registre el pago."),
            }
            return str(reasons[to_stage] % {"c": customer.name, "to": labels.get(to_stage, to_stage)})
    return None
