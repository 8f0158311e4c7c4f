import datetime as dt

import pytest

from cobro.ledger import services, signals
from cobro.ledger.models import Allocation, Invoice, Payment, Task, TimelineEvent

D = dt.date(2026, 1, 1)


@pytest.fixture
def book(org):
    customer, created = services.get_or_create_customer(org, "K-1", "Comercial Uno", country="CO",
                                                        email="uno@example.com")
    assert created and customer.timezone == "" and customer.home_zone == "America/Bogota"
    assert customer.preferred_channel == "email"
    a = services.add_invoice(org, customer, "A", D, D + dt.timedelta(days=30), "USD", 10000)
    b = services.add_invoice(org, customer, "B", D, D + dt.timedelta(days=10), "USD", 5000)
    return customer, a, b


def test_oldest_due_first_and_credit_left_over(org, book):
    customer, a, b = book
    pay = services.apply_payment(org, customer, "P1", D + dt.timedelta(days=5), 12000, "USD")
    a.refresh_from_db()
    b.refresh_from_db()
    assert (b.open_amount, b.status) == (0, "paid") and a.open_amount == 3000 and pay.unallocated == 0
    services.apply_payment(org, customer, "P2", D + dt.timedelta(days=6), 4000, "USD")
    a.refresh_from_db()
    assert a.status == "paid" and Payment.objects.get(ref="P2").unallocated == 1000


def test_same_payment_reference_is_recorded_once(org, book):
    customer, a, _ = book
    services.apply_payment(org, customer, "P1", D, 100, "USD", invoice=a)
    services.apply_payment(org, customer, "P1", D, 100, "USD", invoice=a)
    assert Payment.objects.count() == 1 and Allocation.objects.count() == 1


def test_settled_signal_after_commit(org, book, django_capture_on_commit_callbacks):
    customer, a, b = book
    seen = []

    def on_settled(sender, organization, invoice_ids, customer_ids, on_date, **kw):
        seen.append((invoice_ids, customer_ids, on_date))

    signals.invoices_settled.connect(on_settled)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.apply_payment(org, customer, "P1", D + dt.timedelta(days=3), 5000, "USD", invoice=b)
    finally:
        signals.invoices_settled.disconnect(on_settled)
    assert seen == [([b.pk], [customer.pk], D + dt.timedelta(days=3))]


def test_credit_note_within_the_open_balance(org, book):
    _, a, _ = book
    services.add_credit_note(org, a, "NC-1", D, 10000, reason="devolución")
    a.refresh_from_db()
    assert (a.open_amount, a.status) == (0, "credited")
    with pytest.raises(services.LedgerError):
        services.add_credit_note(org, a, "NC-2", D, 1)


def test_payment_to_another_customers_invoice_is_refused(org, book):
    _, a, _ = book
    other, _ = services.get_or_create_customer(org, "K-2", "Otro")
    with pytest.raises(services.LedgerError):
        services.apply_payment(org, other, "P9", D, 100, "USD", invoice=a)
    assert Invoice.objects.get(pk=a.pk).open_amount == 10000


def test_invoice_rules(org, book):
    customer, _, _ = book
    with pytest.raises(services.LedgerError):
        services.add_invoice(org, customer, "Z", D, D - dt.timedelta(days=1), "USD", 100)
    with pytest.raises(services.LedgerError):
        services.add_invoice(org, customer, "Z", D, D, "USD", 0)


def test_tasks_are_idempotent_by_source_and_go_to_the_owner(org, book, django_user_model):
    customer, _, _ = book
    agent = django_user_model.objects.create_user("ana", password="x")
    customer.owner = agent
    customer.save()
    t1 = services.create_task(org, customer, "call", "Llamar", D, source_key="call:K-1:2026-01-01")
    t2 = services.create_task(org, customer, "call", "Llamar", D, source_key="call:K-1:2026-01-01")
    assert t1.pk == t2.pk and t1.assignee == agent and Task.objects.count() == 1
    services.complete_task(t1, "reached")
    assert Task.objects.get().status == "done"


def test_timeline_records_payments(org, book):
    customer, a, _ = book
    services.apply_payment(org, customer, "P1", D, 100, "USD", invoice=a)
    event = TimelineEvent.objects.get(kind="payment.received")
    assert event.data["allocated"] == [[a.pk, 100]] and event.customer == customer
