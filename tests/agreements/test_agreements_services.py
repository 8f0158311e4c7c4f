"""Promises, plans and disputes through their services, and what the cycle reads of them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cobro.agreements import cycle, services
from cobro.agreements.models import Dispute, Instalment, Plan, Promise
from cobro.agreements.services import AgreementError
from cobro.ledger import services as ledger
from cobro.ledger.models import Invoice, Task

D = dt.date


def holds_by_invoice(org, as_of):
    holds, _ = cycle.load(org, as_of)
    return {(h.invoice_id, h.kind): h for h in holds}


def items_by_kind(org, as_of):
    return {i.kind: i for i in cycle.load(org, as_of)[1]}


# -- promises ---------------------------------------------------------------------------------------
def test_promise_covers_oldest_invoices_and_pauses_them_until_date_plus_grace(org, customer, invoices, users,
                                                                             kinds):
    p = services.create_promise(org, customer, D(2026, 3, 20), 120_000, "CLP", taken_by=users["agent"],
                                made_on=D(2026, 3, 10))
    assert sorted(p.invoices.values_list("ref", flat=True)) == ["F-1", "F-2"]
    assert p.grace_days == 2 and kinds() == ["promise.made"]
    holds = holds_by_invoice(org, D(2026, 3, 10))
    assert holds[invoices[0].pk, "promise"].until == D(2026, 3, 22)
    assert (invoices[2].pk, "promise") not in holds
    assert "promise_reminder" not in items_by_kind(org, D(2026, 3, 18))
    item = items_by_kind(org, D(2026, 3, 19))["promise_reminder"]
    assert (item.key, item.amount, item.template) == (f"promise:{p.pk}:reminder", 120_000, "promise_reminder")
    assert item.due_date == D(2026, 3, 19)


def test_promise_kept_by_partial_payments(org, customer, invoices, pay, kinds):
    p = services.create_promise(org, customer, D(2026, 3, 20), 120_000, "CLP", made_on=D(2026, 3, 10))
    pay("P-1", D(2026, 3, 12), 70_000)
    p.refresh_from_db()
    assert p.status == "pending" and p.paid_amount == 70_000
    pay("P-2", D(2026, 3, 21), 50_000)  # inside the two days of grace
    p.refresh_from_db()
    assert p.status == "kept" and p.resolved_on == D(2026, 3, 21)
    assert kinds().count("promise.kept") == 1
    assert not holds_by_invoice(org, D(2026, 3, 21))


def test_promise_broken_opens_one_task_and_tells_the_cycle(org, customer, invoices, pay, kinds):
    p = services.create_promise(org, customer, D(2026, 3, 20), 120_000, "CLP", made_on=D(2026, 3, 10))
    pay("P-1", D(2026, 3, 12), 70_000)
    assert services.evaluate_agreements(org, D(2026, 3, 22))["promises_broken"] == 0  # last day of grace
    counts = services.evaluate_agreements(org, D(2026, 3, 23))
    assert counts["promises_broken"] == 1
    assert services.evaluate_agreements(org, D(2026, 3, 24))["promises_broken"] == 0  # idempotent
    p.refresh_from_db()
    assert p.status == "broken"
    tasks = Task.objects.for_org(org).filter(customer=customer)
    assert [t.source_key for t in tasks] == [f"agreements:promise:{p.pk}:broken"]
    assert kinds().count("promise.broken") == 1
    assert not holds_by_invoice(org, D(2026, 3, 23))  # the normal policy resumes
    item = items_by_kind(org, D(2026, 3, 24))["promise_broken"]
    assert item.amount == 50_000 and item.template == "promise_broken"
    assert item.due_date == D(2026, 3, 23)  # told on the day it broke
    assert "promise_broken" not in items_by_kind(org, D(2026, 3, 31))  # offered for a week
    assert services.promise_kept_rates(org) == {customer.pk: (0, 1)}


def test_late_payment_does_not_mend_a_broken_promise(org, customer, invoices, pay):
    p = services.create_promise(org, customer, D(2026, 3, 20), 100_000, "CLP", invoices=[invoices[0]],
                                made_on=D(2026, 3, 10))
    services.evaluate_agreements(org, D(2026, 3, 25))
    pay("P-1", D(2026, 3, 26), 100_000)
    p.refresh_from_db()
    assert p.status == "broken"


def test_a_new_promise_replaces_a_pending_one(org, customer, invoices, kinds):
    first = services.create_promise(org, customer, D(2026, 3, 20), 100_000, "CLP", invoices=[invoices[0]],
                                    made_on=D(2026, 3, 10))
    services.create_promise(org, customer, D(2026, 3, 30), 100_000, "CLP", invoices=[invoices[0]],
                            made_on=D(2026, 3, 15))
    first.refresh_from_db()
    assert first.status == "cancelled" and "promise.replaced" in kinds()


@pytest.mark.parametrize("kwargs, message", [
    ({"promised_date": D(2026, 3, 1)}, "in the past"),
    ({"amount": 0}, "positive"),
    ({"currency": "USD"}, "nothing open"),
    ({"currency": "XYZ"}, "unknown currency"),
])
def test_bad_promises_are_refused_with_a_reason(org, customer, invoices, kwargs, message):
    args = {"promised_date": D(2026, 3, 20), "amount": 1000, "currency": "CLP"} | kwargs
    with pytest.raises(ValueError, match=message):
        services.create_promise(org, customer, made_on=D(2026, 3, 10), **args)
    assert not Promise.objects.exists()


def test_promise_on_another_customers_invoice_is_refused(org, customer, invoices):
    other = ledger.get_or_create_customer(org, "C-2", "Otro")[0]
    with pytest.raises(AgreementError, match="not invoices of this customer"):
        services.create_promise(org, other, D(2026, 3, 20), 1000, "CLP", invoices=[invoices[0]],
                                made_on=D(2026, 3, 10))


# -- plans ------------------------------------------------------------------------------------------
def test_plan_inside_limits_is_active_and_follows_its_instalments(org, customer, invoices, pay, kinds):
    plan = services.create_plan(org, customer, invoices[:2], 3, "monthly", D(2026, 3, 10))
    assert plan.status == "active" and plan.principal == 150_000 and plan.down_payment == 15_000
    rows = list(plan.instalments.values_list("number", "due_date", "amount"))
    assert rows == [(0, D(2026, 3, 10), 15_000), (1, D(2026, 4, 10), 45_000), (2, D(2026, 5, 10), 45_000),
                    (3, D(2026, 6, 10), 45_000)]
    holds = holds_by_invoice(org, D(2026, 3, 10))
    assert holds[invoices[0].pk, "plan"].until is None and (invoices[2].pk, "plan") not in holds
    assert "instalment_reminder" not in items_by_kind(org, D(2026, 3, 10))  # the day it was agreed
    reminder = items_by_kind(org, D(2026, 4, 7))["instalment_reminder"]
    assert (reminder.ref, reminder.due_date, reminder.amount) == ("cuota 1", D(2026, 4, 7), 45_000)
    pay("P-1", D(2026, 3, 10), 15_000)
    pay("P-2", D(2026, 4, 9), 20_000)  # part of the first instalment
    inst = {i.number: i for i in plan.instalments.all()}
    assert (inst[0].paid_amount, inst[0].paid_on, inst[1].paid_amount) == (15_000, D(2026, 3, 10), 20_000)
    late = items_by_kind(org, D(2026, 4, 11))["instalment_late"]
    assert (late.key, late.amount, late.due_date) == (f"plan:{plan.pk}:inst:1:late", 25_000, D(2026, 4, 11))
    pay("P-3", D(2026, 6, 1), 115_000)
    plan.refresh_from_db()
    assert plan.status == "completed" and "plan.completed" in kinds()
    assert kinds().count("plan.instalment_paid") == 4


def test_plan_broken_after_missed_instalments_resumes_collection(org, customer, invoices, pay, kinds, users):
    plan = services.create_plan(org, customer, invoices[:2], 3, "monthly", D(2026, 3, 10), down_payment=0,
                                approved_by=users["manager"])  # no down payment: outside the limits
    pay("P-1", D(2026, 4, 10), 50_000)
    assert services.evaluate_agreements(org, D(2026, 5, 13))["instalments_missed"] == 0  # grace: 3 days
    counts = services.evaluate_agreements(org, D(2026, 5, 14))
    assert counts["instalments_missed"] == 1 and counts["plans_broken"] == 0
    counts = services.evaluate_agreements(org, D(2026, 6, 14))
    assert counts["plans_broken"] == 1 and counts["instalments_missed"] == 1
    services.evaluate_agreements(org, D(2026, 6, 15))
    plan.refresh_from_db()
    assert plan.status == "broken" and plan.ended_on == D(2026, 6, 14)
    assert kinds().count("plan.broken") == 1 and kinds().count("plan.instalment_missed") == 2
    assert Task.objects.for_org(org).filter(source_key=f"agreements:plan:{plan.pk}:broken").count() == 1
    assert not holds_by_invoice(org, D(2026, 6, 15))


def test_plan_outside_limits_waits_for_a_manager(org, customer, invoices, users):
    plan = services.create_plan(org, customer, None, 12, "weekly", D(2026, 3, 10), down_payment=0,
                                created_by=users["agent"])
    assert plan.status == "proposed" and len(plan.limit_notes) == 3
    assert holds_by_invoice(org, D(2026, 3, 10))[invoices[0].pk, "plan"].reason.localized() == "Plan de pagos por aprobar"
    with pytest.raises(AgreementError, match="manager"):
        services.approve_plan(org, plan, users["agent"])
    services.approve_plan(org, plan, users["manager"])
    plan.refresh_from_db()
    assert plan.status == "active" and plan.approved_by == users["manager"]
    with pytest.raises(AgreementError, match="already in a plan"):
        services.create_plan(org, customer, [invoices[0]], 2, "monthly", D(2026, 3, 10))


def test_plan_interest_respects_the_countrys_ceiling(org, customer, invoices):
    with pytest.raises(AgreementError, match="legal ceiling"):
        services.create_plan(org, customer, None, 4, "monthly", D(2026, 11, 10), annual_rate="45")
    assert not Plan.objects.exists() and not Instalment.objects.exists()
    plan = services.create_plan(org, customer, None, 4, "monthly", D(2026, 11, 10), annual_rate="12")
    assert plan.interest > 0
    assert sum(plan.instalments.values_list("amount", flat=True)) == plan.principal + plan.interest


def test_plan_options_and_limits_from_the_organization(org, customer, invoices):
    org.options["plan_limits"] = {"max_instalments": 3, "min_down_percent": "20", "max_total": "500000",
                                  "frequencies": ["monthly", "fortnightly"]}
    org.save()
    options = services.plan_options(org, customer, start=D(2026, 3, 10))
    assert {(o.frequency, o.count) for o in options} == {("monthly", 2), ("monthly", 3), ("fortnightly", 2),
                                                         ("fortnightly", 3)}
    assert all(o.down_payment == 36_000 for o in options)
    assert services.within_limits(org, 180_000, 36_000, 3, "monthly") == []
    assert len(services.within_limits(org, 600_000, 0, 4, "weekly")) == 4


# -- disputes ---------------------------------------------------------------------------------------
def test_dispute_pauses_at_once_and_invalid_resolution_resumes_with_a_message(org, customer, invoices, users,
                                                                              kinds):
    opened = dt.datetime(2026, 3, 5, 15, tzinfo=dt.UTC)
    d = services.open_dispute(org, invoices[0], "wrong_amount", "El monto no corresponde", users["agent"],
                              attachments=[("orden.txt", b"OC 123")], at=opened)
    assert holds_by_invoice(org, D(2026, 3, 5))[invoices[0].pk, "dispute"].until is None
    assert d.attachments.get().file.read() == b"OC 123"
    with pytest.raises(AgreementError, match="already has an open dispute"):
        services.open_dispute(org, invoices[0], "other", "otra vez")
    services.answer_dispute(org, d, "Revisamos la orden de compra", users["manager"],
                            at=opened + dt.timedelta(days=1))
    assert (invoices[0].pk, "dispute") in holds_by_invoice(org, D(2026, 3, 6))
    services.resolve_dispute(org, d, False, "El monto coincide con la orden de compra", users["manager"],
                             at=opened + dt.timedelta(days=2, hours=1))
    d.refresh_from_db()
    assert d.status == "invalid" and d.resolution_seconds == 2 * 86400 + 3600
    assert not holds_by_invoice(org, D(2026, 3, 8))
    item = items_by_kind(org, D(2026, 3, 8))["dispute_resolved"]
    assert (item.key, item.ref, item.invoice_ids) == (f"dispute:{d.pk}:resolved", "F-1", (invoices[0].pk,))
    assert kinds() == ["dispute.opened", "dispute.answered", "dispute.resolved"]


def test_valid_dispute_ends_in_a_credit_note(org, customer, invoices):
    d = services.open_dispute(org, invoices[1], "already_paid", "Pagado por transferencia")
    services.resolve_dispute(org, d, True, "Pago encontrado en el banco")
    invoice = Invoice.objects.get(pk=invoices[1].pk)
    assert invoice.open_amount == 0 and invoice.status == "credited"
    assert Dispute.objects.get().credit_note_ref == f"NC-D{d.pk}"


def test_dispute_reasons_are_the_organizations_list(org, invoices):
    assert [r.code for r in services.dispute_reasons(org)] == ["wrong_amount", "not_received", "already_paid",
                                                               "other"]
    with pytest.raises(AgreementError, match="unknown dispute reason"):
        services.open_dispute(org, invoices[0], "broken_screen")


# -- tenancy and scale ------------------------------------------------------------------------------
def test_load_sees_only_its_organization_in_a_few_queries(org, other_org, customer, invoices,
                                                          django_assert_max_num_queries):
    services.create_promise(org, customer, D(2026, 3, 20), 1000, "CLP", made_on=D(2026, 3, 10))
    services.create_plan(org, customer, [invoices[2]], 2, "monthly", D(2026, 3, 10))
    services.open_dispute(org, invoices[1], "other", "")
    assert cycle.load(other_org, D(2026, 3, 10)) == ([], [])
    with django_assert_max_num_queries(6):
        holds, items = cycle.load(org, D(2026, 3, 19))
    assert {h.kind for h in holds} == {"promise", "plan", "dispute"}


def test_interest_rate_of_a_plan_is_stored_exactly(org, customer, invoices):
    plan = services.create_plan(org, customer, None, 2, "monthly", D(2026, 11, 10), annual_rate=Decimal("12.5"))
    plan.refresh_from_db()
    assert plan.annual_rate == Decimal("12.5")


def test_payments_to_invoices_outside_the_plan_do_not_count_but_credit_does(org, customer, invoices, pay):
    plan = services.create_plan(org, customer, [invoices[1]], 2, "monthly", D(2026, 11, 10), annual_rate="12")
    assert plan.interest > 0
    pay("P-1", D(2026, 11, 10), 100_000, invoice=invoices[0])  # pays F-1, not in the plan
    pay("P-2", D(2026, 11, 10), 30_000, invoice=invoices[2])   # pays F-3, not in the plan
    plan.refresh_from_db()
    assert plan.paid_amount == 0 and plan.status == "active"
    # F-2 takes 50,000; the interest has no invoice, so it stays as credit and counts for the plan.
    pay("P-3", D(2026, 11, 12), 50_000 + plan.interest)
    plan.refresh_from_db()
    assert plan.paid_amount == plan.total and plan.status == "completed"


def test_another_organizations_invoice_cannot_be_disputed_or_promised(org, other_org, customer, invoices):
    with pytest.raises(AgreementError, match="another organization"):
        services.open_dispute(other_org, invoices[0], "other", "")
    stranger = ledger.get_or_create_customer(other_org, "X-1", "Ajeno")[0]
    with pytest.raises(AgreementError, match="not invoices of this customer"):
        services.create_promise(other_org, stranger, D(2026, 3, 20), 1000, "CLP", invoices=[invoices[0]],
                                made_on=D(2026, 3, 10))


def test_oversized_attachment_is_refused(org, invoices):
    with pytest.raises(AgreementError, match="larger than 10 MB"):
        services.open_dispute(org, invoices[0], "other", "", attachments=[("video.mp4", b"x" * (10 * 2**20 + 1))])
    assert not Dispute.objects.exists()


def test_evaluation_is_set_based(org, customer, invoices, django_assert_max_num_queries):
    others = [ledger.get_or_create_customer(org, f"C-{n}", f"Cliente {n}")[0] for n in range(2, 12)]
    for n, c in enumerate(others):
        inv = ledger.add_invoice(org, c, f"G-{n}", D(2026, 2, 1), D(2026, 3, 1), "CLP", 90_000)
        services.create_promise(org, c, D(2026, 3, 20), 10_000, "CLP", made_on=D(2026, 3, 10))
        if n % 2:
            services.create_plan(org, c, [inv], 3, "monthly", D(2026, 3, 10))
    with django_assert_max_num_queries(14):  # the same for 10 customers or 10,000
        counts = services.evaluate_agreements(org, D(2026, 3, 21))
    assert counts["promises_kept"] == 0


def test_promise_made_late_at_night_is_dated_in_the_debtors_zone(org, monkeypatch):
    from django.utils import timezone

    bogota = ledger.get_or_create_customer(org, "CO-1", "Droguería La 70", country="CO",
                                           timezone_name="America/Bogota")[0]
    ledger.add_invoice(org, bogota, "FC-1", D(2026, 2, 1), D(2026, 3, 1), "COP", 500_000_00)
    # 03:00 UTC on 11 March is still 22:00 on 10 March in Bogotá.
    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2026, 3, 11, 3, tzinfo=dt.UTC))
    p = services.create_promise(org, bogota, D(2026, 3, 10), 1000_00, "COP")
    assert p.made_on == D(2026, 3, 10)
