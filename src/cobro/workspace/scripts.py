"""Call scripts: the default wording per situation and language, and choosing one for a task.

The defaults follow the seeds: open with a greeting and a real question about the customer, listen
before talking about money, then offer options (a date, instalments, a review of the invoice). An
organization overrides any of them in Settings → Scripts (``CallScript`` rows).
"""

from __future__ import annotations

import re

from cobro.workspace.models import CallScript, Situation

#: Placeholders a script may use; unknown ones are left as written so a typo is visible, not fatal.
PLACEHOLDERS = ("customer", "contact", "agent", "org", "amount", "invoices", "days", "promise_date")

DEFAULTS: dict[str, dict[str, str]] = {
    Situation.FIRST_CONTACT: {
        "es": (
            "Buenos días, {contact}. Le habla {agent}, de {org}. ¿Cómo ha estado? ¿Cómo va el negocio este mes?\n"
            "(Escuche con calma; anote lo que le cuente.)\n"
            "Le llamo porque tenemos pendiente {amount} ({invoices}), con {days} días de atraso. "
            "Quería saber si le llegó bien la factura y si hay algo que le esté impidiendo pagarla.\n"
            "Si le sirve, podemos acordar una fecha que le acomode, dividirlo en cuotas o revisar juntos la factura "
            "si algo no cuadra. ¿Qué le resulta más cómodo?\n"
            "Antes de cortar: confirme la fecha o el acuerdo, y agradézcale su tiempo."
        ),
        "en": (
            "Good morning, {contact}. This is {agent} from {org}. How have you been? How is business this month?\n"
            "(Listen calmly; note what they tell you.)\n"
            "I'm calling about {amount} still open ({invoices}), {days} days past due. "
            "Did the invoice reach you, and is anything making it hard to pay?\n"
            "If it helps, we can agree on a date that suits you, split it into instalments, or go over the invoice "
            "together if something looks wrong. What works best for you?\n"
            "Before hanging up: confirm the date or the agreement, and thank them for their time."
        ),
        "pt-br": (
            "Bom dia, {contact}. Aqui é {agent}, da {org}. Como vai? Como estão as coisas na empresa este mês?\n"
            "(Escute com calma; anote o que a pessoa contar.)\n"
            "Estou ligando por causa de {amount} em aberto ({invoices}), com {days} dias de atraso. "
            "A fatura chegou direitinho? Há algo dificultando o pagamento?\n"
            "Se ajudar, podemos combinar uma data que seja boa para você, dividir em parcelas ou revisar a fatura "
            "juntos se algo não estiver certo. O que fica melhor?\n"
            "Antes de desligar: confirme a data ou o acordo e agradeça pelo tempo."
        ),
    },
    Situation.PROMISE_BROKEN: {
        "es": (
            "Hola, {contact}, le saluda {agent}, de {org}. ¿Cómo está? ¿Pasó algo estos días?\n"
            "Habíamos quedado en un pago para el {promise_date} y todavía no lo vemos. No le llamo para reclamarle, "
            "sino para entender qué cambió y ayudarle a reorganizarlo.\n"
            "(Escuche: ¿fue un imprevisto, un problema con la factura, falta de caja?)\n"
            "Podemos fijar una nueva fecha realista o repartir el saldo de {amount} en cuotas. "
            "¿Qué fecha sí podría cumplir con tranquilidad?"
        ),
        "en": (
            "Hello {contact}, this is {agent} from {org}. How are you? Did something come up these days?\n"
            "We had agreed on a payment for {promise_date} and we haven't seen it yet. I'm not calling to complain, "
            "but to understand what changed and help you rearrange it.\n"
            "(Listen: an unexpected expense, a problem with the invoice, cash flow?)\n"
            "We can set a new, realistic date or split the {amount} balance into instalments. "
            "Which date could you comfortably keep?"
        ),
        "pt-br": (
            "Olá, {contact}, aqui é {agent}, da {org}. Tudo bem? Aconteceu alguma coisa nesses dias?\n"
            "Tínhamos combinado um pagamento para {promise_date} e ainda não o vimos. Não ligo para cobrar de forma "
            "dura, e sim para entender o que mudou e ajudar a reorganizar.\n"
            "(Escute: um imprevisto, um problema com a fatura, falta de caixa?)\n"
            "Podemos marcar uma nova data realista ou dividir o saldo de {amount} em parcelas. "
            "Qual data você consegue cumprir com tranquilidade?"
        ),
    },
    Situation.PLAN_LATE: {
        "es": (
            "Buenas tardes, {contact}, habla {agent}, de {org}. ¿Cómo le ha ido con el plan de pagos hasta ahora?\n"
            "Vemos una cuota atrasada y quería saber si el calendario sigue siendo cómodo para usted.\n"
            "(Escuche; si sus ingresos cambiaron, anótelo como motivo.)\n"
            "Si le ayuda, podemos mover la fecha de la cuota o revisar el plan para que le resulte posible. "
            "Lo importante es que podamos seguir juntos. ¿Qué le parece?"
        ),
        "en": (
            "Good afternoon {contact}, this is {agent} from {org}. How has the payment plan been going so far?\n"
            "We see one instalment is late, and I wanted to ask whether the schedule still works for you.\n"
            "(Listen; if their income changed, record it as the reason.)\n"
            "If it helps, we can move the instalment date or review the plan so it is manageable. "
            "What matters is that we keep going together. What do you think?"
        ),
        "pt-br": (
            "Boa tarde, {contact}, aqui é {agent}, da {org}. Como tem sido o plano de pagamento até agora?\n"
            "Vemos uma parcela em atraso e queria saber se o calendário ainda é confortável para você.\n"
            "(Escute; se a renda mudou, registre como motivo.)\n"
            "Se ajudar, podemos mudar a data da parcela ou revisar o plano para que fique possível. "
            "O importante é seguirmos juntos. O que acha?"
        ),
    },
    Situation.DISPUTE_ANSWERED: {
        "es": (
            "Hola, {contact}, le llama {agent}, de {org}. ¿Cómo está? Le llamo por el reclamo que nos hizo llegar.\n"
            "Gracias por avisarnos: lo revisamos y quería contarle la respuesta personalmente.\n"
            "(Explique la resolución con claridad y pregunte si le parece justa.)\n"
            "Con esto, el saldo queda en {amount}. ¿Le acomoda pagarlo en una fecha concreta o prefiere que lo "
            "dividamos? Si algo sigue sin cuadrar, dígamelo y lo vemos."
        ),
        "en": (
            "Hello {contact}, this is {agent} from {org}. How are you? I'm calling about the issue you raised.\n"
            "Thank you for letting us know: we looked into it and I wanted to give you the answer in person.\n"
            "(Explain the resolution clearly and ask whether it seems fair.)\n"
            "With this, the balance is {amount}. Would a specific date suit you, or would you rather split it? "
            "If something still doesn't add up, tell me and we'll look at it."
        ),
        "pt-br": (
            "Olá, {contact}, aqui é {agent}, da {org}. Tudo bem? Ligo por causa da reclamação que você nos enviou.\n"
            "Obrigado por nos avisar: analisamos e eu queria dar a resposta pessoalmente.\n"
            "(Explique a solução com clareza e pergunte se parece justa.)\n"
            "Com isso, o saldo fica em {amount}. Prefere pagar numa data definida ou dividir? "
            "Se algo ainda não fechar, me diga e vemos juntos."
        ),
    },
    Situation.HARDSHIP: {
        "es": (
            "Hola, {contact}, habla {agent}, de {org}. ¿Cómo está usted? Supimos que está pasando por un momento "
            "difícil y quería saber cómo se encuentra.\n"
            "(Escuche sin apuro. No insista en montos todavía.)\n"
            "Queremos ayudarle a salir adelante, no sumarle presión. Podemos pausar los recordatorios unos días, "
            "proponer cuotas pequeñas o esperar a una fecha que usted nos indique.\n"
            "¿Qué sería lo más realista para usted ahora?"
        ),
        "en": (
            "Hello {contact}, this is {agent} from {org}. How are you? We heard you are going through a difficult "
            "time and I wanted to see how you are doing.\n"
            "(Listen without hurrying. Don't press on amounts yet.)\n"
            "We want to help you through this, not add pressure. We can pause reminders for a few days, propose "
            "small instalments, or wait until a date you give us.\n"
            "What would be most realistic for you right now?"
        ),
        "pt-br": (
            "Olá, {contact}, aqui é {agent}, da {org}. Como você está? Soubemos que está passando por um momento "
            "difícil e queria saber como está.\n"
            "(Escute sem pressa. Não insista em valores ainda.)\n"
            "Queremos ajudar, não aumentar a pressão. Podemos pausar os lembretes por alguns dias, propor parcelas "
            "pequenas ou esperar até uma data que você indicar.\n"
            "O que seria mais realista para você agora?"
        ),
    },
}

#: Which situation a task's kind calls for (kinds come from the cycle, messaging and agreements).
KIND_SITUATION = {
    "promise_broken": Situation.PROMISE_BROKEN,
    "instalment_late": Situation.PLAN_LATE,
    "plan_late": Situation.PLAN_LATE,
    "plan_broken": Situation.PLAN_LATE,
    "dispute_resolved": Situation.DISPUTE_ANSWERED,
    "dispute_answered": Situation.DISPUTE_ANSWERED,
    "hardship": Situation.HARDSHIP,
}


def normalize_language(code: str | None) -> str:
    code = (code or "es").lower().replace("_", "-")
    if code.startswith("pt"):
        return "pt-br"
    return code if code in ("es", "en") else "es"


def situation_for(task_kind: str, task_data: dict | None = None) -> str:
    """The situation for a task: an explicit ``data["situation"]`` wins, then the task's kind."""
    data = task_data or {}
    if data.get("situation") in Situation.values:
        return data["situation"]
    if task_kind == "agreement_broken":  # the agreements cycle says which agreement in its data
        return Situation.PROMISE_BROKEN if "promise_id" in data else Situation.PLAN_LATE
    return KIND_SITUATION.get(task_kind, Situation.FIRST_CONTACT)


def load_scripts(org) -> dict[tuple[str, str], str]:
    """Every script of the organization, defaults overlaid by its own rows, in one query."""
    texts = {(situation, lang): body for situation, by_lang in DEFAULTS.items() for lang, body in by_lang.items()}
    for situation, language, body in CallScript.objects.for_org(org).values_list("situation", "language", "body"):
        texts[(situation, language)] = body
    return texts


_PLACEHOLDER = re.compile(r"\{([A-Za-z_]+)\}")


def render_script(body: str, **values: str) -> str:
    """Fill the ``{name}`` placeholders with plain text, and nothing else (issue #10.1).

    Not ``str.format``: an organization's text could otherwise walk attributes (``{agent.__class__}``)
    or ask for a width of a billion characters (``{agent:>999999999}``). Anything that is not exactly a
    known ``{name}`` is shown as written.
    """
    known = {k: str(v) for k, v in values.items() if v not in (None, "")}
    return _PLACEHOLDER.sub(lambda m: known.get(m.group(1), m.group(0)), body)
