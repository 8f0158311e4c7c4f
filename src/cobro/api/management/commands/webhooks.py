import time

from django.core.management.base import BaseCommand, CommandError

from cobro.api import webhooks
from cobro.api.models import EVENT_TYPES, WebhookEndpoint
from cobro.ledger.models import Organization


class Command(BaseCommand):
    help = ("Outgoing webhooks: add or list endpoints, and deliver what is due (the worker does it too). "
            "See docs/api.md.")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="register an endpoint and print its signing secret")
        add.add_argument("url")
        add.add_argument("--org", required=True)
        add.add_argument("--event", action="append", default=[], choices=EVENT_TYPES,
                         help="an event type it wants (repeat); none = all")
        listing = sub.add_parser("list", help="list the organization's endpoints")
        listing.add_argument("--org", required=True)
        deliver = sub.add_parser("deliver", help="deliver every webhook that is due, once or every N seconds")
        deliver.add_argument("--every", type=int, default=0, metavar="SECONDS")

    def _org(self, slug):
        org = Organization.objects.filter(slug=slug).first()
        if org is None:
            raise CommandError(f"no organization {slug!r} (see `cobro org list`)")
        return org

    def handle(self, *args, action, **opts):
        if action == "add":
            endpoint = webhooks.create_endpoint(self._org(opts["org"]), opts["url"], opts["event"])
            self.stderr.write(f"Endpoint {endpoint.pk} added; its signing secret (shown once):")
            self.stdout.write(endpoint.secret)
        elif action == "list":
            for e in WebhookEndpoint.objects.for_org(self._org(opts["org"])):
                state = "active" if e.active else f"disabled {e.disabled_at:%Y-%m-%d}"
                self.stdout.write(f"{e.pk}\t{state}\t{','.join(e.events) or 'all'}\t{e.url}")
        else:
            while True:
                counts = webhooks.deliver_due()
                self.stdout.write(f"webhooks: {counts['queued']} queued, {counts['delivered']} delivered, "
                                  f"{counts['failed']} failed")
                if not opts["every"]:
                    break
                time.sleep(opts["every"])
