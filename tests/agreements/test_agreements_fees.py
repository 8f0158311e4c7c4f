"""Late fees posted by the policy's fee step, capped by law and waivable; early-payment discounts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cobro.agreements import caps, services
from cobro.agreements.models import Discount, Fee
from cobro.agreements.services import AgreementError
from cobro.engine.agreements import max_late_charge
from cobro.ledger import services as ledger
from cobro.ledger.models import Invoice

D = dt.date


def test_fee_per_terms_is_capped_by_chiles_tiers_and_posted_once(org, customer, invoices, kinds, fee_step):
    services.set_terms(org, customer, late_fee_kind="fixed", late_fee_fixed=50_000, grace_days=5)
    fee_step(D(2026, 3, 20), [invoices[0]])  # 19 days overdue: Chile allows nothing yet
    assert not Fee.objects.exists()
    fee_step(D(2026, 3, 31), [invoices[0]])  # 30 days
    fee_step(D(2026, 4, 1), [invoices[0]])   # a second fee step: no second fee
    fee = Fee.objects.get()
    assert (fee.requested, fee.cap, fee.amount, fee.days_overdue) == (50_000, 9_000, 9_000, 30)
    assert "capped" in fee.reason and fee.basis["cap_country"] == "CL" and fee.basis["terms"] == "customer"
    charge = Invoice.objects.get(ref="CM-F-1")
    assert (charge.amount, charge.open_amount, charge.customer_id) == (9_000, 9_000, customer.pk)
    assert kinds().count("fee.posted") == 1


def test_no_fee_without_a_basis_in_the_terms(org, customer, invoices, fee_step):
    fee_step(D(2026, 4, 30), invoices)
    assert not Fee.objects.exists() and not Invoice.objects.filter(ref__startswith="CM-").exists()


def test_organization_default_terms_and_no_fee_on_a_fee(org, customer, invoices, fee_step):
    org.options["terms"] = {"late_fee_kind": "percent", "late_fee_rate": "3"}
    org.save()
    fee_step(D(2026, 4, 30), invoices[:2])
    assert sorted(Fee.objects.values_list("amount", flat=True)) == [1_500, 3_000]
    fee_step(D(2026, 6, 30), list(Invoice.objects.filter(ref__startswith="CM-")))
    assert Fee.objects.count() == 2


def test_spain_b2b_interest_plus_forty_euros(org, fee_step):
    es = ledger.get_or_create_customer(org, "E-1", "Talleres Bilbao SL", country="ES")[0]
    inv = ledger.add_invoice(org, es, "FE-1", D(2026, 1, 1), D(2026, 2, 1), "EUR", 1000_00)
    services.set_terms(org, es, late_fee_kind="daily_interest", late_fee_rate=Decimal("40"), business=True)
    fee_step(D(2026, 4, 15), [inv])  # 73 days
    fee = Fee.objects.get()
    cap = caps.legal_cap("ES", "EUR", D(2026, 4, 15))
    assert cap.fixed_compensation == 40_00 and cap.annual_rate == Decimal("10.15")
    assert fee.cap == max_late_charge(cap, 1000_00, 73) == 20_30 + 40_00
    assert (fee.requested, fee.amount) == (80_00, 60_30)  # 40 % a year asks 80.00 €: above the cap


def test_waiving_needs_a_manager_and_a_reason_and_credits_the_charge(org, customer, invoices, users, kinds, fee_step):
    services.set_terms(org, customer, late_fee_kind="fixed", late_fee_fixed=5_000)
    fee_step(D(2026, 4, 30), [invoices[0]])
    fee = Fee.objects.get()
    with pytest.raises(AgreementError, match="manager"):
        services.waive_fee(org, fee, users["agent"], "cliente antiguo")
    with pytest.raises(AgreementError, match="why"):
        services.waive_fee(org, fee, users["manager"], " ")
    services.waive_fee(org, fee, users["manager"], "Gesto comercial: cliente de 10 años", on_date=D(2026, 5, 2))
    fee.refresh_from_db()
    assert fee.status == "waived" and fee.waived_by == users["manager"]
    charge = Invoice.objects.get(ref="CM-F-1")
    assert charge.open_amount == 0 and charge.status == "credited"
    assert "fee.waived" in kinds()
    with pytest.raises(AgreementError, match="already waived"):
        services.waive_fee(org, fee, users["manager"], "otra vez")


@pytest.mark.parametrize("paid_on, discounted", [(D(2026, 2, 11), True), (D(2026, 2, 12), False)])
def test_early_payment_discount_at_the_window_edge(org, customer, invoices, pay, paid_on, discounted):
    services.set_terms(org, customer, early_discount_percent=Decimal("2"), early_discount_days=10)
    offers = services.discount_offers(org, D(2026, 2, 11))
    assert offers[invoices[0].pk]["amount"] == 2_000 and offers[invoices[0].pk]["until"] == D(2026, 2, 11)
    assert services.discount_offers(org, D(2026, 2, 12)) == {}
    pay("P-1", paid_on, 98_000, invoice=invoices[0])
    inv = Invoice.objects.get(pk=invoices[0].pk)
    if discounted:
        assert inv.open_amount == 0 and Discount.objects.get().amount == 2_000
    else:
        assert inv.open_amount == 2_000 and not Discount.objects.exists()


def test_many_payments_at_once_are_looked_at_in_batches_with_the_same_result(org, customer, invoices, monkeypatch):
    """A large book's statement names more payments than SQLite takes in one query: batches of them
    give the discounts one query would, each invoice judged by its latest payment over all batches."""
    services.set_terms(org, customer, early_discount_percent=Decimal("2"), early_discount_days=10)
    monkeypatch.setattr(services, "DISCOUNT_BATCH", 1)
    ids = [ledger.apply_payment(org, customer, ref, day, amount, "CLP", invoice=inv).pk for ref, day, amount, inv in (
        ("P-1", D(2026, 2, 5), 49_000, invoices[1]),   # F-2 paid at 98 % inside its window: discounted
        ("P-2", D(2026, 2, 5), 50_000, invoices[0]),   # F-1: half inside the window...
        ("P-3", D(2026, 2, 20), 48_000, invoices[0]),  # ...the rest after it: no discount
    )]
    granted = services.apply_early_discounts(org, ids)
    assert [d.invoice.ref for d in granted] == ["F-2"]
    assert Invoice.objects.get(pk=invoices[0].pk).open_amount == 2_000
    assert Invoice.objects.get(pk=invoices[1].pk).open_amount == 0
    assert services.apply_early_discounts(org, ids) == []  # once per invoice


def test_partial_payment_in_the_window_earns_no_discount(org, customer, invoices, pay):
    services.set_terms(org, customer, early_discount_percent=Decimal("2"), early_discount_days=10)
    pay("P-1", D(2026, 2, 5), 50_000, invoice=invoices[0])
    assert Invoice.objects.get(pk=invoices[0].pk).open_amount == 50_000 and not Discount.objects.exists()


def test_caps_file_names_its_sources():
    for country in ("CL", "ES", "CO", "BR"):
        info = caps.describe(country)
        assert info["source"] and "⚠" in info["verify"]
    assert caps.legal_cap("US", "USD", D(2026, 4, 1)) is None
    assert caps.legal_cap("ES", "EUR", D(2026, 4, 1), business=False) is None
    # A Chilean debtor billed in dollars: the lowest bracket on everything, no conversion guessed.
    assert caps.legal_cap("CL", "USD", D(2026, 4, 1)).tiers == ((None, Decimal(3)),)
    assert caps.plan_rate_ceiling("CO", D(2026, 11, 5)) == Decimal("24.8")
