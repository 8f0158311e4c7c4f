"""The customers list: filters, sorting, pages, saved views, export, and actions on many at once.

Fields of the customer row (owner, country, segment, the search box) filter in SQL; what comes from
the open book (stage, overdue bucket, amount) from one grouped read of the open invoices, as the
board reads it. Bulk actions go through the same services as the one-customer actions, one
timeline event per customer, and say in words which customers were refused and why.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlencode

from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cobro.engine.money import MoneyError, parse_amount
from cobro.ledger import search
from cobro.ledger.models import Customer, SearchKey
from cobro.workspace import board as boardlib

PAGE_SIZE = 50
#: The overdue buckets, by the oldest overdue invoice's days late.
BUCKETS = [("current", gettext_lazy("Al día"), 0, 0), ("1-30", "1–30", 1, 30), ("31-60", "31–60", 31, 60),
           ("61-90", "61–90", 61, 90), ("90+", "90+", 91, None)]
SORTS = {"name": gettext_lazy("Nombre"), "overdue": gettext_lazy("Vencido"), "open": gettext_lazy("Saldo"),
         "days": gettext_lazy("Días de atraso"), "ref": gettext_lazy("Código")}
#: The query-string keys a saved view keeps (never the page or a CSRF token).
FILTER_KEYS = ("q", "stage", "owner", "country", "segment", "bucket", "min", "max", "sort")


@dataclass
class ListFilters:
    q: str = ""
    stage: str = ""
    owner: str = ""
    country: str = ""
    segment: str = ""
    bucket: str = ""
    min_text: str = ""
    max_text: str = ""
    sort: str = "name"
    min_amount: int | None = None
    max_amount: int | None = None
    errors: list[str] = field(default_factory=list)

    def query(self) -> str:
        """The filters as a query string (what a saved view stores), empty values left out."""
        pairs = {"q": self.q, "stage": self.stage, "owner": self.owner, "country": self.country,
                 "segment": self.segment, "bucket": self.bucket, "min": self.min_text, "max": self.max_text,
                 "sort": "" if self.sort == "name" else self.sort}
        return urlencode({k: v for k, v in pairs.items() if v})


def parse_filters(params: QueryDict, org) -> ListFilters:
    f = ListFilters(q=params.get("q", "").strip()[:100], stage=params.get("stage", ""),
                    owner=params.get("owner", ""), country=params.get("country", "").upper()[:2],
                    segment=params.get("segment", "")[:64], bucket=params.get("bucket", ""),
                    min_text=params.get("min", "").strip()[:32], max_text=params.get("max", "").strip()[:32])
    sort = params.get("sort", "name")
    f.sort = sort if sort.lstrip("-") in SORTS else "name"
    if f.bucket and f.bucket not in {b[0] for b in BUCKETS}:
        f.bucket = ""
    for attr, text, label in (("min_amount", f.min_text, _("Vencido desde")), ("max_amount", f.max_text,
                                                                               _("Vencido hasta"))):
        if text:
            try:
                setattr(f, attr, parse_amount(text, org.currency))
            except MoneyError:
                f.errors.append(_("%(field)s: «%(v)s» no es un monto; escriba por ejemplo 150.000.")
                                % {"field": label, "v": text})
    return f


@dataclass
class Row:
    customer: Customer
    balance: boardlib.Balance
    stage: str
    stage_label: str
    days: int


def bucket_of(days: int) -> str:
    for code, _label, low, high in BUCKETS:
        if days >= low and (high is None or days <= high):
            return code
    return "current"


def matching_ids(org, user, f: ListFilters, today: dt.date) -> tuple[list[int], dict, dict]:
    """Every matching customer id in the list's order, with the balances and stages read for it."""
    # The board's own filter for the customer's fields (the words go through the search keys instead).
    qs = boardlib.Filters(owner=f.owner, segment=f.segment, country=f.country).apply(
        Customer.objects.for_org(org), user)
    if f.q:
        prefixes = [p for p in dict.fromkeys((search.fold(f.q), search.compact(f.q))) if len(p) >= search.MIN_QUERY]
        keys = SearchKey.objects.none()
        for p in prefixes:
            keys = keys | SearchKey.objects.filter(search._prefix(p), organization_id=org.pk)
        qs = qs.filter(pk__in=keys.values("customer_id")) if prefixes else qs.none()
    rows = list(qs.order_by().values_list("pk", "name", "ref"))
    ids = [r[0] for r in rows]
    bals = boardlib.balances(org, today, customer_ids=ids if len(ids) <= 500 else None)
    stages = boardlib.stage_of_customers(org, bals, ids, today, all_customers=len(ids) > 500)
    empty = boardlib.Balance()

    def keep(cid):
        bal = bals.get(cid, empty)
        if f.stage and stages.get(cid) != f.stage:
            return False
        if f.bucket and bucket_of(bal.days_overdue(today)) != f.bucket:
            return False
        overdue = bal.overdue.get(org.currency, 0)
        if f.min_amount is not None and overdue < f.min_amount:
            return False
        return f.max_amount is None or overdue <= f.max_amount

    rows = [r for r in rows if keep(r[0])]
    key = f.sort.lstrip("-")
    sorters = {"name": lambda r: (r[1].casefold(), r[2]), "ref": lambda r: r[2],
               "overdue": lambda r: (sum(bals.get(r[0], empty).overdue.values()), r[1]),
               "open": lambda r: (sum(bals.get(r[0], empty).open.values()), r[1]),
               "days": lambda r: (bals.get(r[0], empty).days_overdue(today), r[1])}
    rows.sort(key=sorters[key], reverse=f.sort.startswith("-"))
    return [r[0] for r in rows], bals, stages


def page_rows(org, ids: list[int], bals, stages, today: dt.date) -> list[Row]:
    labels = dict(boardlib.stages(org))
    customers = Customer.objects.for_org(org).select_related("owner").in_bulk(ids)
    empty = boardlib.Balance()
    return [Row(customers[cid], bals.get(cid, empty), stages.get(cid, ""), labels.get(stages.get(cid, ""), ""),
                bals.get(cid, empty).days_overdue(today)) for cid in ids if cid in customers]


# ---------------------------------------------------------------- export
def export_table(org, ids: list[int], bals, stages, today: dt.date):
    """(header, rows) of the filtered list: one line per currency owed, amounts as numbers."""
    from cobro.ledger.importing import amount_text

    labels = dict(boardlib.stages(org))
    head = [_("Código"), _("Razón social"), _("Identificador tributario"), _("País"), _("Segmento"),
            _("Responsable"), _("Etapa"), _("Días de atraso"), _("Moneda"), _("Vencido"), _("Saldo")]
    empty = boardlib.Balance()

    def body():
        for i in range(0, len(ids), 2000):
            chunk = ids[i:i + 2000]
            customers = Customer.objects.for_org(org).select_related("owner").in_bulk(chunk)
            for cid in chunk:
                c = customers.get(cid)
                if c is None:
                    continue
                bal = bals.get(cid, empty)
                owner = (c.owner.get_full_name() or c.owner.username) if c.owner else ""
                for currency in sorted(bal.open) or [org.currency]:
                    yield [c.ref, c.name, c.tax_id, c.country, c.segment, owner, labels.get(stages.get(cid), ""),
                           bal.days_overdue(today), currency,
                           Decimal(amount_text(bal.overdue.get(currency, 0), currency)),
                           Decimal(amount_text(bal.open.get(currency, 0), currency))]

    return head, body()


# ---------------------------------------------------------------- bulk actions
@dataclass
class BulkResult:
    done: int = 0
    refused: list[str] = field(default_factory=list)


def bulk_owner(org, customers, owner, actor) -> BulkResult:
    from cobro.workspace import services

    for c in customers:
        services.assign_owner(org, c, owner, actor=actor)
    return BulkResult(done=len(customers))


def bulk_stage(org, customers, to_stage: str, actor, is_manager: bool, today: dt.date) -> BulkResult:
    out = BulkResult()
    dunning = boardlib._dunning()
    labels = dict(boardlib.stages(org))
    if dunning is None:
        out.refused.append(_("Las etapas aún no están disponibles."))
        return out
    if to_stage not in labels:
        out.refused.append(_("Elija la etapa a la que pasan los clientes."))
        return out
    for c in customers:
        refusal = boardlib.move_refusal(org, c, to_stage, today, is_manager)
        if refusal:
            out.refused.append(refusal)
            continue
        try:
            dunning.move_stage(org, c, to_stage, actor=actor, reason=str(_("cambio en bloque desde Clientes")))
        except ValueError:
            out.refused.append(_("%(c)s no pudo pasar a «%(to)s».") % {"c": c.name, "to": labels[to_stage]})
            continue
        out.done += 1
    return out


def bulk_pause(org, customers, days: int, reason: str, actor, today: dt.date) -> BulkResult:
    dunning = boardlib._dunning()
    if dunning is None or not hasattr(dunning, "pause_customer"):
        return BulkResult(refused=[_("La pausa de cobranza aún no está disponible.")])
    until = today + dt.timedelta(days=days)
    for c in customers:
        dunning.pause_customer(org, c, until, reason, actor)
    return BulkResult(done=len(customers))
