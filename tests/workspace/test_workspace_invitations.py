"""Team invitations (issue #10.2): adding a member is an e-mailed, signed, expiring invitation; the
membership exists only once the invited person accepts; the answer never tells whether an account
exists. Mail goes through a real SMTP server on loopback (aiosmtpd)."""

import re
import socket
from email import message_from_bytes

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.test import Client
from tests.workspace.conftest import PASSWORD, make_user

from cobro.ledger.models import Membership
from cobro.workspace.models import Invitation


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def inbox(settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS, settings.EMAIL_TIMEOUT = "127.0.0.1", port, False, 5
    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box
    controller.stop()


def _link(inbox):
    body = inbox.messages[-1][1].get_payload(decode=True).decode()
    return re.search(r"http://testserver(/invitation/[^/\s]+/)", body).group(1)


def test_an_existing_account_is_not_added_without_consent_and_the_answer_is_the_same(login, book, inbox):
    stranger = make_user("sofia")
    stranger.email = "sofia@otra.cl"
    stranger.save()
    admin = login(book.admin)
    known = admin.post("/settings/team/", {"email": "sofia@otra.cl", "role": "admin"}, follow=True).content.decode()
    unknown = admin.post("/settings/team/", {"email": "nadie@ejemplo.cl", "role": "admin"}, follow=True).content.decode()
    assert not Membership.objects.filter(organization=book.org, user=stranger).exists()
    assert "Invitación enviada a sofia@otra.cl" in known and "Invitación enviada a nadie@ejemplo.cl" in unknown
    def same(html, address):  # the page less the address, the per-request CSRF token and the pending list
        html = re.sub(r"<h2>Invitaciones pendientes.*?</table>", "", html, flags=re.S)
        return re.sub(r"[A-Za-z0-9]{64}", "", html.replace(address, "X"))

    assert same(known, "sofia@otra.cl") == same(unknown, "nadie@ejemplo.cl")
    assert [m[0] for m in inbox.messages] == [["sofia@otra.cl"], ["nadie@ejemplo.cl"]]
    # Old form fields (a username to add directly) do nothing any more.
    admin.post("/settings/team/", {"username": "oscar", "role": "admin"})
    assert not Membership.objects.filter(organization=book.org, user=book.outsider).exists()


def test_invited_person_with_an_account_signs_in_and_accepts(login, book, inbox):
    login(book.admin).post("/settings/team/", {"email": "oscar@otra.cl", "role": "agent"})
    link, client = _link(inbox), Client()  # the invited person's own browser
    assert "oscar@otra.cl" in inbox.messages[0][1]["To"] and "Acme" in inbox.messages[0][1]["Subject"]
    page = client.get(link).content.decode()
    assert "Acme" in page and "Ya tengo una cuenta" in page
    client.force_login(book.outsider)
    refused = client.post(link, {"do": "accept"})  # signed in, but the account has another address
    assert refused.status_code == 422 and "otra dirección" in refused.content.decode()
    assert not Membership.objects.filter(organization=book.org, user=book.outsider).exists()
    book.outsider.email = "Oscar@otra.cl"
    book.outsider.save()
    client.post(link, {"do": "accept"})
    assert Membership.objects.get(organization=book.org, user=book.outsider).role == "agent"
    again = client.post(link, {"do": "accept"}).content.decode()
    assert "ya fue aceptada" in again and Membership.objects.filter(organization=book.org, user=book.outsider).count() == 1


def test_new_person_creates_an_account_on_the_invitation_page(login, book, inbox):
    login(book.admin).post("/settings/team/", {"email": "nueva@acme.cl", "role": "viewer"})
    link, client = _link(inbox), Client()  # the invited person's own browser
    weak = client.post(link, {"do": "create", "username": "nueva", "password": "123"})
    assert weak.status_code == 422 and not Membership.objects.filter(user__username="nueva").exists()
    taken = client.post(link, {"do": "create", "username": "vera", "password": PASSWORD + "-otra-larga"})
    assert "no está disponible" in taken.content.decode()
    client.post(link, {"do": "create", "username": "nueva", "password": "Tortuga-Verde-2026"})
    member = Membership.objects.get(organization=book.org, user__username="nueva")
    assert member.role == "viewer" and member.user.email == "nueva@acme.cl"
    assert client.get("/today/").status_code == 200  # signed in, in the organization


def test_invitations_expire_and_cannot_be_forged(login, book, inbox, settings):
    settings.COBRO_INVITATION_DAYS = 2
    with time_machine.travel("2026-05-01 12:00Z", tick=False):
        login(book.admin).post("/settings/team/", {"email": "tarde@acme.cl", "role": "admin"})
    link, client = _link(inbox), Client()  # the invited person's own browser
    with time_machine.travel("2026-05-04 12:00Z", tick=False):
        gone = client.post(link, {"do": "create", "username": "tarde", "password": "Tortuga-Verde-2026"})
    assert gone.status_code == 410 and "venció" in gone.content.decode()
    forged = client.get(link[:-3] + "xx/")
    assert forged.status_code == 410 and "no es válido" in forged.content.decode()
    assert not Membership.objects.filter(user__username="tarde").exists()


def test_only_admins_invite(login, book, inbox):
    login(book.manager).post("/settings/team/", {"email": "x@acme.cl", "role": "admin"})
    assert inbox.messages == []


def test_an_invitation_is_used_once_even_after_the_member_leaves(login, book, inbox):
    login(book.admin).post("/settings/team/", {"email": "oscar@otra.cl", "role": "admin"})
    link, client = _link(inbox), Client()
    book.outsider.email = "oscar@otra.cl"
    book.outsider.save()
    client.force_login(book.outsider)
    client.post(link, {"do": "accept"})
    row = Invitation.objects.get(organization=book.org, email="oscar@otra.cl")
    assert row.accepted_at is not None and row.accepted_by == book.outsider
    Membership.objects.filter(organization=book.org, user=book.outsider).delete()  # removed from the team
    again = client.post(link, {"do": "accept"})
    assert again.status_code == 410 and "ya fue aceptada" in again.content.decode()
    assert not Membership.objects.filter(organization=book.org, user=book.outsider).exists()
    # A new account through the same link is refused too.
    other = Client().post(link, {"do": "create", "username": "oscar2", "password": "Tortuga-Verde-2026"})
    assert other.status_code == 410 and not Membership.objects.filter(user__username="oscar2").exists()


def test_an_admin_withdraws_a_pending_invitation_and_a_new_one_replaces_the_old(login, book, inbox):
    admin = login(book.admin)
    admin.post("/settings/team/", {"email": "tarde@acme.cl", "role": "agent"})
    first = _link(inbox)
    admin.post("/settings/team/", {"email": "Tarde@acme.cl", "role": "viewer"})
    second = _link(inbox)
    gone = Client().post(first, {"do": "create", "username": "tarde", "password": "Tortuga-Verde-2026"})
    assert gone.status_code == 410 and "anulada" in gone.content.decode()
    admin.get("/settings/team/")  # the flash messages shown once
    page = admin.get("/settings/team/").content.decode()
    assert "Invitaciones pendientes" in page and page.count("tarde@acme.cl") == 1 and "Solo lectura" in page
    row = Invitation.objects.get(organization=book.org, revoked_at=None)
    admin.post(f"/settings/team/invitations/{row.pk}/revoke/")
    row.refresh_from_db()
    assert row.revoked_at is not None
    assert "Invitaciones pendientes" not in admin.get("/settings/team/").content.decode()
    late = Client().post(second, {"do": "create", "username": "tarde", "password": "Tortuga-Verde-2026"})
    assert late.status_code == 410 and not Membership.objects.filter(user__username="tarde").exists()


def test_only_an_admin_of_the_same_organization_withdraws(login, book, inbox):
    login(book.admin).post("/settings/team/", {"email": "x@acme.cl", "role": "agent"})
    row = Invitation.objects.get(organization=book.org)
    assert login(book.manager).post(f"/settings/team/invitations/{row.pk}/revoke/").status_code == 403
    intruder = login(make_user("intrusa", book.other, "admin"))  # an admin, of another organization
    assert intruder.post(f"/settings/team/invitations/{row.pk}/revoke/").status_code == 404
    row.refresh_from_db()
    assert row.revoked_at is None
