"""Settings → Portal (managers): bank accounts for debtors by country and currency, checked input,
scoped to the organization; the logo; and the survey results per template and agent."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cobro.ledger.models import Membership
from cobro.messaging.models import Message
from cobro.payments.models import BankAccount
from cobro.portal.models import Survey

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360f8cf00000301010018dd8db40000000049454e44ae426082")


def _member(username, org, role, first_name=""):
    user = get_user_model().objects.create_user(username=username, password="x-pass-123", first_name=first_name)
    Membership.objects.create(user=user, organization=org, role=role)
    return user


@pytest.fixture
def staff(book):
    book.manager = _member("mario", book.org, "manager", "Mario")
    book.agent = _member("agustina", book.org, "agent", "Agustina")
    book.viewer = _member("vera", book.org, "viewer")
    book.outsider = _member("oscar", book.other, "manager")
    return book


MX = {"new-show_in_portal": "on", "new-country": "MX", "new-currency": "mxn", "new-bank_name": "BBVA México",
      "new-account_type": "CLABE", "new-number": "012180001234567897", "new-holder": "Acme México SA de CV",
      "new-holder_tax_id": "AME100101AB1", "new-swift": "bcmr mx mm", "new-name": "", "new-instructions": ""}


def test_a_manager_adds_an_account_for_mexican_debtors(staff, client):
    client.force_login(staff.manager)
    page = client.get("/settings/portal/")
    assert page.status_code == 200 and "Portal y cuentas bancarias" in page.content.decode()
    resp = client.post("/settings/portal/", {"do": "account", "pk": "", **MX})
    assert resp.status_code == 302
    acc = BankAccount.objects.get()
    assert (acc.organization, acc.country, acc.currency, acc.swift, acc.name, acc.show_in_portal) == (
        staff.org, "MX", "MXN", "BCMRMXMM", "BBVA México 012180001234567897", True)
    # Shown to the Mexican customer (next test file checks who never sees it).
    assert "BBVA México" in client.get("/settings/portal/").content.decode()


@pytest.mark.parametrize(("field", "value", "error"), [
    ("new-holder_tax_id", "XXX", "El identificador tributario no es válido para el país elegido."),
    ("new-currency", "ABC", "La moneda ABC no es un código ISO 4217"),
    ("new-swift", "12", "El código SWIFT/BIC debe tener 8 u 11 letras y números."),
    ("new-holder", "", "Se necesita para mostrar la cuenta a los deudores."),
    ("new-country", "XX", "XX"),
])
def test_bad_input_names_what_is_wrong_and_writes_nothing(staff, client, field, value, error):
    client.force_login(staff.manager)
    resp = client.post("/settings/portal/", {"do": "account", "pk": "", **MX, field: value})
    assert resp.status_code == 422 and error in resp.content.decode()
    assert not BankAccount.objects.exists()


def test_the_same_number_twice_is_refused(staff, client):
    client.force_login(staff.manager)
    client.post("/settings/portal/", {"do": "account", "pk": "", **MX})
    resp = client.post("/settings/portal/", {"do": "account", "pk": "", **MX})
    assert resp.status_code == 422 and "Ya hay una cuenta con el número 012180001234567897." in resp.content.decode()
    assert BankAccount.objects.count() == 1


def test_editing_is_scoped_to_the_organization_and_to_managers(staff, client):
    theirs = BankAccount.objects.create(organization=staff.other, name="Otra", number="999", currency="CLP")
    client.force_login(staff.agent)
    assert client.get("/settings/portal/").status_code == 403
    client.force_login(staff.manager)
    resp = client.post("/settings/portal/", {"do": "account", "pk": theirs.pk, **{
        k.replace("new-", f"acc{theirs.pk}-"): v for k, v in MX.items()}})
    assert resp.status_code == 404
    theirs.refresh_from_db()
    assert (theirs.number, theirs.show_in_portal) == ("999", False)
    assert "Otra" not in client.get("/settings/portal/").content.decode()


def test_an_existing_account_is_shown_to_debtors_once_completed(staff, client):
    acc = BankAccount.objects.create(organization=staff.org, name="Estado", number="00-123", currency="CLP")
    client.force_login(staff.manager)
    data = {f"acc{acc.pk}-{k}": v for k, v in {"show_in_portal": "on", "country": "CL", "currency": "CLP",
            "bank_name": "Banco Estado", "number": "00-123", "holder": "Acme SpA", "holder_tax_id": "76.086.428-5",
            "name": "Estado", "account_type": "", "swift": "", "instructions": ""}.items()}
    assert client.post("/settings/portal/", {"do": "account", "pk": acc.pk, **data}).status_code == 302
    acc.refresh_from_db()
    assert acc.show_in_portal and acc.holder == "Acme SpA" and BankAccount.objects.count() == 1
    html = client.get(staff.path(staff.es)).content.decode()
    assert "00-123" in html and "76.086.428-5" in html


def test_logo_upload_checks_the_bytes_and_reaches_the_portal(staff, client):
    client.force_login(staff.manager)
    fake = SimpleUploadedFile("logo.png", b"GIF89a not a png", content_type="image/png")
    resp = client.post("/settings/portal/", {"do": "logo", "logo": fake})
    assert resp.status_code == 422 and "El logo debe ser una imagen PNG o JPEG." in resp.content.decode()
    staff.org.refresh_from_db()
    assert "portal_logo" not in staff.org.options
    client.post("/settings/portal/", {"do": "logo", "logo": SimpleUploadedFile("l.png", PNG)})
    staff.org.refresh_from_db()
    assert staff.org.options["portal_logo"].endswith(".png")
    assert client.get(staff.path(staff.es) + "logo").content == PNG
    client.post("/settings/portal/", {"do": "remove_logo"})
    staff.org.refresh_from_db()
    assert "portal_logo" not in staff.org.options
    assert client.get(staff.path(staff.es) + "logo").status_code == 404


def _sent(org, customer, template, minutes_ago):
    at = timezone.now() - dt.timedelta(minutes=minutes_ago)
    return Message.objects.create(organization=org, customer=customer, key=f"k-{template}-{minutes_ago}",
                                  template=template, channel="email", status=Message.Status.SENT, sent_at=at,
                                  scheduled_for=at, next_attempt_at=at)


def test_the_survey_remembers_the_last_template_and_the_agent_and_the_results_show_them(staff, client):
    staff.es.owner = staff.agent
    staff.es.save()
    _sent(staff.org, staff.es, "reminder_due", 120)
    _sent(staff.org, staff.es, "overdue_7", 60)
    client.post(staff.path(staff.es) + "thanks/", {"rating": "5", "comment": "Muy fácil"})
    client.post(staff.path(staff.en) + "thanks/", {"rating": "2", "comment": ""})
    client.post(staff.path(staff.es) + "thanks/", {"rating": "4"})
    first = Survey.objects.order_by("pk").first()
    assert (first.template, first.agent) == ("overdue_7", staff.agent)
    assert Survey.objects.filter(customer=staff.en, template="", agent=None).count() == 1
    client.force_login(staff.viewer)
    html = client.get("/insights/surveys/").content.decode()
    assert 'id="survey-average">3,7 / 5' in html or 'id="survey-average">3.7 / 5' in html
    by_template = html[html.index('id="survey-by-template"'):html.index('id="h-agent"')]
    assert "Sin mensaje previo" in by_template and "4,5" in by_template and "2,0" in by_template
    by_agent = html[html.index('id="survey-by-agent"'):]
    assert "Agustina" in by_agent and "Sin agente asignado" in by_agent
    assert "Muy fácil" in html and "Ferretería Los Andes" in html
    # Another organization's team sees none of it; the dashboard links the page.
    client.force_login(staff.outsider)
    assert "Aún no hay respuestas." in client.get("/insights/surveys/").content.decode()
    assert "/insights/surveys/" in client.get("/insights/").content.decode()


def test_a_manager_writes_the_transfer_instructions_in_each_language(staff, client):
    from cobro.ledger.models import Customer, Organization

    client.force_login(staff.manager)
    page = client.get("/settings/portal/").content.decode()
    assert "Banco Estado, cuenta 123-456</textarea>" in page  # the older text, as the Spanish one
    resp = client.post("/settings/portal/", {"do": "instructions", "ti-es": "Banco Estado, cuenta 123-456",
                                             "ti-en": "Banco Estado, account 123-456", "ti-pt_BR": " "})
    assert resp.status_code == 302
    org = Organization.objects.get(pk=staff.org.pk)
    assert org.options["transfer_instructions_i18n"] == {"es": "Banco Estado, cuenta 123-456",
                                                         "en": "Banco Estado, account 123-456"}
    Customer.objects.filter(pk=staff.es.pk).update(language="en")
    assert "Banco Estado, account 123-456" in client.get(staff.path(staff.es)).content.decode()
    client.force_login(staff.agent)
    assert client.post("/settings/portal/", {"do": "instructions", "ti-es": "Otra"}).status_code == 403
    assert Organization.objects.get(pk=staff.org.pk).options["transfer_instructions_i18n"]["es"] != "Otra"
