"""The Dashboard's figures for one organization, computed by ``cobro.engine.metrics``.

Every figure is per currency (pesos and euros never add up). They are read from the daily totals
the ledger keeps with its facts (``cobro.insights.totals``; the maths in ``cobro.engine.daybook``):
two small reads, whatever the size of the book, for the book on any day, sales and collections.

The same figures can still be computed from the ledger's own rows (``source="ledger"``), the way the
Dashboard did before the totals existed: an invoice was open on day ``d`` when it was issued on or
before ``d`` and it is open now or was closed after ``d``; its balance on ``d`` is today's balance
plus the payments and credit notes applied to it after ``d``. Tests and benchmark B3 compare the two.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.apps import apps
from django.core.exceptions import FieldError
from django.db.models import BooleanField, Count, ExpressionWrapper, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cobro.engine import daybook, metrics
from cobro.engine.money import from_minor
from cobro.insights import totals
from cobro.ledger.models import Allocation, CreditNote, Invoice, Organization, Payment

#: Sales window for the countback DSO: a year of daily sales is enough for any book we have seen
#: (a DSO above 365 days means the book is mostly bad debt, and the figure says so anyway).
COUNTBACK_DAYS = 365

PERIODS = {
    "month": _("Este mes"),
    "last_month": _("Mes anterior"),
    "30d": _("Últimos 30 días"),
    "90d": _("Últimos 90 días"),
    "365d": _("Últimos 12 meses"),
}
DEFAULT_PERIOD = "90d"

BUCKET_LABELS = {
    "current": _("Al día"),
    "1_30": _("1–30 días"),
    "31_60": _("31–60 días"),
    "61_90": _("61–90 días"),
    "90_plus": _("Más de 90 días"),
}


class PeriodError(ValueError):
    """A period the dashboard cannot show; the message names what is wrong and is safe to show."""


@dataclass(frozen=True, slots=True)
class Period:
    """Whole days from ``start`` to ``end``, both included."""

    start: dt.date
    end: dt.date
    code: str = "custom"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        end = self.start - dt.timedelta(days=1)
        return Period(end - dt.timedelta(days=self.days - 1), end, "previous")


def make_period(today: dt.date, code: str | None = None, start: dt.date | None = None,
                end: dt.date | None = None) -> Period:
    """A named period ending ``today`` ("month", "90d"...) or the days from ``start`` to ``end``."""
    if start or end:
        if not (start and end):
            raise PeriodError("give both the first and the last day of the period")
        if end < start:
            raise PeriodError(f"the period ends ({end}) before it starts ({start})")
        if (end - start).days >= 3 * 366:
            raise PeriodError("a period can be at most three years long")
        return Period(start, end)
    code = code or DEFAULT_PERIOD
    if code == "month":
        return Period(today.replace(day=1), today, code)
    if code == "last_month":
        end = today.replace(day=1) - dt.timedelta(days=1)
        return Period(end.replace(day=1), end, code)
    if code.endswith("d") and code in PERIODS:
        return Period(today - dt.timedelta(days=int(code[:-1]) - 1), today, code)
    raise PeriodError(f"unknown period {code!r}; choose one of {', '.join(PERIODS)} or give dates")


# -- loading: one query per table and figure family --------------------------------------------------

@dataclass(frozen=True, slots=True)
class Book:
    """The receivables on the period's last day (by bucket), on the eve of its first day, and sales.

    ``sales`` holds, per currency, the invoiced amount of each of the ``sales_days`` days ending on
    the last day, newest first (what the DSO needs). ``overdue_at_start`` is the part of
    ``beginning`` already past due then, and ``left_of_overdue`` what is still open of those same
    invoices on the last day (for the recovery rate).
    """

    ending: dict[str, metrics.Ageing]
    beginning: dict[str, int]
    sales: dict[str, list[int]]
    overdue_at_start: dict[str, int] = field(default_factory=dict)
    left_of_overdue: dict[str, int] = field(default_factory=dict)


def load_book(org: Organization, start: dt.date, end: dt.date, sales_days: int = 0,
              books: dict[str, daybook.Daybook] | None = None) -> Book:
    """Ageing of the book on ``end``, its total on the eve of ``start`` and daily sales, per currency.

    From the daily totals: one read of them (or ``books``, already read) and one of what was applied
    during the period to invoices already overdue at its start (the recovery rate).
    """
    eve = start - dt.timedelta(days=1)
    books = totals.daybooks(org, end) if books is None else books
    recovered = totals.applied_between(org, start, end, due_before=eve)
    ending, beginning, overdue_at_start, left_of_overdue, sales = {}, {}, {}, {}, {}
    first_sale = end - dt.timedelta(days=sales_days - 1)
    for cur, book in books.items():
        at_end, at_eve = book.ageing(end), book.balance(eve)
        if at_end.total or any(at_end.counts) or at_eve:
            ending[cur], beginning[cur] = at_end, at_eve
            overdue_at_start[cur] = book.overdue(eve)
            left_of_overdue[cur] = overdue_at_start[cur] - recovered.get(cur, 0)
        if sales_days:
            sold = book.series(daybook.SALES, first_sale, end)
            if sold:
                sales[cur] = metrics.daily_series(sold, end, sales_days)
    return Book(ending=ending, beginning=beginning, sales=sales, overdue_at_start=overdue_at_start,
                left_of_overdue=left_of_overdue)


def load_collections(org: Organization, first: dt.date, last: dt.date,
                     books: dict[str, daybook.Daybook] | None = None) -> dict[str, list[tuple[dt.date, int]]]:
    """Payments received per day and currency (cash in, whether or not it is allocated yet)."""
    books = totals.daybooks(org, last) if books is None else books
    sums = {cur: book.series(daybook.COLLECTED, first, last) for cur, book in books.items()}
    return {cur: days for cur, days in sums.items() if days}


def load_book_from_ledger(org: Organization, start: dt.date, end: dt.date, sales_days: int = 0) -> Book:
    """``load_book`` computed from the ledger's rows instead of the daily totals (the reference).

    Four queries: invoices open on either day, the sales of the window, and the allocations and
    credit notes dated on or after ``start`` (they are what was still owed then, or on ``end`` when
    dated after it).
    """
    eve = start - dt.timedelta(days=1)
    is_open = Q(status=Invoice.Status.OPEN)
    # Grouped by raw due date (a few thousand groups) and bucketed here. Closed invoices have an
    # open amount of zero, so the plain sum of open amounts is the open book. Sales come from a
    # second, separate GROUP BY: with both in one pass PostgreSQL expects hundreds of thousands of
    # groups and sorts on disk (1.6 s at L) where two hashed passes take 0.5 s.
    invoices = (Invoice.objects.for_org(org)
                .filter(is_open | Q(closed_on__gt=eve), issue_date__lte=end)
                .annotate(open_at_end=ExpressionWrapper(is_open | Q(closed_on__gt=end), output_field=BooleanField()))
                .values_list("currency", "due_date", "open_at_end")
                .annotate(open_sum=Sum("open_amount"), n=Count("id"),
                          before=Sum("open_amount", filter=Q(issue_date__lte=eve)))
                .order_by())
    by_due: dict[str, list[tuple[dt.date, int, int]]] = defaultdict(list)
    beginning: dict[str, int] = defaultdict(int)
    overdue_at_start: dict[str, int] = defaultdict(int)
    left_of_overdue: dict[str, int] = defaultdict(int)
    for currency, due, open_at_end, open_sum, n, before in invoices:
        by_due[currency].append((due, open_sum, n if open_at_end else 0))
        beginning[currency] += before or 0
        if due < eve:  # past due on the eve of the period
            overdue_at_start[currency] += before or 0
            left_of_overdue[currency] += open_sum
    sold: dict[str, list[tuple[dt.date, int]]] = defaultdict(list)
    if sales_days:
        first_sale = end - dt.timedelta(days=sales_days - 1)
        for currency, issued, total in (Invoice.objects.for_org(org)
                                        .filter(issue_date__gte=first_sale, issue_date__lte=end)
                                        .values_list("currency", "issue_date").annotate(total=Sum("amount"))
                                        .order_by()):
            sold[currency].append((issued, total))
    for model in (Allocation, CreditNote):
        later = (model.objects.for_org(org)
                 .filter(date__gt=eve, invoice__issue_date__lte=end)
                 .values_list("invoice__currency", "invoice__due_date")
                 .annotate(after_end=Sum("amount", filter=Q(date__gt=end)),
                           before=Sum("amount", filter=Q(invoice__issue_date__lte=eve)))
                 .order_by())
        for currency, due, after_end, before in later:
            by_due[currency].append((due, after_end or 0, 0))
            beginning[currency] += before or 0
            if due < eve:
                overdue_at_start[currency] += before or 0
                left_of_overdue[currency] += after_end or 0
    return Book(ending={cur: metrics.ageing_by_due(rows, end) for cur, rows in by_due.items()},
                beginning=dict(beginning),
                sales={cur: metrics.daily_series(days, end, sales_days) for cur, days in sold.items()},
                overdue_at_start=dict(overdue_at_start), left_of_overdue=dict(left_of_overdue))


def load_ageing_python(org: Organization, as_of: dt.date) -> dict[str, metrics.Ageing]:
    """Today's ageing the other way: the open book's columns into Python, bucketed by the engine.

    Only valid for the book as it stands (``as_of`` today or later); kept because the benchmark
    compares it with the GROUP BY path and a test checks both agree.
    """
    columns: dict[str, list[tuple[dt.date, int]]] = defaultdict(list)
    for currency, due, amount in (Invoice.objects.for_org(org).filter(status=Invoice.Status.OPEN)
                                  .values_list("currency", "due_date", "open_amount").order_by()):
        columns[currency].append((due, amount))
    return {cur: metrics.ageing(items, as_of) for cur, items in columns.items()}


def load_collections_from_ledger(org: Organization, first: dt.date,
                                 last: dt.date) -> dict[str, list[tuple[dt.date, int]]]:
    """``load_collections`` from the payments table itself (the reference)."""
    sums: dict[str, list[tuple[dt.date, int]]] = defaultdict(list)
    for currency, day, total in (Payment.objects.for_org(org).filter(date__gte=first, date__lte=last)
                                 .values_list("currency", "date").annotate(total=Sum("amount")).order_by()):
        sums[currency].append((day, total))
    return sums


def _optional_model(app_label: str, name: str):
    try:
        return apps.get_model(app_label, name)
    except LookupError:
        return None


@dataclass(frozen=True, slots=True)
class PromiseFigures:
    count: int
    amounts: dict[str, int]


def load_promises_due(org: Organization, first: dt.date, last: dt.date) -> PromiseFigures | None:
    """Promises to pay falling due between ``first`` and ``last``; None until agreements has them."""
    model = _optional_model("agreements", "Promise")
    if model is None:
        return None
    try:
        rows = list(model.objects.filter(organization=org, promised_date__gte=first, promised_date__lte=last)
                    .exclude(status="cancelled")
                    .values_list("currency").annotate(n=Count("id"), total=Sum("amount")).order_by())
    except FieldError:  # the model changed shape: show "no data" rather than break the page
        return None
    return PromiseFigures(count=sum(n for _, n, _ in rows), amounts={cur: total or 0 for cur, _, total in rows})


@dataclass(frozen=True, slots=True)
class MessageFigures:
    sent: int
    delivered: int
    failed: int
    by_channel: dict[str, tuple[int, int]]

    @property
    def delivery_rate(self) -> Decimal | None:
        return metrics.percent(self.delivered, self.sent)


def load_messages(org: Organization, first: dt.date, last: dt.date, tz: dt.tzinfo) -> MessageFigures | None:
    """Outgoing messages that left in the period and how many reached the debtor (delivered or read)."""
    model = _optional_model("messaging", "Message")
    if model is None:
        return None
    since = dt.datetime.combine(first, dt.time(), tzinfo=tz)
    until = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    try:
        rows = list(model.objects.filter(organization=org, direction="out", sent_at__gte=since, sent_at__lt=until)
                    .values_list("channel")
                    .annotate(n=Count("id"), ok=Count("id", filter=Q(delivered_at__isnull=False)),
                              bad=Count("id", filter=Q(status="failed")))
                    .order_by("channel"))
    except FieldError:
        return None
    return MessageFigures(sent=sum(r[1] for r in rows), delivered=sum(r[2] for r in rows),
                          failed=sum(r[3] for r in rows), by_channel={r[0]: (r[1], r[2]) for r in rows})


# -- the dashboard -----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class CurrencyFigures:
    currency: str
    ageing: metrics.Ageing
    beginning: int
    sales: int
    collected: int
    collected_previous: int
    collected_this_month: int
    collected_last_month: int
    dso: Decimal | None
    dso_countback: Decimal | None
    best_possible_dso: Decimal | None
    average_days_delinquent: Decimal | None
    cei: Decimal | None
    recovery_rate: Decimal | None
    #: (first day of month, amount) for the twelve months ending with the period's month.
    monthly_collections: list[tuple[dt.date, int]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Dashboard:
    organization: Organization
    period: Period
    currencies: list[CurrencyFigures]
    promises: PromiseFigures | None
    messages: MessageFigures | None
    week: tuple[dt.date, dt.date]
    #: Payments received per day and currency (what the cash forecast is set beside).
    collections: dict[str, list[tuple[dt.date, int]]] = field(default_factory=dict)

    def for_currency(self, currency: str) -> CurrencyFigures | None:
        return next((c for c in self.currencies if c.currency == currency), None)


def _month_start(day: dt.date, back: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def org_today(org: Organization) -> dt.date:
    """Today in the organization's own time zone (its month ends at its midnight, not UTC's)."""
    return timezone.now().astimezone(ZoneInfo(org.timezone)).date()


def dashboard(org: Organization, period: Period, source: str = "totals") -> Dashboard:
    """Every figure of the Dashboard for ``org`` over ``period`` (ageing on its last day).

    ``source`` "totals" reads the daily totals; "ledger" computes the same figures from the ledger's
    rows (slow at scale; kept as the reference the totals are checked against).
    """
    end = period.end
    window = max(COUNTBACK_DAYS, period.days)
    previous = period.previous()
    first = min(previous.start, _month_start(end, 11))
    if source == "ledger":
        book = load_book_from_ledger(org, period.start, end, sales_days=window)
        collections = load_collections_from_ledger(org, first, end)
    elif source == "totals":
        books = totals.daybooks(org, end)
        book = load_book(org, period.start, end, sales_days=window, books=books)
        collections = load_collections(org, first, end, books=books)
    else:
        raise ValueError(f"unknown source {source!r}: totals or ledger")
    sales = book.sales

    month, last_month = _month_start(end), _month_start(end, 1)
    currencies = sorted(set(book.ending) | set(book.beginning) | set(sales) | set(collections))
    figures = []
    for cur in currencies:
        ageing = book.ending.get(cur, metrics.EMPTY_AGEING)
        daily = sales.get(cur, [0] * window)
        period_sales = sum(daily[: period.days])
        dso = metrics.dso_standard(ageing.total, period_sales, period.days)
        best = metrics.dso_standard(ageing.current, period_sales, period.days)
        paid = collections.get(cur, [])
        monthly: dict[dt.date, int] = {_month_start(end, back): 0 for back in range(11, -1, -1)}
        for day, amount in paid:
            key = _month_start(day)
            if key in monthly:
                monthly[key] += amount

        def paid_between(a: dt.date, b: dt.date, paid=paid) -> int:
            return sum(amount for day, amount in paid if a <= day <= b)

        last_month_end = month - dt.timedelta(days=1)
        same_day_last_month = min(end.day, calendar.monthrange(last_month.year, last_month.month)[1])
        figures.append(CurrencyFigures(
            currency=cur, ageing=ageing, beginning=book.beginning.get(cur, 0), sales=period_sales,
            collected=paid_between(period.start, end), collected_previous=paid_between(previous.start, previous.end),
            collected_this_month=paid_between(month, end),
            # Month to date against the same days of last month, so the 10th is not compared with a
            # whole month; on the last day of a month it is the whole of both.
            collected_last_month=paid_between(last_month, min(last_month_end, last_month.replace(
                day=same_day_last_month))),
            dso=dso, dso_countback=metrics.dso_countback(ageing.total, daily),
            best_possible_dso=best, average_days_delinquent=metrics.average_days_delinquent(dso, best),
            recovery_rate=metrics.recovery_rate(book.overdue_at_start.get(cur, 0), book.left_of_overdue.get(cur, 0)),
            cei=metrics.collection_effectiveness(book.beginning.get(cur, 0), period_sales, ageing.total,
                                                 ageing.current),
            monthly_collections=list(monthly.items())))
    # "This week": Monday to Sunday around the period's last day.
    monday = end - dt.timedelta(days=end.weekday())
    week = (monday, monday + dt.timedelta(days=6))
    return Dashboard(organization=org, period=period, currencies=figures,
                     promises=load_promises_due(org, *week),
                     messages=load_messages(org, period.start, end, ZoneInfo(org.timezone)), week=week,
                     collections=collections)


# -- the same figures as rows (CSV, XLSX) and as JSON (`cobro report`) -------------------------------

def _money(minor: int, currency: str) -> str:
    return str(from_minor(minor, currency))


def _num(value: Decimal | None) -> str:
    return "" if value is None else str(value)


def as_rows(board: Dashboard) -> list[tuple[str, str, str, str]]:
    """``(section, currency, metric, value)`` rows; money as decimal strings in major units."""
    rows: list[tuple[str, str, str, str]] = []
    for c in board.currencies:
        cur = c.currency
        rows.append(("receivables", cur, "open", _money(c.ageing.total, cur)))
        rows.append(("receivables", cur, "overdue", _money(c.ageing.overdue, cur)))
        rows.append(("receivables", cur, "beginning", _money(c.beginning, cur)))
        for code, amount, count in zip(metrics.BUCKETS, c.ageing.amounts, c.ageing.counts, strict=True):
            rows.append(("ageing", cur, code, _money(amount, cur)))
            rows.append(("ageing_count", cur, code, str(count)))
        rows.append(("sales", cur, "sales", _money(c.sales, cur)))
        for name in ("dso", "dso_countback", "best_possible_dso", "average_days_delinquent", "cei", "recovery_rate"):
            rows.append(("ratios", cur, name, _num(getattr(c, name))))
        for name in ("collected", "collected_previous", "collected_this_month", "collected_last_month"):
            rows.append(("collections", cur, name, _money(getattr(c, name), cur)))
        for month, amount in c.monthly_collections:
            rows.append(("collections_by_month", cur, month.strftime("%Y-%m"), _money(amount, cur)))
    if board.promises is not None:
        rows.append(("promises_due_this_week", "", "count", str(board.promises.count)))
        for cur, amount in sorted(board.promises.amounts.items()):
            rows.append(("promises_due_this_week", cur, "amount", _money(amount, cur)))
    if board.messages is not None:
        rows.append(("messages", "", "sent", str(board.messages.sent)))
        rows.append(("messages", "", "delivered", str(board.messages.delivered)))
        rows.append(("messages", "", "failed", str(board.messages.failed)))
        rows.append(("messages", "", "delivery_rate", _num(board.messages.delivery_rate)))
    return rows


def as_json(board: Dashboard) -> dict:
    """The figures as one JSON-ready dict (what `cobro report` prints)."""
    out: dict = {
        "organization": board.organization.slug,
        "period": {"code": board.period.code, "start": board.period.start.isoformat(),
                   "end": board.period.end.isoformat(), "days": board.period.days},
        "currencies": {},
        "promises_due_this_week": None,
        "messages": None,
    }
    for c in board.currencies:
        cur = c.currency
        out["currencies"][cur] = {
            "open": _money(c.ageing.total, cur),
            "overdue": _money(c.ageing.overdue, cur),
            "beginning": _money(c.beginning, cur),
            "ageing": {code: {"amount": _money(a, cur), "invoices": n}
                       for code, a, n in zip(metrics.BUCKETS, c.ageing.amounts, c.ageing.counts, strict=True)},
            "sales": _money(c.sales, cur),
            "dso": _num(c.dso) or None,
            "dso_countback": _num(c.dso_countback) or None,
            "best_possible_dso": _num(c.best_possible_dso) or None,
            "average_days_delinquent": _num(c.average_days_delinquent) or None,
            "cei": _num(c.cei) or None,
            "recovery_rate": _num(c.recovery_rate) or None,
            "collected": _money(c.collected, cur),
            "collected_previous": _money(c.collected_previous, cur),
            "collected_this_month": _money(c.collected_this_month, cur),
            "collected_last_month": _money(c.collected_last_month, cur),
            "collections_by_month": {m.strftime("%Y-%m"): _money(a, cur) for m, a in c.monthly_collections},
        }
    if board.promises is not None:
        out["promises_due_this_week"] = {
            "from": board.week[0].isoformat(), "to": board.week[1].isoformat(), "count": board.promises.count,
            "amounts": {cur: _money(a, cur) for cur, a in sorted(board.promises.amounts.items())}}
    if board.messages is not None:
        m = board.messages
        out["messages"] = {"sent": m.sent, "delivered": m.delivered, "failed": m.failed,
                           "delivery_rate": _num(m.delivery_rate) or None,
                           "by_channel": {ch: {"sent": s, "delivered": d} for ch, (s, d) in m.by_channel.items()}}
    return out
