"""The Dashboard page and its CSV/XLSX downloads. Thin: parse the filters, ask services, render."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal, InvalidOperation

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook

from cobro.engine import metrics
from cobro.engine.money import format_money, from_minor
from cobro.insights import cashflow, results, services
from cobro.ledger.replica import replica_reads
from cobro.ledger.tenancy import require_role


def _date(text: str | None, name: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise services.PeriodError(f"{name}: {text!r} is not a date (YYYY-MM-DD)") from None


def _period(request) -> tuple[services.Period, str | None]:
    """The period the filters ask for, or the default one and the reason the filters were refused."""
    today = services.org_today(request.org)
    try:
        period = services.make_period(today, request.GET.get("period") or None,
                                      _date(request.GET.get("start"), "start"), _date(request.GET.get("end"), "end"))
    except services.PeriodError as exc:
        return services.make_period(today), str(exc)
    return period, None


def _filename(board: services.Dashboard, ext: str) -> str:
    return f"cobro-{board.organization.slug}-{board.period.start}-{board.period.end}.{ext}"


@require_role("viewer")
@replica_reads
def dashboard(request):
    period, error = _period(request)
    board = services.dashboard(request.org, period)
    lang = get_language() or "es"
    currencies = [c.currency for c in board.currencies]
    chosen = request.GET.get("currency")
    if chosen not in currencies:
        chosen = request.org.currency if request.org.currency in currencies else (currencies or [None])[0]
    figures = board.for_currency(chosen) if chosen else None

    def money(minor: int, currency: str | None = chosen) -> str:
        return format_money(minor, currency, lang)

    summary = [{
        "currency": c.currency, "open": money(c.ageing.total, c.currency),
        "overdue": money(c.ageing.overdue, c.currency),
        "overdue_share": metrics.percent(c.ageing.overdue, c.ageing.total),
        "dso": c.dso, "cei": c.cei,
    } for c in board.currencies]
    context = {
        "board": board, "period": period, "period_error": error, "periods": services.PERIODS,
        "currencies": currencies, "currency": chosen, "figures": figures, "summary": summary,
        "query": request.GET.urlencode(), "replica_lag": getattr(request, "replica_lag", None),
    }
    if figures is not None:
        labels = [str(services.BUCKET_LABELS[code]) for code in metrics.BUCKETS]
        context["ageing_rows"] = [
            {"label": label, "amount": money(a), "count": n, "share": metrics.percent(a, figures.ageing.total)}
            for label, a, n in zip(labels, figures.ageing.amounts, figures.ageing.counts, strict=True)]
        context["ageing_total"] = money(figures.ageing.total)
        context["overdue_total"] = money(figures.ageing.overdue)
        context["money"] = {name: money(getattr(figures, name)) for name in (
            "sales", "beginning", "collected", "collected_previous", "collected_this_month", "collected_last_month")}
        context["collected_change"] = _change(figures.collected_this_month, figures.collected_last_month)
        context["monthly_rows"] = [(m, money(a)) for m, a in figures.monthly_collections]
        context["chart"] = {
            "currency": chosen,
            "ageing": {"labels": labels,
                       "values": [float(from_minor(a, chosen)) for a in figures.ageing.amounts],
                       "title": _("Cartera por antigüedad")},
            "monthly": {"labels": [m.strftime("%Y-%m") for m, _a in figures.monthly_collections],
                        "values": [float(from_minor(a, chosen)) for _m, a in figures.monthly_collections],
                        "title": _("Recaudado por mes")},
        }
    if chosen:
        cash = cashflow.board(request.org, chosen, period.end, board.collections.get(chosen, []))
        context["cash"] = {
            "made_on": cash.made_on,
            "weeks": [{"start": w.week_start, "end": w.week_end, "expected": money(w.expected),
                       "low": money(w.low), "high": money(w.high)} for w in cash.weeks],
            "total": money(sum(w.expected for w in cash.weeks)),
            "tracked": [{"start": t.week_start, "end": t.week_end, "expected": money(t.expected),
                         "low": money(t.low), "high": money(t.high), "actual": money(t.actual),
                         "within": t.within} for t in cash.tracked],
        }
    if chosen:
        context["results"] = _results(request.org, chosen, period.end, money)
        context["risk"] = _risk(request.org, chosen, period.end, money)
    if board.promises is not None:
        context["promise_amounts"] = [money(a, cur) for cur, a in sorted(board.promises.amounts.items())]
    return render(request, "insights/dashboard.html", context)


def _results(org, currency: str, end: dt.date, money) -> dict:
    """The latest stored results per step, channel and template, as the Dashboard's table shows them."""
    from cobro.messaging.models import MessageChannel

    made_on, rows = results.latest(org, currency, end)
    channels = dict(MessageChannel.choices)

    def cell(r):
        if r is None or not r.matched:
            return None
        return {"paid": metrics.percent(r.paid, r.matched), "expected": metrics.percent(round(r.expected_paid * 100),
                                                                                        r.matched * 100),
                "matched": r.matched, "contacts": r.contacts}

    out = []
    for row in rows:
        month = row.by_horizon.get(30)
        out.append({"step": row.step, "channel": channels.get(row.channel, row.channel), "template": row.template,
                    "customers": row.customers,
                    "cells": [cell(row.by_horizon.get(k)) for k in results.engine.HORIZONS],
                    "amount": money(month.amount) if month and month.matched else None,
                    "expected_amount": money(month.expected_amount) if month and month.matched else None})
    return {"made_on": made_on, "rows": out, "horizons": results.engine.HORIZONS}


#: The risk bands of ``cobro.engine.risk`` as the Dashboard names them.
RISK_LABELS = {"low": gettext_lazy("Bajo"), "medium": gettext_lazy("Medio"), "high": gettext_lazy("Alto")}


def _risk(org, currency: str, end: dt.date, money) -> dict:
    """Customers and open amount per risk band, from the latest scores stored on or before ``end``
    (``cobro risk --store``; two small queries, no model runs in the request)."""
    from cobro.dunning.segments import band_totals

    scored_on, rows = band_totals(org, currency, end)
    total = sum(amount for _b, _n, amount in rows)
    return {"scored_on": scored_on, "rows": [
        {"band": band, "label": RISK_LABELS.get(band, band), "customers": n, "amount": money(amount),
         "share": metrics.percent(amount, total)} for band, n, amount in rows]}


def _change(now: int, before: int):
    """Per cent change from ``before`` to ``now``, or None when there was nothing before."""
    if not before:
        return None
    return metrics.percent(now - before, before)


@require_role("viewer")
@replica_reads
def export_csv(request):
    period, _error = _period(request)
    board = services.dashboard(request.org, period)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["section", "currency", "metric", "value"])
    writer.writerows(services.as_rows(board))
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(board, "csv")}"'
    return response


def _cell(value: str):
    """Numbers as numbers in the spreadsheet, so a person can add them up; the rest as text."""
    try:
        return Decimal(value) if value else None
    except InvalidOperation:
        return value


@require_role("viewer")
@replica_reads
def export_xlsx(request):
    period, _error = _period(request)
    board = services.dashboard(request.org, period)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Panel")[:31])
    sheet.append(["section", "currency", "metric", "value"])
    for section, currency, metric, value in services.as_rows(board):
        sheet.append([section, currency, metric, _cell(value)])
    out = io.BytesIO()
    book.save(out)
    response = HttpResponse(out.getvalue(),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{_filename(board, "xlsx")}"'
    return response
