"""Every page and action, for who may and who may not; no page shows another organization's data."""

from __future__ import annotations

import datetime as dt

import pytest

from cobro.ledger.models import Customer, Membership, Task, TimelineEvent
from cobro.workspace.models import CallScript, DelayReason, UserPreference

PASSWORD = "s3cret-pass-123"  # as in conftest.make_user

PAGES = ["/today/", "/board/", "/customers/"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_need_sign_in(client, book, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.parametrize("path", PAGES)
def test_viewer_sees_pages_without_other_org_data(login, book, path):
    response = login(book.viewer).get(path)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Cliente Secreto" not in body
    assert "Llamar secreto" not in body


def test_sign_in_page_and_login_restores_language(client, book):
    UserPreference.objects.create(user=book.agent, language="en")
    page = client.get("/login/")
    assert page.status_code == 200 and b'name="password"' in page.content
    bad = client.post("/login/", {"username": "agustina", "password": "wrong"})
    assert bad.status_code == 200 and b"msg-error" in bad.content
    response = client.post("/login/", {"username": "agustina", "password": PASSWORD})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "en"


def test_language_switch_is_stored_per_user(login, book):
    client = login(book.agent)
    response = client.post("/language/", {"language": "pt-br", "next": "/board/"})
    assert response.status_code == 302 and response["Location"] == "/board/"
    assert UserPreference.objects.get(user=book.agent).language == "pt-br"
    assert client.post("/language/", {"language": "xx"}).status_code == 400
    evil = client.post("/language/", {"language": "en", "next": "https://evil.example/"})
    assert evil["Location"] == "/"


def test_org_switch_only_to_own_organizations(login, book):
    Membership.objects.create(user=book.manager, organization=book.other, role="viewer")
    client = login(book.manager)
    assert "Acme SpA" in client.get("/today/").content.decode()
    assert client.post("/org/", {"org": "otra"}).status_code == 302
    assert "Cliente Secreto" in client.get("/customers/").content.decode()
    agent = login(book.agent)
    assert agent.post("/org/", {"org": "otra"}).status_code == 404


def test_today_lists_my_and_unassigned_tasks_in_priority_order(login, book):
    Task.objects.filter(pk=book.task2.pk).update(assignee=book.manager)
    body = login(book.agent).get("/today/").content.decode()
    assert "Ferretería Los Andes" in body and "Panadería Sol" not in body
    assert "Guion sugerido" in body and "Agustina" in body  # the script speaks with the agent's name
    Task.objects.filter(pk=book.task2.pk).update(assignee=None)
    body = login(book.agent).get("/today/").content.decode()
    assert body.index("Ferretería Los Andes") < body.index("Panadería Sol")  # more at stake, longer overdue


def test_agent_logs_a_call_with_a_promise(login, book):
    client = login(book.agent)
    promised = book.today + dt.timedelta(days=5)
    p = f"t{book.task.pk}-"
    response = client.post(f"/tasks/{book.task.pk}/log/", {
        p + "outcome": "reached", p + "reason": "cash_flow", p + "note": "Paga el viernes",
        p + "promise_date": promised.isoformat(), p + "promise_amount": "500.000"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200, response.content
    event = TimelineEvent.objects.get(kind="call.logged", customer=book.customers[0])
    assert event.data["outcome"] == "reached" and event.data["reason"] == "cash_flow"
    assert event.actor == book.agent
    assert TimelineEvent.objects.filter(kind="promise.made", customer=book.customers[0]).exists()
    book.task.refresh_from_db()
    assert book.task.status == Task.Status.DONE and book.task.outcome == "reached"


def test_call_form_errors_are_clear_and_nothing_is_written(login, book):
    client = login(book.agent)
    p = f"t{book.task.pk}-"
    response = client.post(f"/tasks/{book.task.pk}/log/", {
        p + "outcome": "no_answer", p + "promise_date": (book.today - dt.timedelta(days=1)).isoformat(),
        p + "promise_amount": "abc"}, HTTP_HX_REQUEST="true")
    # 200 with the form retargeted onto itself: htmx does not swap a 422, so the errors would not show.
    assert response.status_code == 200 and response["HX-Retarget"] == f"#outcome-t{book.task.pk}"
    body = response.content.decode()
    assert "pasado" in body and "Solo se registra un acuerdo" in body
    assert "«abc» no es un monto" in body and "not an amount" not in body
    assert not TimelineEvent.objects.filter(kind="call.logged").exists()
    book.task.refresh_from_db()
    assert book.task.status == Task.Status.OPEN


def test_outcome_form_loads_on_demand_for_agents_only(login, book):
    response = login(book.agent).get(f"/tasks/{book.task2.pk}/form/")
    assert response.status_code == 200 and f'name="t{book.task2.pk}-outcome"'.encode() in response.content
    assert login(book.viewer).get(f"/tasks/{book.task2.pk}/form/").status_code == 403
    assert login(book.outsider).get(f"/tasks/{book.task2.pk}/form/").status_code == 404


def test_viewer_and_outsider_cannot_log_calls(login, book):
    p = f"t{book.task.pk}-"
    data = {p + "outcome": "no_answer"}
    assert login(book.viewer).post(f"/tasks/{book.task.pk}/log/", data).status_code == 403
    assert login(book.outsider).post(f"/tasks/{book.task.pk}/log/", data).status_code == 404
    assert not TimelineEvent.objects.filter(kind="call.logged").exists()


def test_board_shows_columns_counts_and_filters(login, book):
    client = login(book.viewer)
    body = client.get("/board/").content.decode()
    assert "Vencida" in body and "Por vencer" in body
    assert "Ferretería Los Andes" in body and "Transportes Sur" in body
    assert 'class="kcard-move"' not in body  # a viewer cannot move cards
    filtered = client.get("/board/", {"segment": "corporativo"}).content.decode()
    assert "Ferretería Los Andes" in filtered and "Panadería Sol" not in filtered
    by_amount = client.get("/board/", {"min": "100.000"}).content.decode()
    assert "Ferretería Los Andes" in by_amount and "Panadería Sol" not in by_amount
    mine = login(book.agent).get("/board/", {"owner": "me"}).content.decode()
    assert "Ferretería Los Andes" in mine and "Panadería Sol" not in mine


def test_board_move_records_who_and_when(login, book):
    customer = book.customers[0]
    client = login(book.agent)
    response = client.post(f"/board/move/{customer.pk}/", {"stage": "en_gestion"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    event = TimelineEvent.objects.get(kind="stage.moved", customer=customer)
    assert event.actor == book.agent and event.data["to"] == "en_gestion"
    assert client.post(f"/board/move/{customer.pk}/", {"stage": "nope"}).status_code == 400
    refused = client.post(f"/board/move/{customer.pk}/", {"stage": "legal"}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 409
    assert login(book.viewer).post(f"/board/move/{customer.pk}/", {"stage": "vencida"}).status_code == 403
    assert login(book.outsider).post(f"/board/move/{customer.pk}/", {"stage": "vencida"}).status_code == 404


def test_board_column_lazy_loads_more_cards(login, book, today):
    from cobro.ledger.models import Customer
    from cobro.ledger.services import add_invoice
    from cobro.workspace.board import PAGE_SIZE

    for i in range(PAGE_SIZE + 3):
        c = Customer.objects.create(organization=book.org, ref=f"M{i}", name=f"Moroso {i:02d}", country="CL",
                                    timezone="America/Santiago")
        add_invoice(book.org, c, f"M-{i}", today - dt.timedelta(days=40), today - dt.timedelta(days=10), "CLP",
                    1000 + i)
    client = login(book.viewer)
    body = client.get("/board/").content.decode()
    assert "Ver más" in body
    more = client.get("/board/column/vencida/", {"offset": PAGE_SIZE}).content.decode()
    # Two fixture customers are overdue too: the column holds PAGE_SIZE + 5, the second page the rest.
    assert more.count('class="kcard"') == 5
    assert "Ver más" not in more
    assert client.get("/board/column/nope/").status_code == 404


def test_board_query_count_does_not_grow_with_the_book(login, book, today, django_assert_max_num_queries):
    from cobro.ledger.models import Customer
    from cobro.ledger.services import add_invoice

    client = login(book.viewer)
    client.get("/board/")  # warm caches (content types, sessions)
    for i in range(60):
        c = Customer.objects.create(organization=book.org, ref=f"Q{i}", name=f"Q {i}", country="CL",
                                    timezone="America/Santiago")
        add_invoice(book.org, c, f"Q-{i}", today - dt.timedelta(days=90), today - dt.timedelta(days=i), "CLP", 5000)
    with django_assert_max_num_queries(40):
        assert client.get("/board/").status_code == 200


def test_customer_page_shows_timeline_and_hides_other_orgs(login, book, today):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cobro.ledger.services import add_invoice, record_event

    customer = book.customers[0]
    client = login(book.viewer)
    client.get(f"/customers/{customer.pk}/")
    counts = []
    for round_ in range(2):
        for i in range(10):
            record_event(book.org, customer, "note.added", f"Nota {round_}-{i}", data={"text": f"texto {i}"})
            add_invoice(book.org, customer, f"G-{round_}-{i}", today - dt.timedelta(days=50), today, "CLP", 100)
        with CaptureQueriesContext(connection) as ctx:
            body = client.get(f"/customers/{customer.pk}/").content.decode()
        counts.append(len(ctx.captured_queries))
    # The engine's explanation reads a snapshot (about 20 queries, the segments one of them); nothing
    # grows with the account.
    assert counts[0] == counts[1] <= 41, counts
    assert "Nota 1-9" in body and "F-1" in body and "Contacto 1" in body
    assert "Registrar llamada" not in body  # a viewer only reads
    # "What Cobro will do and why" names the zones the contact rules hold in, and their source.
    assert "Zonas horarias consideradas: hora de Chile (Santiago de Chile), según la zona horaria del cliente." in body
    Customer.objects.filter(pk=customer.pk).update(timezone="")
    body = client.get(f"/customers/{customer.pk}/").content.decode()
    assert ("Zonas horarias consideradas: hora de Chile (Santiago de Chile); hora de Chile (Coyhaique); "
            "hora de Chile (Punta Arenas); hora de Chile (Isla de Pascua), según su país") in body
    assert client.get(f"/customers/{book.secret.pk}/").status_code == 404
    assert client.get(f"/customers/{book.secret.pk}/timeline/").status_code == 404


def test_customer_actions_by_role(login, book):
    customer = book.customers[1]
    agent = login(book.agent)
    assert agent.post(f"/customers/{customer.pk}/note/", {"note-text": "Pidió factura de nuevo"}).status_code == 302
    assert TimelineEvent.objects.filter(kind="note.added", customer=customer, actor=book.agent).exists()
    assert agent.post(f"/customers/{customer.pk}/owner/", {"owner-owner": book.agent.pk}).status_code == 403
    response = agent.post(f"/customers/{customer.pk}/pause/", {"pause-days": "7", "pause-reason": "Hospitalizado"})
    assert response.status_code == 302
    assert TimelineEvent.objects.filter(kind="collection.paused", customer=customer).exists()
    viewer = login(book.viewer)
    assert viewer.post(f"/customers/{customer.pk}/note/", {"note-text": "x"}).status_code == 403
    manager = login(book.manager)
    assert manager.post(f"/customers/{customer.pk}/owner/", {"owner-owner": book.agent.pk}).status_code == 302
    customer.refresh_from_db()
    assert customer.owner == book.agent
    assert TimelineEvent.objects.filter(kind="customer.owner_changed", customer=customer).exists()
    outsider = login(book.outsider)
    assert outsider.post(f"/customers/{customer.pk}/note/", {"note-text": "x"}).status_code == 404


def test_customer_call_without_task(login, book):
    customer = book.customers[2]
    response = login(book.agent).post(f"/customers/{customer.pk}/call/", {"call-outcome": "wrong_number"})
    assert response.status_code == 302
    assert TimelineEvent.objects.get(kind="call.logged", customer=customer).data["outcome"] == "wrong_number"
    client = login(book.agent)
    client.post(f"/customers/{customer.pk}/call/", {"call-outcome": "reached", "call-reason": "invoice_error"})
    assert "Motivo del atraso: Error en la factura" in client.get(f"/customers/{customer.pk}/").content.decode()


def test_case_file_is_a_pdf_and_on_the_record(login, book):
    customer = book.customers[0]
    assert login(book.viewer).get(f"/customers/{customer.pk}/case-file.pdf").status_code == 403
    response = login(book.agent).get(f"/customers/{customer.pk}/case-file.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert TimelineEvent.objects.filter(kind="casefile.exported", customer=customer).exists()
    assert login(book.outsider).get(f"/customers/{customer.pk}/case-file.pdf").status_code == 404


def test_settings_only_for_managers(login, book):
    for path in ("/settings/scripts/", "/settings/reasons/", "/settings/team/"):
        assert login(book.agent).get(path).status_code == 403
        assert login(book.manager).get(path).status_code == 200


def test_manager_edits_a_script_and_it_reaches_today(login, book):
    client = login(book.manager)
    body = "Hola {contact}, ¿cómo le fue con la temporada? Hablemos de {amount} cuando le acomode."
    response = client.post("/settings/scripts/", {"situation": "first_contact", "language": "es", "body": body})
    assert response.status_code == 302
    assert CallScript.objects.for_org(book.org).get(situation="first_contact").body == body
    today = login(book.agent).get("/today/").content.decode()
    assert "cómo le fue con la temporada" in today
    client.post("/settings/scripts/", {"situation": "first_contact", "language": "es", "body": "corto"})
    assert CallScript.objects.for_org(book.org).get(situation="first_contact").body == body


def test_reasons_list_is_editable(login, book):
    client = login(book.manager)
    client.post("/settings/reasons/", {"label": "Cambio de banco"})
    reason = DelayReason.objects.for_org(book.org).get(code="cambio-de-banco")
    client.post(f"/settings/reasons/{reason.pk}/toggle/")
    reason.refresh_from_db()
    assert not reason.active
    assert not DelayReason.objects.for_org(book.other).exists()


def test_team_members_only_admin_changes_roles(login, book):
    member = Membership.objects.get(user=book.viewer, organization=book.org)
    assert login(book.manager).post(f"/settings/team/{member.pk}/role/", {"role": "admin"}).status_code == 403
    admin = login(book.admin)
    admin.post(f"/settings/team/{member.pk}/role/", {"role": "agent"})
    member.refresh_from_db()
    assert member.role == "agent"
    own = Membership.objects.get(user=book.admin, organization=book.org)
    admin.post(f"/settings/team/{own.pk}/role/", {"role": "viewer"})
    own.refresh_from_db()
    assert own.role == "admin"
    outsider_member = Membership.objects.get(user=book.outsider)
    assert admin.post(f"/settings/team/{outsider_member.pk}/role/", {"role": "viewer"}).status_code == 404


def test_timeline_shows_message_status_and_content(login, book):
    from django.utils import timezone

    from cobro.ledger.services import record_event
    from cobro.messaging.models import Message

    customer = book.customers[0]
    now = timezone.now()
    msg = Message.objects.create(organization=book.org, customer=customer, key="k-1", template="overdue_friendly",
                                 channel="email", to="c1@example.cl", subject="Su factura F-1",
                                 body_text="Hola, le escribimos con cariño por la factura F-1.", status="delivered",
                                 scheduled_for=now, next_attempt_at=now)
    record_event(book.org, customer, "message.sent", "email: Su factura F-1",
                 data={"channel": "email", "message_id": msg.pk})
    body = login(book.viewer).get(f"/customers/{customer.pk}/").content.decode()
    assert "le escribimos con cariño" in body and "Entregado" in body and "badge-ok" in body
    from cobro.workspace.casefile import case_file_context

    context = case_file_context(book.org, customer, book.today, book.agent)
    assert [e.message for e in context["events"] if e.kind == "message.sent"] == [msg]


def test_approval_tasks_are_for_managers(login, book):
    from django.utils import timezone

    from cobro.dunning.models import Action
    from cobro.ledger.services import create_task

    customer = book.customers[0]
    action = Action.objects.create(
        organization=book.org, customer=customer, key="acme:C1:+60:test", as_of=book.today, step="+60",
        action="stage", channel="letter", template="", tone="formal", invoice_ids=[], invoice_refs=["F-1"],
        scheduled_for=timezone.now(), status=Action.Status.PENDING_APPROVAL, data={"to_stage": "mediacion"})
    task = create_task(book.org, customer, "approval", "Aprobar paso +60", book.today, source_key="dunning:x",
                       data={"action_key": action.key, "reason": "60 días sin pago"})
    assert "Aprobar: paso de cobranza" not in login(book.agent).get("/today/").content.decode()
    assert login(book.agent).post(f"/tasks/{task.pk}/approve/").status_code == 403
    assert login(book.outsider).post(f"/tasks/{task.pk}/approve/").status_code == 404
    manager = login(book.manager)
    page = manager.get("/today/").content.decode()
    assert "Aprobar: paso de cobranza" in page and "+60" not in page.split("work-title")[1][:300] and "60 días sin pago" in page
    assert manager.post(f"/tasks/{task.pk}/approve/").status_code == 302
    action.refresh_from_db()
    task.refresh_from_db()
    assert action.status == Action.Status.APPROVED and task.status == Task.Status.DONE
    assert TimelineEvent.objects.filter(kind="action.approved", customer=customer, actor=book.manager).exists()


def test_policy_editor_saves_all_or_nothing(login, book):
    from cobro.dunning.models import Policy

    assert login(book.agent).get("/settings/policies/").status_code == 403
    client = login(book.manager)
    page = client.get("/settings/policies/").content.decode()
    assert "reminder_before" in page and "Tarea de llamada" in page  # the default steps, shown before saving
    bad = client.post("/settings/policies/", {"yaml": "code: x\nname: X\nsteps:\n  - {code: a, offset: 1}\n"})
    assert bad.status_code == 422 and "msg-error" in bad.content.decode()
    assert not Policy.objects.for_org(book.org).exists()
    import yaml

    from cobro.dunning.services import default_policy_data

    data = default_policy_data()
    data["steps"] = [s for s in data["steps"] if s["code"] != "+3"]
    data["default"] = True
    assert client.post("/settings/policies/", {"yaml": yaml.safe_dump(data)}).status_code == 302
    saved = Policy.objects.for_org(book.org).get(code=data["code"])
    assert "+3" not in {s["code"] for s in saved.definition["steps"]}
    assert not Policy.objects.for_org(book.other).exists()


def test_contact_rules_tighten_freely_loosen_only_as_admin(login, book):
    from cobro.dunning.models import ContactRuleChange

    assert login(book.agent).get("/settings/contact-rules/").status_code == 403
    manager = login(book.manager)
    assert "Chile" in manager.get("/settings/contact-rules/").content.decode()
    assert manager.post("/settings/contact-rules/", {"country": "CL", "params": "cooldown_days: 14"}).status_code == 302
    loosen = manager.post("/settings/contact-rules/", {"country": "CL", "params": "cooldown_days: 0"})
    assert loosen.status_code == 422
    assert "CL: la pausa tras una conversación baja de 14 a 0 días" in loosen.content.decode()
    everywhere = manager.post("/settings/contact-rules/", {"country": "*", "params": "caps: []\nmin_gap_days: 0"})
    assert everywhere.status_code == 422
    assert "CL: la separación mínima entre mensajes baja de 2 a 0 días" in everywhere.content.decode()
    assert manager.post("/settings/contact-rules/", {"country": "CL", "params": "- 1"}).status_code == 422
    admin = login(book.admin)
    assert admin.post("/settings/contact-rules/", {"country": "CL", "params": "cooldown_days: 0",
                                                   "reason": "Acuerdo escrito con el cliente"}).status_code == 302
    assert list(ContactRuleChange.objects.for_org(book.org).values_list("loosens", flat=True)
                .order_by("id")) == [False, True]
    assert not ContactRuleChange.objects.for_org(book.other).exists()


def test_contact_rules_page_offers_every_country_and_names_it_in_words(login, book):
    from cobro.dunning.models import ContactRuleChange

    manager = login(book.manager)
    html = manager.get("/settings/contact-rules/").content.decode()
    select = html[html.index('<select id="cr-country" name="country">'):]
    select = select[:select.index("</select>")]
    assert select.startswith('<select id="cr-country" name="country"><option value="*" >todos los países</option>')
    assert "<option >CL</option>" in select
    done = manager.post("/settings/contact-rules/", {"country": "*", "params": "min_gap_days: 3"}, follow=True)
    page = done.content.decode()
    assert "Reglas de contacto actualizadas para todos los países." in page
    assert "<strong>todos los países</strong>" in page and "<strong>*</strong>" not in page
    (change,) = ContactRuleChange.objects.for_org(book.org)
    assert (change.country, change.params, change.loosens) == ("*", {"min_gap_days": 3}, False)
    # A loosening "*" keeps the choice on the form it answers with.
    refused = manager.post("/settings/contact-rules/", {"country": "*", "params": "min_gap_days: 0"})
    assert refused.status_code == 422
    assert '<option value="*" selected>todos los países</option>' in refused.content.decode()
