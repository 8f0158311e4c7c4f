"""Issue #13: the customer page's "what Cobro will do and why" panel in the reader's language."""

from __future__ import annotations

import re

import pytest
from django.utils import formats, translation

from cobro.dunning import services as dunning
from cobro.dunning.cycle import run_cycle

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
SPANISH_ONLY = ("Ya registrada", "facturas", "factura ", "Reglas de contacto", "vence el", "hoy corresponde",
                "días de atraso", "Zonas horarias", "por correo", "Motivo", "estándar", "En gestión")
CODES = ("en_gestion", "overdue_", "call_task", "planned", "(CL)", "+15", "+30")


def panel(client, customer) -> list[str]:
    response = client.get(f"/customers/{customer.pk}/")
    assert response.status_code == 200
    lines = response.context["explanation"]
    body = response.content.decode()
    assert lines and all(line.split(":")[0].replace("&", "&amp;") in body for line in lines)
    return lines


@pytest.mark.parametrize(("lang", "more_spanish", "stage", "header", "overdue", "recorded"), [
    ("en", ("Etapa", "Política", "Acción", "mensaje"), "Stage: In progress.", "Policy: Standard policy.",
     "(45 days overdue)", "Already recorded: "),
    ("pt-br", ("mensaje", "Acción"), "Etapa: Em negociação.", "Política: Política padrão.",
     "(45 dias de atraso)", "Já registrada: "),
])
def test_panel_in_english_and_portuguese(login, book, today, lang, more_spanish, stage, header, overdue, recorded):
    customer = book.customers[0]  # 45 days overdue, with a phone and an email: a demo-like debtor
    dunning.move_stage(book.org, customer, "en_gestion")
    run_cycle(book.org, today)
    client = login(book.agent)
    client.post("/language/", {"language": lang})
    lines = panel(client, customer)
    text = "\n".join(lines)
    assert not ISO_DATE.search(text), text
    for word in SPANISH_ONLY + more_spanish:
        assert word not in text, (word, text)
    for code in CODES:
        assert code not in text, (code, text)
    assert stage in text and header in text and overdue in text and recorded in text
    with translation.override(lang):
        assert formats.date_format(today, "DATE_FORMAT") in lines[0]


def test_panel_in_spanish(login, book, today):
    customer = book.customers[0]
    dunning.move_stage(book.org, customer, "en_gestion")
    run_cycle(book.org, today)
    client = login(book.agent)
    client.post("/language/", {"language": "es"})
    text = "\n".join(panel(client, customer))
    assert "Etapa: En gestión. Política: Política estándar. Reglas de contacto: las de Chile." in text
    assert "F-1: vence el " in text and "(45 días de atraso)" in text
    assert formats.date_format(today, "DATE_FORMAT") in text and not ISO_DATE.search(text)
    assert "Ya registrada: " in text and "en_gestion" not in text
