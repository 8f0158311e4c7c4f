"""The matcher alone: plain values in, a status, allocations and reasons out (no database)."""

import datetime as dt

import pytest

from cobro.payments.matching import (
    APPLIED,
    IGNORED,
    SUGGESTED,
    UNMATCHED,
    Book,
    Customer,
    Expected,
    Invoice,
    Line,
    mentioned_refs,
    name_tokens,
    payer_key,
)

D = dt.date(2026, 3, 2)
I = dt.date(2026, 1, 15)  # noqa: E741


def inv(id_, ref, cid, amount, currency="CLP", issued=I, discount=0):
    return Invoice(id_, ref, cid, currency, amount, issued, issued + dt.timedelta(days=30 + id_), discount)


@pytest.fixture
def book():
    customers = [Customer(1, "C1", "Ferretería Andina SpA", "76.086.428-5", "CL"),
                 Customer(2, "C2", "Comercial Los Andes Ltda.", "77.123.456-9", "CL"),
                 Customer(3, "C3", "Tienda Chapinero S.A.S.", "900.123.456-8", "CO"),
                 Customer(4, "C4", "Abarrotes La Merced S. de R.L. de C.V.", "FAN010101AB1", "MX"),
                 Customer(5, "C5", "Comercial Los Andes Sur Ltda.", "", "CL")]
    invoices = [inv(10, "F-1001", 1, 150000), inv(11, "F-1002", 1, 85000), inv(12, "F-2001", 2, 85000),
                inv(13, "F-2002", 2, 40000), inv(14, "FV-0000777", 3, 245000050, "COP"),
                inv(15, "A-1003", 4, 1250000, "MXN", discount=25000), inv(16, "F-5001", 5, 99000),
                inv(17, "F-9001", 2, 10000, issued=dt.date(2026, 4, 1))]
    expected = [Expected(5, "CLP", 33000, "instalment"), Expected(3, "COP", 100000000, "promise", (14,))]
    return Book(customers, invoices, expected, fee_tolerance={"CLP": 1500, "COP": 1500000, "MXN": 2500})


def line(text="", amount=150000, currency="CLP", **kw):
    return Line(1, D, amount, currency, text, **kw)


@pytest.mark.parametrize("text", ["F-1001", "FACT1001", "fac 1001", "N°1001", "Nº 001001", "factura #1001",
                                  "PAGO FACTURA NRO. 0001001", "pago f1001"])
def test_invoice_numbers_as_people_type_them(book, text):
    r = book.match(line(text))
    assert (r.status, r.customer_id, r.allocations) == (APPLIED, 1, ((10, 150000),))


def test_several_numbers_in_one_line(book):
    r = book.match(line("PAGO FACTS 1001, 1002", 235000))
    assert r.status == APPLIED and sorted(r.invoice_ids) == [10, 11] and r.reasons[-1][0] == "exact_refs"
    assert mentioned_refs("FACT 1001 1002 Y 1003")[0] == ["1001", "1002", "1003"]


def test_tax_id_in_text_or_counterparty_normalised(book):
    for kw in ({"text": "TEF 77.123.456-9"}, {"text": "TRANSF DE 771234569"}, {"tax_id": "77123456-9"},
               {"text": "DE 77123456"}):
        r = book.match(line(amount=85000, **kw))
        assert (r.status, r.customer_id, r.invoice_ids, r.reasons[0][0]) == (APPLIED, 2, [12], "tax"), kw
    nit = book.match(line("ABONO NIT 900.123.456-8", 245000050, "COP"))
    assert (nit.status, nit.customer_id) == (APPLIED, 3)


def test_name_without_accents_or_legal_suffix(book):
    assert name_tokens("Abarrotes La Merced S. de R.L. de C.V.") == ["abarrotes", "merced"]
    assert payer_key("TRANSF TIENDA CHAPINERO SAS") == "tienda chapinero"
    r = book.match(line("SPEI", 1250000, "MXN", counterparty="ABARROTES LA MERCED SRL DE CV"))
    assert (r.status, r.customer_id, r.reasons[0][0]) == (APPLIED, 4, "name")
    # Banks cut long names: the last word may be truncated.
    r = book.match(line("", 150000, counterparty="FERRETERIA ANDI"))
    assert (r.customer_id, r.status) == (1, APPLIED)


def test_similar_names_are_only_suggested(book):
    r = book.match(line("TRANSF COMERCIAL LOS ANDES", 99000))
    assert r.status == SUGGESTED


def test_amount_combination_instalment_promise_discount_fee_partial(book):
    assert book.match(line("RUT 77123456-9", 125000)).reasons[-1][0] == "subset"
    assert book.match(line("RUT 77123456-9", 125000)).status == APPLIED
    assert book.match(line(counterparty="Comercial Los Andes Sur", amount=33000)).reasons[-1][0] == "instalment"
    promise = book.match(line("NIT 900123456-8", 100000000, "COP"))
    assert (promise.reasons[-1][0], promise.invoice_ids, promise.status) == ("promise", [14], APPLIED)
    discount = book.match(line("PAGO A-1003", 1225000, "MXN"))
    assert (discount.reasons[-1][0], discount.status) == ("discount", APPLIED)
    fee = book.match(line("PAGO F-1001", 148800))
    assert fee.reasons[-1][0] == "fee" and fee.writeoff == ((10, 1200),) and fee.status == APPLIED
    beyond = book.match(line("RUT 76086428-5", 148000))  # 2,000 short: more than the tolerance
    assert beyond.reasons[-1][0] == "partial" and beyond.status == SUGGESTED
    partial = book.match(line("ABONO FACT 1001", 50000))
    assert (partial.reasons[-1][0], partial.allocations) == ("partial_refs", ((10, 50000),))


def test_currency_and_issue_date(book):
    assert book.match(line("PAGO F-1001", 1500, "USD")).status == UNMATCHED
    future = book.match(line("PAGO F-9001", 10000))  # issued after the payment date
    assert 17 not in future.invoice_ids


def test_debits_fees_reversals_pending_are_ignored(book):
    for kind in ("debit", "fee", "reversal", "pending"):
        r = book.match(Line(1, D, 150000 if kind != "debit" else -150000, "CLP", "PAGO F-1001", kind=kind))
        assert r.status == IGNORED and not r.allocations


def test_conflicting_evidence_is_a_suggestion(book):
    r = book.match(line("RUT 77123456-9 FACT 1001", 150000))
    assert r.status == SUGGESTED and r.confidence <= 0.5 and r.reasons[0][0] == "conflict"


def test_learned_name_and_account():
    b = Book([Customer(1, "C1", "Inversiones Rocío Ltda.")], [inv(10, "F-1", 1, 5000)],
             names={"JUAN PEREZ": 1}, accounts={"0011-2233": 1})
    assert b.match(line("", 5000, counterparty="Juan Pérez")).status == APPLIED
    assert b.match(line("", 5000, counterparty_account="00112233")).reasons[0][0] == "alias_account"
    assert b.match(line("TRANSF JUAN PEREZ", 5000)).customer_id == 1


def test_consume_prevents_paying_twice(book):
    first = book.match(line("PAGO F-1001"))
    book.consume(first.allocations)
    again = book.match(line("PAGO F-1001"))
    assert 10 not in again.invoice_ids and again.status != APPLIED


def test_nothing_known_is_unmatched_and_amount_only_is_a_weak_suggestion(book):
    assert book.match(line("DEPOSITO EN EFECTIVO", 12345)).status == UNMATCHED
    only = book.match(line("DEPOSITO", 99000))
    assert (only.status, only.customer_id, only.confidence) == (SUGGESTED, 5, 0.4)
