"""What the team reads of what debtors do in the portal: the tasks it opens (confirm a reported
transfer, approve a proposed plan) and the survey's timeline line.

The debtor's request runs in the debtor's language, but these are read by the team: the stored text
is written in the organization's language (exports, the admin), and every screen of the workspace
shows it in the reader's own language from its kind and data (``workspace.labels``)."""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cobro.messaging.defaults import language_of

CONFIRM_TRANSFER = gettext_noop("Confirmar transferencia informada en el portal: %(refs)s")
APPROVE_PLAN = gettext_noop("Aprobar plan de pagos propuesto en el portal")
SURVEY = gettext_noop("Encuesta del portal: %(rating)s/5")


def title(kind: str, data: dict) -> str:
    """The title of a portal task in the active language, or "" for a task the portal did not open."""
    if kind == "confirm_transfer" and data.get("invoice_refs"):
        return _(CONFIRM_TRANSFER) % {"refs": ", ".join(data["invoice_refs"])}
    if kind == "plan_approval" and "plan_id" in data:
        return _(APPROVE_PLAN)
    return ""


def survey_line(data: dict) -> str:
    """The timeline line of a ``portal.survey`` event in the active language, or ""."""
    return _(SURVEY) % {"rating": data["rating"]} if "rating" in data else ""


def stored(org, make, *args) -> str:
    """What to store (``make(*args)``: ``title`` or ``survey_line``), in the organization's language."""
    with translation.override(language_of(org.language).lower()):
        return make(*args)
