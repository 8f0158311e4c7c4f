"""The daily cycle with each kind of agreement: holds pause, items are told, the fee step posts a fee."""

from __future__ import annotations

import datetime as dt

from cobro.agreements import services
from cobro.agreements.models import Fee
from cobro.dunning.cycle import run_cycle
from cobro.dunning.models import Action

D = dt.date


def actions_on(org, as_of, invoice):
    return [a for a in Action.objects.for_org(org).filter(as_of=as_of) if invoice.pk in a.invoice_ids]


def test_fee_step_of_the_policy_posts_a_capped_fee(org, customer, invoices):
    services.set_terms(org, customer, late_fee_kind="fixed", late_fee_fixed=50_000)
    run_cycle(org, D(2026, 3, 31))  # F-1 is 30 days overdue: the default policy's fee step
    fee = Fee.objects.get(invoice=invoices[0])
    assert fee.amount == 9_000 and fee.action_key  # 9 % of 100,000 CLP: Chile's first bracket
    assert any(a.action == "fee" for a in actions_on(org, D(2026, 3, 31), invoices[0]))
    run_cycle(org, D(2026, 3, 31))
    assert Fee.objects.count() == 1


def test_disputed_and_promised_invoices_are_not_chased_and_the_promise_is_followed(org, customer, invoices):
    services.open_dispute(org, invoices[0], "wrong_amount", "no cuadra")
    p = services.create_promise(org, customer, D(2026, 3, 25), 50_000, "CLP", invoices=[invoices[1]],
                                made_on=D(2026, 3, 15))
    run_cycle(org, D(2026, 3, 22))  # F-1 is 21 days overdue, F-2 7: both held
    assert Action.objects.for_org(org).filter(as_of=D(2026, 3, 22)).count() == 0
    # Explain names the dispute's reason in words, in the reader's language (never its code).
    from django.utils import translation

    from cobro.dunning.services import explain

    for lang, words in (("es", "en disputa (Monto incorrecto)"), ("en", "(Wrong amount)")):
        with translation.override(lang):
            text = " ".join(explain(org, customer, D(2026, 3, 22)))
        assert words in text and "wrong_amount" not in text, (lang, text)
    run_cycle(org, D(2026, 3, 24))  # the day before the promised date: a reminder, nothing else
    [reminder] = Action.objects.for_org(org).filter(as_of=D(2026, 3, 24))
    assert reminder.data["items"] == [f"promise:{p.pk}:reminder"] and reminder.action == "message"
    run_cycle(org, D(2026, 3, 28))  # date + two days of grace passed with nothing paid: broken
    acted = list(Action.objects.for_org(org).filter(as_of=D(2026, 3, 28)))
    assert any(f"promise:{p.pk}:broken" in a.data.get("items", []) for a in acted)
    assert not any(invoices[0].pk in a.invoice_ids for a in acted)  # the dispute still holds F-1


def test_a_broken_plan_hands_its_invoices_back_to_the_policy(org, customer, invoices, users):
    plan = services.create_plan(org, customer, invoices[:1], 2, "weekly", D(2026, 3, 2), down_payment=0,
                                approved_by=users["manager"])
    run_cycle(org, D(2026, 3, 10))  # 9 days overdue, the first instalment due 9 March: a nudge, no dunning
    acted = Action.objects.for_org(org).filter(as_of=D(2026, 3, 10))
    assert [a.data.get("items") for a in acted] == [[f"plan:{plan.pk}:inst:1:late"]]
    run_cycle(org, D(2026, 3, 20))  # both instalments missed (3 days of grace): the plan breaks
    plan.refresh_from_db()
    assert plan.status == "broken"
    assert any(invoices[0].pk in a.invoice_ids for a in Action.objects.for_org(org).filter(as_of__gt=D(2026, 3, 10)))


def test_a_dispute_resolved_as_not_valid_resumes_collection_with_an_explanation(org, customer, invoices):
    d = services.open_dispute(org, invoices[0], "already_paid", "ya pagamos",
                              at=dt.datetime(2026, 3, 2, 15, tzinfo=dt.UTC))
    run_cycle(org, D(2026, 3, 8))
    assert actions_on(org, D(2026, 3, 8), invoices[0]) == []  # +7 while disputed: nothing
    services.resolve_dispute(org, d, False, "No hay pago registrado", at=dt.datetime(2026, 3, 9, 15, tzinfo=dt.UTC))
    run_cycle(org, D(2026, 3, 9))
    [told] = Action.objects.for_org(org).filter(as_of=D(2026, 3, 9))
    assert told.data["items"] == [f"dispute:{d.pk}:resolved"] and invoices[0].pk in told.invoice_ids
