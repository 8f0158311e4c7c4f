"""``cobro portal link|revoke``: a customer's portal URL, and revoking every link sent so far."""

from django.core.management.base import BaseCommand, CommandError

from cobro.ledger.models import Customer, Organization
from cobro.messaging import links
from cobro.portal.access import portal_url


class Command(BaseCommand):
    help = "The debtor portal: print a customer's link, or revoke all of them (see docs/portal.md)."

    def add_arguments(self, parser):
        subs = parser.add_subparsers(dest="sub", required=True, metavar="{link,revoke}")
        link = subs.add_parser("link", help="print the absolute URL of the customer's portal")
        revoke = subs.add_parser("revoke", help="revoke every link of the customer (the next one is new)")
        for p in (link, revoke):
            p.add_argument("customer_ref")
            p.add_argument("--org", required=True, help="organization slug")
        link.add_argument("--days", type=int, help="days until the link expires (default COBRO_LINK_MAX_AGE_DAYS)")

    def handle(self, *args, sub, customer_ref, org, days=None, **opts):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"no organization {org!r} (see `cobro org list`)", returncode=2)
        customer = Customer.objects.for_org(organization).filter(ref=customer_ref).first()
        if customer is None:
            raise CommandError(f"no customer {customer_ref!r} in {org}", returncode=2)
        if sub == "link":
            if days is not None and days < 1:
                raise CommandError("--days must be at least 1", returncode=2)
            self.stdout.write(portal_url(customer, days=days))
        else:
            version = links.revoke(organization, customer)
            self.stdout.write(f"Revoked every portal link of {customer_ref} in {org} (link version {version})")
