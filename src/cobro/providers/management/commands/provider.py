"""`cobro provider set|list|remove|rotate`: payment providers' credentials per organization.

    cobro provider set stripe --org SLUG --secret-key KEY --webhook-secret SECRET
    cobro provider set mercadopago --org SLUG --access-token TOKEN --webhook-secret SECRET
    cobro provider set transbank --org SLUG --commerce-code CODE --api-key KEY
    cobro provider list --org SLUG
    cobro provider remove stripe --org SLUG
    cobro provider rotate          (re-encrypt everything with the first COBRO_CREDENTIALS_KEY)
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from cobro.ledger.models import Organization
from cobro.providers import services
from cobro.providers.crypto import CredentialsError
from cobro.providers.models import FIELDS, Provider, ProviderAccount


def bad(message: str) -> CommandError:
    return CommandError(message, returncode=2)


class Command(BaseCommand):
    help = "Payment providers' credentials per organization, stored encrypted (docs/payments-providers.md)."

    def add_arguments(self, parser):
        subs = parser.add_subparsers(dest="sub", required=True, metavar="{set,list,remove,rotate}")
        set_p = subs.add_parser("set", help="store a provider's credentials for an organization")
        per = set_p.add_subparsers(dest="provider", required=True, metavar="{" + ",".join(Provider.values) + "}")
        for prov, fields in FIELDS.items():
            p = per.add_parser(prov.value, help=prov.label)
            p.add_argument("--org", required=True, help="organization slug")
            for field in fields:
                p.add_argument("--" + field.replace("_", "-"), dest=field, required=True)
        list_p = subs.add_parser("list", help="which providers an organization has (secrets are not shown)")
        list_p.add_argument("--org", required=True)
        list_p.add_argument("--json", action="store_true")
        rm = subs.add_parser("remove", help="delete a provider's credentials")
        rm.add_argument("provider", choices=Provider.values)
        rm.add_argument("--org", required=True)
        subs.add_parser("rotate", help="re-encrypt every credential with the first COBRO_CREDENTIALS_KEY")

    def _org(self, slug):
        org = Organization.objects.filter(slug=slug).first()
        if org is None:
            raise bad(f"no organization {slug!r} (see `cobro org list`)")
        return org

    def handle(self, *args, sub, **opts):
        try:
            if sub == "rotate":
                self.stdout.write(f"{services.rotate_keys()} credential(s) re-encrypted")
                return
            org = self._org(opts["org"])
            if sub == "set":
                prov = opts["provider"]
                services.set_credentials(org, prov, **{f: opts[f] for f in FIELDS[Provider(prov)]})
                self.stdout.write(f"{prov} credentials stored for {org.slug} (encrypted)")
            elif sub == "remove":
                if not services.remove_credentials(org, opts["provider"]):
                    raise bad(f"{org.slug} has no {opts['provider']} credentials")
                self.stdout.write(f"{opts['provider']} credentials removed from {org.slug}")
            else:
                for a in ProviderAccount.objects.for_org(org).order_by("provider"):
                    row = {"provider": a.provider, "hint": a.hint, "updated_at": a.updated_at.isoformat()}
                    self.stdout.write(json.dumps(row) if opts["json"] else f"{a.provider:<12} {a.hint:<8} "
                                      f"{a.updated_at:%Y-%m-%d %H:%M}")
        except (services.ProviderError, CredentialsError) as exc:
            raise bad(str(exc)) from None
