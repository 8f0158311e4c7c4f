"""Names people read for the codes other apps store: message templates, task titles, timeline
event kinds. The code stays in the database; the screen shows these, in the reader's language."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

TEMPLATE_NAMES = {
    "reminder_before": gettext_lazy("Recordatorio antes del vencimiento"),
    "due_today": gettext_lazy("Vence hoy"),
    "overdue_friendly": gettext_lazy("Atraso, tono amable"),
    "overdue_neutral": gettext_lazy("Atraso, tono neutro"),
    "overdue_firm": gettext_lazy("Atraso, tono firme"),
    "late_fee_notice": gettext_lazy("Aviso de cargo por mora"),
    "mediation_notice": gettext_lazy("Aviso de mediación"),
    "legal_review": gettext_lazy("Revisión legal"),
    "promise_reminder": gettext_lazy("Recordatorio de promesa"),
    "promise_broken": gettext_lazy("Promesa incumplida"),
    "instalment_reminder": gettext_lazy("Recordatorio de cuota"),
    "instalment_late": gettext_lazy("Cuota atrasada"),
    "dispute_resolved": gettext_lazy("Reclamo resuelto"),
    "thank_you": gettext_lazy("Agradecimiento"),
}

#: Timeline event kinds by name (the timeline's "when" line, the case file's "Evento" column).
EVENT_NAMES = {
    "message.queued": gettext_lazy("Mensaje en cola"),
    "message.sent": gettext_lazy("Mensaje enviado"),
    "message.delivered": gettext_lazy("Mensaje entregado"),
    "message.read": gettext_lazy("Mensaje leído"),
    "message.failed": gettext_lazy("Mensaje fallido"),
    "promise.made": gettext_lazy("Promesa de pago"),
    "promise.kept": gettext_lazy("Promesa cumplida"),
    "promise.broken": gettext_lazy("Promesa incumplida"),
    "stage.moved": gettext_lazy("Cambio de etapa"),
    "call.logged": gettext_lazy("Llamada"),
    "note.added": gettext_lazy("Nota"),
    "inbox.done": gettext_lazy("Bandeja"),
    "callback.scheduled": gettext_lazy("Volver a llamar"),
    "promise.replaced": gettext_lazy("Promesa reemplazada"),
    "promise.cancelled": gettext_lazy("Promesa anulada"),
    "plan.created": gettext_lazy("Plan de pagos"),
    "plan.proposed": gettext_lazy("Plan de pagos propuesto"),
    "plan.approved": gettext_lazy("Plan de pagos aprobado"),
    "plan.cancelled": gettext_lazy("Plan de pagos anulado"),
    "plan.instalment_paid": gettext_lazy("Cuota pagada"),
    "plan.instalment_missed": gettext_lazy("Cuota impaga"),
    "plan.completed": gettext_lazy("Plan de pagos cumplido"),
    "plan.broken": gettext_lazy("Plan de pagos incumplido"),
    "dispute.opened": gettext_lazy("Disputa abierta"),
    "dispute.assigned": gettext_lazy("Disputa asignada"),
    "dispute.answered": gettext_lazy("Disputa respondida"),
    "dispute.resolved": gettext_lazy("Disputa resuelta"),
    "terms.changed": gettext_lazy("Condiciones de pago"),
    "fee.waived": gettext_lazy("Cargo condonado"),
    "fee.posted": gettext_lazy("Cargo por mora"),
    "discount.applied": gettext_lazy("Descuento"),
    "payment.received": gettext_lazy("Pago recibido"),
    "payment.reversed": gettext_lazy("Pago anulado"),
    "credit_note.added": gettext_lazy("Nota de crédito"),
    "credit_note.reversed": gettext_lazy("Nota de crédito anulada"),
    "message.reply": gettext_lazy("Respuesta del cliente"),
    "optout.recorded": gettext_lazy("Baja de un canal"),
    "collection.paused": gettext_lazy("Pausa"),
    "collection.resumed": gettext_lazy("Pausa levantada"),
    "action.approved": gettext_lazy("Paso aprobado"),
    "statement.applied": gettext_lazy("Conciliación bancaria"),
    "statement.undone": gettext_lazy("Conciliación deshecha"),
    "portal.survey": gettext_lazy("Encuesta"),
    "customer.owner_changed": gettext_lazy("Responsable"),
    "casefile.exported": gettext_lazy("Expediente"),
}


def _city(zone: str | None) -> str:
    from cobro.dunning.services import zone_city

    return zone_city(zone) if zone else ""


def template_name(code: str) -> str:
    name = TEMPLATE_NAMES.get(code)
    return str(name) if name else code.replace("_", " ").capitalize()


def _refs(title: str) -> str:
    return title.split(": ", 1)[1] if ": " in title else ""


def task_title(task) -> str:
    """A task's title in the reader's language, without the cycle's step codes ("+15-llamada")."""
    data = task.data or {}
    if task.kind == "callback" and data.get("local_time"):
        return _("Volver a llamar a las %(t)s (hora de %(z)s)") % {"t": data["local_time"], "z": _city(data.get("zone"))}
    if task.kind == "dispute" and data.get("invoice"):
        return _("Atender reclamo sobre la factura %(ref)s") % {"ref": data["invoice"]}
    words = _app_title(task, data)
    if words:
        return words
    if not data.get("action_key"):
        return task.title  # written by a person or an app in words already
    refs = _refs(task.title)
    if task.kind == "approval":
        what = template_name(data.get("template", "")) if data.get("template") else _("paso de cobranza")
        text = _("Aprobar: %(what)s") % {"what": what}
    elif task.title.startswith("Sin forma de contacto"):
        text = _("Sin forma de contacto: conseguir datos")
    else:
        text = _("Llamar al cliente")
    return f"{text} · {refs}" if refs else text


def _app_title(task, data: dict) -> str:
    """The titles messaging, agreements and the portal store (in Spanish, with codes, or in the
    organization's language), in the reader's words."""
    import re

    from django.utils.formats import date_format

    from cobro.ledger.models import Channel
    from cobro.portal.team import title as portal_title

    channels = dict(Channel.choices)
    if task.kind in ("confirm_transfer", "plan_approval"):
        return portal_title(task.kind, data)
    if task.kind == "message_failed":
        found = re.search(r"\((\w+), (\w*)\)$", task.title)
        if found:
            return _("Revisar mensaje no enviado (%(channel)s, %(template)s)") % {
                "channel": channels.get(found[1], found[1]), "template": template_name(found[2])}
    elif task.kind == "reply":
        found = re.search(r"^Responder a (.+) \((\w+)\)$", task.title)
        if found:
            return _("Responder a %(c)s (%(channel)s)") % {"c": found[1], "channel": channels.get(found[2], found[2])}
    elif task.kind == "agreement_broken":
        if "plan_id" in data:
            return _("Llamar: plan de pagos incumplido")
        if data.get("promised_date"):
            return _("Llamar: promesa del %(d)s incumplida") % {
                "d": date_format(dt.date.fromisoformat(data["promised_date"]), "DATE_FORMAT")}
    return ""


def event_name(kind: str) -> str:
    name = EVENT_NAMES.get(kind)
    return str(name) if name else kind.split(".")[0].replace("_", " ").capitalize()


def event_summary(event, stage_labels: dict | None = None) -> str:
    """A timeline line in the reader's language where the event's data allows; its summary otherwise."""
    data = event.data or {}
    if event.kind == "stage.moved" and data.get("to"):
        labels = stage_labels or {}
        return _("Etapa: %(from)s → %(to)s") % {"from": labels.get(data.get("from"), data.get("from") or "—"),
                                               "to": labels.get(data["to"], data["to"])}
    if event.kind == "inbox.done" and data.get("kind"):
        from cobro.workspace.inbox import KIND_BADGES

        what = KIND_BADGES.get(data["kind"])
        return _("Atendido en la bandeja: %(what)s") % {"what": what} if what else event.summary
    if event.kind == "callback.scheduled" and data.get("local_date") and data.get("local_time"):
        from django.utils.formats import date_format

        return _("Volver a llamar el %(d)s a las %(t)s (hora de %(z)s)") % {
            "d": date_format(dt.date.fromisoformat(data["local_date"]), "DATE_FORMAT"), "t": data["local_time"],
            "z": _city(data.get("zone"))}
    if event.kind == "portal.survey" and "rating" in data:
        from cobro.portal.team import survey_line

        return survey_line(data)
    if event.kind == "message.queued" and data.get("template"):
        return _("Mensaje en cola: %(t)s") % {"t": template_name(data["template"])}
    from cobro.workspace.event_text import render

    return render(event) or event.summary


WEEKDAYS = {"mon": gettext_lazy("lun"), "tue": gettext_lazy("mar"), "wed": gettext_lazy("mié"),
            "thu": gettext_lazy("jue"), "fri": gettext_lazy("vie"), "sat": gettext_lazy("sáb"),
            "sun": gettext_lazy("dom")}

#: The contact-rule presets' "verify" notes (written in English in the dunning presets), in words
#: for the reader; a note not listed here shows as written.
VERIFY_NOTES = {
    "Weekly limit of 2 contacts comes from press reports, not the law's text; check 'no other channel that "
    "week' after an answered contact.": gettext_lazy(
        "El límite de 2 contactos por semana viene de la prensa, no del texto de la ley; verifique «ningún otro "
        "canal esa semana» tras un contacto respondido."),
    "07:00-22:00 every day applies to collection agencies; non-financial creditors reported Mon-Fri only.":
        gettext_lazy("07:00-22:00 todos los días rige para agencias de cobranza; para acreedores no financieros "
                     "se informa solo de lunes a viernes."),
    "Caps per week read from secondary sources; fee caps (9/6/3 %) not enforced here.": gettext_lazy(
        "Límites semanales tomados de fuentes secundarias; los topes de honorarios (9/6/3 %) no se aplican aquí."),
    "Window Mon-Fri 07:00-20:00 from secondary sources.": gettext_lazy(
        "Horario de lunes a viernes 07:00-20:00 tomado de fuentes secundarias."),
    "Mon-Fri 09:00-21:00 is a prudent default, not a legal rule.": gettext_lazy(
        "Lunes a viernes 09:00-21:00 es un valor prudente, no una regla legal."),
    "No federal window found; 08:00-20:00 Mon-Sat is a prudent default.": gettext_lazy(
        "No se encontró un horario federal; lunes a sábado 08:00-20:00 es un valor prudente."),
    "Call cap is a presumption of harassment (7 in 7 days; none within 7 days after a phone conversation); some "
    "states are stricter (e.g. Massachusetts).": gettext_lazy(
        "El límite de llamadas es una presunción de acoso (7 en 7 días; ninguna en los 7 días siguientes a una "
        "conversación telefónica); algunos estados son más estrictos (p. ej., Massachusetts)."),
}


def weekday(code: str) -> str:
    name = WEEKDAYS.get(code)
    return str(name) if name else code


def verify_note(text: str) -> str:
    note = VERIFY_NOTES.get(text)
    return str(note) if note else text
