"""Writes the workspace makes: call outcomes, scripts, reasons, preferences, owners.

Views parse the request and call these; each writes all or nothing and leaves a timeline event for
everything that happens to a customer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cobro.ledger.models import Customer, Invoice, Membership, Organization, Role, Task, TimelineEvent
from cobro.ledger.services import complete_task, record_event
from cobro.workspace.models import CallScript, DelayReason, UserPreference

OUTCOMES = {
    "reached": gettext_lazy("Contactado"),
    "no_answer": gettext_lazy("No contesta"),
    "wrong_number": gettext_lazy("Número equivocado"),
}

#: The reasons list a new organization starts with (it edits its own in Settings → Reasons).
DEFAULT_REASONS = [
    ("cash_flow", gettext_lazy("Falta de liquidez")),
    ("forgot", gettext_lazy("Olvido")),
    ("invoice_not_received", gettext_lazy("No recibió la factura")),
    ("invoice_error", gettext_lazy("Error en la factura")),
    ("waiting_customer", gettext_lazy("Espera el pago de su propio cliente")),
    ("approval", gettext_lazy("Pago en aprobación interna")),
    ("hardship", gettext_lazy("Dificultad personal o de salud")),
    ("disagrees", gettext_lazy("No está conforme con el servicio")),
]


class WorkspaceError(ValueError):
    """Bad input to a workspace action; the message is safe to show to the user."""


def delay_reasons(org: Organization) -> list[tuple[str, str]]:
    """The organization's active reasons, or the defaults while it has not edited the list."""
    rows = list(DelayReason.objects.for_org(org).values_list("code", "label", "active"))
    if not rows:
        return [(code, str(label)) for code, label in DEFAULT_REASONS]
    return [(code, label) for code, label, active in rows if active]


def ensure_reasons(org: Organization) -> None:
    """Turn the defaults into the organization's own rows so it can edit them."""
    if not DelayReason.objects.for_org(org).exists():
        DelayReason.objects.bulk_create(
            [DelayReason(organization=org, code=code, label=str(label), position=i)
             for i, (code, label) in enumerate(DEFAULT_REASONS)], ignore_conflicts=True)


def save_reason(org: Organization, code: str, label: str, active: bool = True) -> DelayReason:
    ensure_reasons(org)
    label = (label or "").strip()
    if not label:
        raise WorkspaceError(_("El motivo no puede estar vacío."))
    last = DelayReason.objects.for_org(org).order_by("-position").values_list("position", flat=True).first() or 0
    reason, _created = DelayReason.objects.update_or_create(
        organization=org, code=code, defaults={"label": label, "active": active},
        create_defaults={"label": label, "active": active, "position": last + 1})
    return reason


def save_script(org: Organization, situation: str, language: str, body: str, actor=None) -> CallScript:
    body = (body or "").strip()
    if len(body) < 20:
        raise WorkspaceError(_("El guion es demasiado corto: escriba al menos un saludo y una pregunta."))
    script, _created = CallScript.objects.update_or_create(
        organization=org, situation=situation, language=language,
        defaults={"body": body, "updated_by": actor})
    return script


def set_language(user, language: str) -> None:
    UserPreference.objects.update_or_create(user=user, defaults={"language": language})


def user_language(user) -> str | None:
    return UserPreference.objects.filter(user=user).values_list("language", flat=True).first()


def assign_owner(org: Organization, customer: Customer, owner, actor=None) -> None:
    """Give the customer an account owner (or none) and say so on the timeline.

    The ledger has no owner-changing service yet; this single-column update is the only write the
    workspace makes to a ledger table, and it goes with its timeline event in one transaction.
    """
    with transaction.atomic():
        Customer.objects.for_org(org).filter(pk=customer.pk).update(owner=owner)
        name = (owner.get_full_name() or owner.username) if owner else _("nadie")
        record_event(org, customer, "customer.owner_changed", _("Responsable: %(name)s") % {"name": name},
                     data={"owner_id": getattr(owner, "pk", None)}, actor=actor)
    customer.owner = owner


@dataclass(frozen=True)
class PromiseInput:
    date: dt.date
    amount: int  # minor units
    currency: str


@dataclass(frozen=True)
class DisputeInput:
    invoice: Invoice
    reason_code: str
    text: str


@dataclass(frozen=True)
class CallbackInput:
    """"Call back Thursday after 15:00": a day and a time on the debtor's own clock."""

    date: dt.date
    time: dt.time


def log_call(org: Organization, customer: Customer, actor, *, outcome: str, reason: str = "", note: str = "",
             task: Task | None = None, promise: PromiseInput | None = None, plan_proposal: str = "",
             dispute: DisputeInput | None = None, callback: CallbackInput | None = None,
             at: dt.datetime | None = None) -> TimelineEvent:
    """Record a call: the "call.logged" event the cycle reads for its cool-down, then what was agreed.

    All or nothing: a promise or dispute the agreements app refuses rolls the call log back too, so
    the agent sees the error and can correct it without a half-recorded call.
    """
    if outcome not in OUTCOMES:
        raise WorkspaceError(_("Resultado de llamada desconocido: %(o)s") % {"o": outcome})
    if outcome != "reached" and (promise or dispute or plan_proposal):
        raise WorkspaceError(_("Solo se registra un acuerdo si se habló con el cliente."))
    if task is not None and (task.organization_id != org.pk or task.customer_id != customer.pk):
        raise WorkspaceError(_("La tarea no corresponde a este cliente."))
    data = {"outcome": outcome, "reason": reason, "note": note.strip()}
    if task is not None:
        data["task_id"] = task.pk
    if plan_proposal:
        data["plan_proposal"] = plan_proposal.strip()
    summary = str(OUTCOMES[outcome])
    if reason:
        summary += " · " + dict(delay_reasons(org)).get(reason, reason)
    with transaction.atomic():
        event = record_event(org, customer, "call.logged", summary, data=data, actor=actor, at=at)
        # A call logged at a given moment (the demo's, a late entry) dates what it agreed by that moment.
        made_on = at.astimezone(ZoneInfo(customer.home_zone)).date() if at is not None else None
        if promise is not None:
            _agreements().create_promise(org, customer, promise.date, promise.amount, promise.currency,
                                         channel="call", taken_by=actor, made_on=made_on, at=at)
        if dispute is not None:
            _agreements().open_dispute(org, dispute.invoice, dispute.reason_code, dispute.text, actor=actor,
                                       at=at)
        if plan_proposal:
            # A proposal is a request for a manager to build the plan, so it becomes their task.
            from cobro.ledger.services import create_task

            create_task(org, customer, "plan_proposal", _("Preparar plan de pagos: %(t)s") % {
                "t": plan_proposal.strip()[:120]}, event.at.date(), source_key=f"plan-proposal:{event.pk}",
                data={"proposal": plan_proposal.strip(), "event_id": event.pk})
        if task is not None and task.status == Task.Status.OPEN:
            complete_task(task, outcome, at=at)
            # The day's list shows a customer once: its other open tasks due by then are this call too.
            for other in (Task.objects.for_org(org).filter(customer=customer, status=Task.Status.OPEN,
                                                           due_on__lte=max(task.due_on, event.at.date()))
                          .exclude(kind="approval")):
                complete_task(other, outcome, at=at)
        if callback is not None:
            # After the loop above, so the call that agreed it does not close it at once.
            schedule_callback(org, customer, actor, callback, event=event)
        if dispute is not None:
            _follow_agreement(org, customer, "disputa", actor, at)
        elif promise is not None:
            _follow_agreement(org, customer, "promesa", actor, at)
    return event


def _follow_agreement(org: Organization, customer: Customer, stage: str, actor, at=None) -> None:
    """A promise or dispute just agreed puts the customer in that stage, even from "En gestión"."""
    try:
        from cobro.dunning import services as dunning
    except ImportError:
        return
    try:
        dunning.move_stage(org, customer, stage, actor=actor, reason=str(_("acordado en la llamada")), at=at)
    except ValueError:
        pass  # further along (mediation, legal): the agreement shows as a badge there


def _agreements():
    try:
        from cobro.agreements import services
    except ImportError as exc:  # the agreements app lands separately; say so instead of failing obscurely
        raise WorkspaceError(_("Las promesas y reclamos aún no están disponibles en esta instalación.")) from exc
    return services


def add_note(org: Organization, customer: Customer, text: str, actor=None) -> TimelineEvent:
    text = (text or "").strip()
    if not text:
        raise WorkspaceError(_("La nota está vacía."))
    return record_event(org, customer, "note.added", text[:300], data={"text": text}, actor=actor)


def record_case_file(org: Organization, customer: Customer, actor=None) -> TimelineEvent:
    """Exporting the case file is itself on the record: who took the customer's data out, and when."""
    return record_event(org, customer, "casefile.exported", _("Expediente exportado (PDF)"), actor=actor)


def set_role(org: Organization, member: Membership, role: str, actor_membership: Membership) -> None:
    if role not in Role.values:
        raise WorkspaceError(_("Rol desconocido: %(r)s") % {"r": role})
    if member.organization_id != org.pk:
        raise WorkspaceError(_("Ese miembro no pertenece a esta organización."))
    if member.pk == actor_membership.pk and role != Role.ADMIN:
        # An organization must never lose its last way to manage itself by a slip of the mouse.
        raise WorkspaceError(_("No puede quitarse a sí mismo el rol de administrador."))
    Membership.objects.filter(pk=member.pk).update(role=role)


# ---------------------------------------------------------------- exchange rates (for ranking only)
def exchange_rates(org: Organization) -> dict[str, Decimal]:
    """Units of the organization's currency per unit of each other currency it has stated."""
    from decimal import Decimal

    from cobro.workspace.models import ExchangeRate

    rates = dict(ExchangeRate.objects.for_org(org).values_list("currency", "rate"))
    rates[org.currency] = Decimal(1)
    return rates


def parse_rate(text: str) -> Decimal:
    """A rate as a person writes it: "1.020,5" or "1020.5" or "0,0011"; refused when not positive."""
    from decimal import Decimal, InvalidOperation

    raw = (text or "").strip().replace(" ", "")
    if "," in raw:  # a decimal comma: dots before it group thousands
        raw = raw.replace(".", "").replace(",", ".")
    elif raw.count(".") > 1:
        raw = raw.replace(".", "")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value <= 0 or value >= Decimal("1e15"):
        raise WorkspaceError(_("«%(v)s» no es un tipo de cambio: escriba un número mayor que cero, por ejemplo "
                               "1.020,50.") % {"v": (text or "")[:32]})
    return value.quantize(Decimal("0.00000001"))


def save_exchange_rate(org: Organization, currency: str, text: str, actor=None):
    from cobro.engine.money import MoneyError, exponent
    from cobro.workspace.models import ExchangeRate

    currency = (currency or "").strip().upper()
    try:
        exponent(currency)
    except (MoneyError, KeyError) as exc:
        raise WorkspaceError(_("Moneda desconocida: %(c)s") % {"c": currency[:8]}) from exc
    if currency == org.currency:
        raise WorkspaceError(_("%(c)s es la moneda de la organización: su valor es siempre 1.") % {"c": currency})
    rate = parse_rate(text)
    row, _created = ExchangeRate.objects.update_or_create(organization=org, currency=currency,
                                                          defaults={"rate": rate, "updated_by": actor})
    return row


# ---------------------------------------------------------------- callbacks and the inbox
def schedule_callback(org: Organization, customer: Customer, actor, callback: CallbackInput, *,
                      event: TimelineEvent | None = None, now: dt.datetime | None = None) -> Task:
    """A call task at the moment the debtor asked for, on their clock, for the agent who agreed it.

    Refused (``WorkspaceError``, nothing written) when the moment is past or outside the contact
    rules of the debtor's country (``callbacks.resolve`` says why).
    """
    from cobro.ledger.services import create_task
    from cobro.workspace.callbacks import CallbackRefused, resolve

    try:
        moment = resolve(org, customer, callback.date, callback.time, now=now)
    except CallbackRefused as exc:
        raise WorkspaceError(str(exc)) from None
    hhmm = moment.local.strftime("%H:%M")
    data = {"at": moment.at.isoformat(), "local_time": hhmm, "zone": moment.zone,
            "local_date": moment.local.date().isoformat()}
    with transaction.atomic():
        if event is not None:
            data["event_id"] = event.pk
        key = f"callback:{event.pk}" if event is not None else f"callback:{customer.pk}:{moment.at.isoformat()}"
        task = create_task(org, customer, "callback", f"Volver a llamar a las {hhmm} ({moment.zone})",
                           moment.local.date(), source_key=key, data=data, assignee=actor)
        record_event(org, customer, "callback.scheduled",
                     f"Volver a llamar el {moment.local.date():%d-%m-%Y} a las {hhmm} ({moment.zone})",
                     data={**data, "task_id": task.pk}, actor=actor)
    return task


def close_inbox_item(org: Organization, task: Task, actor) -> TimelineEvent:
    """Mark one inbox item handled: its task is done, and the customer's timeline says who did it."""
    from cobro.workspace.inbox import TASK_KINDS, kind_of

    if task.organization_id != org.pk or task.kind not in TASK_KINDS:
        raise WorkspaceError(_("Ese elemento no está en la bandeja de esta organización."))
    with transaction.atomic():
        locked = Task.objects.for_org(org).select_for_update().get(pk=task.pk)
        if locked.status != Task.Status.OPEN:
            raise WorkspaceError(_("Otra persona ya atendió este elemento."))
        complete_task(locked, "handled", actor=actor)
        kind = kind_of(locked)
        return record_event(org, locked.customer_id, "inbox.done", f"Bandeja: atendido ({kind})",
                            data={"task_id": locked.pk, "kind": kind, "task_kind": locked.kind}, actor=actor)
