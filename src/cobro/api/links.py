"""The customer's private link, as every message carries it (it opens the debtor's portal)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from cobro.messaging import links


def portal_link(org, customer) -> tuple[str, dt.date]:
    version = links.versions(org, [customer.pk])[customer.pk]
    url = links.url(org.pk, customer.pk, "pay", version)
    return url, timezone.localdate() + dt.timedelta(days=settings.COBRO_LINK_MAX_AGE_DAYS)
