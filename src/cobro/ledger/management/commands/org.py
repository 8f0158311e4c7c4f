from django.core.management.base import BaseCommand, CommandError

from cobro.engine.money import MoneyError, check_currency
from cobro.ledger.models import Organization
from cobro.ledger.validation import check_country, check_language, check_tax_id, check_timezone


class Command(BaseCommand):
    help = "Create and list organizations (the creditor companies Cobro collects for)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create an organization")
        create.add_argument("slug", help="short name used in URLs and commands, e.g. acme")
        create.add_argument("--name", required=True)
        create.add_argument("--country", default="CL", help="ISO country code (default CL)")
        create.add_argument("--currency", default=None, help="ISO currency (default: the country's)")
        create.add_argument("--timezone", default=None, help="IANA zone (default: the country's)")
        create.add_argument("--language", default="es", help="es, en or pt-BR (default es)")
        create.add_argument("--tax-id", default="", help="the organization's own tax id (RUT, NIT, RFC...): "
                                                          "it identifies the issuer of imported e-invoices")
        update = sub.add_parser("update", help="change an organization's name or tax id")
        update.add_argument("slug")
        update.add_argument("--name")
        update.add_argument("--tax-id")
        sub.add_parser("list", help="list organizations")

    def handle(self, *args, action, **opts):
        if action == "update":
            return self.update(**opts)
        if action == "list":
            for org in Organization.objects.order_by("slug"):
                self.stdout.write(f"{org.slug}\t{org.name}\t{org.country}\t{org.currency}\t{org.timezone}")
            return
        from cobro.ledger.validation import COUNTRY_TIMEZONE

        try:
            country = check_country(opts["country"])
            currency = check_currency(opts["currency"] or _country_currency(country))
            zone = check_timezone(opts["timezone"] or COUNTRY_TIMEZONE.get(country, "UTC"))
            language = check_language(opts["language"])
            tax_id = check_tax_id(opts["tax_id"], country) if opts["tax_id"] else ""
        except (ValueError, MoneyError) as exc:
            raise CommandError(str(exc)) from None
        slug = opts["slug"]
        if Organization.objects.filter(slug=slug).exists():
            raise CommandError(f"an organization {slug!r} already exists")
        org = Organization.objects.create(slug=slug, name=opts["name"], country=country, currency=currency,
                                          timezone=zone, language=language, tax_id=tax_id)
        self.stdout.write(f"Created organization {org.slug} ({org.name}, {currency}, {zone}).")

    def update(self, *, slug, name=None, tax_id=None, **_):
        org = Organization.objects.filter(slug=slug).first()
        if org is None:
            raise CommandError(f"no organization {slug!r} (see `cobro org list`)")
        if name is None and tax_id is None:
            raise CommandError("nothing to change: give --name or --tax-id")
        if tax_id is not None:
            try:
                org.tax_id = check_tax_id(tax_id, org.country) if tax_id else ""
            except ValueError as exc:
                raise CommandError(str(exc)) from None
        if name is not None:
            if not name.strip():
                raise CommandError("the name cannot be empty")
            org.name = name.strip()
        org.save(update_fields=["name", "tax_id"])
        self.stdout.write(f"Updated organization {org.slug} ({org.name}, tax id {org.tax_id or '-'}).")


def _country_currency(country: str) -> str:
    from babel.numbers import get_territory_currencies

    found = get_territory_currencies(country, tender=True)
    return found[0] if found else "USD"
