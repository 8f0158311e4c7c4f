"""Issue #13: ``explain`` speaks the reader's language, with dates, stages and channels in words; the
``explain`` command speaks the organization's."""

import datetime as dt
import re
from io import StringIO

from django.core.management import call_command
from django.utils import translation

from cobro.dunning import services
from cobro.dunning.cycle import run_cycle

D = dt.date
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def explain_in(language, org, customer, day):
    with translation.override(language):
        return services.explain(org, customer, day)


def test_explain_in_english_and_portuguese_has_no_spanish_and_no_codes(org, book):
    run_cycle(org, D(2026, 3, 4))  # so that "already recorded" lines are there too
    for ref in ("K-1", "K-2", "K-4"):
        en = "\n".join(explain_in("en", org, book[ref], D(2026, 3, 4)))
        pt = "\n".join(explain_in("pt-br", org, book[ref], D(2026, 3, 4)))
        for text in (en, pt):
            assert not ISO_DATE.search(text), text
            for spanish in ("Ya registrada", "facturas", "factura ", "Reglas de contacto", "vence el", "hoy corresponde",
                            "días de atraso", "Zonas horarias", "por correo", "estándar"):
                assert spanish not in text, (spanish, text)
            for code in ("call_task", "planned", "overdue_", "late_fee", "+15", "+7", "(CO)", "(CL)"):
                assert code not in text, (code, text)
        for spanish in ("Etapa", "Política", "Acción", "mensaje"):
            assert spanish not in en, (spanish, en)
        assert "March 4, 2026" in en and "Stage: Overdue. Policy: Standard policy." in en
        assert "Etapa: Vencida. Política: Política padrão. Regras de contato:" in pt and "4 de Março de 2026" in pt
    k2 = "\n".join(explain_in("en", org, book["K-2"], D(2026, 3, 4)))
    assert "I-3: due Feb. 9, 2026 (23 days overdue); today's step: Firm reminder, Collection call." in k2
    assert "Firm reminder: message by email on March 4, 2026 at 7 a.m., local time." in k2
    assert "Already recorded: message, Firm reminder, by email (Scheduled), invoice I-3." in k2
    pt = "\n".join(explain_in("pt-br", org, book["K-2"], D(2026, 3, 4)))
    assert "I-3: vence em 9 de Fevereiro de 2026 (23 dias de atraso)" in pt
    assert "Já registrada: mensagem, Lembrete firme, por e-mail (Agendada), fatura I-3." in pt


def test_explain_in_spanish_still_reads_right(org, book):
    run_cycle(org, D(2026, 3, 4))
    text = "\n".join(explain_in("es", org, book["K-2"], D(2026, 3, 4)))
    assert text.startswith("Servicios Dos (K-2), 4 de marzo de 2026:")
    assert "Etapa: Vencida. Política: Política estándar. Reglas de contacto: las de Colombia." in text
    assert "I-3: vence el 9 de febrero de 2026 (23 días de atraso); hoy corresponde: Recordatorio firme" in text
    assert "Recordatorio firme: mensaje por correo el 4 de marzo de 2026 a las 07:00, hora local." in text
    assert "Ya registrada: mensaje, Recordatorio firme, por correo (Programada), factura I-3." in text
    sunday = "\n".join(explain_in("es", org, book["K-2"], D(2026, 3, 8)))
    assert "El próximo paso, Aviso de cargo por mora, Cargo por mora, es el 11 de marzo de 2026." in sunday


def test_one_day_and_a_move_to_a_sticky_stage_read_in_words(org, book):
    services.move_stage(org, book["K-2"], "en_gestion")
    en = "\n".join(explain_in("en", org, book["K-2"], D(2026, 2, 8)))  # I-3 due the next day
    assert "Stage: In progress." in en and "(1 day to go)" in en and "en_gestion" not in en
    pt = "\n".join(explain_in("pt-br", org, book["K-2"], D(2026, 2, 8)))
    assert "Etapa: Em negociação." in pt and "(falta 1 dia)" in pt
    es = "\n".join(explain_in("es", org, book["K-2"], D(2026, 2, 10)))
    assert "Etapa: En gestión." in es and "(1 día de atraso)" in es


def test_the_command_speaks_the_organizations_language(org, book):
    out = StringIO()
    call_command("explain", "K-1", "--org", "acme", "--as-of", "2026-03-04", stdout=out)
    assert "Etapa: Vencida." in out.getvalue()
    org.language = "en"
    org.save(update_fields=["language"])
    out = StringIO()
    with translation.override("es"):
        call_command("explain", "K-1", "--org", "acme", "--as-of", "2026-03-04", stdout=out)
    assert "Stage: Overdue." in out.getvalue() and "Etapa" not in out.getvalue()
