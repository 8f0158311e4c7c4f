"""Invitations to an organization's team (issue #10.2): a membership exists only once the invited
person accepts.

An invitation is a signed, expiring token (``django.core.signing``) sent by e-mail: organization, the
address it went to, the role and who invited. Nothing is stored until acceptance. Whoever accepts is
either signed in with an account whose e-mail is the invited address, or creates an account with that
address on the invitation's page. The inviting admin always gets the same answer, so the form never
tells whether an account exists for the address.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from cobro.ledger.models import Membership, Organization, Role

SALT = "cobro.workspace.invitation"


class InvitationError(Exception):
    """The invitation cannot be used (expired, tampered with, for someone else, already used)."""


def max_age() -> int:
    return int(getattr(settings, "COBRO_INVITATION_DAYS", 7)) * 86400


def make_token(org: Organization, email: str, role: str, inviter) -> str:
    return signing.dumps({"o": org.pk, "e": email.strip().lower(), "r": role, "by": inviter.pk}, salt=SALT)


def read(token: str) -> dict:
    """The invitation's payload with its organization, or ``InvitationError`` saying why not."""
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age())
    except signing.SignatureExpired:
        raise InvitationError(_("Esta invitación venció; pida una nueva a quien lo invitó.")) from None
    except signing.BadSignature:
        raise InvitationError(_("Este enlace de invitación no es válido.")) from None
    if not (isinstance(data, dict) and isinstance(data.get("o"), int) and isinstance(data.get("e"), str)
            and data.get("r") in Role.values):
        raise InvitationError(_("Este enlace de invitación no es válido."))
    org = Organization.objects.filter(pk=data["o"]).first()
    if org is None:
        raise InvitationError(_("Este enlace de invitación no es válido."))
    return {**data, "org": org}


def invite(org: Organization, email: str, role: str, inviter, accept_url) -> None:
    """E-mail an invitation; ``accept_url(token)`` gives the absolute link. Same outcome for everyone."""
    if role not in Role.values:
        raise InvitationError(_("Rol desconocido: %(r)s") % {"r": role})
    token = make_token(org, email, role, inviter)
    words = {"org": org.name, "inviter": inviter.get_full_name() or inviter.get_username(),
             "role": Role(role).label, "link": accept_url(token), "days": max_age() // 86400}
    send_mail(_("Invitación al equipo de %(org)s en Cobro") % words,
              render_to_string("workspace/email/invitation.txt", words), None, [email.strip()])


def _join(data: dict, user) -> Membership:
    org = data["org"]
    if Membership.objects.filter(organization=org, user=user).exists():
        raise InvitationError(_("Usted ya es miembro de %(org)s.") % {"org": org.name})
    return Membership.objects.create(organization=org, user=user, role=data["r"])


def accept(token: str, user) -> Membership:
    """A signed-in person accepts; their account's e-mail must be the invited address."""
    data = read(token)
    if (user.email or "").strip().lower() != data["e"]:
        raise InvitationError(_("Esta invitación se envió a otra dirección de correo; entre con la cuenta de "
                                "esa dirección o cree una cuenta nueva."))
    with transaction.atomic():
        return _join(data, user)


def accept_with_new_account(token: str, username: str, password: str):
    """Create the invited person's account (the invited address as its e-mail) and the membership."""
    data = read(token)
    User = get_user_model()
    username = (username or "").strip()
    if not username:
        raise InvitationError(_("Indique un nombre de usuario."))
    if Membership.objects.filter(organization=data["org"], user__email__iexact=data["e"]).exists():
        raise InvitationError(_("Esta invitación ya fue aceptada."))
    candidate = User(username=username, email=data["e"])
    try:
        password_validation.validate_password(password, candidate)
    except ValidationError as exc:
        raise InvitationError(" ".join(exc.messages)) from None
    with transaction.atomic():
        if User.objects.filter(username__iexact=username).exists():
            raise InvitationError(_("Ese nombre de usuario no está disponible; elija otro."))
        user = User.objects.create_user(username=username, email=data["e"], password=password)
        _join(data, user)
    return user
