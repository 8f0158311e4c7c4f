import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError

from cobro.insights import services
from cobro.ledger.models import Organization
from cobro.ledger.replica import reading_from_replica


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = ("Print the Dashboard's figures for one organization as JSON: receivables and ageing per "
            "currency, DSO (standard and countback), average days delinquent, CEI, collections, "
            "promises due this week and messages sent.")

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--period", choices=list(services.PERIODS), default=None,
                            help=f"named period ending on --as-of (default {services.DEFAULT_PERIOD})")
        parser.add_argument("--from", dest="start", type=_date, help="first day of a custom period")
        parser.add_argument("--to", dest="end", type=_date, help="last day of a custom period")
        parser.add_argument("--as-of", type=_date, help="the day named periods end on (default: today "
                                                        "in the organization's time zone)")

    def handle(self, *args, org, period, start, end, as_of, **opts):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"no organization {org!r} (see `cobro org list`)")
        try:
            chosen = services.make_period(as_of or services.org_today(organization), period, start, end)
        except services.PeriodError as exc:
            raise CommandError(str(exc)) from None
        with reading_from_replica():
            board = services.dashboard(organization, chosen)
        self.stdout.write(json.dumps(services.as_json(board), ensure_ascii=False, indent=2))
