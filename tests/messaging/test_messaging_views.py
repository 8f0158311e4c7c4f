"""Pages: who may see and change what, the template editor's preview and tone check, and the debtor's
statement and opt-out pages reached by signed, expiring, revocable links."""

import datetime as dt

import pytest
from django.core import signing

from cobro.messaging import links, outbox
from cobro.messaging.models import Message, MessageTemplate, OptOut


@pytest.fixture
def sent(book, queue):
    m = queue(book.org, book.es, "overdue_friendly", "email", [book.inv["es1"]])
    outbox.deliver(book.org, transport="demo")
    m.refresh_from_db()
    return m


def test_outbox_and_message_pages_for_members(book, sent, client):
    client.force_login(book.viewer)  # read-only: no Mensajes in the menu, none by URL (#13)
    assert client.get("/messages/").status_code == 403 and client.get(f"/messages/{sent.pk}/").status_code == 403
    client.force_login(book.agent)
    page = client.get("/messages/")
    assert page.status_code == 200 and "Ferretería Los Andes" in page.content.decode()
    detail = client.get(f"/messages/{sent.pk}/").content.decode()
    assert "F-101" in detail and "demostración" in detail and "srcdoc" in detail
    assert client.get("/messages/?status=sent&channel=email").status_code == 200


@pytest.mark.parametrize(("lang", "name", "zone"), [("es", "Atraso, tono amable", "Santiago de Chile"),
                                                   ("en", "Overdue, friendly tone", "Santiago")])
def test_outbox_and_message_name_templates_and_show_the_organizations_clock(book, sent, client, lang, name, zone):
    """#13: no template codes, language codes or UTC stamps in ISO form; times on the organization's clock."""
    from zoneinfo import ZoneInfo

    from django.utils import formats, translation

    from cobro.messaging.models import Message

    at = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)  # 09:00 in Santiago (summer time)
    Message.objects.filter(pk=sent.pk).update(scheduled_for=at, sent_at=at + dt.timedelta(minutes=2))
    client.force_login(book.agent)
    client.post("/language/", {"language": lang})
    local = at.astimezone(ZoneInfo(book.org.timezone))
    with translation.override(lang):
        short, long = (formats.date_format(local, "SHORT_DATETIME_FORMAT"),
                       formats.date_format(local, "DATETIME_FORMAT"))
    listing = client.get("/messages/").content.decode()
    assert name in listing and "overdue_friendly" not in listing and short in listing
    detail = client.get(f"/messages/{sent.pk}/").content.decode()
    assert name in detail and "overdue_friendly" not in detail and long in detail, long
    assert "2026-03-10" not in detail and " UTC<" not in detail and zone in detail


def test_queued_message_shows_a_preview_without_storing_it(book, queue, client):
    m = queue(book.org, book.en, "overdue_neutral", "sms", [book.inv["en1"]])
    client.force_login(book.agent)
    assert "Reply STOP" in client.get(f"/messages/{m.pk}/").content.decode()
    m.refresh_from_db()
    assert m.body_text == "" and m.status == "queued"


def test_outsiders_and_strangers_cannot_see_messages(book, sent, client):
    assert client.get("/messages/").status_code == 302  # to the login page
    client.force_login(book.outsider)
    assert client.get(f"/messages/{sent.pk}/").status_code == 404
    assert "Ferretería" not in client.get("/messages/").content.decode()


def test_only_managers_requeue_failed_messages(book, queue, client):
    m = queue(book.org, book.es, "overdue_friendly", "email", [book.inv["es1"]])
    Message.objects.filter(pk=m.pk).update(status="failed", last_error="x")
    client.force_login(book.agent)
    assert client.post(f"/messages/{m.pk}/retry/").status_code == 403
    client.force_login(book.manager)
    client.post(f"/messages/{m.pk}/retry/")
    m.refresh_from_db()
    assert m.status == "queued" and m.attempts == 0


def _tpl(book, code="overdue_friendly", channel="email", language="es"):
    return MessageTemplate.objects.get(organization=book.org, code=code, channel=channel, language=language)


def test_template_preview_uses_a_real_customer(book, client):
    tpl = _tpl(book)
    client.force_login(book.agent)
    assert client.get("/messages/templates/").status_code == 200
    resp = client.post(f"/messages/templates/{tpl.pk}/", {"do": "preview", "subject": tpl.subject, "body": tpl.body,
                                                          "tone": "friendly", "customer": book.es.pk})
    html = resp.content.decode()
    assert resp.status_code == 200 and "F-101" in html and "sin observaciones" in html
    tpl.refresh_from_db()
    assert tpl.updated_by is None  # a preview saves nothing


def test_flagged_template_needs_a_manager_and_a_reason(book, client):
    tpl = _tpl(book)
    bad = tpl.body + "\nÚltima oportunidad antes del embargo."
    form = {"do": "save", "subject": tpl.subject, "body": bad, "tone": "firm", "customer": book.es.pk}
    client.force_login(book.agent)
    html = client.post(f"/messages/templates/{tpl.pk}/", form).content.decode()
    assert "La revisión de tono encontró observaciones: solo un supervisor puede guardar este texto." in html
    assert "<mark>Última oportunidad</mark>" in html and "Engaño o urgencia falsa" in html
    assert "deception.false_urgency" not in html.replace('data-rule="deception.false_urgency"', "")
    tpl.refresh_from_db()
    assert "embargo" not in tpl.body
    client.force_login(book.manager)
    client.post(f"/messages/templates/{tpl.pk}/", form)
    tpl.refresh_from_db()
    assert "embargo" not in tpl.body  # still no reason written
    client.post(f"/messages/templates/{tpl.pk}/", {**form, "reason": "Texto revisado por el abogado"})
    tpl.refresh_from_db()
    assert "embargo" in tpl.body and tpl.override_reason == "Texto revisado por el abogado"
    assert tpl.override_by == book.manager and any(f["category"] == "deception" for f in tpl.findings)


def test_viewers_cannot_save_templates(book, client):
    tpl = _tpl(book)
    client.force_login(book.viewer)
    resp = client.post(f"/messages/templates/{tpl.pk}/", {"do": "save", "subject": "x", "body": "Gracias",
                                                          "tone": "friendly"})
    assert resp.status_code == 403


def test_clean_template_is_saved_by_an_agent(book, client):
    tpl = _tpl(book, code="thank_you", channel="sms")
    client.force_login(book.agent)
    client.post(f"/messages/templates/{tpl.pk}/", {"do": "save", "subject": "", "tone": "friendly",
                                                   "body": "{{ org_name }}: ¡gracias por su pago! Resp. BAJA para no recibir más."})
    tpl.refresh_from_db()
    assert tpl.body.startswith("{{ org_name }}: ¡gracias") and tpl.updated_by == book.agent and not tpl.override_reason


def test_pay_link_opens_the_statement(book, client):
    url = links.url(book.org.pk, book.es.pk, "pay", 1)
    html = client.get(url.removeprefix("http://127.0.0.1:8000")).content.decode()
    assert "F-101" in html and "F-102" in html and "Banco Estado, cuenta 123-456" in html and "C1" in html
    assert "Harbor" not in html


def test_links_are_signed_expiring_and_revocable(book, client, settings):
    path = links.url(book.es.organization_id, book.es.pk, "pay", 1).removeprefix(settings.COBRO_BASE_URL)
    assert client.get(path).status_code == 200
    assert client.get(path[:-3] + "xx/").status_code == 410  # forged
    optout = links.url(book.org.pk, book.es.pk, "optout", 1, "email").removeprefix(settings.COBRO_BASE_URL)
    assert client.get(optout.replace("/u/", "/s/")).status_code == 410  # wrong purpose
    links.revoke(book.org, book.es)
    assert client.get(path).status_code == 410
    fresh = links.url(book.org.pk, book.es.pk, "pay", links.versions(book.org, [book.es.pk])[book.es.pk])
    assert client.get(fresh.removeprefix(settings.COBRO_BASE_URL)).status_code == 200
    old = signing.dumps({"o": book.org.pk, "c": book.es.pk, "p": "pay", "v": 2}, salt=links.SALT, compress=True)
    settings.COBRO_LINK_MAX_AGE_DAYS = 0
    import time

    time.sleep(1.1)
    assert client.get(f"/messages/s/{old}/").status_code == 410


def test_opt_out_link_confirms_then_records(book, queue, client, settings):
    pending = queue(book.org, book.es, "overdue_neutral", "email", [book.inv["es1"]])
    path = links.url(book.org.pk, book.es.pk, "optout", 1, "email").removeprefix(settings.COBRO_BASE_URL)
    page = client.get(path).content.decode()
    assert "darme de baja" in page and not OptOut.objects.exists()
    client.post(path)
    opt = OptOut.objects.get()
    assert (opt.customer_id, opt.channel, opt.source) == (book.es.pk, "email", "link")
    pending.refresh_from_db()
    assert pending.status == "cancelled"


def test_one_click_unsubscribe_from_the_mail_client(book, client, settings):
    path = links.url(book.org.pk, book.en.pk, "optout", 1, "sms").removeprefix(settings.COBRO_BASE_URL)
    resp = client.post(path, {"List-Unsubscribe": "One-Click"})
    assert resp.status_code == 200
    opt = OptOut.objects.get()
    assert (opt.channel, opt.source) == ("sms", "one_click")


def test_opted_out_channels_for_the_cycle(book, django_assert_num_queries):
    from cobro.messaging.services import opt_out, opted_out_channels

    opt_out(book.org, book.es, "email", "manual")
    opt_out(book.org, book.es, "sms", "keyword", at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    opt_out(book.org, book.en, "whatsapp", "link")
    with django_assert_num_queries(1):
        got = opted_out_channels(book.org)
    assert got == {book.es.pk: {"email", "sms"}, book.en.pk: {"whatsapp"}}
    assert opted_out_channels(book.other) == {}
    with pytest.raises(ValueError):
        opt_out(book.org, book.es, "pigeon", "manual")


def test_public_pages_speak_the_debtors_language(book, client, settings):
    en = links.url(book.org.pk, book.en.pk, "pay", 1).removeprefix(settings.COBRO_BASE_URL)
    assert "Pay by bank transfer" in client.get(en).content.decode()
    pt = links.url(book.org.pk, book.pt.pk, "optout", 1, "whatsapp").removeprefix(settings.COBRO_BASE_URL)
    assert "Sim, quero me descadastrar" in client.get(pt).content.decode()
