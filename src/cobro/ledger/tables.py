"""Reading a spreadsheet a person made: CSV (any delimiter, UTF-8 or Latin-1) or XLSX.

Returns the header and the rows as lists of strings (XLSX cells keep their dates and numbers), with
spreadsheet row numbers: the header is row 1. Anything that is neither gets one clear error.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path


class TableError(ValueError):
    """The file cannot be read as a table at all; the message names why."""


@dataclass
class Table:
    header: list[str]
    rows: list[tuple[int, list]]  # (spreadsheet row number, cells)
    source: str  # "csv" or "xlsx"
    encoding: str = ""
    delimiter: str = ""


def normalize_header(text: str) -> str:
    """"Fecha de Emisión" -> "fechadeemision": no case, accents, spaces, underscores or punctuation."""
    decomposed = unicodedata.normalize("NFKD", str(text or ""))
    return "".join(ch for ch in decomposed.lower() if ch.isalnum() and not unicodedata.combining(ch))


def read_table(data: bytes, name: str = "") -> Table:
    if not data:
        raise TableError("the file is empty (0 bytes)")
    if data[:4] == b"PK\x03\x04":
        return _read_xlsx(data, name)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise TableError("this is an old Excel .xls file: save it as .xlsx or CSV and import that")
    if b"\x00" in data[:4096]:
        raise TableError("the file is not CSV or XLSX (it contains binary data)")
    text, encoding = _decode(data)
    return _read_csv(text, encoding)


def _decode(data: bytes) -> tuple[str, str]:
    # Excel on Windows saves "CSV" in the ANSI code page (cp1252, a superset of Latin-1 for text);
    # everything else is UTF-8, sometimes with a byte-order mark.
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), "cp1252"


def _read_csv(text: str, encoding: str) -> Table:
    first = next((ln for ln in text.split("\n", 20)[:20] if ln.strip()), "")
    if not first:
        raise TableError("the file has no header row (it is blank)")
    delimiter = max((";", ",", "\t", "|"), key=first.count)
    if first.count(delimiter) == 0:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        # Spreadsheet row numbers: the reader's line_num counts physical lines (quoted cells may
        # span several); blank lines are skipped but still counted.
        numbered = [(n, row) for n, row in enumerate(reader, start=1) if row and (row[0].strip() or _filled(row))]
    except csv.Error as exc:
        raise TableError(f"the file is not valid CSV: {exc}") from None
    if not numbered:
        raise TableError("the file has no header row (it is blank)")
    header = numbered[0][1]
    rows = numbered[1:]
    return Table(header=[h.strip() for h in header], rows=rows, source="csv", encoding=encoding,
                 delimiter=delimiter)


def _filled(row: list[str]) -> bool:
    return any(cell.strip() for cell in row)


def _read_xlsx(data: bytes, name: str) -> Table:
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = book.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own types for every kind of broken file
        raise TableError(f"the file looks like XLSX but cannot be read: {exc}") from None
    numbered = [(n, list(row)) for n, row in enumerate(sheet, start=1)]
    numbered = [(n, row) for n, row in numbered if any(_cell_text(c) for c in row)]
    if not numbered:
        raise TableError("the first sheet is empty")
    header_no, header = numbered[0]
    return Table(header=[_cell_text(h) for h in header], rows=numbered[1:], source="xlsx")


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_bytes(path: str | Path) -> bytes:
    if str(path) == "-":
        import sys

        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise TableError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise TableError(f"{path} is a folder, not a file") from None

