"""The reconciliation page ("Conciliación"): the day's bank lines by status and the team's decisions.

Views parse the request, call ``payments.services`` and redirect; they never write tables.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cobro.engine.money import MoneyError, parse_amount
from cobro.ledger.models import Customer, Invoice
from cobro.ledger.tenancy import require_role
from cobro.payments import services
from cobro.payments.models import StatementLine
from cobro.workspace.views import org_today

TABS = [("suggested", StatementLine.Status.SUGGESTED.label), ("unmatched", StatementLine.Status.UNMATCHED.label),
        ("applied", StatementLine.Status.APPLIED.label), ("ignored", StatementLine.Status.IGNORED.label)]


def _line(request, pk: int) -> StatementLine:
    return get_object_or_404(StatementLine.objects.for_org(request.org).select_related("customer", "account"), pk=pk)


def _day(request, org) -> dt.date:
    try:
        return dt.date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        latest = StatementLine.objects.for_org(org).order_by("-booking_date").values_list("booking_date", flat=True).first()
        return latest or org_today(org)


@require_GET
@require_role("agent")
def index(request):
    org = request.org
    day = _day(request, org)
    status = request.GET.get("status") or "suggested"
    if status not in dict(TABS):
        status = "suggested"
    counts = services.queue_counts(org, day)
    lines = list(StatementLine.objects.for_org(org).filter(booking_date=day, status=status)
                 .select_related("customer", "account").order_by("account__name", "statement_id", "position")[:500])
    refs = dict(Invoice.objects.for_org(org).filter(pk__in={a[0] for ln in lines for a in ln.allocations})
                .values_list("pk", "ref"))
    for ln in lines:
        ln.why = services.explain(ln.reasons, request.LANGUAGE_CODE)
        ln.invoice_refs = [refs[a[0]] for a in ln.allocations if a[0] in refs]
    return render(request, "payments/index.html", {
        "day": day, "status": status, "lines": lines,
        "tabs": [(code, label, counts.get(code, 0)) for code, label in TABS],
        "previous": day - dt.timedelta(days=1), "next": day + dt.timedelta(days=1)})


@require_GET
@require_role("agent")
def line_detail(request, pk: int):
    org = request.org
    line = _line(request, pk)
    q = (request.GET.get("q") or "").strip()
    found = []
    if q:
        found = list(Customer.objects.for_org(org).filter(Q(name__icontains=q) | Q(ref__iexact=q) | Q(tax_id__icontains=q))
                     .order_by("name")[:10])
    elif line.customer_id:
        found = [line.customer]
    open_by_customer = {}
    for inv in Invoice.objects.for_org(org).filter(customer__in=found, currency=line.currency, open_amount__gt=0
                                                   ).order_by("due_date", "ref"):
        open_by_customer.setdefault(inv.customer_id, []).append(inv)
    chosen = {a[0] for a in line.allocations}
    return render(request, "payments/line.html", {
        "line": line, "q": q, "why": services.explain(line.reasons, request.LANGUAGE_CODE),
        "found": [(c, open_by_customer.get(c.pk, [])) for c in found], "chosen": chosen,
        "can_assign": line.kind == "credit" and line.status != "applied"})


def _back(line: StatementLine):
    return redirect(f"/reconciliation/?day={line.booking_date.isoformat()}&status={line.status}")


@require_POST
@require_role("agent")
def accept(request, pk: int):
    line = _line(request, pk)
    try:
        services.accept(request.org, line, request.user)
    except services.PaymentsError as exc:
        messages.error(request, str(exc))
        return _back(line)
    messages.success(request, _("Movimiento conciliado con %(customer)s.") % {"customer": line.customer.name})
    return redirect(f"/reconciliation/?day={line.booking_date.isoformat()}&status=suggested")


@require_POST
@require_role("agent")
def assign(request, pk: int):
    """One customer (with or without chosen invoices), or several with an amount each: a split."""
    org = request.org
    line = _line(request, pk)
    ids = [int(x) for x in request.POST.getlist("customer") if x.isdigit()]
    customers = {c.pk: c for c in Customer.objects.for_org(org).filter(pk__in=ids)}
    chosen = {int(x) for x in request.POST.getlist("invoice") if x.isdigit()}
    invoices = list(Invoice.objects.for_org(org).filter(pk__in=chosen, customer_id__in=ids).order_by("due_date"))
    parts = []
    try:
        if not ids or len(customers) != len(set(ids)):
            raise services.PaymentsError(_("Elija al menos un cliente."))
        for cid in dict.fromkeys(ids):
            raw = (request.POST.get(f"amount_{cid}") or "").strip()
            amount = parse_amount(raw, line.currency) if raw else None
            parts.append((customers[cid], [i for i in invoices if i.customer_id == cid], amount))
        services.assign(org, line, parts, request.user)
    except (services.PaymentsError, MoneyError) as exc:
        messages.error(request, str(exc))
        return redirect(f"/reconciliation/lines/{line.pk}/?q={request.POST.get('q', '')}")
    messages.success(request, _("Movimiento conciliado a mano."))
    return redirect(f"/reconciliation/?day={line.booking_date.isoformat()}&status=applied")


@require_POST
@require_role("agent")
def undo(request, pk: int):
    line = _line(request, pk)
    try:
        services.undo(request.org, line, request.user, request.POST.get("reason", ""))
    except services.PaymentsError as exc:
        messages.error(request, str(exc))
        return redirect(f"/reconciliation/?day={line.booking_date.isoformat()}&status=applied")
    messages.success(request, _("Conciliación deshecha: las facturas vuelven a estar abiertas."))
    line.refresh_from_db()
    return _back(line)


@require_POST
@require_role("agent")
def dismiss(request, pk: int):
    line = _line(request, pk)
    try:
        services.dismiss(request.org, line, request.user, request.POST.get("reason", ""))
    except services.PaymentsError as exc:
        messages.error(request, str(exc))
    return _back(line)
