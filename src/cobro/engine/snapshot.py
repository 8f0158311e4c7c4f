"""The plain data the daily cycle decides on: one read of the open book, as immutable records.

The dunning app loads these with one query per table; ``engine.plan`` takes them and returns
decisions. Nothing here knows about Django.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Hold:
    """Something that pauses collection of one invoice (agreements, disputes, a manual pause).

    ``kind`` is "promise", "plan", "dispute" or "pause"; the invoice is not chased while
    ``as_of <= until`` (``until`` None: until the hold is lifted). ``reason`` is shown by explain.
    """

    invoice_id: int
    kind: str
    until: dt.date | None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class AgreementItem:
    """Something an agreement asks the cycle to tell the customer about on a given day.

    ``kind``: "promise_reminder", "promise_broken", "instalment_reminder", "instalment_late",
    "dispute_resolved". It is consolidated into the customer's single message of the day (or sent on
    its own when nothing else is due), obeys the same contact rules, and gets its own idempotent key
    from ``key`` (stable for the same fact, e.g. "plan:12:inst:3:reminder").
    """

    customer_id: int
    kind: str
    key: str
    due_date: dt.date
    amount: int
    currency: str
    template: str
    ref: str = ""
    invoice_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class OpenInvoice:
    """An invoice with money still owed (``open_amount`` > 0, minor units)."""

    id: int
    customer_id: int
    ref: str
    due_date: dt.date
    currency: str
    open_amount: int


@dataclass(frozen=True, slots=True)
class Debtor:
    """A customer as the cycle sees them.

    ``reachable``: channels with an address and the debtor's consent (email, sms, whatsapp, call);
    ``opted_out``: channels the debtor asked us to stop using. ``policy``: the policy code chosen for
    them (their own, then the first segment that holds them, then a policy labelled with one of
    their tags, then the organization's). ``stage``: their board stage.
    ``timezone``: the customer's own zone setting ("" when unset). ``zones``: every zone they may be in
    (``engine.zones.candidate_zones``) and ``zone_source`` where these came from; empty ``zones``
    means just ``timezone``.
    """

    id: int
    ref: str
    country: str
    timezone: str
    preferred: str = "email"
    reachable: frozenset[str] = frozenset()
    opted_out: frozenset[str] = frozenset()
    segment: str = ""
    stage: str = ""
    policy: str = ""
    zones: tuple[str, ...] = ()
    zone_source: str = ""
    #: Who chose ``policy``: "customer", "segment" (``policy_segment`` names it), "tag" or "default".
    policy_source: str = ""
    policy_segment: str = ""

    @property
    def zone_names(self) -> tuple[str, ...]:
        """The zones the contact rules must hold in; the first one dates the debtor's contacts."""
        return self.zones or (self.timezone,)


@dataclass(frozen=True, slots=True)
class Contacted:
    """A contact made (from the timeline) or already planned (an earlier action), at an aware time.

    ``conversation``: a real conversation (an answered call, a reply), which starts a cool-down.
    """

    customer_id: int
    at: dt.datetime
    channel: str
    conversation: bool = False


class LazyMap(Mapping):
    """A read-only mapping that builds each value from its raw form the first time it is asked for.

    The cycle reads a whole book but decides about the few customers whose steps fall due today;
    building a record for each of 200,000 customers would cost more than the decisions.
    """

    __slots__ = ("_raw", "_make", "_built")

    def __init__(self, raw: dict, make: Callable):
        self._raw, self._make, self._built = raw, make, {}

    def __getitem__(self, key):
        try:
            return self._built[key]
        except KeyError:
            value = self._built[key] = self._make(key, self._raw[key])
            return value

    def __contains__(self, key) -> bool:
        return key in self._raw

    def __iter__(self) -> Iterator:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)


@dataclass(frozen=True)
class Snapshot:
    """Everything ``engine.plan`` needs for one organization and one day.

    ``last_run``: the previous day the cycle ran (None: never). Steps that fell due after it and up
    to ``as_of`` are candidates; when several did (the cycle missed days), only the most relevant
    one per invoice is taken. ``rules`` maps a country to its contact rules (debtors of countries
    not in it get ``engine.contact.STRICT``); ``holidays`` maps a country to its holiday dates.
    """

    organization_id: int
    as_of: dt.date
    invoices: tuple[OpenInvoice, ...]
    debtors: Mapping[int, Debtor]
    policies: dict  # code -> engine.policy.Policy
    default_policy: str
    rules: dict  # country -> engine.contact.ContactRules
    holidays: dict[str, frozenset[dt.date]] = field(default_factory=dict)
    last_run: dt.date | None = None
    holds: tuple[Hold, ...] = ()
    items: tuple[AgreementItem, ...] = ()
    #: Customer id → that customer's contacts (made or planned) over the last weeks.
    contacts: Mapping[int, tuple[Contacted, ...]] = field(default_factory=dict)
