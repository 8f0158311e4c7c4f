"""The demo organization's portal: self-service limits, so a visitor can promise and propose a plan."""

from __future__ import annotations

from cobro.ledger.models import Customer, Invoice, Organization


def populate(org: Organization, today) -> None:
    options = dict(org.options or {})
    options.setdefault("promise_max_days", 30)
    options.setdefault("transfer_pause_days", 5)
    options.setdefault("plan_limits", {"max_instalments": 6, "min_down_percent": "10", "frequencies": ["monthly"]})
    if options != org.options:
        Organization.objects.filter(pk=org.pk).update(options=options)
        org.options = options


def sample_link(org: Organization) -> str | None:
    """A working portal link of a demo customer who owes something (printed by `cobro demo`)."""
    from cobro.portal.access import portal_url

    customer = (Customer.objects.for_org(org).filter(invoices__status=Invoice.Status.OPEN)
                .order_by("ref").first())
    return portal_url(customer) if customer else None
