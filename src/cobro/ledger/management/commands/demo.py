import datetime as dt
import importlib
import zoneinfo

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

from cobro.ledger.demo import DEMO_PASSWORD, DEMO_USERS, date_the_bookkeeping, ensure_demo

#: Apps that add their part of the demo, in the order their data depends on each other.
DEMO_APPS = ["agreements", "payments", "dunning", "messaging", "workspace", "insights", "portal"]


class Command(BaseCommand):
    help = ("Set up the database and the demo organization (first run only; data is kept), then print "
            "the demo logins. Used by `make run`.")

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=200, help="how many demo customers (first run)")
        parser.add_argument("--no-migrate", action="store_true", help="skip applying migrations")
        parser.add_argument("--today", type=dt.date.fromisoformat, default=None, metavar="YYYY-MM-DD",
                            help="the demo's 'today' (default: today's date in Santiago)")

    def handle(self, *args, customers, no_migrate, today=None, **opts):
        if not no_migrate:
            call_command("migrate", interactive=False, verbosity=0)
        today = today or timezone.now().astimezone(zoneinfo.ZoneInfo("America/Santiago")).date()
        org, created = ensure_demo(today, customers=customers)
        for app in DEMO_APPS:
            try:
                module = importlib.import_module(f"cobro.{app}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"cobro.{app}.demo":
                    raise
                continue
            module.populate(org, today)
        if created:  # (a kept demo's rows keep the dates they were given)
            date_the_bookkeeping(org, today)  # the rows' write times, by the demo's clock
        self.stdout.write(("Created" if created else "Kept") + f" the demo organization: {org.name}.")
        self.stdout.write("Sign in at http://127.0.0.1:8000/ with any of these (password "
                          f"{DEMO_PASSWORD!r}):")
        for email, name, role in DEMO_USERS:
            self.stdout.write(f"  {email:<26} {name:<18} {role.label}")
        from cobro.portal.demo import sample_link

        link = sample_link(org)
        if link:
            self.stdout.write(f"A debtor's portal (any customer: `cobro portal link REF --org {org.slug}`): {link}")
