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
    services = _dunning()
    return list(services.stages(org)) if services else [(c, str(label)) for c, label in FALLBACK_STAGES]


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


def stage_of_customers(org: Organization, bals: dict[int, Balance], customer_ids, today: dt.date,
                       all_customers: bool = False) -> dict[int, str]:
    services = _dunning()
    known = {}
    if services:
        known = services.current_stages(org, customer_ids=None if all_customers else list(customer_ids),
                                        as_of=today)
    return {cid: known.get(cid) or _derived_stage(bals.get(cid)) for cid in customer_ids}


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
    for cid, due_on, title in (Task.objects.for_org(org).filter(customer_id__in=ids, status=Task.Status.OPEN)
                               .order_by("due_on", "id").values_list("customer_id", "due_on", "title")):
        nexts.setdefault(cid, (due_on, title))
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
