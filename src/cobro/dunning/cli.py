"""What the dunning commands share: finding the organization and reading dates, with clear errors."""

from __future__ import annotations

import datetime as dt
import json

from django.core.management.base import CommandError
from django.utils import timezone

from cobro.engine.contact import zone
from cobro.ledger.models import Organization


def organization(slug: str) -> Organization:
    org = Organization.objects.filter(slug=slug).first()
    if org is None:
        raise CommandError(f"no organization {slug!r} (see `cobro org list`)")
    return org


def local_today(org: Organization) -> dt.date:
    """Today in the organization's zone: the day its team would call "today"."""
    return timezone.now().astimezone(zone(org.timezone)).date()


def date_arg(text: str | None, name: str, org: Organization | None = None) -> dt.date:
    if text is None and org is not None:
        return local_today(org)
    try:
        return dt.date.fromisoformat(str(text))
    except ValueError:
        raise CommandError(f"{name} {text!r} is not a date like 2026-03-04") from None


def json_line(obj: dict) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True)
