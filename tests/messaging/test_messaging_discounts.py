"""Reminders show the early-payment discount of each invoice while it applies (issue #5)."""

import datetime as dt
from decimal import Decimal

import pytest

from cobro.agreements.models import CustomerTerms
from cobro.ledger.services import add_invoice
from cobro.messaging.render import Renderer

D = dt.date
ISSUED = D(2026, 3, 5)  # 2 % within 10 days: the last day with the discount is 15 March


@pytest.fixture
def disc(book):
    """Every customer of the book gets 2 % for paying within 10 days; one new invoice each."""
    for customer in (book.es, book.en, book.pt):
        CustomerTerms.objects.create(organization=book.org, customer=customer,
                                     early_discount_percent=Decimal("2"), early_discount_days=10)
    book.new = {
        "es": add_invoice(book.org, book.es, "F-200", ISSUED, D(2026, 3, 20), "CLP", 100_000),
        "en": add_invoice(book.org, book.en, "INV-20", ISSUED, D(2026, 3, 20), "USD", 150_000),
        "pt": add_invoice(book.org, book.pt, "NF-20", ISSUED, D(2026, 3, 20), "BRL", 50_000),
    }
    return book


def _render(book, msg, as_of):
    return Renderer(book.org, [msg]).render(msg, as_of=as_of)


ES_LINE = "Si paga hasta el 15 de marzo de 2026, paga $98.000 en lugar de $100.000 (2 % de descuento por pronto pago)"


@pytest.mark.parametrize("as_of", [D(2026, 3, 10), D(2026, 3, 15)])
def test_spanish_email_shows_the_discount_per_invoice_up_to_the_last_day(disc, queue, as_of):
    m = queue(disc.org, disc.es, "reminder_before", "email", [disc.inv["es1"], disc.new["es"]])
    r = _render(disc, m, as_of)
    assert ES_LINE in r.text and ES_LINE in r.html
    # Only the invoice inside its window gets the line: F-101 was issued in January.
    assert r.text.count("descuento por pronto pago") == 1
    lines = r.context["invoice_list"].splitlines()
    assert lines[lines.index(f"  {ES_LINE}") - 1].startswith("• Factura F-200")


def test_no_discount_after_the_last_day(disc, queue):
    m = queue(disc.org, disc.es, "due_today", "email", [disc.new["es"]])
    r = _render(disc, m, D(2026, 3, 16))
    assert "descuento" not in r.text and "descuento" not in r.html
    sms = queue(disc.org, disc.es, "due_today", "sms", [disc.new["es"]], key="sms")
    assert "pronto pago" not in _render(disc, sms, D(2026, 3, 16)).text


def test_no_discount_without_terms(book, queue):
    inv = add_invoice(book.org, book.es, "F-300", ISSUED, D(2026, 3, 20), "CLP", 100_000)
    for channel in ("email", "sms"):
        m = queue(book.org, book.es, "reminder_before", channel, [inv], key=channel)
        r = _render(book, m, D(2026, 3, 10))
        assert "descuento" not in r.text and "pronto pago" not in r.text and not r.context["discount_short"]


def test_later_stages_do_not_offer_it(disc, queue):
    m = queue(disc.org, disc.es, "overdue_neutral", "email", [disc.new["es"]])
    assert "descuento" not in _render(disc, m, D(2026, 3, 10)).text


@pytest.mark.parametrize("who, channel, expected", [
    ("es", "sms", "F-200: $98.000 en lugar de $100.000 si paga hasta el 15/3/26 (2 % pronto pago)."),
    ("en", "sms", "INV-20: $1,470.00 instead of $1,500.00 if paid by 3/15/26 (2% early payment)."),
    ("pt", "whatsapp", "NF-20: R$\xa0490,00 em vez de R$\xa0500,00 se pagar até 15/03/2026 (2% pagamento antecipado)."),
])
def test_short_messages_carry_the_offer_in_each_language(disc, queue, who, channel, expected):
    customer = getattr(disc, who)
    m = queue(disc.org, customer, "reminder_before", channel, [disc.new[who]])
    r = _render(disc, m, D(2026, 3, 12))
    assert expected in r.text
    if channel == "whatsapp":
        assert f" {expected}" in r.whatsapp["params"]


EN_PT = [
    ("en", "If you pay by March 15, 2026, you pay $1,470.00 instead of $1,500.00 (2% early-payment discount)"),
    ("pt", "Se pagar até 15 de março de 2026, paga R$\xa0490,00 em vez de R$\xa0500,00 "
           "(2% de desconto por pagamento antecipado)"),
]


@pytest.mark.parametrize("who, expected", EN_PT)
def test_email_in_english_and_portuguese(disc, queue, who, expected):
    m = queue(disc.org, getattr(disc, who), "reminder_before", "email", [disc.new[who]])
    r = _render(disc, m, D(2026, 3, 10))
    assert expected in r.text and expected in r.html


def test_a_batch_loads_every_offer_in_one_call(disc, queue, django_assert_max_num_queries):
    msgs = [queue(disc.org, getattr(disc, w), "reminder_before", "email", [disc.new[w]], key=w)
            for w in ("es", "en", "pt")]
    with django_assert_max_num_queries(12) as ctx:
        renderer = Renderer(disc.org, msgs)
        texts = [renderer.render(m, as_of=D(2026, 3, 10)).text for m in msgs]
    lines = [ES_LINE, *(dict(EN_PT)[w] for w in ("en", "pt"))]
    assert [line in t for t, line in zip(texts, lines, strict=True)] == [True, True, True]
    # Offers come from two queries (invoices, terms) for the whole batch, not per message.
    assert sum("agreements_customerterms" in q["sql"] for q in ctx.captured_queries) == 1
