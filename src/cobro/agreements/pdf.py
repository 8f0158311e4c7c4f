"""The schedule of a payment plan as a PDF the customer can receive (WeasyPrint, HTML → PDF)."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import translation

from cobro.agreements.models import Plan
from cobro.agreements.services import debtor_today
from cobro.engine.money import format_money


def plan_schedule_html(plan: Plan, language: str | None = None) -> str:
    customer = plan.customer
    org = plan.organization
    lang = language or customer.language or org.language or "es"
    with translation.override(lang):
        fmt = lambda minor: format_money(minor, plan.currency, lang)  # noqa: E731
        rows = [{"number": i.number, "due_date": i.due_date, "amount": fmt(i.amount),
                 "paid": fmt(i.paid_amount) if i.paid_amount else ""} for i in plan.instalments.all()]
        return render_to_string("agreements/plan_schedule.html", {
            "plan": plan, "org": org, "customer": customer, "rows": rows,
            "invoices": [(i.ref, i.due_date, fmt(i.amount)) for i in plan.invoices.order_by("due_date", "ref")],
            "principal": fmt(plan.principal), "interest": fmt(plan.interest), "total": fmt(plan.total),
            "today": debtor_today(customer), "language": lang,
        })


def plan_schedule_pdf(plan: Plan, language: str | None = None) -> bytes:
    from weasyprint import HTML  # imported late: it loads Pango, which a web request rarely needs

    return HTML(string=plan_schedule_html(plan, language)).write_pdf()
