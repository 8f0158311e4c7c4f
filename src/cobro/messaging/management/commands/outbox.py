"""``cobro outbox deliver [--org SLUG] [--once]`` and ``cobro outbox status [--org SLUG]``."""

from __future__ import annotations

import json
import time

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from cobro.ledger.models import Organization
from cobro.messaging import outbox
from cobro.messaging.models import Message


class Command(BaseCommand):
    help = "Deliver the outbox's due messages, or show how many messages are in each state."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="sub", required=True)
        deliver = sub.add_parser("deliver", help="send due messages (keeps polling unless --once)")
        deliver.add_argument("--org", help="only this organization (slug)")
        deliver.add_argument("--once", action="store_true", help="deliver what is due now, then exit")
        deliver.add_argument("--interval", type=float, default=5.0, help="seconds between polls")
        deliver.add_argument("--batch", type=int, default=100, help="messages claimed at a time")
        status = sub.add_parser("status", help="messages per status and channel, as JSON")
        status.add_argument("--org", help="only this organization (slug)")

    def _org(self, slug):
        if not slug:
            return None
        org = Organization.objects.filter(slug=slug).first()
        if org is None:
            raise CommandError(f"no organization with slug {slug!r}")
        return org

    def handle(self, *args, sub, **opts):
        org = self._org(opts.get("org"))
        if sub == "status":
            qs = Message.objects.all() if org is None else Message.objects.for_org(org)
            rows = qs.values("status", "channel").annotate(n=Count("id")).order_by("status", "channel")
            self.stdout.write(json.dumps({f"{r['status']}/{r['channel']}": r["n"] for r in rows}))
            return
        while True:
            report = outbox.deliver(org, batch=opts["batch"])
            if report.sent or report.retried or report.failed or report.cancelled or report.held or opts["once"]:
                self.stdout.write(json.dumps(report.as_dict()))
            if opts["once"]:
                return
            time.sleep(opts["interval"])
