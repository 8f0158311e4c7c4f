import datetime as dt
import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from cobro.dunning import services
from cobro.dunning.cycle import run_cycle
from cobro.dunning.demo import populate
from cobro.dunning.models import Action, CycleRun
from cobro.dunning.simulate import simulate
from cobro.dunning.tasks import due_cycles, enqueue_due
from cobro.engine.contact import allowed_at, holidays_for, zone
from cobro.engine.zones import country_zones
from cobro.ledger.models import Membership, Task, TimelineEvent
from cobro.ledger.services import apply_payment

D = dt.date


def member(org, name, role):
    user = get_user_model().objects.create_user(name, password="x")
    Membership.objects.create(user=user, organization=org, role=role)
    return user


def test_stages_in_board_order_and_derived(org, book):
    assert [c for c, _ in services.stages(org)] == [
        "por_vencer", "vencida", "en_gestion", "promesa", "plan_de_pagos", "disputa", "mediacion", "legal", "pagada"]
    stages = services.current_stages(org, as_of=D(2026, 2, 10))
    assert stages[book["K-1"].pk] == "por_vencer"  # I-2 due 2026-02-19
    assert stages[book["K-2"].pk] == "vencida"
    apply_payment(org, book["K-3"], "P-3", D(2026, 2, 5), 8050, "USD")
    assert services.current_stages(org, [book["K-3"].pk])[book["K-3"].pk] == "pagada"


def test_move_stage_checks_transitions_roles_and_records(org, book):
    agent, manager = member(org, "agente", "agent"), member(org, "jefa", "manager")
    k2 = book["K-2"]
    services.move_stage(org, k2, "en_gestion", actor=agent, reason="llamada")
    assert services.current_stages(org, [k2.pk])[k2.pk] == "en_gestion"
    event = TimelineEvent.objects.get(customer=k2, kind="stage.moved")
    assert event.data == {"from": "vencida", "to": "en_gestion", "reason": "llamada"}
    with pytest.raises(services.DunningError, match="needs a manager"):
        services.move_stage(org, k2, "mediacion", actor=agent)
    services.move_stage(org, k2, "mediacion", actor=manager)
    with pytest.raises(services.DunningError, match="cannot move"):
        services.move_stage(org, k2, "por_vencer", actor=manager)
    with pytest.raises(services.DunningError, match="unknown stage"):
        services.move_stage(org, k2, "limbo")


def test_pause_stops_the_cycle_and_explain_says_why(org, book):
    k2 = book["K-2"]
    with pytest.raises(services.DunningError, match="reason"):
        services.pause_customer(org, k2, D(2026, 3, 10), " ")
    services.pause_customer(org, k2, D(2026, 3, 10), "viaje del dueño")
    created = run_cycle(org, D(2026, 3, 4)).created
    assert not [o for o in created if o["customer_ref"] == "K-2"]
    lines = services.explain(org, k2, D(2026, 3, 4))
    assert any("I-3: en pausa manual hasta el 10 de marzo de 2026 (viaje del dueño)" in line for line in lines)
    assert any("Hoy no hay ninguna acción" in line for line in lines)


def test_explain_names_the_step_the_channel_and_the_rule(org, book):
    lines = services.explain(org, book["K-1"], D(2026, 3, 7))  # a Saturday; Chile allows Saturdays
    text = "\n".join(lines)
    assert "I-2: vence el 19 de febrero de 2026 (16 días de atraso)" in text
    assert "Recordatorio firme: mensaje por correo el 7 de marzo de 2026" in text
    sunday = "\n".join(services.explain(org, book["K-2"], D(2026, 3, 8)))
    assert "los domingos no se contacta (Colombia)" in sunday and "9 de marzo de 2026" in sunday


def test_policy_yaml_round_trip_and_all_or_nothing(org, book):
    services.ensure_default_policy(org)
    text = services.export_policies(org)
    assert "estandar" in text and "mediation_notice" in text
    bad = text.replace("tone: friendly", "tone: grumpy", 1).replace("offset: 7", "offset: siete", 1)
    with pytest.raises(services.DunningError) as err:
        services.import_policies(org, bad)
    assert "tone 'grumpy'" in str(err.value) and "offset 'siete'" in str(err.value)
    short = ("code: corta\nname: Corta\nsegment: pyme\nsteps:\n"
             "  - {offset: 5, action: message, template: overdue_friendly, tone: friendly}\n")
    (row,) = services.import_policies(org, short)
    assert row.segment == "pyme" and not row.is_default
    services.import_policies(org, text)
    assert services.default_policy(org).code == "estandar"
    assert services.export_policies(org).count("code: corta") == 1


def test_segment_policy_is_used(org, book):
    services.import_policies(org, "code: corta\nname: Corta\nsegment: pyme\nsteps:\n"
                                  "  - {offset: 13, action: message, template: special, tone: neutral}\n")
    k1 = book["K-1"]
    k1.segment = "pyme"
    k1.save()
    (msg,) = [o for o in run_cycle(org, D(2026, 3, 4)).created if o["customer_ref"] == "K-1"]
    assert (msg["step"], msg["template"]) == ("+13", "special")


def test_contact_rules_tighten_freely_loosen_only_by_admin_with_reason(org, book):
    manager, admin = member(org, "jefa", "manager"), member(org, "dueña", "admin")
    services.change_contact_rules(org, "CO", {"hours": {d: "09:00-17:00" for d in ("mon", "tue", "wed", "thu", "fri")}},
                                  actor=manager)
    msg = next(o for o in run_cycle(org, D(2026, 3, 4)).created if o["customer_ref"] == "K-2")
    assert msg["scheduled_for"] == "2026-03-04T09:00:00-05:00"
    looser = {"hours": {"sun": "08:00-20:00"}}
    with pytest.raises(services.DunningError, match="Solo un administrador"):
        services.change_contact_rules(org, "CO", looser, actor=manager, reason="x")
    with pytest.raises(services.DunningError, match="motivo registrado"):
        services.change_contact_rules(org, "CO", looser, actor=admin)
    change = services.change_contact_rules(org, "CO", looser, actor=admin, reason="acuerdo firmado con el cliente")
    assert change.loosens and change.reason


def test_a_rule_for_every_country_is_checked_in_every_country(org, book):
    """Issue #10 item 4: "*" with no caps, no gap and no cool-down reached every country unseen."""
    from cobro.dunning.models import ContactRuleChange
    from cobro.ledger.services import get_or_create_customer

    get_or_create_customer(org, "K-9", "Sin Preset", country="AR", email="ar@example.com")
    manager, admin = member(org, "jefa", "manager"), member(org, "dueña", "admin")
    none = {"caps": [], "min_gap_days": 0, "cooldown_days": 0}
    with pytest.raises(services.DunningError, match="Solo un administrador") as refused:
        services.change_contact_rules(org, "*", none, actor=manager, reason="campaña")
    said = str(refused.value)
    assert "CO: el tope de contactos (2 en 7 días) ya no limita: Correo, SMS, WhatsApp, Llamada, Carta" in said
    assert "CO: la pausa tras una conversación baja de 7 a 0 días" in said
    assert "CL: la separación mínima entre mensajes baja de 2 a 0 días" in said
    assert "US: el tope de contactos (7 en 7 días) ya no limita: Llamada" in said
    assert "MX:" not in said and "AR:" not in said  # nothing to loosen there
    assert not ContactRuleChange.objects.for_org(org).exists()
    assert services.contact_rules(org, ["CO"])["CO"].caps  # unchanged
    change = services.change_contact_rules(org, "*", none, actor=admin, reason="acuerdo con el regulador")
    assert change.loosens and services.contact_rules(org, ["CO", "US"])["CO"].caps == ()


def test_a_rule_for_every_country_reaches_the_countries_without_a_preset(org, book):
    from cobro.engine.contact import STRICT
    from cobro.ledger.services import get_or_create_customer

    get_or_create_customer(org, "K-9", "Sin Preset", country="AR", email="ar@example.com")
    manager, admin = member(org, "jefa", "manager"), member(org, "dueña", "admin")
    assert "AR" not in services.contact_rules(org, ["AR"])  # the strict common rules
    services.change_contact_rules(org, "*", {"caps": [{"limit": 1, "days": 14}]}, actor=manager)  # tightens
    ar = services.contact_rules(org, ["AR"])["AR"]
    assert ar.caps[0].limit == 1 and ar.windows == STRICT.windows
    every_day = {"hours": dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), "06:00-22:00")}
    with pytest.raises(services.DunningError) as refused:
        services.change_contact_rules(org, "*", every_day, actor=admin)
    assert "AR: el horario de los domingos es más amplio" in str(refused.value)
    assert "otros países: el horario de los sábados es más amplio" in str(refused.value)  # debtors of no listed country
    # A country's own change is compared with what it has now, "*" included.
    with pytest.raises(services.DunningError, match=r"AR: el tope de contactos \(1 en 14 días\)"):
        services.change_contact_rules(org, "AR", {"caps": []}, actor=manager)


@pytest.mark.parametrize(("lang", "words"), [
    ("en", ["Only an admin may loosen the contact rules", "CL: the contact cap (1 in 7 days) no longer limits: Call",
            "CL: the minimum gap between messages goes down from 2 to 0 days"]),
    ("pt-br", ["Somente um administrador pode afrouxar as regras de contato",
               "CL: o limite de contatos (1 em 7 dias) deixa de limitar: Ligação"]),
])
def test_loosenings_are_named_in_the_readers_language(org, book, lang, words):
    from django.utils import translation

    manager = member(org, "jefa", "manager")
    with translation.override(lang), pytest.raises(services.DunningError) as refused:
        services.change_contact_rules(org, "CL", {"caps": [], "min_gap_days": 0}, actor=manager)
    for w in words:
        assert w in str(refused.value)


def test_approval_moves_the_stage_and_sends_the_notice(org, book):
    manager, agent = member(org, "jefa", "manager"), member(org, "agente", "agent")
    run_cycle(org, D(2026, 4, 1))  # I-5 (due 2026-01-31) is 60 days late: mediation waits for approval
    pending = Action.objects.get(organization=org, status="pending_approval", customer=book["K-4"])
    assert Task.objects.filter(source_key=f"dunning:{pending.key}", kind="approval").exists()
    with pytest.raises(services.DunningError, match="needs a manager"):
        services.approve_action(org, pending, agent)
    notice = services.approve_action(org, pending, manager)
    assert services.current_stages(org, [book["K-4"].pk])[book["K-4"].pk] == "mediacion"
    assert notice.template == "mediation_notice" and notice.key == pending.key + ":aprobada"
    # The notice waits for an allowed moment in the debtor's zones, like any other contact: K-4 has no
    # zone nor phone, so every zone of Chile (Easter Island too).
    year = notice.scheduled_for.year
    zones = tuple(zone(name) for name in country_zones("CL"))
    assert len(zones) >= 4 and zone("Pacific/Easter") in zones
    assert allowed_at(services.contact_rules(org, ["CL"])["CL"], holidays_for(["CL"], [year])["CL"],
                      notice.scheduled_for, zones)
    with pytest.raises(services.DunningError, match="not waiting"):
        services.approve_action(org, pending, manager)


def test_cycle_and_explain_commands(org, book):
    out = StringIO()
    call_command("cycle", "--org", "acme", "--as-of", "2026-03-04", "--json", stdout=out)
    actions = [json.loads(line) for line in out.getvalue().splitlines()]
    assert actions and all({"customer_ref", "invoice_refs", "step", "action", "channel", "scheduled_for", "key"}
                           <= set(a) for a in actions)
    again = StringIO()
    call_command("cycle", "--org", "acme", "--as-of", "2026-03-04", "--json", stdout=again)
    assert again.getvalue() == ""
    text = StringIO()
    call_command("explain", "K-1", "--org", "acme", "--as-of", "2026-03-04", stdout=text)
    assert "Ya registrada: mensaje, Segundo recordatorio, por correo" in text.getvalue()
    with pytest.raises(CommandError, match="no organization 'nope'"):
        call_command("cycle", "--org", "nope")
    with pytest.raises(CommandError, match="not a date"):
        call_command("cycle", "--org", "acme", "--as-of", "04/03/2026")


def test_simulate_replays_payments_on_their_dates_and_writes_nothing(org, book):
    apply_payment(org, book["K-2"], "P-2", D(2026, 2, 20), 120000, "USD")
    actions = simulate(org, D(2026, 1, 25), D(2026, 3, 31))
    assert not Action.objects.exists() and not CycleRun.objects.exists()
    k2 = [a for a in actions if a["customer_ref"] == "K-2"]
    # I-3 due 2026-02-09, paid 2026-02-20: reminders -3, 0, +3 (Thursday) and +7, nothing after.
    assert [a["step"] for a in k2] == ["-3", "0", "+3", "+7"]
    assert all(a["as_of"] <= "2026-02-20" for a in k2)
    assert not [a for a in actions if "I-1" in a["invoice_refs"] and a["as_of"] >= "2026-02-03"]
    out = StringIO()
    call_command("simulate", "--org", "acme", "--from", "2026-01-25", "--to", "2026-03-31", "--json", stdout=out)
    assert [json.loads(line) for line in out.getvalue().splitlines()] == actions


def test_worker_enqueues_each_organization_once_at_its_local_hour(org, book):
    before = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)  # 07:00 in Santiago
    assert due_cycles(before) == []
    at_eight = dt.datetime(2026, 3, 4, 11, 5, tzinfo=dt.UTC)
    assert due_cycles(at_eight) == [(org.pk, D(2026, 3, 4))]
    seen: set = set()
    assert enqueue_due(at_eight, seen) == [(org.pk, D(2026, 3, 4))]  # immediate backend under tests: it ran
    assert CycleRun.objects.get(organization=org, as_of=D(2026, 3, 4)).finished_at
    assert enqueue_due(at_eight, seen) == [] and due_cycles(at_eight) == []


def test_demo_populate_is_idempotent(org, book):
    populate(org, D(2026, 3, 4))
    n = Action.objects.count()
    populate(org, D(2026, 3, 4))
    assert n and Action.objects.count() == n


def test_policy_command_exports_and_imports(org, book, tmp_path):
    out = StringIO()
    call_command("policy", "export", "--org", "acme", stdout=out)
    path = tmp_path / "p.yaml"
    path.write_text(out.getvalue().replace("Política estándar", "Estándar revisada"), encoding="utf-8")
    done = StringIO()
    call_command("policy", "import", str(path), "--org", "acme", stdout=done)
    assert "policy estandar (version 2) default" in done.getvalue()
    path.write_text("code: x\nsteps: []\n", encoding="utf-8")
    with pytest.raises(CommandError, match="non-empty list of steps"):
        call_command("policy", "import", str(path), "--org", "acme")
