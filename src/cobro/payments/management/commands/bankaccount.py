"""`cobro bankaccount add|list`: the organization's bank accounts, their folders and CSV mappings."""

from django.core.management.base import BaseCommand, CommandError

from cobro.engine.money import MoneyError, check_currency
from cobro.ledger.models import Organization
from cobro.payments.formats.table import SYNONYMS
from cobro.payments.models import BankAccount


class Command(BaseCommand):
    help = ("Add or change a bank account (its statements folder, read before each day's cycle, and the "
            "column mapping of its CSV/XLSX exports), or list them with their last statement's date.")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True)
        add = sub.add_parser("add", help="add an account or change one (by number)")
        add.add_argument("--org", required=True)
        add.add_argument("--number", required=True, help="as the statements name it (IBAN, number, CLABE)")
        add.add_argument("--name", default="")
        add.add_argument("--currency", required=True)
        add.add_argument("--folder", default=None, help="where the bank leaves each day's statement")
        add.add_argument("--every", type=int, default=None, help="warn after this many days without a statement")
        add.add_argument("--map", action="append", default=[], metavar="FIELD=HEADER",
                         help=f"CSV column for a field ({', '.join(SYNONYMS)}); repeat for each")
        ls = sub.add_parser("list")
        ls.add_argument("--org", required=True)

    def handle(self, *args, verb, org, **opts):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"no organization {org!r}")
        if verb == "list":
            for acc in BankAccount.objects.for_org(organization).order_by("name"):
                self.stdout.write(f"{acc.number:<28} {acc.currency} {acc.name:<36} last statement: "
                                  f"{acc.last_statement_date or 'never'}  folder: {acc.folder or '-'}")
            return
        try:
            currency = check_currency(opts["currency"])
        except MoneyError as exc:
            raise CommandError(str(exc)) from None
        mapping = {}
        for item in opts["map"]:
            field, sep, header = item.partition("=")
            if not sep or field not in SYNONYMS or not header.strip():
                raise CommandError(f"--map {item!r}: use FIELD=HEADER with FIELD one of {', '.join(SYNONYMS)}")
            mapping[field] = header.strip()
        acc, created = BankAccount.objects.get_or_create(
            organization=organization, number=opts["number"],
            defaults={"name": opts["name"] or opts["number"], "currency": currency})
        acc.currency = currency
        acc.name = opts["name"] or acc.name
        if opts["folder"] is not None:
            acc.folder = opts["folder"]
        if opts["every"] is not None:
            acc.expected_every_days = opts["every"]
        if mapping:
            acc.csv_mapping = {**acc.csv_mapping, **mapping}
        acc.save()
        self.stdout.write(("Added " if created else "Changed ") + f"{acc.number} ({acc.currency}).")
