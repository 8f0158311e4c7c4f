"""``{% bank_statements_card %}``: each bank account's last statement, and a warning when one is missing.

Shown on the dashboard (insights) and on the reconciliation page, from the same service.
"""

from __future__ import annotations

from django import template

register = template.Library()


@register.inclusion_tag("payments/accounts_card.html", takes_context=True)
def bank_statements_card(context):
    request = context.get("request")
    org = getattr(request, "org", None)
    if org is None:
        return {"health": []}
    from cobro.payments import services
    from cobro.workspace.views import org_today

    return {"health": services.accounts_health(org, org_today(org))}
