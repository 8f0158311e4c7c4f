"""The case file: a PDF of the whole account for mediation or a lawyer (WeasyPrint from HTML)."""

from __future__ import annotations

import datetime as dt

from django.template.loader import render_to_string
from django.utils import timezone

from cobro.ledger.models import CreditNote, Customer, Invoice, Organization, Payment, TimelineEvent
from cobro.workspace.timeline import attach_messages


def case_file_context(org: Organization, customer: Customer, today: dt.date, user) -> dict:
    invoices = list(Invoice.objects.for_org(org).filter(customer=customer).order_by("due_date", "ref"))
    totals: dict[str, dict[str, int]] = {}
    for inv in invoices:
        t = totals.setdefault(inv.currency, {"amount": 0, "open": 0, "overdue": 0})
        t["amount"] += inv.amount
        t["open"] += inv.open_amount
        if inv.status == Invoice.Status.OPEN and inv.due_date < today:
            t["overdue"] += inv.open_amount
        inv.days_overdue = max(0, (today - inv.due_date).days) if inv.status == Invoice.Status.OPEN else 0
    return {
        "org": org, "customer": customer, "today": today, "generated_at": timezone.now(), "user": user,
        "contacts": list(customer.contacts.all()), "invoices": invoices, "totals": totals,
        "payments": list(Payment.objects.for_org(org).filter(customer=customer).order_by("date", "ref")),
        "credit_notes": list(CreditNote.objects.for_org(org).filter(customer=customer).order_by("date")),
        # Oldest first: a mediator reads the story in the order it happened.
        "events": attach_messages(org, list(TimelineEvent.objects.for_org(org).filter(customer=customer)
                                            .select_related("actor", "invoice").order_by("at", "id"))),
    }


def render_case_file(org: Organization, customer: Customer, today: dt.date, user) -> bytes:
    from weasyprint import HTML  # imported here: loading pango costs ~0.3 s that no other page needs

    html = render_to_string("workspace/casefile.html", case_file_context(org, customer, today, user))
    return HTML(string=html).write_pdf()
