from django.core.management.base import BaseCommand, CommandError

from cobro.api import keys
from cobro.api.models import ApiKey
from cobro.ledger.models import Organization


class Command(BaseCommand):
    help = "API keys of an organization: create (the key is printed once), list, revoke. See docs/api.md."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a key and print it (only a digest is kept)")
        create.add_argument("--org", required=True, help="organization slug")
        create.add_argument("--name", required=True, help="what uses it, e.g. 'ERP nightly sync'")
        create.add_argument("--scope", choices=["read", "write"], default="read")
        listing = sub.add_parser("list", help="list the organization's keys (never the keys themselves)")
        listing.add_argument("--org", required=True)
        revoke = sub.add_parser("revoke", help="revoke a key by its prefix (as `list` shows it)")
        revoke.add_argument("prefix")
        revoke.add_argument("--org", required=True)

    def handle(self, *args, action, org, **opts):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"no organization {org!r} (see `cobro org list`)")
        if action == "create":
            try:
                key, text = keys.create_key(organization, opts["name"], opts["scope"])
            except ValueError as exc:
                raise CommandError(str(exc)) from None
            self.stderr.write(f"Key {key.prefix} ({key.scope}) for {organization.slug}; copy it now, it is not "
                              f"shown again:")
            self.stdout.write(text)
        elif action == "list":
            for key in ApiKey.objects.for_org(organization).order_by("created_at"):
                state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
                used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never used"
                self.stdout.write(f"{key.prefix}\t{key.scope}\t{state}\t{used}\t{key.name}")
        elif not keys.revoke(organization, opts["prefix"]):
            raise CommandError(f"no active key {opts['prefix']!r} in {organization.slug}")
        else:
            self.stdout.write(f"Revoked key {opts['prefix']}.")
