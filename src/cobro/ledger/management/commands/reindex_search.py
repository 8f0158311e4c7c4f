from django.core.management.base import BaseCommand, CommandError

from cobro.ledger import search
from cobro.ledger.models import Organization


class Command(BaseCommand):
    help = "Rebuild the search keys of one organization (or all): after writes that bypassed the ledger."

    def add_arguments(self, parser):
        parser.add_argument("--org", help="the organization's slug (default: every organization)")

    def handle(self, *args, org=None, **options):
        orgs = Organization.objects.filter(slug=org) if org else Organization.objects.all()
        if org and not orgs.exists():
            raise CommandError(f"no organization with slug {org!r}")
        for organization in orgs:
            n = search.reindex(organization)
            self.stdout.write(f"{organization.slug}: {n} keys")
