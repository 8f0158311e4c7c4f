"""Invitations to an organization's team (issue #10.2): a membership exists only once the invited
person accepts.

An invitation is a row (``workspace.Invitation``: organization, the address it went to, the role, who
invited) and a signed, expiring link naming that row (``django.core.signing``), sent by e-mail. The row
makes the link single-use: accepting stamps ``accepted_at`` in the same transaction that creates the
membership, an admin can withdraw a pending invitation, and a new invitation to the same address
withdraws the older pending ones. Whoever accepts is either signed in with an account whose e-mail is
the invited address, or creates an account with that address on the invitation's page. The inviting
admin always gets the same answer, so the form never tells whether an account exists for the address.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from cobro.ledger.models import Membership, Organization, Role
from cobro.workspace.models import Invitation

SALT = "cobro.workspace.invitation"


class InvitationError(Exception):
    """The invitation cannot be used (expired, tampered with, for someone else, already used)."""


def max_age() -> int:
    return int(getattr(settings, "COBRO_INVITATION_DAYS", 7)) * 86400


def make_token(invitation: Invitation) -> str:
    return signing.dumps({"i": invitation.pk, "o": invitation.organization_id, "e": invitation.email,
                          "r": invitation.role}, salt=SALT)


def _invalid() -> InvitationError:
    return InvitationError(_("Este enlace de invitación no es válido."))


def read(token: str, *, for_update: bool = False) -> dict:
    """The invitation's payload with its organization and row, or ``InvitationError`` saying why not."""
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age())
    except signing.SignatureExpired:
        raise InvitationError(_("Esta invitación venció; pida una nueva a quien lo invitó.")) from None
    except signing.BadSignature:
        raise _invalid() from None
    if not (isinstance(data, dict) and isinstance(data.get("i"), int) and isinstance(data.get("o"), int)
            and isinstance(data.get("e"), str) and data.get("r") in Role.values):
        raise _invalid()
    rows = Invitation.objects.select_related("organization")
    if for_update:
        rows = rows.select_for_update()
    row = rows.filter(pk=data["i"], organization_id=data["o"]).first()
    if row is None or row.email != data["e"] or row.role != data["r"]:
        raise _invalid()
    if row.accepted_at is not None:
        raise InvitationError(_("Esta invitación ya fue aceptada."))
    if row.revoked_at is not None:
        raise InvitationError(_("Esta invitación fue anulada; pida una nueva a quien lo invitó."))
    return {**data, "org": row.organization, "row": row}


def pending(org: Organization):
    """Invitations still waiting for an answer (not accepted, withdrawn or expired), newest first."""
    since = timezone.now() - dt.timedelta(seconds=max_age())
    return (Invitation.objects.for_org(org).filter(accepted_at=None, revoked_at=None, created_at__gt=since)
            .select_related("invited_by"))


def revoke(org: Organization, pk: int) -> Invitation:
    """Withdraw a pending invitation of ``org``: its link stops working at once."""
    row = Invitation.objects.for_org(org).get(pk=pk, accepted_at=None)
    if row.revoked_at is None:
        row.revoked_at = timezone.now()
        row.save(update_fields=["revoked_at"])
    return row


def invite(org: Organization, email: str, role: str, inviter, accept_url) -> Invitation:
    """E-mail an invitation; ``accept_url(token)`` gives the absolute link. Same outcome for everyone."""
    if role not in Role.values:
        raise InvitationError(_("Rol desconocido: %(r)s") % {"r": role})
    address, now = email.strip().lower(), timezone.now()
    with transaction.atomic():
        Invitation.objects.for_org(org).filter(email=address, accepted_at=None, revoked_at=None).update(revoked_at=now)
        row = Invitation.objects.create(organization=org, email=address, role=role, invited_by=inviter,
                                        created_at=now)
    words = {"org": org.name, "inviter": inviter.get_full_name() or inviter.get_username(),
             "role": Role(role).label, "link": accept_url(make_token(row)), "days": max_age() // 86400}
    send_mail(_("Invitación al equipo de %(org)s en Cobro") % words,
              render_to_string("workspace/email/invitation.txt", words), None, [email.strip()])
    return row


def _join(data: dict, user) -> Membership:
    org, row = data["org"], data["row"]
    if Membership.objects.filter(organization=org, user=user).exists():
        raise InvitationError(_("Usted ya es miembro de %(org)s.") % {"org": org.name})
    row.accepted_at, row.accepted_by = timezone.now(), user
    row.save(update_fields=["accepted_at", "accepted_by"])
    return Membership.objects.create(organization=org, user=user, role=data["r"])


def accept(token: str, user) -> Membership:
    """A signed-in person accepts; their account's e-mail must be the invited address."""
    read(token)  # a clear answer before any lock
    with transaction.atomic():
        data = read(token, for_update=True)
        if (user.email or "").strip().lower() != data["e"]:
            raise InvitationError(_("Esta invitación se envió a otra dirección de correo; entre con la cuenta "
                                    "de esa dirección o cree una cuenta nueva."))
        return _join(data, user)


def accept_with_new_account(token: str, username: str, password: str):
    """Create the invited person's account (the invited address as its e-mail) and the membership."""
    data = read(token)
    User = get_user_model()
    username = (username or "").strip()
    if not username:
        raise InvitationError(_("Indique un nombre de usuario."))
    candidate = User(username=username, email=data["e"])
    try:
        password_validation.validate_password(password, candidate)
    except ValidationError as exc:
        raise InvitationError(" ".join(exc.messages)) from None
    with transaction.atomic():
        data = read(token, for_update=True)
        if User.objects.filter(username__iexact=username).exists():
            raise InvitationError(_("Ese nombre de usuario no está disponible; elija otro."))
        user = User.objects.create_user(username=username, email=data["e"], password=password)
        _join(data, user)
    return user
