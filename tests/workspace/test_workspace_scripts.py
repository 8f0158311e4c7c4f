"""Scripts, priority and the workspace's demo part."""

from __future__ import annotations

from cobro.ledger.models import Task, TimelineEvent
from cobro.workspace.models import DelayReason, Situation
from cobro.workspace.scripts import DEFAULTS, load_scripts, normalize_language, render_script, situation_for
from cobro.workspace.worklist import risk_of, worklist


def test_every_situation_has_a_default_in_every_language_that_greets_and_asks():
    for situation in Situation.values:
        for lang in ("es", "en", "pt-br"):
            text = DEFAULTS[situation][lang]
            assert "{agent}" in text and "?" in text, (situation, lang)


def test_render_keeps_unknown_placeholders_and_survives_stray_braces():
    assert render_script("Hola {contact}, {nope}", contact="Ana") == "Hola Ana, {nope}"
    assert render_script("Hola {contact", contact="Ana") == "Hola {contact"
    assert render_script("Debe {amount}", amount="") == "Debe {amount}"


def test_a_script_is_text_never_a_format_string():
    """A manager's script can neither walk attributes nor ask for a huge width (issue #10.1)."""
    hostile = "{agent.__class__.__mro__} {agent:>999999999} {agent!r} {0} {agent[0]}"
    assert render_script(hostile, agent="Ana") == hostile
    assert render_script("{agent}/{agent}", agent="Ana") == "Ana/Ana"


def test_situation_from_task_kind_or_explicit_data():
    assert situation_for("promise_broken") == Situation.PROMISE_BROKEN
    assert situation_for("call") == Situation.FIRST_CONTACT
    assert situation_for("call", {"situation": "hardship"}) == Situation.HARDSHIP
    assert situation_for("call", {"situation": "bogus"}) == Situation.FIRST_CONTACT
    assert normalize_language("pt-BR") == "pt-br" and normalize_language("fr") == "es"


def test_risk_grows_with_broken_promises_and_age():
    assert risk_of(0, 10) == (1.0, [])
    risk, why = risk_of(2, 90)
    assert risk == 2.25 and len(why) == 2


def test_worklist_priority_and_language_of_the_customer(book):
    book.customers[1].language = "pt-BR"
    book.customers[1].save(update_fields=["language"])
    from cobro.ledger.services import record_event

    # A broken promise triples the weight of the smaller debt: 80,000 × 10 days × 2.0 < 1,250,000 × 45 × 1.
    record_event(book.org, book.customers[1], "promise.broken", "x")
    record_event(book.org, book.customers[1], "promise.broken", "y")
    items = worklist(book.org, book.agent, book.today)
    assert [i.task.pk for i in items] == [book.task.pk, book.task2.pk]
    assert items[1].risk == 2.0 and "promessa" not in items[0].script
    assert "Estou ligando" in items[1].script  # Portuguese customer, Portuguese script
    assert "Agustina" in items[0].script and "F-1" in items[0].script
    assert load_scripts(book.org)[(Situation.FIRST_CONTACT, "es")] == DEFAULTS[Situation.FIRST_CONTACT]["es"]


def test_demo_part_is_idempotent(book):
    from cobro.workspace.demo import populate

    populate(book.org, book.today)
    counts = (Task.objects.for_org(book.org).count(), TimelineEvent.objects.for_org(book.org).count(),
              DelayReason.objects.for_org(book.org).count())
    populate(book.org, book.today)
    assert counts == (Task.objects.for_org(book.org).count(), TimelineEvent.objects.for_org(book.org).count(),
                      DelayReason.objects.for_org(book.org).count())
    assert Task.objects.for_org(book.org).filter(source_key__startswith="demo:call:", due_on=book.today).exists()
    assert not Task.objects.for_org(book.other).filter(source_key__startswith="demo:").exists()


def test_money_map_names_foreign_currencies():
    from django.utils import translation

    from cobro.workspace.templatetags.cobro_ui import money_map

    with translation.override("es"):
        assert money_map({}, "CLP") == "—"
        text = money_map({"CLP": 2_000_000, "MXN": 4_960_800}, "CLP")
    # Largest first (49,608.00 MXN before 2,000,000 CLP), each naming its currency: several write "$".
    assert text == "MXN 49.608,00 · CLP 2.000.000"
    with translation.override("es"):
        assert money_map({"CLP": 2_000_000}, "CLP") == "$2.000.000"
