"""Demo data for the dunning app: the default policy, and today's cycle so the board has work."""

from __future__ import annotations

import datetime as dt

from cobro.ledger.models import Organization

from .cycle import run_cycle
from .services import ensure_default_policy


def populate(org: Organization, today: dt.date) -> None:
    # Idempotent: the policy is created once and the cycle's keys make a second run add nothing.
    ensure_default_policy(org)
    run_cycle(org, today)
