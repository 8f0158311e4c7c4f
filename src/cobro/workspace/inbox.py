"""The team's inbox ("Bandeja"): what a debtor or the system put in front of a person.

An item is an open task of one of the kinds below: a debtor's reply (messaging), a promise or a
payment plan broken (agreements' cycle), a message that failed for good (messaging), a dispute
opened (agreements). The other apps already open these tasks, one per cause (``source_key``), so
the inbox keeps no table of its own: marking an item done completes its task and says so on the
customer's timeline. The count in the top bar is one COUNT over the task index.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils.formats import date_format
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _

from cobro.engine.money import format_money
from cobro.ledger.models import Organization, Task

#: Filter code → its label, in the order the filter shows them.
KINDS = {
    "reply": gettext_lazy("Respuestas"),
    "promise": gettext_lazy("Promesas incumplidas"),
    "plan": gettext_lazy("Planes incumplidos"),
    "failed": gettext_lazy("Mensajes fallidos"),
    "dispute": gettext_lazy("Reclamos abiertos"),
}

#: One item's badge, by the same codes.
KIND_BADGES = {
    "reply": gettext_lazy("Respuesta"),
    "promise": gettext_lazy("Promesa incumplida"),
    "plan": gettext_lazy("Plan incumplido"),
    "failed": gettext_lazy("Mensaje fallido"),
    "dispute": gettext_lazy("Reclamo"),
}

#: Task kinds that only the inbox shows (not the day's call list: a dispute is answered, not called).
INBOX_ONLY = ("dispute",)

# "agreement_broken" tasks say which agreement broke in their source key ("agreements:plan:7:broken").
_FILTERS = {
    "reply": Q(kind="reply"),
    "failed": Q(kind="message_failed"),
    "dispute": Q(kind="dispute"),
    "promise": Q(kind="promise_broken") | Q(kind="agreement_broken", source_key__startswith="agreements:promise:"),
    "plan": Q(kind="instalment_late") | Q(kind="agreement_broken", source_key__startswith="agreements:plan:"),
}
TASK_KINDS = ("reply", "message_failed", "dispute", "promise_broken", "agreement_broken", "instalment_late")


def open_items(org: Organization, kind: str = ""):
    """The open inbox tasks of ``org``, newest first; ``kind`` one of ``KINDS`` (or "" for all)."""
    qs = Task.objects.for_org(org).filter(status=Task.Status.OPEN, kind__in=TASK_KINDS)
    if kind in _FILTERS:
        qs = qs.filter(_FILTERS[kind])
    return qs.order_by("-created_at", "-id")


def count(org: Organization) -> int:
    """How many items wait, for the top bar's badge: one query."""
    return open_items(org).count()


def kind_of(task: Task) -> str:
    """The inbox code of one task (``KINDS``)."""
    if task.kind == "reply":
        return "reply"
    if task.kind == "message_failed":
        return "failed"
    if task.kind == "dispute":
        return "dispute"
    if task.kind == "instalment_late" or (task.source_key or "").startswith("agreements:plan:"):
        return "plan"
    return "promise"


def attach_details(org: Organization, tasks: list[Task]) -> list[Task]:
    """Give each task ``.inbox_kind``, ``.badge`` and ``.reply`` (a reply's text): one query for the
    replies of the page, none per item."""
    ids = {(t.data or {}).get("message_id") for t in tasks if t.kind == "reply"}
    ids.discard(None)
    texts: dict[int, str] = {}
    if ids:
        try:
            from cobro.messaging.models import Message
        except ImportError:
            Message = None
        if Message is not None:
            texts = dict(Message.objects.for_org(org).filter(pk__in=ids).values_list("pk", "body_text"))
    for t in tasks:
        t.inbox_kind = kind_of(t)
        t.badge = KIND_BADGES[t.inbox_kind]
        t.reply = texts.get((t.data or {}).get("message_id"), "")
        t.detail = _detail(t)
    return tasks


def _detail(task: Task) -> str:
    """One line of what happened, in the reader's language, from the data the task carries."""
    data = task.data or {}
    language = get_language() or "es"
    if task.inbox_kind == "promise" and data.get("amount") and data.get("currency") and data.get("promised_date"):
        return _("Prometió %(amount)s para el %(date)s.") % {
            "amount": format_money(int(data["amount"]), data["currency"], language),
            "date": date_format(dt.date.fromisoformat(data["promised_date"]), "DATE_FORMAT")}
    if task.inbox_kind == "plan" and data.get("missed"):
        n = len(data["missed"])
        return ngettext("%(n)d cuota impaga.", "%(n)d cuotas impagas.", n) % {"n": n}
    if task.inbox_kind == "dispute":
        return data.get("text", "")
    return ""
