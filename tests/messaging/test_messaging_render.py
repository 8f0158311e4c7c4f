"""Rendering in es, en and pt-BR, every channel, several currencies, with real data."""

import datetime as dt

import pytest

from cobro.ledger.services import apply_payment
from cobro.messaging import defaults
from cobro.messaging.render import Renderer, RenderError, sms_segments


def render(book, msg):
    return Renderer(book.org, [msg]).render(msg, as_of=book.today)


def test_spanish_email_lists_every_invoice_with_totals_per_currency(book, queue):
    m = queue(book.org, book.es, "overdue_friendly", "email", [book.inv["es1"], book.inv["es2"]])
    r = render(book, m)
    assert r.to == "rosa@andes.cl"
    assert r.subject == "Su factura con Acme SpA venció el 28 de febrero de 2026"
    assert "Estimado/a Rosa Díaz:" in r.text
    assert "Factura F-101, vence el 28 de febrero de 2026 (10 días de atraso): $1.234.567" in r.text
    assert "Factura F-102, vence el 13 de marzo de 2026 (vence en 3 días): 1.234,56\xa0€" in r.text
    assert "Total pendiente: $1.234.567 + 1.234,56\xa0€" in r.text
    assert "/portal/" in r.text and "/messages/u/" in r.text  # pay link (the portal) and opt-out footer
    # The HTML alternative has the invoices as a table, the pay button and the opt-out link.
    assert "<table" in r.html and "F-101" in r.html and "1.234,56" in r.html
    assert r.context["pay_link"] in r.html and r.context["opt_out_link"] in r.html
    assert not r.tone.flagged


def test_english_sms_counts_segments_and_carries_opt_out(book, queue):
    m = queue(book.org, book.en, "overdue_neutral", "sms", [book.inv["en1"]])
    r = render(book, m)
    assert r.to == "+12025550143"
    assert "$2,500.00" in r.text and "March 3, 2026" in r.text and "Reply STOP" in r.text
    assert r.segments == sms_segments(r.text) >= 2
    assert not r.html


def test_portuguese_whatsapp_is_a_template_call_naming_the_creditor(book, queue):
    book.org.country, book.org.tax_id = "BR", "12.345.678/0001-90"
    book.org.save()
    m = queue(book.org, book.pt, "overdue_friendly", "whatsapp", [book.inv["pt1"]])
    r = render(book, m)
    assert r.to == "+5511988887777"
    assert r.whatsapp["name"] == "cobro_overdue_friendly" and r.whatsapp["language"] == "pt_BR"
    assert r.whatsapp["params"][0] == "Acme SpA (CNPJ 12.345.678/0001-90)"
    assert "R$\xa0987,65" in r.whatsapp["params"]
    assert "Responda SAIR" in r.text


@pytest.mark.parametrize("language", defaults.LANGUAGES)
@pytest.mark.parametrize("channel", ["email", "sms", "whatsapp", "letter"])
def test_every_default_renders_in_every_language_and_channel(book, queue, language, channel):
    book.es.language = language
    book.es.save()
    for code in defaults.codes():
        m = queue(book.org, book.es, code, channel, [book.inv["es1"]], key=f"{code}:{channel}",
                  data={"amount": 50000, "currency": "CLP", "date": "2026-03-20"} if "promise" in code else None)
        r = render(book, m)
        assert "{{" not in r.text and "{%" not in r.text, (code, r.text)
        assert r.text.strip()
        assert not r.tone.flagged, (code, channel, r.tone.as_dict())


@pytest.mark.parametrize("currency,minor,shown", [("CLP", 1_234_567, "$1.234.567"), ("EUR", 123_456, "1.234,56\xa0€"),
                                                  ("USD", 99, "$0.99"), ("COP", 150_000_00, "$150.000,00"),
                                                  ("MXN", 1_000_000, "$10,000.00")])
def test_amounts_are_formatted_for_the_debtors_locale(book, queue, currency, minor, shown):
    from cobro.ledger.services import add_invoice

    inv = add_invoice(book.org, book.es, f"M-{currency}", book.today, book.today, currency, minor)
    m = queue(book.org, book.es, "due_today", "email", [inv])
    assert f"Total: {shown}" in render(book, m).text


def test_message_whose_invoices_were_paid_is_cancelled_not_sent(book, queue):
    m = queue(book.org, book.en, "overdue_neutral", "email", [book.inv["en1"]])
    apply_payment(book.org, book.en, "P-1", book.today, 250_000, "USD")
    with pytest.raises(RenderError) as err:
        render(book, m)
    assert err.value.cancel


def test_paid_invoice_is_left_out_of_the_list(book, queue):
    m = queue(book.org, book.es, "overdue_friendly", "email", [book.inv["es1"], book.inv["es2"]])
    apply_payment(book.org, book.es, "P-2", book.today, 123_456, "EUR")
    r = render(book, m)
    assert "F-101" in r.text and "F-102" not in r.text


def test_no_address_with_consent_is_an_error(book, queue):
    book.en.contacts.update(consent_sms=False)
    m = queue(book.org, book.en, "overdue_neutral", "sms", [book.inv["en1"]])
    with pytest.raises(RenderError) as err:
        render(book, m)
    assert not err.value.cancel and "sms" in str(err.value)


def test_letter_is_a_pdf(book, queue, settings, tmp_path):
    from cobro.messaging.transports.letter import LetterTransport

    settings.DATA_DIR = tmp_path
    m = queue(book.org, book.es, "late_fee_notice", "letter", [book.inv["es1"]])
    r = render(book, m)
    result = LetterTransport().send(m, r)
    pdf = (tmp_path / result.provider_id).read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 2000


def test_segments_gsm_and_unicode():
    assert sms_segments("a" * 160) == 1
    assert sms_segments("a" * 161) == 2
    assert sms_segments("á" * 70) == 1  # one accent outside GSM-7 makes it UCS-2
    assert sms_segments("á" * 71) == 2
    assert sms_segments("ñ" * 160) == 1  # ñ is in GSM-7
    assert sms_segments("€" * 80) == 1 and sms_segments("€" * 81) == 2  # extension chars count twice


def test_today_is_decided_in_the_debtors_zone(book, queue):
    # 02:00 UTC on the 10th is still the 9th in Santiago: the invoice due on the 10th is not late yet.
    inv = book.inv["pt1"]
    m = queue(book.org, book.es, "due_today", "email", [], at=dt.datetime(2026, 3, 10, 2, tzinfo=dt.UTC))
    m.invoice_ids = [book.inv["es1"].pk]
    r = Renderer(book.org, [m]).render(m)
    assert "(9 días de atraso)" in r.text
    # Only the invoice the message names is in it, not the Brazilian one its first row pointed at.
    assert "F-101" in r.text and inv.ref not in r.text and [row["ref"] for row in r.context["invoices"]] == ["F-101"]


def test_a_reminder_that_leaves_late_says_what_is_true_that_day(book, queue):
    # Due on the 28th of February, held back until the 10th of March: no longer "due today".
    late = queue(book.org, book.es, "due_today", "email", [book.inv["es1"]], key="late")
    r = render(book, late)
    assert "venció el 28 de febrero" in r.text and r.context["template_used"] == "overdue_friendly"
    early = queue(book.org, book.es, "due_today", "email", [book.inv["es2"]], key="early")
    assert render(book, early).context["template_used"] == "reminder_before"
    on_time = queue(book.org, book.pt, "due_today", "email", [book.inv["pt1"]], key="on-time")
    r = render(book, on_time)
    assert "template_used" not in r.context and "vence hoje" in r.subject
