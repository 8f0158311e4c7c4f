from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from cobro.dunning.cli import date_arg, organization
from cobro.dunning.services import explain
from cobro.ledger.models import Customer


class Command(BaseCommand):
    help = "Explain, for one customer and day, why the cycle does what it does (or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("customer_ref", help="the customer's code")
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--as-of", dest="as_of", default=None, help="YYYY-MM-DD (default: today)")

    def handle(self, *args, **opts):
        org = organization(opts["org"])
        customer = Customer.objects.for_org(org).filter(ref=opts["customer_ref"]).first()
        if customer is None:
            raise CommandError(f"no customer {opts['customer_ref']!r} in {org.slug}")
        as_of = date_arg(opts["as_of"], "--as-of", org)
        with translation.override(org.language or "es"):  # read by the organization's people
            for line in explain(org, customer, as_of):
                self.stdout.write(line)
