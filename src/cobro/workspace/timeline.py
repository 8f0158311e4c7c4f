"""Reading a customer's timeline with what each message said and whether it arrived."""

from __future__ import annotations

from cobro.ledger.models import Organization, TimelineEvent

DOTS = {"message": "message", "call": "call", "payment": "payment", "promise": "promise", "plan": "plan",
        "dispute": "dispute", "optout": "optout", "opt_out": "optout", "stage": "stage"}


def attach_messages(org: Organization, events: list[TimelineEvent]) -> list[TimelineEvent]:
    """Give each event ``.message`` (the outbox row it names, if any) and ``.dot``: one query."""
    ids = {(e.data or {}).get("message_id") for e in events if e.kind.startswith("message.")}
    ids.discard(None)
    found = {}
    if ids:
        try:
            from cobro.messaging.models import Message
        except ImportError:  # an installation without the messaging app still shows its timeline
            Message = None
        if Message is not None:
            found = {m.pk: m for m in Message.objects.for_org(org).filter(pk__in=ids)}
    for e in events:
        e.dot = DOTS.get(e.kind.split(".", 1)[0], "other")
        e.message = found.get((e.data or {}).get("message_id"))
    return events
