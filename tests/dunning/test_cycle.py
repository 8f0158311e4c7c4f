import datetime as dt

from cobro.dunning.cycle import load_snapshot, run_cycle
from cobro.dunning.models import Action, CycleRun
from cobro.ledger.models import Task, TimelineEvent

D = dt.date
CREATED_ON_MARCH_4 = 6  # K-1 one message, K-3 one, K-2 a message and a call, K-4 a call task and a fee


def test_first_run_takes_the_latest_step_and_nothing_on_paid(org, book):
    result = run_cycle(org, D(2026, 3, 4))
    by_customer = {}
    for obj in result.created:
        by_customer.setdefault(obj["customer_ref"], []).append(obj)
    assert all("I-1" not in o["invoice_refs"] for o in result.created)
    # K-1: I-2 is 13 days overdue on a first run: only +7 (the latest step), one message.
    (k1,) = by_customer["K-1"]
    assert (k1["step"], k1["action"], k1["invoice_refs"]) == ("+7", "message", ["I-2"])
    # K-3: I-4 was due yesterday: the "0" step (day of due date), caught up today.
    assert [o["step"] for o in by_customer["K-3"]] == ["0"]
    # K-2: I-3 is 23 days overdue: +15 gives one message and one call task.
    assert sorted(o["action"] for o in by_customer["K-2"]) == ["call_task", "message"]
    # K-4 cannot be reached: a task for the team, never a silent skip (and +30's late fee).
    assert sorted(o["action"] for o in by_customer["K-4"]) == ["call_task", "fee"]
    k4 = next(o for o in by_customer["K-4"] if o["action"] == "call_task")
    assert (k4["channel"], k4["step"], k4["template"]) == ("call", "+30", "late_fee_notice")
    assert Task.objects.filter(customer=book["K-4"], source_key=f"dunning:{k4['key']}").exists()
    assert len(result.created) == CREATED_ON_MARCH_4
    assert Action.objects.filter(organization=org).count() == len(result.created)
    assert CycleRun.objects.get(organization=org, as_of=D(2026, 3, 4)).finished_at is not None


def test_second_run_for_the_same_day_creates_nothing(org, book):
    first = run_cycle(org, D(2026, 3, 4))
    assert len(first.created) == CREATED_ON_MARCH_4
    assert run_cycle(org, D(2026, 3, 4)).created == []
    assert run_cycle(org, D(2026, 3, 4), dry_run=True).created == []
    # Even when the book changed (a new customer event), the same day gives the same keys.
    TimelineEvent.objects.create(organization=org, customer=book["K-1"], at=dt.datetime(2026, 3, 4, tzinfo=dt.UTC),
                                 kind="note", summary="x")
    again = run_cycle(org, D(2026, 3, 4))
    assert not again.skipped and again.created == []
    assert Action.objects.filter(organization=org).count() == len(first.created)


def test_dry_run_writes_nothing(org, book):
    preview = run_cycle(org, D(2026, 3, 4), dry_run=True)
    assert len(preview.created) == CREATED_ON_MARCH_4 and not Action.objects.exists() and not CycleRun.objects.exists()
    real = run_cycle(org, D(2026, 3, 4))
    assert [o["key"] for o in preview.created] == [o["key"] for o in real.created]


def test_scheduled_for_is_the_window_opening_in_the_debtors_zone(org, book):
    result = run_cycle(org, D(2026, 3, 4))  # a Wednesday
    msg = next(o for o in result.created if o["customer_ref"] == "K-2" and o["action"] == "message")
    assert msg["scheduled_for"] == "2026-03-04T07:00:00-05:00"  # Colombia opens at 07:00


def test_next_days_only_new_steps(org, book):
    run_cycle(org, D(2026, 3, 4))
    nothing = run_cycle(org, D(2026, 3, 5)).created
    assert [o for o in nothing if o["customer_ref"] == "K-1"] == []
    # I-2 due 2026-02-19: +15 falls on 2026-03-06.
    later = run_cycle(org, D(2026, 3, 6)).created
    assert {o["step"] for o in later if o["customer_ref"] == "K-1"} == {"+15", "+15-llamada"}


def test_contact_history_from_the_timeline_defers_to_the_next_allowed_day(org, book):
    k2 = book["K-2"]  # Colombia: at most 2 contacts in any 7 days
    for day in (2, 3):
        TimelineEvent.objects.create(organization=org, customer=k2, at=dt.datetime(2026, 3, day, 14, tzinfo=dt.UTC),
                                     kind="message.sent", summary="recordatorio", data={"channel": "email"})
    created = run_cycle(org, D(2026, 3, 4)).created
    msg = next(o for o in created if o["customer_ref"] == "K-2" and o["action"] == "message")
    assert msg["scheduled_for"] == "2026-03-09T07:00:00-05:00" and msg["key"].endswith(":2026-03-04")
    # The call task of the same step is a contact too: it waits for the cap as well, a day later.
    call = next(o for o in created if o["customer_ref"] == "K-2" and o["action"] == "call_task")
    assert call["scheduled_for"] == "2026-03-10T07:00:00-05:00"


def test_a_finished_day_is_skipped_until_the_book_changes(org, book):
    from cobro.ledger.services import add_invoice, apply_payment

    run_cycle(org, D(2026, 3, 4))
    assert run_cycle(org, D(2026, 3, 4)).skipped
    apply_payment(org, book["K-2"], "P-9", D(2026, 3, 4), 100, "USD")
    assert not run_cycle(org, D(2026, 3, 4)).skipped
    assert run_cycle(org, D(2026, 3, 4)).skipped
    # A new invoice whose step falls today is picked up by a re-run of the same day.
    add_invoice(org, book["K-3"], "I-9", D(2026, 2, 1), D(2026, 3, 1), "USD", 500)
    again = run_cycle(org, D(2026, 3, 4))
    assert not again.skipped


def test_reading_only_customers_with_a_step_today_decides_the_same(org, book):
    from cobro.dunning.cycle import load_snapshot
    from cobro.engine.plan import plan
    from cobro.ledger.models import Customer

    run_cycle(org, D(2026, 3, 4))
    narrow = load_snapshot(org, D(2026, 3, 6))
    everyone = load_snapshot(org, D(2026, 3, 6), customer_ids=Customer.objects.values_list("pk", flat=True))
    assert len(narrow.debtors) < len(everyone.debtors)
    assert plan(narrow).decisions == plan(everyone).decisions != []


def test_a_pause_of_some_invoices_holds_only_those_for_its_days_then_lifts(org, book):
    """A pause that names invoices (the portal's "I have paid") holds those and no other: the
    customer's other invoice keeps getting its steps, the paused one gets none until the day after
    the pause ends; a pause lifted early stops holding at once."""
    from cobro.dunning import services
    from cobro.ledger.services import add_invoice, get_or_create_customer

    k9, _ = get_or_create_customer(org, "K-9", "Nueve", country="CL", email="nueve@example.com")
    claimed = add_invoice(org, k9, "J-1", D(2026, 1, 20), D(2026, 2, 19), "USD", 30000)
    add_invoice(org, k9, "J-2", D(2026, 1, 21), D(2026, 2, 19), "USD", 40000)
    run_cycle(org, D(2026, 3, 3))  # the first run: each invoice has had its +7 step
    pause = services.pause_customer(org, k9, D(2026, 3, 8), "Transferencia informada (J-1)", invoices=[claimed])
    assert TimelineEvent.objects.filter(customer=k9, kind="collection.paused", summary__contains="J-1").exists()

    def k9_refs(day):
        return [o["invoice_refs"] for o in run_cycle(org, day).created
                if o["customer_ref"] == "K-9" and o["action"] == "message"]

    # +15 of both invoices falls on 6 March, inside the pause: one message, for J-2 alone.
    assert k9_refs(D(2026, 3, 4)) == [] and k9_refs(D(2026, 3, 5)) == []
    assert k9_refs(D(2026, 3, 6)) == [["J-2"]]
    assert all("J-1" not in refs for day in (7, 8) for refs in k9_refs(D(2026, 3, day)))
    # The pause ended on 8 March: J-1 is chased again, with the next step (+30, on 21 March).
    assert k9_refs(D(2026, 3, 21)) == [["J-1", "J-2"]]

    # A new pause lifted early (the payment was confirmed) holds nothing from then on.
    later = services.pause_customer(org, k9, D(2026, 4, 30), "otra transferencia", invoices=[claimed])
    snap_holds = {h.invoice_id for h in load_snapshot(org, D(2026, 4, 1)).holds}
    assert claimed.pk in snap_holds and len([h for h in snap_holds if h == claimed.pk]) == 1
    assert services.lift_pause(org, later) and not services.lift_pause(org, later)
    assert claimed.pk not in {h.invoice_id for h in load_snapshot(org, D(2026, 4, 1)).holds}
    assert pause.invoices.get() == claimed
