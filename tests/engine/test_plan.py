"""The daily decision, checked on examples and on generated books (hypothesis)."""

import dataclasses
import datetime as dt
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cobro.engine.contact import (
    MESSAGE_CHANNELS,
    STRICT,
    Contact,
    allowed_at,
    blocked,
    holidays_for,
    local_date,
    rules_from_params,
    zone,
)
from cobro.engine.plan import candidates, plan
from cobro.engine.policy import parse_policy
from cobro.engine.snapshot import AgreementItem, Contacted, Debtor, Hold, OpenInvoice, Snapshot
from cobro.engine.text import localized

D = dt.date
PRESETS = Path(__file__).resolve().parents[2] / "src" / "cobro" / "dunning" / "presets"  # not the working directory
with open(PRESETS / "default_policy.yaml", encoding="utf-8") as fh:
    POLICY = parse_policy(yaml.safe_load(fh))
with open(PRESETS / "contact_rules.yaml", encoding="utf-8") as fh:
    RULES = {c: rules_from_params(c, p) for c, p in yaml.safe_load(fh).items()}
ZONES = {"CO": "America/Bogota", "CL": "America/Santiago", "US": "America/New_York", "MX": "America/Mexico_City",
         "ES": "Europe/Madrid", "XX": "Asia/Tokyo"}
HOLIDAYS = holidays_for(ZONES, (2025, 2026, 2027))


def snapshot(as_of, invoices, debtors, **kw):
    return Snapshot(organization_id=1, as_of=as_of, invoices=tuple(invoices), debtors={d.id: d for d in debtors},
                    policies={"estandar": POLICY}, default_policy="estandar", rules=RULES, holidays=HOLIDAYS,
                    **kw)


def by_customer(contacts):
    out = {}
    for c in contacts:
        out.setdefault(c.customer_id, []).append(c)
    return out


def debtor(i=1, country="CO", reach=("email", "sms", "whatsapp", "call"), **kw):
    return Debtor(id=i, ref=f"K-{i}", country=country, timezone=ZONES[country], preferred="email",
                  reachable=frozenset(reach), **kw)


def inv(i, due, customer=1, amount=1000):
    return OpenInvoice(i, customer, f"F-{i}", due, "USD", amount)


def test_consolidates_one_message_listing_every_overdue_invoice():
    as_of = D(2026, 3, 10)  # a Tuesday
    snap = snapshot(as_of, [inv(1, as_of - dt.timedelta(3)), inv(2, as_of - dt.timedelta(7)),
                            inv(3, as_of - dt.timedelta(5)), inv(4, as_of + dt.timedelta(3)),
                            inv(5, as_of + dt.timedelta(10))],
                    [debtor()], last_run=as_of - dt.timedelta(1))
    (msg,) = plan(snap).decisions
    # +3 and +7 fall today (and -3 for F-4): one message, the most advanced step's template.
    assert (msg.step, msg.template, msg.tone) == ("+7", "overdue_neutral", "neutral")
    assert msg.invoice_ids == (2, 3, 1, 4)  # every overdue one, plus F-4 whose reminder is today
    assert msg.key == f"1:1:+7:{as_of}"


def test_catch_up_sends_only_the_most_relevant_step():
    as_of = D(2026, 3, 10)
    snap = snapshot(as_of, [inv(1, as_of - dt.timedelta(20))], [debtor()], last_run=as_of - dt.timedelta(10))
    steps = sorted(d.step for d in plan(snap).decisions)
    assert steps == ["+15", "+15-llamada"]  # +7 and +15 were missed; only +15 (message and call)


def test_holds_stop_collection_and_are_explained():
    as_of = D(2026, 3, 10)
    snap = snapshot(as_of, [inv(1, as_of - dt.timedelta(7)), inv(2, as_of - dt.timedelta(7))], [debtor()],
                    last_run=as_of - dt.timedelta(1),
                    holds=(Hold(1, "dispute", None, "monto incorrecto"), Hold(2, "promise", as_of, "paga el 10")))
    result = plan(snap, explain_for={1})
    assert result.decisions == []
    text = " ".join(localized(n) for n in result.notes[1])
    assert "F-1: en disputa (monto incorrecto)" in text and "F-2: en promesa de pago hasta el 10 de marzo de 2026" in text
    # The day after the promise date, collection resumes (at the next step that falls due).
    later = snapshot(as_of + dt.timedelta(8), snap.invoices, [debtor()], last_run=as_of + dt.timedelta(7),
                     holds=snap.holds)
    assert [d.invoice_ids for d in plan(later).decisions if d.action == "message"] == [(2,)]


def test_opt_out_falls_back_and_no_channel_opens_a_task():
    as_of = D(2026, 3, 10)
    fell_back = snapshot(as_of, [inv(1, as_of - dt.timedelta(3))],
                         [debtor(reach=("email", "sms"), opted_out=frozenset({"email"}))],
                         last_run=as_of - dt.timedelta(1))
    assert [d.channel for d in plan(fell_back).decisions] == ["sms"]
    nobody = dataclasses.replace(fell_back, debtors={1: debtor(reach=())})
    (task,) = plan(nobody).decisions
    assert (task.action, task.channel, task.reason) == ("call_task", "call", "sin ninguna forma de contacto: buscar datos")


def test_agreement_item_joins_the_message_or_goes_alone():
    as_of = D(2026, 3, 10)
    item = AgreementItem(1, "promise_reminder", "promise:9:reminder", as_of, 500, "USD", "promise_reminder",
                         invoice_ids=(7,))
    alone = snapshot(as_of, [], [debtor()], last_run=as_of - dt.timedelta(1), items=(item,))
    (msg,) = plan(alone).decisions
    assert (msg.step, msg.template, msg.tone, msg.items) == ("promise_reminder", "promise_reminder", "friendly",
                                                             ("promise:9:reminder",))
    joined = dataclasses.replace(alone, invoices=(inv(1, as_of - dt.timedelta(3)),))
    (msg,) = plan(joined).decisions
    assert msg.step == "+3" and msg.items == ("promise:9:reminder",) and msg.invoice_ids == (1, 7)


def test_approval_steps_wait_and_no_preset_country_gets_strict_window():
    as_of = D(2026, 3, 10)
    snap = snapshot(as_of, [inv(1, as_of - dt.timedelta(60))], [debtor(country="XX")],
                    last_run=as_of - dt.timedelta(1))
    (stage,) = plan(snap).decisions
    assert (stage.action, stage.status, stage.to_stage, stage.template) == (
        "stage", "pending_approval", "mediacion", "mediation_notice")
    msg_snap = dataclasses.replace(snap, invoices=(inv(1, as_of - dt.timedelta(3)),))
    (msg,) = plan(msg_snap).decisions
    assert msg.scheduled_for.astimezone(zone("Asia/Tokyo")).hour == 9  # 09:00 strict common window


# --- properties ------------------------------------------------------------------------------------

countries = st.sampled_from(sorted(ZONES))
channel_sets = st.frozensets(st.sampled_from(["email", "sms", "whatsapp", "call"]))


@st.composite
def books(draw):
    start = D(2026, 1, 1) + dt.timedelta(draw(st.integers(0, 364)))
    n = draw(st.integers(1, 4))
    debtors = [Debtor(id=i, ref=f"K-{i}", country=(c := draw(countries)), timezone=ZONES[c],
                      preferred=draw(st.sampled_from(["email", "sms", "whatsapp"])),
                      reachable=draw(channel_sets), opted_out=draw(channel_sets))
               for i in range(1, n + 1)]
    invoices, holds, paid_on = [], [], {}
    for k in range(draw(st.integers(0, 10))):
        cust = draw(st.integers(1, n))
        due = start + dt.timedelta(draw(st.integers(-100, 40)))
        invoices.append(inv(k + 1, due, cust, draw(st.integers(1, 10**7))))
        if draw(st.booleans()) and draw(st.booleans()):
            holds.append(Hold(k + 1, draw(st.sampled_from(["dispute", "promise", "plan", "pause"])),
                              draw(st.none() | st.just(start + dt.timedelta(draw(st.integers(0, 20)))))))
        if draw(st.integers(0, 4)) == 0:
            paid_on[k + 1] = start + dt.timedelta(draw(st.integers(0, 25)))
    conversations = [Contacted(draw(st.integers(1, n)),
                               dt.datetime.combine(start - dt.timedelta(draw(st.integers(0, 10))), dt.time(15),
                                                   tzinfo=dt.UTC), "call", True)
                     for _ in range(draw(st.integers(0, 2)))]
    gaps = draw(st.lists(st.integers(1, 4), min_size=5, max_size=25))
    return start, debtors, invoices, tuple(holds), paid_on, conversations, gaps


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books())
def test_properties_over_days(book):
    start, debtors, invoices, holds, paid_on, history, gaps = book
    by_id = {d.id: d for d in debtors}
    contacts = list(history)
    decided = []
    day, last_run = start, None
    for gap in gaps:
        open_now = [i for i in invoices if not (i.id in paid_on and paid_on[i.id] <= day)]
        snap = Snapshot(organization_id=1, as_of=day, invoices=tuple(open_now), debtors=by_id,
                        policies={"estandar": POLICY}, default_policy="estandar", rules=RULES,
                        holidays=HOLIDAYS, last_run=last_run, holds=holds, contacts=by_customer(contacts))
        result = plan(snap, explain_for=set(by_id))
        # Deterministic, and the slots and calendars shared between customers (only without notes)
        # change nothing.
        assert plan(snap).decisions == result.decisions
        maybe = candidates(open_now, {"estandar": POLICY}, day, last_run)
        assert maybe is None or {d.customer_id for d in result.decisions} <= maybe  # loading less is safe
        open_ids = {i.id for i in open_now}
        held = {h.invoice_id for h in holds if h.until is None or day <= h.until}
        listed = set()
        for d in result.decisions:
            assert set(d.invoice_ids) <= open_ids, "an action on a paid invoice"
            assert not set(d.invoice_ids) & held, "an action on a held (disputed, promised...) invoice"
            listed.update(d.invoice_ids)
            debtor = by_id[d.customer_id]
            rules, hol, tz = RULES.get(debtor.country, STRICT), HOLIDAYS.get(debtor.country, frozenset()), zone(debtor.timezone)
            if d.action in ("message", "call_task", "letter"):
                assert allowed_at(rules, hol, d.scheduled_for, (tz,)), "outside allowed hours or on a holiday"
                assert d.scheduled_for.astimezone(tz).date() >= day
                mine = [Contact(local_date(c.at, tz), c.channel, c.conversation) for c in contacts
                        if c.customer_id == d.customer_id]
                # Replaying the decision against every other contact: no rule may refuse it.
                assert not blocked(rules, hol, d.scheduled_for.astimezone(tz).date(), d.channel, mine), d
                contacts.append(Contacted(d.customer_id, d.scheduled_for, d.channel))
            if d.action == "message":
                assert d.channel in MESSAGE_CHANNELS and d.channel not in debtor.opted_out
                assert d.channel in debtor.reachable
        # Every step that fell due today happened (an action lists the invoice) or was explained.
        for i in open_now:
            if i.id in held:
                continue
            overdue = (day - i.due_date).days
            floor = (last_run - i.due_date).days if last_run else None
            if any(o <= overdue and (floor is None or o > floor) for o in POLICY.offsets):
                assert i.id in listed or any(i.ref in n for n in result.notes[i.customer_id])
        decided.extend((day, d) for d in result.decisions)
        keys = [d.key for _, d in decided]
        assert len(keys) == len(set(keys)), "two actions with the same key"
        last_run, day = day, day + dt.timedelta(gap)
    # At most one written message per customer and local day, over the whole run.
    seen = set()
    for _, d in decided:
        if d.action == "message":
            tz = zone(by_id[d.customer_id].timezone)
            slot = (d.customer_id, d.scheduled_for.astimezone(tz).date())
            assert slot not in seen, "two messages on one day"
            seen.add(slot)
