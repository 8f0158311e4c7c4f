"""Results per step, channel and template on a small book worked out by hand: contacted customers,
what they paid within 3/7/30 days, against comparable customers not contacted that day; stored by
`cobro insights results` and shown on the Dashboard."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from cobro.engine.results import step_results
from cobro.insights.models import StepResult
from cobro.ledger import services as ledger
from cobro.ledger.models import Membership, Organization

A = ("+7", "email", "recordatorio")
B = ("+7", "sms", "recordatorio")
INVOICES = [  # customer, issued, due, amount, closed
    (0, 50, 80, 1000, None),
    (1, 50, 80, 2000, 110),
    (2, 50, 85, 500, None),
    (3, 20, 30, 800, None),
    (4, 95, 125, 300, None),
]
REDUCTIONS = [(0, 92, 600), (2, 95, 250), (1, 110, 2000)]
PAYMENTS = [(0, 92, 600), (2, 95, 250), (1, 110, 2000)]
CONTACTS = [(0, 90, A), (0, 90, A), (3, 90, A), (1, 90, B), (2, 121, A), (4, 3, A)]


def sums(r):
    return (r.contacts, r.matched, r.paid, round(r.expected_paid, 6), r.amount, round(r.expected_amount, 6),
            r.balance, len(r.customers))


def test_results_on_a_book_worked_out_by_hand():
    out = step_results(5, CONTACTS, INVOICES, REDUCTIONS, PAYMENTS, as_of=125)
    assert set(out) == {A, B}
    # Day 90. Open and past due: C0 (10 days, 1–30), C1 (10 days), C2 (5 days), C3 (60 days, 31–60).
    # Contacted: C0 and C3 (A, C0 twice: once), C1 (B). Comparable for 1–30: C2 only; none for 31–60.
    # C2 paid 250 of its 500 on day 95: nothing within 3 days, half its balance within 7 and 30.
    # Day 121: C2 (A; 36 days past due, balance 250) against C0 (41 days, 400 open), who paid nothing
    # in 121–124. The 7- and 30-day windows of day 121 are not over on day 125; day 3 is out of the window.
    assert sums(out[A][3]) == (3, 2, 1, 0.0, 600, 0.0, 1250, 3)
    assert sums(out[A][7]) == (2, 1, 1, 1.0, 600, 500.0, 1000, 2)
    assert sums(out[A][30]) == (2, 1, 1, 1.0, 600, 500.0, 1000, 2)
    assert sums(out[B][3]) == (1, 1, 0, 0.0, 0, 0.0, 2000, 1)
    assert sums(out[B][7]) == (1, 1, 0, 1.0, 0, 1000.0, 2000, 1)
    assert sums(out[B][30]) == (1, 1, 1, 1.0, 2000, 1000.0, 2000, 1)


def test_nothing_to_say_without_contacts_whose_window_is_over():
    assert step_results(5, [(0, 124, A)], INVOICES, REDUCTIONS, PAYMENTS, as_of=125) == {}
    assert step_results(5, [], INVOICES, REDUCTIONS, PAYMENTS, as_of=125) == {}


# -- the same book in the database ---------------------------------------------------------------------

BASE = dt.date(2026, 1, 1)


def on(n: int) -> dt.date:
    return BASE + dt.timedelta(days=n)


@pytest.fixture
def acme(db):
    from cobro.dunning.models import Action
    from cobro.messaging.models import Message

    org = Organization.objects.create(slug="acme", name="Acme", currency="CLP", timezone="America/Santiago")
    zone = dt.timezone(dt.timedelta(hours=-3))
    cust = [ledger.get_or_create_customer(org, f"C{i}", f"Cliente {i}")[0] for i in range(5)]
    inv = [ledger.add_invoice(org, cust[c], f"F{k}", on(i), on(d), "CLP", amount)
           for k, (c, i, d, amount, _closed) in enumerate(INVOICES)]
    for k, (i, d, amount) in enumerate(REDUCTIONS):
        c = INVOICES[i][0]
        ledger.apply_payment(org, cust[c], f"P{k}", on(d), amount, "CLP", invoice=inv[i])
    for k, (c, d, (step, channel, template)) in enumerate(CONTACTS):
        at = dt.datetime.combine(on(d), dt.time(10), tzinfo=zone)
        action = Action.objects.create(organization=org, customer=cust[c], key=f"a{k}", as_of=on(d), step=step,
                                       action="message", channel=channel, template=template, scheduled_for=at)
        Message.objects.create(organization=org, customer=cust[c], key=f"a{k}", action_id=action.pk,
                               template=template, channel=channel, status=Message.Status.DELIVERED,
                               scheduled_for=at, next_attempt_at=at, sent_at=at, delivered_at=at)
    return org


def test_the_command_stores_the_sums_and_the_dashboard_shows_them(acme, client):
    out = io.StringIO()
    call_command("insights", "results", "--org", "acme", "--as-of", on(125).isoformat(), stdout=out)
    assert json.loads(out.getvalue())["rows"] == 6
    row = StepResult.objects.for_org(acme).get(channel="email", horizon=7)
    assert (row.contacts, row.matched, row.paid, row.expected_paid, row.amount, row.expected_amount) == (
        2, 1, 1, 1.0, 600, 500)
    call_command("insights", "results", "--org", "acme", "--as-of", on(125).isoformat(), stdout=io.StringIO())
    assert StepResult.objects.for_org(acme).count() == 6  # a rerun replaces that day's rows
    user = get_user_model().objects.create_user("viewer", password="pw")
    Membership.objects.create(user=user, organization=acme, role="viewer")
    client.force_login(user)
    response = client.get(f"/insights/?start={on(100).isoformat()}&end={on(125).isoformat()}&currency=CLP")
    res = response.context["results"]
    assert res["made_on"] == on(125)
    email, sms = res["rows"]
    assert (email["channel"], sms["channel"]) == ("Correo", "SMS")
    assert [c["paid"] for c in email["cells"]] == [50, 100, 100]      # of matched contacts
    assert [c["expected"] for c in email["cells"]] == [0, 100, 100]   # comparables
    assert email["amount"] == "$600" and email["expected_amount"] == "$500"
    html = response.content.decode()
    assert "Resultados por paso, canal y plantilla" in html and "Pagaron en 3 días" in html
