"""The tone check on good and bad samples in each language, the seeds' own sentences, and the CLI."""

import io
import json
import sys

import pytest
from django.core.management import call_command

from cobro.messaging import defaults, tone

GOOD = {
    "es": [
        "Queremos recordarle que el pago de su factura vence el 15 de marzo, y apreciamos su pronta atención.",
        "Queremos recordarle que su factura vence mañana. ¡Gracias!",
        "Según las condiciones del contrato, a partir del día 30 de atraso se aplicará un cargo por mora.",
        "Si no logramos acordar una forma de pago en los próximos 15 días, el caso pasará a un proceso de "
        "mediación, donde un tercero neutral nos ayudará a encontrar una solución.",
        "Si tiene dificultades para realizar un pago completo, puede pagar en 3 cuotas mensuales.",
        "Hola Rosa, le escribimos de Acme. Su saldo es de $ 120.000. Puede pagar por transferencia o "
        "respondernos si necesita un plazo.",
        "Le agradeceremos regularizar su cuenta a la brevedad. Estamos para ayudarle.",
        "Esperamos que usted y su familia se encuentren bien.",
        "Su número de RUT y el detalle en PDF están en el enlace. Responda BAJA para no recibir más SMS.",
    ],
    "en": [
        "This is a friendly reminder that your invoice is due on March 15. We appreciate your prompt attention.",
        "Under the terms of your contract, a late fee applies from the 30th day past due.",
        "If we cannot agree on a way to pay within 15 days, the case will go to mediation.",
        "Thank you for your payment! Reply STOP to opt out.",
        "We hope you and your family are well. You can pay online or reply to talk about a plan.",
    ],
    "pt": [
        "Gostaríamos de lembrar que o pagamento da sua fatura vence em 15 de março. Obrigado!",
        "Conforme as condições do contrato, a partir do 30º dia de atraso aplica-se uma multa de 2%.",
        "Se não combinarmos uma forma de pagamento em 15 dias, o caso passará para um processo de mediação.",
        "Acme Ltda (CNPJ 12.345.678/0001-90): pague por PIX ou boleto. Responda SAIR para não receber mais.",
    ],
}

# Each bad sample with the categories (kinds of abuse) it must be reported under.
BAD = {
    "es": [
        ("PAGUE YA O LO DEMANDAMOS!!!", {"false_legal", "deception", "insult"}),
        ("Si no paga hoy iniciaremos acciones legales inmediatas y el embargo de sus bienes.", {"false_legal"}),
        ("Usted es un sinvergüenza y un mal pagador.", {"insult"}),
        ("Debería darle vergüenza no pagar sus deudas.", {"insult"}),
        ("Si no paga, informaremos a su familia y a su empleador.", {"disclosure"}),
        ("Publicaremos su nombre en la lista de morosos.", {"disclosure"}),
        ("Última oportunidad: pague inmediatamente.", {"deception"}),
        ("Su deuda es MUY IMPORTANTE.", {"insult"}),
        ("Pague su factura!! Gracias!!", {"insult"}),
        ("Atengase a las consecuencias si no paga.", {"threat"}),
        ("Sus vecinos van a saber que usted no paga.", {"disclosure"}),
        ("Nuestro personal irá a su trabajo a cobrarle.", {"visit"}),
        ("Lo llamaremos todos los días a toda hora hasta que pague.", {"harassment"}),
    ],
    "en": [
        ("PAY NOW OR WE WILL SUE YOU!!!", {"deception", "insult"}),
        ("You deadbeat, you are a liar.", {"insult"}),
        ("Shame on you for not paying.", {"insult"}),
        ("We will contact your employer and post on social media.", {"disclosure"}),
        ("Last chance: pay immediately.", {"deception"}),
        ("Pay or you will face the consequences.", {"threat"}),
        ("Your neighbors are going to find out that you don't pay.", {"disclosure"}),
        ("Our staff will go to your workplace to collect.", {"visit"}),
        ("You will be arrested if you don't pay by 6 pm.", {"false_legal"}),
    ],
    "pt": [
        ("PAGUE JÁ OU VAMOS PROCESSAR!!!", {"deception", "insult", "false_legal"}),
        ("Você é um caloteiro e mentiroso.", {"insult"}),
        ("Que vergonha, deveria ter vergonha.", {"insult"}),
        ("Vamos avisar seu empregador e colocar seu nome na lista de devedores.", {"disclosure"}),
        ("Última chance: pague imediatamente.", {"deception"}),
        ("Nossa equipe vai ao seu trabalho cobrar você.", {"visit"}),
        ("Vamos ligar de hora em hora até você pagar.", {"harassment"}),
    ],
}


@pytest.mark.parametrize("lang,text", [(lang, t) for lang, texts in GOOD.items() for t in texts])
def test_good_samples_are_not_flagged(lang, text):
    result = tone.check(text, lang)
    assert not result.flagged, result.as_dict()


@pytest.mark.parametrize("lang,text,kinds", [(lang, t, k) for lang, items in BAD.items() for t, k in items])
def test_bad_samples_are_flagged_with_their_category_rule_law_and_words(lang, text, kinds):
    result = tone.check(text, lang)
    assert result.flagged
    fired = {f.category for f in result.findings if not f.rule.startswith("missing:")}
    assert kinds <= fired, (fired, result.as_dict())
    for f in result.findings:
        if not f.rule.startswith("missing:"):
            assert f.rule.split(".")[0] == f.category and f.law and f.lang in tone.LANGS
            assert f.words and all(w in text or w == "!" for w in f.words)


def test_truthful_legal_notices_pass_and_exaggerated_ones_do_not_at_any_stage():
    text = "Su caso fue enviado a revisión legal, que podría derivar en una cobranza judicial."
    assert not tone.check(text, "es").flagged
    assert not tone.check(text, "es", stage="legal").flagged
    # "Immediate legal action" is never a fair notice, not even at the legal stage.
    assert tone.check("Iniciaremos acciones legales inmediatas.", "es", stage="legal").flagged


def test_missing_parts_are_reported_without_flagging():
    result = tone.check("Muchas gracias por su pago.", "es")
    assert not result.flagged
    assert set(result.missing) == {"amount", "due_date", "how_to_pay", "contact", "opt_out"}
    full = tone.check("Su saldo de $ 10.000 vence el 05/03/2026. Pague en https://x.cl o responda. "
                      "Responda BAJA para no recibir más.", "es")
    assert full.missing == []
    assert tone.check("Muchas gracias.", "es", require=()).findings == ()


def test_template_variables_count_as_parts():
    result = tone.check("{{ contact_name }}: {{ total }} vence el {{ due_date }}. {{ pay_link }} {{ signature }}",
                        "es", require=("amount", "due_date", "how_to_pay", "contact"))
    assert result.findings == ()


def test_the_seed_sentences_pass():
    seeds = [
        "Un par de días antes de la fecha de vencimiento, puedes enviar un recordatorio amigable que diga: "
        "«Queremos recordarle que el pago de su factura vence el [fecha], y apreciamos su pronta atención.»",
        "Si la deuda no se salda en los 30 días posteriores a la fecha de vencimiento, se aplicará un cargo adicional.",
        "Si un cliente tiene dificultades para realizar un pago completo, puedes ofrecerle pagar en 3 cuotas "
        "mensuales, con la condición de que mantenga un buen historial de pagos.",
    ]
    for s in seeds:
        assert not tone.check(s, "es").flagged, tone.check(s, "es").as_dict()


@pytest.mark.parametrize("language", defaults.LANGUAGES)
def test_every_default_template_passes_its_own_check(language):
    from cobro.messaging.services import check_template

    for row in defaults.default_rows(language):
        result = check_template(row["code"], language, row["channel"], row["subject"], row["body"])
        assert result.findings == (), (row["code"], row["channel"], result.as_dict())


def test_cli_prints_one_json_object_per_line(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(
        "Queremos recordarle que su factura vence mañana. ¡Gracias!\n\nPAGUE YA O LO DEMANDAMOS!!!\n"))
    out = io.StringIO()
    call_command("tone", "check", "--lang", "es", "-", stdout=out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["flagged"] for r in rows] == [False, True]
    assert rows[1]["text"] == "PAGUE YA O LO DEMANDAMOS!!!"
    found = {f["rule"]: f for f in rows[1]["findings"]}
    assert found["false_legal.seizure_now"]["category"] == "false_legal"
    assert found["false_legal.seizure_now"]["words"] == ["DEMANDAMOS", "YA"]
    assert "FDCPA §807(4)" in found["false_legal.seizure_now"]["law"]
    assert all(set(r) == {"text", "flagged", "findings"} for r in rows)
    assert all({"rule", "category", "words"} <= set(f) for r in rows for f in r["findings"])


def test_cli_reads_a_file_in_english(tmp_path):
    path = tmp_path / "m.txt"
    path.write_text("Thank you for your payment.\nYOU DEADBEAT\n", encoding="utf-8")
    out = io.StringIO()
    call_command("tone", "check", "--lang", "en", str(path), stdout=out)
    assert [json.loads(x)["flagged"] for x in out.getvalue().splitlines()] == [False, True]
