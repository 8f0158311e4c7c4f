"""Browser journey: a manager creates a segment in the form (a wrong amount is refused first), the
policies page shows its rules and how many customers it holds today, and a customer's page explains
that their policy was chosen by that segment; the database agrees with both."""

import pytest

from cobro.dunning import services
from cobro.dunning.cycle import load_snapshot
from cobro.dunning.models import PolicyAssignment, Segment
from cobro.ledger.models import Customer

pytestmark = pytest.mark.e2e
MANAGER = "supervisora@demo.cobro"
GENTLE = """
code: suave
name: Política suave
steps:
  - {code: "+5", offset: 5, action: message, channel: email, template: overdue_friendly, tone: friendly, name: Aviso}
"""


def test_manager_creates_a_segment_and_a_customer_follows_it(demo, open_page, sign_in, shot):
    services.import_policies(demo.org, GENTLE)
    own = set(PolicyAssignment.objects.for_org(demo.org).values_list("customer_id", flat=True))
    tagged = [c for c in Customer.objects.for_org(demo.org).filter(segment="corporativo") if c.pk not in own]
    assert tagged, "the demo has corporate customers"
    page = open_page("laptop")
    sign_in(page, MANAGER, demo.password)
    page.goto("/settings/policies/")
    page.click("#segment-new")
    page.fill("#seg-name", "Corporativos")
    page.select_option("#seg-policy", "suave")
    page.fill("#seg-tags", "corporativo")
    page.fill("#seg-amount_min", "mucho")
    page.click("#segment-save")
    page.wait_for_selector("#segment-errors")
    assert "Monto ilegible" in page.locator("#seg-amount_min-error").inner_text()
    assert not Segment.objects.for_org(demo.org).exists()
    assert page.input_value("#seg-tags") == "corporativo"  # what was typed is kept
    page.fill("#seg-amount_min", "")
    page.click("#segment-save")
    page.wait_for_selector(".msg-success")
    seg = Segment.objects.for_org(demo.org).get()
    assert (seg.name, seg.policy.code, seg.tags, seg.amount_min) == ("Corporativos", "suave", ["corporativo"], None)
    row = page.locator(f"#segments-table tr[data-segment='{seg.pk}']")
    assert "Etiqueta: corporativo" in row.inner_text() and "Política suave" in row.inner_text()
    assert row.locator("[data-count]").inner_text() == str(len(tagged))
    shot(page, "70-segment-created", "laptop")

    customer = tagged[0]
    page.goto(f"/customers/{customer.pk}/")
    why = page.locator(".card", has_text="Qué hará Cobro y por qué").inner_text()
    assert "La política la eligió el segmento «Corporativos»" in why and "Política suave" in why
    debtor = load_snapshot(demo.org, demo.today, customer_ids=[customer.pk]).debtors[customer.pk]
    assert (debtor.policy, debtor.policy_source, debtor.policy_segment) == ("suave", "segment", "Corporativos")
    shot(page, "71-customer-policy-by-segment", "laptop")
