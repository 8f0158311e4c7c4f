"""Reading a spreadsheet a person made: CSV (any delimiter, UTF-8 or Latin-1) or XLSX.

Returns the header and the rows as lists of strings (XLSX cells keep their dates and numbers), with
spreadsheet row numbers: the header is row 1. Anything that is neither gets one clear error.

A file is a stranger's input: its size, rows, columns and cell lengths have ceilings
(``COBRO_IMPORT_MAX_*`` settings, see ``Limits``), checked before anything big is allocated. An
XLSX's first sheet is scanned as a stream for the cells it really names before the spreadsheet
library lays it out (a 5 KB file can name cell XFD1048576, which would be 17 billion cells).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from cobro.engine.text import Text, gettext_noop


class TableError(ValueError):
    """The file cannot be read as a table at all; the message names why (and where, when it is one cell).

    ``str(error)`` is English; ``error.text`` keeps the translatable message."""

    def __init__(self, message: Text | str, row: int = 1, column: str | None = None):
        super().__init__(message)
        self.text, self.row, self.column = message, row, column


@dataclass(frozen=True)
class Limits:
    """Ceilings on an imported file. ``from_settings`` reads COBRO_IMPORT_MAX_BYTES, _ROWS (data rows,
    without the header), _COLUMNS and _CELL_CHARS."""

    bytes: int = 512 * 1024 * 1024
    rows: int = 2_000_000
    columns: int = 200
    cell_chars: int = 10_000

    #: An XLSX is a zip: its sheet may expand to this many times the file ceiling, no more.
    UNZIPPED_RATIO = 8
    #: A sheet is laid out as a full grid (rows × columns) once read; at most this many cells a row
    #: on average (a size-L invoice file has about 12).
    AREA_COLUMNS = 16

    @classmethod
    def from_settings(cls) -> Limits:
        from django.conf import settings

        default = cls()
        return cls(bytes=getattr(settings, "COBRO_IMPORT_MAX_BYTES", default.bytes),
                   rows=getattr(settings, "COBRO_IMPORT_MAX_ROWS", default.rows),
                   columns=getattr(settings, "COBRO_IMPORT_MAX_COLUMNS", default.columns),
                   cell_chars=getattr(settings, "COBRO_IMPORT_MAX_CELL_CHARS", default.cell_chars))


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:,.1f} MB" if n >= 1024 * 1024 else f"{n:,} bytes"


def column_letter(index: int) -> str:
    """0 -> "A", 25 -> "Z", 26 -> "AA"."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def _column_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


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


def read_table(data: bytes, name: str = "", limits: Limits | None = None) -> Table:
    limits = limits or Limits.from_settings()
    if not data:
        raise TableError(Text(gettext_noop("el archivo está vacío (0 bytes)")))
    if len(data) > limits.bytes:
        raise TableError(Text(gettext_noop("el archivo pesa %(size)s; lo más que lee una importación es "
                                           "%(most)s (COBRO_IMPORT_MAX_BYTES): divídalo en varios archivos"),
                              size=_mb(len(data)), most=_mb(limits.bytes)))
    if data[:4] == b"PK\x03\x04":
        return _read_xlsx(data, name, limits)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise TableError(Text(gettext_noop("es un archivo .xls de Excel antiguo: guárdelo como .xlsx o CSV e "
                                           "importe ese")))
    if b"\x00" in data[:4096]:
        raise TableError(Text(gettext_noop("el archivo no es CSV ni XLSX (contiene datos binarios)")))
    text, encoding = _decode(data)
    return _read_csv(text, encoding, limits)


def _decode(data: bytes) -> tuple[str, str]:
    # Excel on Windows saves "CSV" in the ANSI code page (cp1252, a superset of Latin-1 for text);
    # everything else is UTF-8, sometimes with a byte-order mark.
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), "cp1252"


def _too_many_rows(limits: Limits) -> TableError:
    return TableError(Text(gettext_noop("el archivo tiene más de %(rows)s filas, lo más que lee una importación "
                                        "(COBRO_IMPORT_MAX_ROWS): divídalo en varios archivos"),
                           rows=f"{limits.rows:,}"), row=limits.rows + 2)


def _too_many_columns(row: int, width: int, limits: Limits) -> TableError:
    return TableError(Text(gettext_noop("tiene %(width)s columnas; lo más que puede tener un archivo es "
                                        "%(most)s (COBRO_IMPORT_MAX_COLUMNS)"),
                           width=f"{width:,}", most=f"{limits.columns:,}"), row=row)


def _too_long(row: int, index: int, length: int, limits: Limits, header: list | None = None) -> TableError:
    column = str(header[index]).strip() if header and index < len(header) and str(header[index]).strip() \
        else column_letter(index)
    return TableError(Text(gettext_noop("la celda tiene %(length)s caracteres; lo más que puede tener una celda "
                                        "es %(most)s (COBRO_IMPORT_MAX_CELL_CHARS)"),
                           length=f"{length:,}", most=f"{limits.cell_chars:,}"), row=row, column=column)


def _read_csv(text: str, encoding: str, limits: Limits) -> Table:
    first = next((ln for ln in text.split("\n", 20)[:20] if ln.strip()), "")
    if not first:
        raise TableError(_BLANK)
    delimiter = max((";", ",", "\t", "|"), key=first.count)
    if first.count(delimiter) == 0:
        delimiter = ","
    # The csv module refuses any field longer than its own limit (128 KiB by default): make that
    # limit ours, so a long cell gets our message with its row instead of a parser error.
    csv.field_size_limit(max(limits.cell_chars + 1, 131_072))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    # Spreadsheet row numbers: the reader's line_num counts physical lines (quoted cells may
    # span several); blank lines are skipped but still counted.
    numbered = []
    keep = numbered.append
    most_rows, most_columns, longest = limits.rows + 1, limits.columns, limits.cell_chars
    header = None
    n = 0
    try:
        for n, row in enumerate(reader, start=1):  # noqa: B007 (n names the row of an error below)
            if not row:
                continue
            if len(row) > most_columns:
                raise _too_many_columns(n, len(row), limits)
            if max(map(len, row)) > longest:
                index = next(i for i, cell in enumerate(row) if len(cell) > longest)
                raise _too_long(n, index, len(row[index]), limits, header)
            if row[0].strip() or _filled(row):
                keep((n, row))
                header = header or row
                if len(numbered) > most_rows:
                    raise _too_many_rows(limits)
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise TableError(Text(gettext_noop("una celda tiene más de %(most)s caracteres, lo más que puede "
                                               "tener una celda (COBRO_IMPORT_MAX_CELL_CHARS)"),
                                  most=f"{limits.cell_chars:,}"), row=n + 1) from None
        raise TableError(Text(gettext_noop("el archivo no es un CSV válido: %(error)s"), error=str(exc))) from None
    if not numbered:
        raise TableError(_BLANK)
    header = numbered[0][1]
    rows = numbered[1:]
    return Table(header=[h.strip() for h in header], rows=rows, source="csv", encoding=encoding,
                 delimiter=delimiter)


_BLANK = Text(gettext_noop("el archivo no tiene fila de encabezado (está en blanco)"))


def _unreadable(exc: BaseException) -> TableError:
    return TableError(Text(gettext_noop("el archivo parece XLSX pero no se puede leer: %(error)s"), error=str(exc)))


def _filled(row: list[str]) -> bool:
    return any(cell.strip() for cell in row)


def _read_xlsx(data: bytes, name: str, limits: Limits) -> Table:
    from python_calamine import CalamineWorkbook

    rows, columns = _xlsx_extent(data, limits)
    if rows > limits.rows + 1:
        raise _too_many_rows(limits)
    if columns > limits.columns:
        raise _too_many_columns(1, columns, limits)
    if rows * columns > limits.rows * Limits.AREA_COLUMNS:
        raise TableError(Text(gettext_noop("la primera hoja abarca %(rows)s filas × %(columns)s columnas; lo más "
                                           "que despliega una importación son %(most)s celdas (%(ratio)s × "
                                           "COBRO_IMPORT_MAX_ROWS): borre las celdas sueltas lejos de la tabla"),
                              rows=f"{rows:,}", columns=f"{columns:,}",
                              most=f"{limits.rows * Limits.AREA_COLUMNS:,}", ratio=Limits.AREA_COLUMNS))
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = book.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own types for every kind of broken file
        raise _unreadable(exc) from None
    except BaseException as exc:  # a panic inside the Rust reader arrives as pyo3's PanicException
        if type(exc).__name__ != "PanicException":
            raise
        raise TableError(Text(gettext_noop("el archivo parece XLSX pero no se puede leer (el lector se rindió)"))) \
            from None
    numbered = [(n, list(row)) for n, row in enumerate(sheet, start=1)]
    numbered = [(n, row) for n, row in numbered if any(_cell_text(c) for c in row)]
    if not numbered:
        raise TableError(Text(gettext_noop("la primera hoja está vacía")))
    header_no, header = numbered[0]
    for n, row in numbered:
        for index, cell in enumerate(row):
            if isinstance(cell, str) and len(cell) > limits.cell_chars:
                raise _too_long(n, index, len(cell), limits, header)
    return Table(header=[_cell_text(h) for h in header], rows=numbered[1:], source="xlsx")


_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CELL_REF = re.compile(rb'<(?:\w+:)?(c|row)\b([^>]*)>')
_R_ATTR = re.compile(rb'\sr="([A-Z]{0,3})(\d{1,9})"')


def _first_sheet(book: zipfile.ZipFile) -> str:
    """The zip member of the workbook's first sheet (what the reader loads), from workbook.xml."""
    def small_xml(member: str):
        info = book.getinfo(member)
        if info.file_size > 16 * 1024 * 1024:
            raise TableError(Text(gettext_noop("el archivo parece XLSX pero su %(member)s es demasiado grande "
                                               "para ser real"), member=member))
        return ElementTree.fromstring(book.read(member))

    workbook = small_xml("xl/workbook.xml")
    sheet = workbook.find(f"{_MAIN_NS}sheets/{_MAIN_NS}sheet")
    if sheet is None:
        raise TableError(Text(gettext_noop("el archivo parece XLSX pero no tiene hojas")))
    rel_id = sheet.get(f"{_REL_NS}id")
    rels = small_xml("xl/_rels/workbook.xml.rels")
    for rel in rels.iter(f"{_PKG_REL_NS}Relationship"):
        if rel.get("Id") == rel_id:
            target = rel.get("Target", "").lstrip("/")
            return target if target.startswith("xl/") else "xl/" + target
    raise TableError(Text(gettext_noop("el archivo parece XLSX pero le falta la primera hoja")))


def _xlsx_extent(data: bytes, limits: Limits) -> tuple[int, int]:
    """How many rows and columns the first sheet really spans, read as a stream of its cell tags.

    Neither the sheet's ``<dimension>`` (a hint that may lie) nor any cell is trusted: every ``<row>``
    and ``<c>`` tag is looked at, and the scan stops as soon as a ceiling is passed.
    """
    try:
        book = zipfile.ZipFile(io.BytesIO(data))
        member = _first_sheet(book)
        info = book.getinfo(member)
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, ValueError, OSError, EOFError,
            zlib.error, NotImplementedError) as exc:
        if isinstance(exc, TableError):
            raise
        raise _unreadable(exc) from None
    most_unzipped = limits.bytes * Limits.UNZIPPED_RATIO
    declared = sum(i.file_size for i in book.infolist())
    if declared > most_unzipped:
        raise TableError(Text(gettext_noop("el archivo se descomprime en %(size)s; lo más que lee una importación "
                                           "es %(most)s (%(ratio)s × COBRO_IMPORT_MAX_BYTES)"),
                              size=_mb(declared), most=_mb(most_unzipped), ratio=Limits.UNZIPPED_RATIO))
    extent = _Extent(limits)
    try:
        with book.open(info) as stream:
            unzipped, tail = 0, b""
            while chunk := stream.read(1 << 20):
                unzipped += len(chunk)
                if unzipped > most_unzipped:
                    raise TableError(Text(gettext_noop("la primera hoja se descomprime en más de %(most)s"),
                                          most=_mb(most_unzipped)))
                text = tail + chunk
                cut = text.rfind(b"<")  # a tag may be split between chunks: keep its start for the next
                text, tail = (text[:cut], text[cut:]) if cut >= 0 else (text, b"")
                if extent.scan(text):
                    return extent.rows, extent.columns
            extent.scan(tail)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError) as exc:
        raise _unreadable(exc) from None
    return extent.rows, extent.columns


class _Extent:
    """The last row and the widest column seen so far in a sheet's XML."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.rows = self.columns = self._row = self._column = 0

    def scan(self, text: bytes) -> bool:
        """Read the cell and row tags in ``text``; True as soon as a ceiling is passed."""
        most_rows, most_columns = self.limits.rows + 1, self.limits.columns
        for tag in _CELL_REF.finditer(text):
            ref = _R_ATTR.search(tag.group(2))
            if tag.group(1) == b"row":
                self._row = int(ref.group(2)) if ref else self._row + 1
                self._column = 0
            else:
                if ref:
                    self._row = max(self._row, int(ref.group(2)))
                self._column = _column_index(ref.group(1).decode()) + 1 if ref and ref.group(1) \
                    else self._column + 1
                self.columns = max(self.columns, self._column)
            self.rows = max(self.rows, self._row)
            if self.rows > most_rows or self.columns > most_columns:
                return True
        return False


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
        raise TableError(Text(gettext_noop("no existe el archivo %(path)s"), path=str(path))) from None
    except IsADirectoryError:
        raise TableError(Text(gettext_noop("%(path)s es una carpeta, no un archivo"), path=str(path))) from None

