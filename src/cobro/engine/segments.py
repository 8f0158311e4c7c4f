"""Segments: named, ordered rules that choose a customer's policy. Pure: no Django, no database.

A segment's conditions are all optional and all must hold (an empty segment holds everyone):

- ``bands``: the customer's latest risk band is one of these ("low", "medium", "high"); a customer
  never scored has no band and does not meet the condition;
- ``currency`` with ``amount_min`` / ``amount_max``: the customer's open amount in that currency, in
  exact minor units, is at least ``amount_min`` and less than ``amount_max``; a customer who owes
  only in other currencies does not meet it (one who owes nothing owes 0 in every currency);
- ``countries``: the customer's country is one of these;
- ``tags``: the customer carries at least one of these tags;
- ``days_min`` / ``days_max``: days since the customer's first invoice was issued, both inclusive;
  a customer without invoices does not meet it.

``choose`` decides one customer: their own policy first, then the first segment that holds them in
priority order (lower ``priority`` first, then lower ``id``), then a policy whose legacy ``segment``
label is one of their tags, then the organization's default. Every customer gets exactly one policy.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

BANDS = ("low", "medium", "high")


@dataclass(frozen=True, slots=True)
class Segment:
    id: int
    name: str
    policy: str
    priority: int = 0
    bands: frozenset[str] = frozenset()
    currency: str = ""
    amount_min: int | None = None
    amount_max: int | None = None
    countries: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    days_min: int | None = None
    days_max: int | None = None

    @property
    def order(self) -> tuple[int, int]:
        return (self.priority, self.id)

    @property
    def needs_band(self) -> bool:
        return bool(self.bands)

    @property
    def needs_first_invoice(self) -> bool:
        return self.days_min is not None or self.days_max is not None


@dataclass(frozen=True, slots=True)
class Facts:
    """What the rules look at for one customer. ``open_amounts``: currency -> minor units owed."""

    country: str = ""
    tags: frozenset[str] = frozenset()
    band: str | None = None
    open_amounts: Mapping[str, int] = field(default_factory=dict)
    days_since_first: int | None = None


@dataclass(frozen=True, slots=True)
class Choice:
    """The policy chosen and why: ``source`` is "customer", "segment", "tag" or "default"."""

    policy: str
    source: str
    segment: Segment | None = None


@lru_cache(maxsize=4096)
def parse_tags(text: str) -> frozenset[str]:
    """A customer's tags from the ``segment`` field: comma-separated, trimmed, compared in lower case
    (a book has few distinct values: each is read once)."""
    return frozenset(t.strip().lower() for t in (text or "").split(",") if t.strip())


def ordered(segments: Iterable[Segment]) -> tuple[Segment, ...]:
    return tuple(sorted(segments, key=lambda s: s.order))


def matches(segment: Segment, facts: Facts) -> bool:
    """Whether every condition of ``segment`` holds for ``facts``."""
    if segment.bands and facts.band not in segment.bands:
        return False
    if segment.countries and facts.country not in segment.countries:
        return False
    if segment.tags and not (segment.tags & facts.tags):
        return False
    if segment.amount_min is not None or segment.amount_max is not None:
        owed = facts.open_amounts
        if owed and segment.currency not in owed:
            return False
        amount = owed.get(segment.currency, 0)
        if segment.amount_min is not None and amount < segment.amount_min:
            return False
        if segment.amount_max is not None and amount >= segment.amount_max:
            return False
    if segment.needs_first_invoice:
        days = facts.days_since_first
        if days is None:
            return False
        if segment.days_min is not None and days < segment.days_min:
            return False
        if segment.days_max is not None and days > segment.days_max:
            return False
    return True


def first_match(segments: Iterable[Segment], facts: Facts) -> Segment | None:
    """The first segment in priority order that holds ``facts`` (``segments`` in any order)."""
    return _first(ordered(segments), facts)


def _first(rules: tuple[Segment, ...], facts: Facts) -> Segment | None:
    for segment in rules:
        if matches(segment, facts):
            return segment
    return None


def choose(segments: tuple[Segment, ...], facts: Facts, default: str, *, assigned: str | None = None,
           by_tag: Mapping[str, str] | None = None, known: frozenset[str] | set[str] | None = None) -> Choice:
    """The one policy for a customer. ``segments`` must already be ``ordered``; ``by_tag`` maps a legacy
    policy label to its policy; ``known``: the policies that exist (a segment or assignment pointing
    elsewhere is passed over)."""
    def usable(code: str | None) -> bool:
        return bool(code) and (known is None or code in known)

    if usable(assigned):
        return Choice(assigned, "customer")
    for segment in segments:
        if usable(segment.policy) and matches(segment, facts):
            return Choice(segment.policy, "segment", segment)
    for tag in sorted(facts.tags):
        code = (by_tag or {}).get(tag)
        if usable(code):
            return Choice(code, "tag")
    return Choice(default, "default")


def count(segments: Iterable[Segment], customers: Iterable[tuple[Facts, bool]]) -> tuple[Counter, int, int]:
    """How many customers each segment holds: ``customers`` yields (facts, has_own_policy).

    Returns (segment id -> customers it chooses the policy for, customers with their own policy,
    customers no segment holds). A customer with their own policy is counted there, not in a segment."""
    rules = ordered(segments)
    held: Counter = Counter()
    own = rest = 0
    for facts, has_own in customers:
        if has_own:
            own += 1
            continue
        segment = _first(rules, facts)
        if segment is None:
            rest += 1
        else:
            held[segment.id] += 1
    return held, own, rest
