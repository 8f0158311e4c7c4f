"""What the ``cobro promise|plan|dispute|fee`` commands share: finding things, reading input, printing.

Bad input stops the command with exit status 2 and one line naming what is wrong; ``--json``
prints one JSON object per line, money as decimal strings in major units ("1234.56").
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from cobro.engine.money import MoneyError, from_minor, parse_amount
from cobro.ledger.models import Customer, Invoice, Organization


def bad(message: str) -> CommandError:
    return CommandError(message, returncode=2)


def money(minor: int | None, currency: str) -> str | None:
    return None if minor is None else str(from_minor(minor, currency))


class AgreementCommand(BaseCommand):
    """A command with sub-commands; each sub-command is a ``do_<name>`` method."""

    def add_arguments(self, parser):
        subs = parser.add_subparsers(dest="sub", required=True, metavar="{" + ",".join(self.subcommands) + "}")
        for name, help_text in self.subcommands.items():
            p = subs.add_parser(name, help=help_text)
            p.add_argument("--org", required=True, help="organization slug")
            p.add_argument("--json", action="store_true", help="one JSON object per line")
            getattr(self, f"args_{name}", lambda _p: None)(p)

    def handle(self, *args, sub, **opts):
        self.org = Organization.objects.filter(slug=opts["org"]).first()
        if self.org is None:
            raise bad(f"no organization {opts['org']!r} (see `cobro org list`)")
        self.as_json = opts["json"]
        try:
            getattr(self, f"do_{sub}")(**opts)
        except (ValueError, MoneyError) as exc:  # AgreementError and the ledger's errors are ValueErrors
            raise bad(str(exc)) from None

    # Promises and plans are judged together (one pass over the customer's payments), so both
    # commands offer the same "evaluate".
    def args_evaluate(self, p):
        p.add_argument("--as-of", required=True, type=date_arg)

    def do_evaluate(self, as_of, **_):
        from cobro.agreements.services import evaluate_agreements

        counts = evaluate_agreements(self.org, as_of)
        self.emit(counts, ", ".join(f"{k}: {v}" for k, v in counts.items()))

    # -- reading ---------------------------------------------------------------------------------
    def customer(self, ref: str) -> Customer:
        found = Customer.objects.for_org(self.org).filter(ref=ref).first()
        if found is None:
            raise bad(f"no customer {ref!r} in {self.org.slug}")
        return found

    def invoices(self, refs: list[str] | None) -> list[Invoice] | None:
        if not refs:
            return None
        found = {i.ref: i for i in Invoice.objects.for_org(self.org).filter(ref__in=refs)}
        missing = [r for r in refs if r not in found]
        if missing:
            raise bad(f"no invoice {', '.join(missing)} in {self.org.slug}")
        return [found[r] for r in refs]

    def user(self, username: str | None):
        if not username:
            return None
        # Only a person of this organization: another tenant's user never becomes who took, made or
        # approved this organization's promises, plans, disputes and waivers (issue #10).
        found = get_user_model().objects.filter(username=username, memberships__organization=self.org).first()
        if found is None:
            raise bad(f"no user {username!r} in {self.org.slug}")
        return found

    def amount(self, text: str, currency: str) -> int:
        try:
            return parse_amount(text, currency)
        except MoneyError as exc:
            raise bad(f"--amount: {exc}") from None

    def get(self, model, pk: int):
        found = model.objects.for_org(self.org).filter(pk=pk).first()
        if found is None:
            raise bad(f"no {model._meta.model_name} {pk} in {self.org.slug}")
        return found

    # -- printing --------------------------------------------------------------------------------
    def emit(self, row: dict, text: str) -> None:
        self.stdout.write(json.dumps(row, ensure_ascii=False, default=_plain) if self.as_json else text)


def _plain(value):
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value))


def date_arg(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        import argparse

        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None
