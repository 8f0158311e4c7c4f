"""A risk reason is one sentence in the reader's language with its plurals right (es, en, pt_BR)."""

import math

import pytest
from django.utils import translation

from cobro.engine import risk as engine
from cobro.insights.risk import _reasons, reason_text

# (factor, engine value, recent_n) -> the sentence in es, en and pt_BR
CASES = [
    (("days_late", 1.9, 1), {
        "es": "pagó su última factura con 19 días de atraso",
        "en": "paid its last invoice 19 days late",
        "pt-br": "pagou sua última fatura com 19 dias de atraso"}),
    (("days_late", 0.1, 6), {
        "es": "pagó sus últimas 6 facturas con 1 día de atraso en promedio",
        "en": "paid its last 6 invoices 1 day late on average",
        "pt-br": "pagou suas últimas 6 faturas com 1 dia de atraso em média"}),
    (("trend", 0.1, 6), {
        "es": "últimamente paga 1 día más tarde que antes",
        "en": "lately pays 1 day later than before",
        "pt-br": "ultimamente paga 1 dia mais tarde que antes"}),
    (("promises_broken", 1, 0), {
        "es": "incumplió 1 promesa de pago en el último año",
        "en": "broke 1 payment promise in the last year",
        "pt-br": "descumpriu 1 promessa de pagamento no último ano"}),
    (("promises_broken", 3, 0), {
        "es": "incumplió 3 promesas de pago en el último año",
        "en": "broke 3 payment promises in the last year",
        "pt-br": "descumpriu 3 promessas de pagamento no último ano"}),
    (("promises_kept", 2, 0), {
        "es": "cumplió 2 promesas de pago en el último año",
        "en": "kept 2 payment promises in the last year",
        "pt-br": "cumpriu 2 promessas de pagamento no último ano"}),
    (("plans_broken", 1, 0), {
        "es": "incumplió 1 convenio de pago en el último año",
        "en": "broke 1 payment plan in the last year",
        "pt-br": "descumpriu 1 acordo de pagamento no último ano"}),
    (("disputes", 2, 0), {
        "es": "abrió 2 disputas en el último año",
        "en": "opened 2 disputes in the last year",
        "pt-br": "abriu 2 contestações no último ano"}),
    (("open_age", 1 / 30, 0), {
        "es": "su factura más antigua lleva 1 día vencida",
        "en": "its oldest invoice is 1 day past due",
        "pt-br": "sua fatura mais antiga está vencida há 1 dia"}),
    (("open_age", 2.0, 0), {
        "es": "su factura más antigua lleva 60 días vencida",
        "en": "its oldest invoice is 60 days past due",
        "pt-br": "sua fatura mais antiga está vencida há 60 dias"}),
    (("open_amount", math.log1p(2.5), 0), {
        "es": "debe 2,5 veces su factura promedio",
        "en": "owes 2.5 times its average invoice",
        "pt-br": "deve 2,5 vezes sua fatura média"}),
    (("no_history", 1, 0), {
        "es": "todavía no ha pagado ninguna factura",
        "en": "has not paid any invoice yet",
        "pt-br": "ainda não pagou nenhuma fatura"}),
]


@pytest.mark.parametrize(("args", "expected"), CASES, ids=[f"{c[0][0]}-{c[0][1]:g}" for c in CASES])
@pytest.mark.parametrize("lang", ["es", "en", "pt-br"])
def test_reason_sentence(args, expected, lang):
    with translation.override(lang):
        assert reason_text(*args) == expected[lang]


def test_every_factor_has_a_sentence_and_unknown_ones_are_refused():
    with translation.override("en"):
        for factor in engine.RISK_FACTORS:
            assert reason_text(factor, 1.0, 2)
        with pytest.raises(ValueError, match="unknown risk factor"):
            reason_text("shoe_size", 1.0, 2)


def test_reasons_carry_points_and_are_ordered_by_weight():
    points = [0.0] * len(engine.RISK_FACTORS)
    factors = [0.0] * len(engine.RISK_FACTORS)
    j_late, j_age = engine.RISK_FACTORS.index("days_late"), engine.RISK_FACTORS.index("open_age")
    points[j_late], factors[j_late] = 12.4, 2.1
    points[j_age], factors[j_age] = 18.0, 1.0
    with translation.override("es"):
        out = _reasons(points, factors, 6)
    assert [(r.factor, r.points) for r in out] == [("open_age", 18.0), ("days_late", 12.4)]
    assert out[0].text == "su factura más antigua lleva 30 días vencida: +18"
    assert out[1].text == "pagó sus últimas 6 facturas con 21 días de atraso en promedio: +12"
