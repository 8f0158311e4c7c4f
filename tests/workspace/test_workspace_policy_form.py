"""The policy editor (issue #13, "Policies edited in a form"): the steps table with add, remove and
reorder without JavaScript, every error on its row, the preview's dates, and the change log."""

from __future__ import annotations

import datetime as dt

import pytest

from cobro.workspace.policy_form import rows_from_definition

URL = "/settings/policies/estandar/edit/"


def _post_data(rows, name="Política estándar", op="save", **extra):
    data = {"name": name, "total": str(len(rows)), "op": op, **extra}
    for i, r in enumerate(rows):
        for key, value in r.items():
            if key == "approval":
                if value:
                    data[f"s-{i}-approval"] = value
                continue
            data[f"s-{i}-{key}"] = value
    return data


@pytest.fixture
def manager(login, book):
    return login(book.manager)


def _stored(book):
    from cobro.dunning.models import Policy

    return Policy.objects.for_org(book.org).get(code="estandar")


def _rows(book):
    return rows_from_definition(_stored(book).definition)


def test_only_managers_edit_and_another_organizations_policy_is_not_found(login, book):
    assert login(book.agent).get(URL).status_code == 403
    assert login(book.viewer).get(URL).status_code == 403
    page = login(book.manager).get(URL)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Recordatorio firme" in body and 'name="s-0-offset"' in body
    assert "Tarea de llamada" in body and "Atraso, tono firme" in body  # labels, not codes
    from cobro.dunning.models import Policy

    Policy.objects.create(organization=book.other, code="secreta", name="Zafiro", definition=_stored(book).definition)
    assert login(book.manager).get("/settings/policies/secreta/edit/").status_code == 404
    assert login(book.manager).get("/settings/policies/nada/edit/").status_code == 404


def test_the_list_links_to_the_editor(manager, book):
    body = manager.get("/settings/policies/").content.decode()
    assert 'href="/settings/policies/estandar/edit/"' in body


def test_add_a_step_without_javascript_then_save_it(manager, book):
    manager.get(URL)
    rows = _rows(book)
    added = manager.post(URL, _post_data(rows, op="add"))
    assert added.status_code == 200
    body = added.content.decode()
    n = len(rows)
    assert f'name="s-{n}-offset"' in body and f'value="{n + 1}"' in body  # a blank row, total counted
    assert _stored(book).version == 1  # adding a row saves nothing
    new = {"offset": "20", "name": "Llamada de seguimiento", "action": "call_task", "channel": "call",
           "template": "overdue_firm", "tone": "firm", "to_stage": "", "approval": "", "code": "", "orig": ""}
    saved = manager.post(URL, _post_data([*rows, new]))
    assert saved.status_code == 302
    policy = _stored(book)
    assert policy.version == 2
    step = next(s for s in policy.definition["steps"] if s["offset"] == 20)
    assert step == {"code": "+20", "offset": 20, "action": "call_task", "channel": "call", "template": "overdue_firm",
                    "tone": "firm", "name": "Llamada de seguimiento"}
    page = manager.get(URL).content.decode()
    assert "Llamada de seguimiento" in page and "añadió el paso del día +20" in page


def test_remove_and_reorder_without_javascript(manager, book):
    manager.get(URL)
    rows = _rows(book)
    moved = manager.post(URL, _post_data(rows, op="down-0")).content.decode()
    # Row 0 is now the "day 0" step and row 1 the "-3" one; nothing saved.
    assert 'name="s-0-offset" value="0"' in moved and 'name="s-1-offset" value="-3"' in moved
    removed = manager.post(URL, _post_data(rows, op="remove-2")).content.decode()
    assert 'value="+3"' not in removed and "Primer recordatorio de factura vencida" not in removed
    assert _stored(book).version == 1
    order = [rows[1], rows[0], *rows[3:]]  # moved and removed, then saved
    assert manager.post(URL, _post_data(order)).status_code == 302
    policy = _stored(book)
    assert [s["code"] for s in policy.definition["steps"]][:3] == ["0", "-3", "+7"]
    assert "+3" not in {s["code"] for s in policy.definition["steps"]}
    from cobro.dunning.models import PolicyChange

    change = PolicyChange.objects.for_org(book.org).get(policy=policy)
    assert change.actor == book.manager and change.version == 2 and change.source == "form"
    assert {"kind": "removed", "step": "+3", "offset": 3} in change.changes
    assert {"kind": "reordered"} in change.changes
    assert "+3" in {s["code"] for s in change.before["steps"]}


def test_every_row_error_is_shown_and_nothing_is_written(manager, book):
    manager.get(URL)
    rows = _rows(book)
    bad = [dict(r) for r in rows]
    bad[0]["template"] = "no_existe"                        # unknown template
    bad[3]["offset"], bad[3]["channel"] = "3", "preferred"  # same day and channel as row 3 (+3)
    bad[4]["offset"] = "400"                                 # out of range
    bad[5]["offset"] = "tres"                                # not a number
    answer = manager.post(URL, _post_data(bad))
    assert answer.status_code == 422
    body = answer.content.decode()
    assert "No se guardó nada" in body
    assert "Fila 1:" in body and "Plantilla desconocida: «no_existe»" in body
    assert "Fila 4:" in body and "Ya hay un paso el día +3 por este canal (fila 3)" in body
    assert "Fila 5:" in body and "El día 400 está fuera de rango: use de -90 a 365" in body
    assert "Fila 6:" in body and "El día «tres» no es un número entero de días" in body
    assert "Fila 2:" not in body
    assert body.count('aria-invalid="true"') == 4
    policy = _stored(book)
    assert policy.version == 1 and policy.definition["steps"][0]["template"] == "reminder_before"
    from cobro.dunning.models import PolicyChange

    assert not PolicyChange.objects.for_org(book.org).exists()


def test_a_message_step_needs_a_template_and_a_policy_a_name(manager, book):
    manager.get(URL)
    rows = _rows(book)
    rows[1] = {**rows[1], "template": ""}
    body = manager.post(URL, _post_data(rows, name=" ")).content.decode()
    assert "La política necesita un nombre." in body
    assert "Fila 2:" in body and "Un paso de mensaje o carta necesita una plantilla." in body


def test_preview_dates_are_the_due_date_plus_each_step(manager, book):
    manager.get(URL)
    rows = _rows(book)
    rows[2] = {**rows[2], "offset": "5"}  # +3 becomes +5: the preview follows the edited rows
    body = manager.post(URL, _post_data(rows, op="preview", example_due="2026-02-25",
                                        example_amount="100000")).content.decode()
    expected = {"2026-02-22": "-3", "2026-02-25": "0", "2026-03-02": "+5", "2026-03-04": "+7", "2026-03-12": "+15",
                "2026-03-27": "+30", "2026-04-26": "+60", "2026-05-26": "+90"}
    preview = body[body.index('id="policy-preview"'):]
    for iso in expected:
        assert f'<time datetime="{iso}">' in preview
    assert '<time datetime="2026-02-28">' not in preview  # the old +3 day is gone
    assert "2 de marzo de 2026" in preview  # the locale's date, not ISO
    assert _stored(book).version == 1


def test_preview_leaves_out_a_step_below_its_minimum_amount(manager, book):
    from cobro.dunning.models import Policy

    manager.get(URL)
    policy = _stored(book)
    definition = dict(policy.definition)
    definition["steps"] = [dict(s) for s in definition["steps"]]
    legal = next(s for s in definition["steps"] if s["offset"] == 90)
    legal["conditions"] = {"min_amount": {"CLP": "1000000"}}
    Policy.objects.filter(pk=policy.pk).update(definition=definition)
    small = manager.get(URL, {"example_due": "2026-02-25", "example_amount": "999999"}).content.decode()
    large = manager.get(URL, {"example_due": "2026-02-25", "example_amount": "1000000"}).content.decode()
    assert '<time datetime="2026-05-26">' not in small and '<time datetime="2026-05-26">' in large
    # The condition the table does not show survives a save through the form.
    assert manager.post(URL, _post_data(rows_from_definition(definition), name="Otra")).status_code == 302
    saved = next(s for s in _stored(book).definition["steps"] if s["offset"] == 90)
    assert saved["conditions"] == {"min_amount": {"CLP": "1000000"}} and saved["code"] == "+90"


def test_engine_timeline_is_pure_and_exact():
    from cobro.dunning.services import default_policy_data
    from cobro.engine.policy import parse_policy, timeline

    days = [(p.day, p.step.code) for p in timeline(parse_policy(default_policy_data()), dt.date(2028, 2, 27))]
    assert days[0] == (dt.date(2028, 2, 24), "-3")
    assert (dt.date(2028, 3, 1), "+3") in days  # across a leap day
    assert (dt.date(2028, 5, 27), "+90") in days


def test_yaml_import_still_works_and_is_logged(manager, book):
    import yaml

    from cobro.dunning.models import PolicyChange
    from cobro.dunning.services import default_policy_data

    data = default_policy_data()
    assert manager.post("/settings/policies/", {"yaml": yaml.safe_dump({**data, "name": "Por archivo"})}).status_code == 302
    change = PolicyChange.objects.for_org(book.org).get()
    assert change.source == "yaml" and change.actor == book.manager
