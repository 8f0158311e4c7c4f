import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from cobro.ledger.models import Membership, Organization, Role


class Command(BaseCommand):
    help = "Create users and give them a role in an organization."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a user (or add an existing one) in an organization")
        create.add_argument("email")
        create.add_argument("--org", required=True, help="organization slug")
        create.add_argument("--role", required=True, choices=[r.value for r in Role])
        create.add_argument("--password", help="default: a random one, printed once")
        create.add_argument("--name", default="", help="full name")

    def handle(self, *args, action, email, org, role, password, name, **opts):
        try:
            validate_email(email)
        except Exception:
            raise CommandError(f"{email!r} is not an email address") from None
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"no organization {org!r} (see `cobro org list`)")
        User = get_user_model()
        with transaction.atomic():
            user = User.objects.filter(username=email.lower()).first()
            created = user is None
            if created:
                password = password or secrets.token_urlsafe(9)
                first, _, last = name.partition(" ")
                user = User.objects.create_user(username=email.lower(), email=email.lower(), password=password,
                                                first_name=first, last_name=last)
            Membership.objects.update_or_create(user=user, organization=organization, defaults={"role": role})
        if created:
            self.stdout.write(f"Created {email} as {role} of {organization.slug}; password: {password}")
        else:
            self.stdout.write(f"{email} is now {role} of {organization.slug}.")
