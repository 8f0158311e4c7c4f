"""Signed, expiring, revocable links in messages: the pay link (statement) and the opt-out link.

A token carries the organization, the customer, the purpose, the channel (for opt-outs) and the
customer's link version. It is signed with the secret key (django.core.signing), so nobody can forge
one for another customer; it expires after COBRO_LINK_MAX_AGE_DAYS; and bumping the customer's
``LinkVersion`` revokes every link already sent (a lost phone, a forwarded email).
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.db.models import F, OuterRef, Subquery
from django.urls import reverse

from cobro.ledger.models import Customer
from cobro.messaging.models import LinkVersion, MessageChannel

SALT = "cobro.messaging.links"
# The pay link opens the debtor portal; /messages/s/<token>/ (links already sent) redirects there.
PURPOSES = {"pay": "portal:statement", "optout": "messaging:opt_out"}


class LinkError(Exception):
    """The link is forged, expired or revoked; the message is safe to show to the debtor."""


class MalformedLink(LinkError):
    """Signed with our key but not a payload ``make_token`` writes (wrong types, missing fields):
    answered like an unknown page (404), never looked up."""


_CHANNELS = frozenset(MessageChannel.values)


def _is_id(value) -> bool:
    return type(value) is int and 0 < value < 2**63


def _check_payload(data) -> dict:
    if not isinstance(data, dict):
        raise MalformedLink("malformed")
    if not (_is_id(data.get("o")) and _is_id(data.get("c")) and _is_id(data.get("v"))
            and isinstance(data.get("p"), str)):
        raise MalformedLink("malformed")
    if "ch" in data and not (isinstance(data["ch"], str) and data["ch"] in _CHANNELS):
        raise MalformedLink("malformed")
    return data


def versions(org, customer_ids) -> dict[int, int]:
    """Current link version per customer (1 when never bumped), in one query."""
    found = dict(LinkVersion.objects.for_org(org).filter(customer_id__in=list(customer_ids))
                 .values_list("customer_id", "version"))
    return {cid: found.get(cid, 1) for cid in customer_ids}


def make_token(org_id: int, customer_id: int, purpose: str, version: int, channel: str = "",
               days: int | None = None) -> str:
    """``days`` gives this link a shorter (or longer) life than COBRO_LINK_MAX_AGE_DAYS."""
    payload = {"o": org_id, "c": customer_id, "p": purpose, "v": version}
    if channel:
        payload["ch"] = channel
    if days is not None:
        payload["d"] = int(days)
    return signing.dumps(payload, salt=SALT, compress=True)


def url(org_id: int, customer_id: int, purpose: str, version: int, channel: str = "",
        days: int | None = None) -> str:
    token = make_token(org_id, customer_id, purpose, version, channel, days)
    return settings.COBRO_BASE_URL + reverse(PURPOSES[purpose], args=[token])


def read_token(token: str, purpose: str) -> dict:
    """The token's payload if it is genuine, unexpired, of this purpose and not revoked."""
    return open_link(token, purpose)[0]


def open_link(token: str, purpose: str) -> tuple[dict, Customer | None]:
    """The payload of a genuine, unexpired, unrevoked link of this purpose and the customer it
    names (with its organization; None when that organization has no such customer), in one
    query: the customer's link version is read with the customer."""
    data = _signed_payload(token, purpose)
    version = LinkVersion.objects.filter(organization_id=OuterRef("organization_id"), customer_id=OuterRef("pk"))
    customer = (Customer.objects.select_related("organization").filter(pk=data["c"], organization_id=data["o"])
                .annotate(link_version=Subquery(version.values("version")[:1])).first())
    # No row: never bumped (version 1); no customer: only a version-1 link may go on to be refused.
    if data.get("v") != ((customer.link_version if customer else None) or 1):
        raise LinkError("revoked")
    return data, customer


def _signed_payload(token: str, purpose: str) -> dict:
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.COBRO_LINK_MAX_AGE_DAYS * 86400)
        if isinstance(data, dict) and "d" in data:
            data = signing.loads(token, salt=SALT, max_age=int(data["d"]) * 86400)
    except signing.SignatureExpired:
        raise LinkError("expired") from None
    except signing.BadSignature:
        raise LinkError("invalid") from None
    except (ValueError, TypeError, UnicodeError):  # signed, but not JSON (or not UTF-8, or not zlib)
        raise MalformedLink("malformed") from None
    data = _check_payload(data)
    if data.get("p") != purpose:
        raise LinkError("invalid")
    return data


def revoke(org, customer) -> int:
    """Invalidate every pay and opt-out link sent to this customer so far; returns the new version."""
    row, created = LinkVersion.objects.get_or_create(organization=org, customer=customer,
                                                     defaults={"version": 2})
    if not created:
        LinkVersion.objects.filter(pk=row.pk).update(version=F("version") + 1)
        row.refresh_from_db(fields=["version"])
    return row.version
