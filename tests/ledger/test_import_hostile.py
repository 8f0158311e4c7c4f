"""Hostile files: ceilings on size, rows, columns and cells checked before anything big is allocated;
absurd amounts, out-of-range dates and control characters refused with row and column; nothing written."""

import datetime as dt
import io
import time
import zipfile

import pytest
from openpyxl import Workbook

from cobro.ledger.importing import ImportFailed, import_file
from cobro.ledger.models import Customer, Invoice
from cobro.ledger.tables import Limits, TableError, read_table

HEAD = "invoice_ref,customer_ref,customer_name,issue_date,due_date,currency,amount\n"
ROW = "I-{n},K-1,Comercial Uno,2026-01-05,2026-02-04,USD,500.00\n"


def refused(org, data, kind="invoices"):
    with pytest.raises(ImportFailed) as exc:
        import_file(org, kind, data.encode() if isinstance(data, str) else data)
    assert not Invoice.objects.exists() and not Customer.objects.exists()  # nothing half-written
    return [str(p) for p in exc.value.problems]


def xlsx(cells) -> bytes:
    book = Workbook()
    sheet = book.active
    for (row, col), value in cells.items():
        sheet.cell(row=row, column=col, value=value)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def xlsx_with_sheet(cells, edit) -> bytes:
    """An XLSX made by openpyxl, its first sheet's XML then edited by hand (what a hostile tool writes)."""
    src = zipfile.ZipFile(io.BytesIO(xlsx(cells)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            body = src.read(item)
            dst.writestr(item, edit(body) if item.filename == "xl/worksheets/sheet1.xml" else body)
    return out.getvalue()


def test_tiny_xlsx_naming_a_far_cell_is_refused_at_once(org):
    data = xlsx({(1_000_000, 16_000): "x"})
    assert len(data) < 6_000
    started = time.perf_counter()
    found = refused(org, data)
    assert time.perf_counter() - started < 3
    assert found == ["row 1: has 16,000 columns; the most a file may have is 200 (COBRO_IMPORT_MAX_COLUMNS)"]


def test_xlsx_whose_header_is_fine_but_a_row_is_too_far(org, settings):
    settings.COBRO_IMPORT_MAX_ROWS = 1000
    cells = {(1, i + 1): h for i, h in enumerate(HEAD.strip().split(","))}
    cells[500_000, 1] = "I-far"
    found = refused(org, xlsx(cells))
    assert found[0].startswith("row 1002: the file has more than 1,000 rows")


def test_xlsx_dimension_that_lies_is_not_trusted(org):
    """The <dimension> says A1:B2, a cell says XFD1: the cell is what counts."""
    data = xlsx_with_sheet({(1, 1): "invoice_ref", (1, 2): "amount"},
                           lambda body: body.replace(b'r="B1"', b'r="XFD1"'))
    assert b"<dimension ref=\"A1:B1\"" in zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    assert refused(org, data)[0].startswith("row 1: has 16,384 columns")


def test_zip_bomb_sheet_is_refused_before_it_is_unpacked(org, settings):
    settings.COBRO_IMPORT_MAX_BYTES = 100_000  # the sheet may unpack to 800 KB
    data = xlsx_with_sheet({(1, 1): "invoice_ref", (1, 2): "amount"},
                           lambda body: body.replace(b"<sheetData>", b"<sheetData>" + b" " * 5_000_000))
    assert len(data) < 100_000
    assert "unpacks to" in refused(org, data)[0]


def test_file_size_ceiling(org, settings):
    settings.COBRO_IMPORT_MAX_BYTES = 1000
    text = HEAD + "".join(ROW.format(n=n) for n in range(30))
    found = refused(org, text)
    assert found[0].startswith("row 1: the file is ")
    assert "COBRO_IMPORT_MAX_BYTES" in found[0]


def test_csv_row_ceiling_stops_reading_early(org, settings):
    settings.COBRO_IMPORT_MAX_ROWS = 10
    found = refused(org, HEAD + "".join(ROW.format(n=n) for n in range(11)))
    assert found == ["row 12: the file has more than 10 rows, the most one import reads "
                     "(COBRO_IMPORT_MAX_ROWS): split it into several files"]
    settings.COBRO_IMPORT_MAX_ROWS = 11
    assert import_file(org, "invoices", (HEAD + "".join(ROW.format(n=n) for n in range(11))).encode()).created == 11


def test_csv_column_ceiling(org):
    found = refused(org, HEAD + ROW.format(n=1).rstrip("\n") + ",x" * 300 + "\n")
    assert found[0].startswith("row 2: has 307 columns; the most a file may have is 200")


@pytest.mark.parametrize("size", [20_000, 200_000])
def test_csv_cell_ceiling_names_row_and_column(org, size):
    found = refused(org, HEAD + ROW.format(n=1) + ROW.format(n=2).replace("Comercial Uno", "x" * size))
    if size <= 131_072 - 1:
        assert found == [f"row 3, column customer_name: the cell has {size:,} characters; the most a cell "
                         "may have is 10,000 (COBRO_IMPORT_MAX_CELL_CHARS)"]
    else:
        assert found[0].startswith("row 3:") and "COBRO_IMPORT_MAX_CELL_CHARS" in found[0]


def test_xlsx_cell_ceiling(org):
    cells = {(1, i + 1): h for i, h in enumerate(HEAD.strip().split(","))}
    cells.update({(2, 1): "I-1", (2, 2): "K-1", (2, 3): "y" * 12_000})
    assert refused(org, xlsx(cells))[0].startswith("row 2, column customer_name: the cell has 12,000 characters")


def test_limits_are_plain_values_for_other_readers():
    table = read_table(b"a,b\n1,2\n", limits=Limits(rows=1, columns=2, cell_chars=5, bytes=100))
    assert table.rows == [(2, ["1", "2"])]
    with pytest.raises(TableError) as exc:
        read_table(b"a,b,c\n1,2,3\n", limits=Limits(columns=2))
    assert (exc.value.row, str(exc.value)) == (1, "has 3 columns; the most a file may have is 2 "
                                                  "(COBRO_IMPORT_MAX_COLUMNS)")


@pytest.mark.parametrize("amount, expected", [
    ("9" * 40, "is beyond the largest amount Cobro accepts (less than 1,000,000,000,000,000 USD)"),
    ("1e300", "not an amount: '1e300'"),
    ("1000000000000000.00", "is beyond the largest amount Cobro accepts"),
    ("\"9" + ".999" * 20 + "\"", "is beyond the largest amount Cobro accepts"),
    ("9" * 5000, "is beyond the largest amount Cobro accepts"),
])
def test_absurd_amounts_are_refused_with_row_and_column(org, amount, expected):
    found = refused(org, HEAD + ROW.format(n=1) + ROW.format(n=2).replace("500.00", amount))
    assert len(found) == 1 and found[0].startswith("row 3, column amount: ") and expected in found[0], found


def test_absurd_xlsx_number_cells(org):
    cells = {(1, i + 1): h for i, h in enumerate(HEAD.strip().split(","))}
    for r, value in ((2, 1e300), (3, float("inf")), (4, 99_999_999_999_999.0)):
        cells.update({(r, 1): f"I-{r}", (r, 2): "K-1", (r, 3): "Uno", (r, 4): dt.date(2026, 1, 5),
                      (r, 5): dt.date(2026, 2, 4), (r, 6): "CLP", (r, 7): value})
    found = refused(org, xlsx(cells))
    assert [p.split(":")[0] for p in found] == ["row 2, column amount", "row 3, column amount"], found
    cells.pop((2, 7)), cells.pop((3, 7))
    for r in (2, 3):
        cells[r, 7] = 1000
    assert import_file(org, "invoices", xlsx(cells)).created == 3
    assert Invoice.objects.get(ref="I-4").amount == 99_999_999_999_999


@pytest.mark.parametrize("field, value, column", [
    ("I-2", "I-\x1b[31m2", "invoice_ref"),
    ("I-2", "I-2\x07", "invoice_ref"),
    ("I-2", "I-\u202e2gpj", "invoice_ref"),
    ("Comercial Uno", "Comercial\u202eonU", "customer_name"),
    ("Comercial Uno", "Comercial \x9bUno", "customer_name"),
    ("K-1", "K-\u20661", "customer_ref"),
])
def test_control_characters_are_refused_with_row_and_column(org, field, value, column):
    second = ROW.format(n=2).replace(field, value)
    found = refused(org, HEAD + ROW.format(n=1) + second)
    code = next(ch for ch in value if ch not in field)
    assert len(found) == 1, found
    assert found[0].startswith(f"row 3, column {column}: contains the control character U+{ord(code):04X} ")
    assert found[0].endswith("; remove it (it can hide or reorder text)")


def test_control_characters_in_customer_files_and_xlsx(org):
    customers = "customer_ref,name,email\nC-1,Uno,uno@example.com\nC-2,Dos,d\x1bos@example.com\n"
    assert refused(org, customers, "customers") == [
        "row 3, column email: contains the control character U+001B ESCAPE; remove it (it can hide or reorder "
        "text)"]
    cells = {(1, i + 1): h for i, h in enumerate(HEAD.strip().split(","))}
    cells.update({(2, 1): "I-1\tX", (2, 2): "K-1", (2, 3): "Uno", (2, 4): "2026-01-05", (2, 5): "2026-02-04",
                  (2, 6): "USD", (2, 7): 5})
    assert refused(org, xlsx(cells))[0].startswith("row 2, column invoice_ref: contains the control character "
                                                   "U+0009 TAB")


def test_a_name_on_two_lines_is_still_a_name(org):
    text = HEAD + 'I-1,K-1,"Comercial Uno\nSucursal Centro",2026-01-05,2026-02-04,USD,500.00\n'
    assert import_file(org, "invoices", text.encode()).created == 1
    assert Customer.objects.get(ref="K-1").name == "Comercial Uno\nSucursal Centro"


@pytest.mark.parametrize("day, shown", [
    ("0001-01-01", "0001-01-01"), ("9999-12-31", "9999-12-31"), ("1899-12-31", "1899-12-31"),
    ("01/01/2201", "2201-01-01"),
])
def test_dates_outside_1900_2200_are_refused(org, day, shown):
    found = refused(org, HEAD + ROW.format(n=1) + ROW.format(n=2).replace("2026-02-04", day))
    assert found == [f"row 3, column due_date: {shown} is outside the years 1900–2200; check the date"]


def test_edge_dates_are_accepted(org):
    text = HEAD + ROW.format(n=1).replace("2026-01-05", "1900-01-01").replace("2026-02-04", "2200-12-31")
    import_file(org, "invoices", text.encode())
    inv = Invoice.objects.get()
    assert (inv.issue_date, inv.due_date) == (dt.date(1900, 1, 1), dt.date(2200, 12, 31))


def test_xlsx_far_dates(org):
    cells = {(1, i + 1): h for i, h in enumerate(HEAD.strip().split(","))}
    cells.update({(2, 1): "I-1", (2, 2): "K-1", (2, 3): "Uno", (2, 4): dt.date(1800, 1, 5),
                  (2, 5): dt.date(9999, 2, 4), (2, 6): "USD", (2, 7): 5})
    found = refused(org, xlsx(cells))
    assert [p.split(":")[0] for p in found] == ["row 2, column issue_date", "row 2, column due_date"], found
