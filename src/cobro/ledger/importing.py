"""Import of customers, invoices and payments from CSV or XLSX: all or nothing.

Every row is checked before anything is written. Each problem is reported as
``row N, column X: message`` with the row number a spreadsheet shows (the header is row 1); if there
is any, nothing is written. Re-importing a file updates by reference instead of duplicating.

The format is documented in ``docs/import.md``. Speed matters (benchmark B2: a million invoice rows
at ≥ 50,000 rows/s on SQLite), so rows are checked with per-file caches (dates, customers and phone
numbers repeat) and written with one multi-row INSERT per batch instead of saving model instances.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import re
import unicodedata
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Max, Sum
from django.utils import timezone

from cobro.engine.allocation import OpenItem, allocate
from cobro.engine.daybook import Totals
from cobro.engine.money import MoneyError, check_currency, exponent, guess_decimal_mark, parse_amount
from cobro.engine.text import Text, gettext_noop, message_of
from cobro.engine.zones import region_known
from cobro.insights import totals
from cobro.ledger import search, signals
from cobro.ledger.models import (
    Allocation,
    Contact,
    CreditNote,
    Customer,
    Invoice,
    Organization,
    Payment,
    TimelineEvent,
)
from cobro.ledger.tables import Table, TableError, normalize_header, read_table
from cobro.ledger.validation import (
    COUNTRY_LANGUAGE,
    check_country,
    check_email,
    check_language,
    check_phone,
    check_tax_id,
    check_timezone,
)

MAX_PROBLEMS_SHOWN = 200
_CONTROL_NAMES = {"\x07": "BELL", "\x1b": "ESCAPE", "\x00": "NULL", "\x08": "BACKSPACE", "\x7f": "DELETE",
                  "\t": "TAB", "\n": "LINE FEED", "\r": "CARRIAGE RETURN"}
REBUILD_INDEXES_FROM = 100_000  # rows in one insert (SQLite): build indexes afterwards, see _indexes_rebuilt

#: Canonical columns per kind, in export order, and the headers accepted for each (normalized:
#: lower case, no accents, spaces, underscores or punctuation). Spanish first, then English, then
#: the names common ERP and bank exports use.
COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "customers": {
        "customer_ref": ("customerref", "cliente", "codigocliente", "codcliente", "idcliente", "codigo",
                         "customer", "customerid", "ref"),
        "name": ("name", "nombre", "razonsocial", "nombrecliente", "customername", "cliente nombre"),
        "email": ("email", "correo", "correoelectronico", "mail", "emailaddress"),
        "phone": ("phone", "telefono", "celular", "movil", "fono", "tel"),
        "whatsapp": ("whatsapp", "wsp", "wasap"),
        "country": ("country", "pais", "countrycode"),
        "language": ("language", "idioma", "lengua"),
        "timezone": ("timezone", "zonahoraria", "husohorario", "tz"),
        "tax_id": ("taxid", "rut", "nit", "rfc", "nif", "cif", "cuit", "ruc", "cnpj", "cpf",
                   "identificadortributario", "idtributario", "vat"),
        "address": ("address", "direccion", "domicilio", "calle", "endereco", "street", "addressline1"),
        "city": ("city", "ciudad", "municipio", "comuna", "localidad", "poblacion", "cidade", "town"),
        "region": ("region", "estado", "provincia", "departamento", "comunidad", "comunidadautonoma", "uf",
                   "state", "province", "regioncode", "statecode"),
        "postal_code": ("postalcode", "codigopostal", "cp", "zip", "zipcode", "cep", "postcode"),
    },
    "invoices": {
        "invoice_ref": ("invoiceref", "factura", "nfactura", "nrofactura", "numerofactura", "nodefactura",
                        "numerodefactura", "folio", "invoice", "invoicenumber", "invoiceno", "documento"),
        "customer_ref": ("customerref", "cliente", "codigocliente", "codcliente", "idcliente", "customer",
                         "customerid"),
        "customer_name": ("customername", "razonsocial", "nombre", "nombrecliente", "name"),
        "issue_date": ("issuedate", "fechadeemision", "fechaemision", "emision", "fecha", "invoicedate",
                       "date"),
        "due_date": ("duedate", "fechadevencimiento", "fechavencimiento", "vencimiento", "vence"),
        "currency": ("currency", "moneda", "divisa"),
        "amount": ("amount", "monto", "importe", "total", "valor", "invoiceamount", "montototal"),
        "email": ("email", "correo", "correoelectronico", "mail"),
        "phone": ("phone", "telefono", "celular", "movil", "fono"),
        "country": ("country", "pais", "countrycode"),
    },
    "payments": {
        "payment_ref": ("paymentref", "pago", "referenciapago", "referenciadepago", "npago", "nropago",
                        "comprobante", "referencia", "payment", "paymentid", "reference"),
        "customer_ref": ("customerref", "cliente", "codigocliente", "codcliente", "idcliente", "customer",
                         "customerid"),
        "invoice_ref": ("invoiceref", "factura", "nfactura", "nrofactura", "numerofactura", "folio",
                        "invoice", "invoicenumber"),
        "date": ("date", "fecha", "fechadepago", "fechapago", "paymentdate", "settleddate"),
        "amount": ("amount", "monto", "importe", "valor", "montopagado", "abono"),
        "currency": ("currency", "moneda", "divisa"),
        "method": ("method", "mediodepago", "metodo", "metododepago", "formadepago", "medio"),
    },
}
REQUIRED = {
    "customers": ("customer_ref", "name"),
    "invoices": ("invoice_ref", "customer_ref", "issue_date", "due_date", "amount"),
    "payments": ("payment_ref", "customer_ref", "date", "amount"),
}
#: The address columns of a customers file, with their longest accepted value (the model's fields).
ADDRESS_FIELDS = {"address": 200, "city": 100, "region": 100, "postal_code": 16}
EXPORT_EXTRA = {"customers": ("open_balance", "currency"), "invoices": ("open_amount", "status"),
                "payments": ("unallocated", "provider", "provider_ref")}


#: The headers of the template files (``cobro/ledger/templates``): one accepted Spanish header per
#: column. A page names a column with them when the file had no header of its own for it.
TEMPLATE_HEADERS: dict[str, dict[str, str]] = {
    "customers": {"customer_ref": "cliente", "name": "nombre", "email": "correo", "phone": "telefono",
                  "whatsapp": "whatsapp", "country": "pais", "language": "idioma", "timezone": "zona_horaria",
                  "tax_id": "id_tributario", "address": "direccion", "city": "ciudad", "region": "region",
                  "postal_code": "codigo_postal"},
    "invoices": {"invoice_ref": "factura", "customer_ref": "cliente", "customer_name": "nombre",
                 "issue_date": "fecha_emision", "due_date": "fecha_vencimiento", "currency": "moneda",
                 "amount": "monto", "email": "correo", "phone": "telefono", "country": "pais"},
    "payments": {"payment_ref": "pago", "customer_ref": "cliente", "invoice_ref": "factura", "date": "fecha",
                 "amount": "monto", "currency": "moneda", "method": "medio_de_pago"},
}
_HEADER_LABEL = {canon: header for headers in TEMPLATE_HEADERS.values() for canon, header in headers.items()}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file. ``message`` is a ``Text`` (or plain text); ``header`` is the file's own
    title of the column, when it had one."""

    row: int
    column: str | None
    message: Text | str
    header: str | None = field(default=None, compare=False)

    def __str__(self) -> str:
        """In English, as the command line prints it: "row 3, column amount: ..."."""
        where = f"row {self.row}, column {self.column}" if self.column else f"row {self.row}"
        return f"{where}: {self.message}"

    def localized(self) -> str:
        """In the active language, for a page: "Fila 3, columna monto: ..."."""
        from django.utils.translation import gettext

        message = self.message.localized() if isinstance(self.message, Text) else str(self.message)
        if not self.column:
            return gettext("Fila %(row)s: %(message)s") % {"row": self.row, "message": message}
        column = self.header or str(_ColumnName(self.column))
        return gettext("Fila %(row)s, columna %(column)s: %(message)s") % {
            "row": self.row, "column": column, "message": message}


class ImportFailed(Exception):
    """The file was refused; ``problems`` lists every reason. Nothing was written."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems[:MAX_PROBLEMS_SHOWN]))


@dataclass
class ImportResult:
    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    customers_created: int = 0
    notes: list[Text | str] = field(default_factory=list)
    dry_run: bool = False

    def summary(self) -> str:
        verb = "would be" if self.dry_run else "were"
        text = (f"{self.rows} {self.kind} rows read: {self.created} {verb} created, {self.updated} updated, "
                f"{self.unchanged} unchanged")
        if self.customers_created:
            text += f"; {self.customers_created} new customers"
        return text + "."


def import_file(org: Organization, kind: str, data: bytes, *, name: str = "", dry_run: bool = False,
                progress: Callable[[int], None] | None = None) -> ImportResult:
    """Check every row of ``data`` and, if all are good and not ``dry_run``, write them at once."""
    if kind not in COLUMNS:
        raise ValueError(f"unknown kind {kind!r}: expected customers, invoices or payments")
    with _no_cyclic_gc():
        try:
            table = read_table(data, name)
        except TableError as exc:
            raise ImportFailed([Problem(exc.row, exc.column, exc.text)]) from None
        reader = _Reader(org, kind, table, progress)
        records = reader.read()
    if reader.problems:
        raise ImportFailed(reader.problems)
    result = ImportResult(kind=kind, rows=len(table.rows), notes=reader.notes, dry_run=dry_run)
    writer = {"customers": _write_customers, "invoices": _write_invoices, "payments": _write_payments}[kind]
    with transaction.atomic(), _big_cache(len(records)), _no_cyclic_gc():
        writer(org, records, result, reader)
        if reader.problems:
            # Found only against what is already in the database (e.g. a payment for an unknown
            # invoice): still all or nothing.
            transaction.set_rollback(True)
            raise ImportFailed(reader.problems)
        if dry_run:
            transaction.set_rollback(True)
    if not dry_run and result.rows >= 10_000:
        _refresh_statistics()
    return result


@contextmanager
def _no_cyclic_gc():
    """Pause Python's cycle collector while millions of rows are held: the rows make no cycles, and
    the collector would otherwise rescan all of them again and again as they pile up (at a million
    invoices it cost more than the checks themselves)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def _big_cache(rows: int):
    """A larger SQLite page cache while a big file is written: its index pages then stay in memory
    instead of being re-read for every row (a million invoices touch every page of four indexes)."""
    if connection.vendor != "sqlite" or rows < 50_000:
        yield
        return
    with connection.cursor() as cur:
        cur.execute("PRAGMA cache_size")
        before = cur.fetchone()[0]
        cur.execute("PRAGMA cache_size=-1000000")  # about 1 GB, released when the import ends
        try:
            yield
        finally:
            cur.execute(f"PRAGMA cache_size={int(before)}")


def _refresh_statistics() -> None:
    """After a big import, let the query planner see the new sizes of the tables.

    Without fresh statistics SQLite walks the organization index row by row for whole-book
    aggregates (measured: 7 s instead of 0.35 s at a million invoices).
    """
    tables = [m._meta.db_table for m in (Customer, Contact, Invoice, Payment, Allocation)]
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            # Sampled statistics (a thousand rows per index) are enough for the planner, and take
            # milliseconds instead of a full scan of every index.
            cur.execute("PRAGMA analysis_limit=1000")
            for table in tables:
                cur.execute(f"ANALYZE {table}")
        elif connection.vendor == "postgresql":
            for table in tables:
                cur.execute(f"ANALYZE {table}")


# -- reading and checking ---------------------------------------------------------------------------

_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")

#: Dates a real invoice or payment can carry; anything else is a typo or a placeholder (0001-01-01).
FIRST_DATE, LAST_DATE = dt.date(1900, 1, 1), dt.date(2200, 12, 31)

#: Characters no reference, name or contact may hold: C0 and C1 control codes (ESC, BEL, NUL...) and
#: the invisible marks that reorder text (U+202E shows "exe.fdp" as "pdf.exe"). Tab, line feed and
#: carriage return are allowed in names (a cell may hold an address on two lines), never in references.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_REF_CONTROL = re.compile("[\t\n\r]")
_ANY_CONTROL = re.compile(f"{_CONTROL.pattern}|{_REF_CONTROL.pattern}")
_SEP = "\ue000"  # joins a row's cells for one search; a private-use character no pattern above matches
_QUOTED_FORMULA = re.compile(r"'+[=+\-@\t\r]")


def unquote(value: str) -> str:
    """Undo the export's guard against CSV injection: "'=SUM(A1)" back to "=SUM(A1)" (one apostrophe)."""
    return value[1:] if _QUOTED_FORMULA.match(value) else value
_REF_COLUMNS = frozenset({"customer_ref", "invoice_ref", "payment_ref", "currency", "country", "email", "phone",
                          "whatsapp", "tax_id", "language", "timezone"})


class _Reader:
    """Turns a table into typed records, collecting every problem instead of stopping at the first."""

    def __init__(self, org: Organization, kind: str, table: Table, progress):
        self.org, self.kind, self.table, self.progress = org, kind, table, progress
        self.problems: list[Problem] = []
        self.notes: list[Text | str] = []
        self.unplaced_regions = 0  # customers of a multi-zone country whose region names no known place
        self._titles: dict[str, str] = {}  # canonical column -> the file's header for it
        self._dates: dict[str, dt.date | None] = {}
        self._contacts: dict[tuple, dict] = {}
        self._known: dict[tuple[str, str], str] = {}  # currency and country cells already checked

    def problem(self, row: int, column: str | None, message: Text | str) -> None:
        self.problems.append(Problem(row, column, message, self._titles.get(column)))

    def read(self) -> list[dict]:
        columns = self._map_header()
        if self.problems:
            return []
        if not self.table.rows:
            self.problem(2, None, Text(gettext_noop("el archivo tiene encabezado pero ninguna fila")))
            return []
        self._date_order = self._detect_date_order(columns)
        self._mark = self._detect_decimal_mark(columns)
        check = getattr(self, f"_check_{self.kind}")
        records, seen = [], {}
        key_column = {"customers": "customer_ref", "invoices": "invoice_ref", "payments": "payment_ref"}[self.kind]
        width = len(self.table.header)
        items = list(columns.items())
        plain = self.table.source == "csv"  # every cell a str: skip the per-cell type checks
        for i, (row_no, cells) in enumerate(self.table.rows):
            if len(cells) > width and any(str(c).strip() for c in cells[width:]):
                self.problem(row_no, None, Text(gettext_noop("tiene %(cells)s celdas pero el encabezado tiene "
                                                             "%(columns)s columnas"), cells=len(cells), columns=width))
                continue
            if plain and len(cells) >= width:
                raw = {canon: cells[idx].strip() for canon, idx in items}
            else:
                raw = {canon: _text(cells[idx], canon in _DATE_COLUMNS) if idx < len(cells) else ""
                       for canon, idx in items}
            if self._screen(row_no, raw):
                continue
            record = check(row_no, raw)
            if record is None:
                continue
            key = record[key_column]
            if key in seen:
                self.problem(row_no, key_column, Text(gettext_noop("%(key)r aparece dos veces en el archivo "
                                                                   "(también en la fila %(other)s)"),
                                                      key=key, other=seen[key]))
                continue
            seen[key] = row_no
            records.append(record)
            if self.progress and i % 10_000 == 0:
                self.progress(i)
        if self.progress:
            self.progress(len(self.table.rows))
        if self.unplaced_regions:
            self.notes.append(Text(gettext_noop(
                "clientes de un país con varias zonas horarias cuya región no se reconoce: %(count)s; se les "
                "contacta solo a las horas permitidas en todas las zonas de su país (ponga el estado o la "
                "provincia por su nombre o su código, o la zona horaria del cliente)"), count=self.unplaced_regions))
        return records

    def _screen(self, row: int, raw: dict) -> bool:
        """Record a problem for each cell with a control character; True when there was one.

        Also takes off the apostrophe a CSV export puts before a formula-like cell (see ``unquote``); an
        XLSX export marks those cells as text instead, so its cells are read as they are.
        """
        joined = _SEP.join(v for v in raw.values() if isinstance(v, str))
        if self.table.source == "csv" and (joined[:1] == "'" or _SEP + "'" in joined):
            for column, value in raw.items():
                if isinstance(value, str):
                    raw[column] = unquote(value).strip()
        if not _ANY_CONTROL.search(joined):
            return False  # the common case: one search over the whole row
        found = False
        for column, value in raw.items():
            if not isinstance(value, str):
                continue
            bad = _CONTROL.search(value) or (_REF_CONTROL.search(value) if column in _REF_COLUMNS else None)
            if bad:
                ch = bad.group()
                self.problem(row, column, Text(gettext_noop("contiene el carácter de control %(char)s; "
                                                            "quítelo (puede ocultar o reordenar el texto)"),
                                               char=f"U+{ord(ch):04X} "
                                                    f"{unicodedata.name(ch, _CONTROL_NAMES.get(ch, 'CONTROL'))}"))
                found = True
        return found

    def _map_header(self) -> dict[str, int]:
        aliases = {normalize_header(a): canon for canon, names in COLUMNS[self.kind].items()
                   for a in (canon, *names)}
        mapped: dict[str, int] = {}
        ignored = []
        for idx, title in enumerate(self.table.header):
            canon = aliases.get(normalize_header(title))
            if canon is None:
                if title.strip():
                    ignored.append(title)
                continue
            if canon in mapped:
                self.problem(1, title, Text(gettext_noop("es una segunda columna para %(canon)s (la columna "
                                                         "%(first)r ya se lee como %(canon)s)"),
                                            canon=_ColumnName(canon), first=self.table.header[mapped[canon]]))
                continue
            mapped[canon] = idx
            self._titles[canon] = title
        for canon in REQUIRED[self.kind]:
            if canon not in mapped:
                accepted = ", ".join(COLUMNS[self.kind][canon][:4])
                self.problem(1, canon, Text(gettext_noop("falta esta columna obligatoria (encabezados "
                                                         "aceptados: %(canon)s, %(accepted)s)"),
                                            canon=_ColumnName(canon), accepted=accepted))
        if ignored and not self.problems:
            self.notes.append(Text(gettext_noop("columnas ignoradas: %(titles)s"), titles=", ".join(ignored)))
        if self.problems and ignored:
            self.problems.append(Problem(1, None, Text(gettext_noop("encabezados no reconocidos: %(titles)s"),
                                                       titles=", ".join(ignored))))
        return mapped

    def _detect_date_order(self, columns: dict[str, int]) -> str:
        """Day/month or month/day for the whole file, from the dates that can only be read one way."""
        day_first = month_first = False
        date_idx = [idx for canon, idx in columns.items() if canon in ("issue_date", "due_date", "date")]
        for _, cells in self.table.rows:
            for idx in date_idx:
                value = cells[idx] if idx < len(cells) else ""
                if not isinstance(value, str) or value[4:5] == "-":  # typed or ISO: unambiguous
                    continue
                m = _DMY.match(value.strip())
                if m:
                    a, b = int(m.group(1)), int(m.group(2))
                    day_first |= a > 12
                    month_first |= b > 12
            if day_first or month_first:
                break
        if month_first and not day_first:
            self.notes.append(Text(gettext_noop("fechas leídas como mes/día/año (el archivo tiene fechas "
                                                "como 1/31/2026)")))
            return "mdy"
        return "dmy"

    def _detect_decimal_mark(self, columns: dict[str, int]) -> str | None:
        idx = columns.get("amount")
        if idx is None or self.table.source == "xlsx":
            return None
        sample = [str(cells[idx]) for _, cells in self.table.rows[:5000] if idx < len(cells)]
        return guess_decimal_mark(sample)

    # field parsers: return the value, or None after recording a problem

    def date(self, row: int, column: str, value: str) -> dt.date | None:
        parsed = self._dates.get(value)
        if parsed is not None:
            return parsed
        if isinstance(value, dt.datetime):
            parsed = value.date()
        elif isinstance(value, dt.date):
            parsed = value
        else:
            parsed = self._dates.get(value, False)
            if parsed is False:
                parsed = self._parse_date(value)
            if parsed is None:
                self.problem(row, column, Text(gettext_noop("%(value)r no es una fecha (use AAAA-MM-DD o "
                                                            "DD/MM/AAAA)"), value=value)
                             if value else Text(gettext_noop("está vacía; la fecha es obligatoria")))
                self._dates[value] = None
                return None
        if not FIRST_DATE <= parsed <= LAST_DATE:
            self.problem(row, column, Text(gettext_noop("%(date)s está fuera de los años %(first)s–%(last)s; "
                                                        "revise la fecha"), date=parsed.isoformat(),
                                           first=FIRST_DATE.year, last=LAST_DATE.year))
            return None
        if isinstance(value, str):
            self._dates[value] = parsed
        return parsed

    def _parse_date(self, value: str) -> dt.date | None:
        if len(value) >= 10 and value[4:5] == "-":
            try:
                return dt.date.fromisoformat(value[:10])
            except ValueError:
                return None
        return _parse_date_any(value, self._date_order)

    def amount(self, row: int, column: str, text: str, currency: str) -> int | None:
        if not text.strip():
            self.problem(row, column, Text(gettext_noop("está vacía; el monto es obligatorio")))
            return None
        try:
            minor = parse_amount(text, currency, self._mark)
        except MoneyError as exc:
            self.problem(row, column, message_of(exc))
            return None
        if minor <= 0:
            self.problem(row, column, Text(gettext_noop("%(text)r debe ser mayor que cero"), text=text))
            return None
        return minor

    def currency(self, row: int, value: str) -> str | None:
        known = self._known.get(("currency", value))
        if known:
            return known
        if not value:
            return self.org.currency
        try:
            self._known[("currency", value)] = code = check_currency(value)
            return code
        except MoneyError as exc:
            self.problem(row, "currency", message_of(exc))
            return None

    def checked(self, row: int, column: str, fn, *args):
        try:
            return fn(*args)
        except ValueError as exc:
            self.problem(row, column, message_of(exc))
            return None

    def country(self, row: int, value: str) -> str | None:
        known = self._known.get(("country", value))
        if known:
            return known
        code = self.checked(row, "country", check_country, value) if value else self.org.country
        if code:
            self._known[("country", value)] = code
        return code

    def ref(self, row: int, column: str, value: str) -> str | None:
        if value and len(value) <= 64:
            return value
        if not value:
            self.problem(row, column, Text(gettext_noop("está vacía; la referencia es obligatoria")))
            return None
        if len(value) > 64:
            self.problem(row, column, Text(gettext_noop("%(start)r... tiene más de 64 caracteres"),
                                           start=value[:20]))
            return None
        return value

    def text(self, row: int, column: str, value: str, longest: int) -> str | None:
        if len(value) > longest:
            self.problem(row, column, Text(gettext_noop("%(start)r... tiene más de %(limit)s caracteres"),
                                           start=value[:20], limit=longest))
            return None
        return value

    def _check_customers(self, row: int, raw: dict) -> dict | None:
        ref = self.ref(row, "customer_ref", raw["customer_ref"])
        name = raw["name"]
        if not name:
            self.problem(row, "name", Text(gettext_noop("está vacía; el nombre del cliente es obligatorio")))
        country = self.country(row, raw.get("country", ""))
        rec = {"customer_ref": ref, "name": name[:200], "country": country}
        rec.update(self._contact(row, raw, country))
        rec["language"] = (self.checked(row, "language", check_language, raw["language"])
                           if raw.get("language") else "")
        rec["timezone"] = (self.checked(row, "timezone", check_timezone, raw["timezone"])
                           if raw.get("timezone") else "")
        rec["tax_id"] = (self.checked(row, "tax_id", check_tax_id, raw["tax_id"], country)
                         if raw.get("tax_id") and country else "")
        for column, longest in ADDRESS_FIELDS.items():
            rec[column] = self.text(row, column, raw.get(column, ""), longest)
        if rec["region"] and country and not rec["timezone"] and not region_known(country, rec["region"]):
            self.unplaced_regions += 1
        return rec if ref and name and country and None not in rec.values() else None

    def _contact(self, row: int, raw: dict, country: str | None) -> dict:
        # Invoice files repeat a customer's contact on each of its rows: check each distinct one once.
        key = (raw.get("email"), raw.get("phone"), raw.get("whatsapp"), country)
        cached = self._contacts.get(key)
        if cached is not None:
            return cached
        out = self._check_contact(row, raw, country)
        if None not in out.values():
            self._contacts[key] = out
        return out

    def _check_contact(self, row: int, raw: dict, country: str | None) -> dict:
        out = {}
        if raw.get("email"):
            out["email"] = self.checked(row, "email", check_email, raw["email"])
        for col in ("phone", "whatsapp"):
            if raw.get(col):
                out[col] = self.checked(row, col, check_phone, raw[col], country or self.org.country)
        return out

    def _check_invoices(self, row: int, raw: dict) -> dict | None:
        ref = self.ref(row, "invoice_ref", raw["invoice_ref"])
        customer = self.ref(row, "customer_ref", raw["customer_ref"])
        issue = self.date(row, "issue_date", raw["issue_date"])
        due = self.date(row, "due_date", raw["due_date"])
        currency = self.currency(row, raw.get("currency", ""))
        amount = self.amount(row, "amount", raw["amount"], currency) if currency else None
        country = self.country(row, raw.get("country", ""))
        contact = self._contact(row, raw, country)
        if issue and due and due < issue:
            self.problem(row, "due_date", Text(gettext_noop("%(due)s es anterior a la fecha de emisión "
                                                            "%(issue)s"), due=due.isoformat(),
                                               issue=issue.isoformat()))
            return None
        rec = {"invoice_ref": ref, "customer_ref": customer, "customer_name": raw.get("customer_name", "")[:200],
               "issue_date": issue, "due_date": due, "currency": currency, "amount": amount,
               "country": country, "row": row, **contact}
        return rec if None not in rec.values() else None

    def _check_payments(self, row: int, raw: dict) -> dict | None:
        ref = self.ref(row, "payment_ref", raw["payment_ref"])
        customer = self.ref(row, "customer_ref", raw["customer_ref"])
        day = self.date(row, "date", raw["date"])
        currency = self.currency(row, raw.get("currency", ""))
        amount = self.amount(row, "amount", raw["amount"], currency) if currency else None
        rec = {"payment_ref": ref, "customer_ref": customer, "invoice_ref": raw.get("invoice_ref", ""),
               "date": day, "currency": currency, "amount": amount, "method": raw.get("method", "")[:32],
               "row": row}
        return rec if None not in rec.values() else None


class _ColumnName:
    """A canonical column in a message: its own name in English (as the command line always said), the
    template's Spanish header in the other languages."""

    def __init__(self, canon: str):
        self.canon = canon

    def __str__(self) -> str:
        from django.utils.translation import get_language

        return self.canon if (get_language() or "").startswith("en") else _HEADER_LABEL.get(self.canon, self.canon)


def _parse_date_any(value: str, order: str) -> dt.date | None:
    m = _DMY.match(value)
    if not m:
        return None
    a, b, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
    day, month = (b, a) if order == "mdy" else (a, b)
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


_DATE_COLUMNS = frozenset({"issue_date", "due_date", "date"})


def _text(value, keep_date: bool = True):
    """A cell as text; XLSX date cells stay dates in date columns (elsewhere, "2026-01-05"), numbers
    become their plain digits."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        if keep_date:
            return value
        return (value.date() if isinstance(value, dt.datetime) else value).isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


# -- writing --------------------------------------------------------------------------------------

def _insert(model, fields: list[str], rows: list[tuple]) -> None:
    """INSERT many rows straight through the driver: far faster than saving model instances.

    SQLite gets one prepared statement run by ``executemany`` (a loop in C); PostgreSQL gets COPY.
    Values must already be what the column stores: ints, strings, dates, and datetimes made with
    ``_db_now()``.
    """
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    columns = [connection.ops.quote_name(model._meta.get_field(f).column) for f in fields]
    connection.ensure_connection()
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            with cur.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    if connection.vendor == "sqlite":
        marks = ", ".join("?" * len(fields))
        with _indexes_rebuilt(model._meta.db_table, len(rows)):
            connection.connection.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                                              rows)
        return
    with connection.cursor() as cur:  # any other backend: the portable path
        marks = ", ".join(["%s"] * len(fields))
        cur.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


class _DayText(dict):
    """date -> "YYYY-MM-DD", memoized: a file has a few hundred distinct dates and a million rows."""

    def __missing__(self, day: dt.date) -> str:
        self[day] = text = day.isoformat()
        return text


@contextmanager
def _indexes_rebuilt(table: str, rows: int):
    """For a big insert into SQLite, drop the table's secondary indexes and build them again after.

    Inserting a million rows one by one into four B-trees keyed in random order touches pages all
    over them (the write phase grew 22-fold for 10-fold more rows); building each index once from
    sorted data is linear. It all happens inside the import's transaction: a failure, including a
    uniqueness violation found while rebuilding a unique index, rolls everything back.
    """
    raw = connection.connection
    count = raw.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
    if rows < REBUILD_INDEXES_FROM or rows < count:
        yield
        return
    indexes = raw.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                          "AND sql IS NOT NULL", (table,)).fetchall()
    for name, _ in indexes:
        raw.execute(f'DROP INDEX "{name}"')
    yield
    for _, sql in indexes:
        raw.execute(sql)


def _db_now():
    """The current time as the database stores it (SQLite keeps naive UTC text)."""
    now = timezone.now()
    return connection.ops.adapt_datetimefield_value(now) if connection.vendor == "sqlite" else now


def _customer_ids(org: Organization) -> dict[str, int]:
    return dict(Customer.objects.for_org(org).values_list("ref", "pk"))


def _ensure_customers(org: Organization, wanted: dict[str, dict], result: ImportResult) -> dict[str, int]:
    """Create the customers named in an invoice file that do not exist yet, with their contact."""
    ids = _customer_ids(org)
    new = {ref: rec for ref, rec in wanted.items() if ref not in ids}
    if new:
        now = _db_now()
        rows = []
        for ref, rec in new.items():
            country = rec["country"]
            channel = "email" if rec.get("email") else "sms" if rec.get("phone") else "call"
            rows.append((org.pk, ref, rec.get("customer_name") or ref, "", country,
                         COUNTRY_LANGUAGE.get(country, "es"), "",
                         channel, "", now, now))
        _insert(Customer, ["organization", "ref", "name", "tax_id", "country", "language", "timezone",
                           "preferred_channel", "segment", "created_at", "updated_at"], rows)
        ids = _customer_ids(org)
        contacts = [(org.pk, ids[ref], rec.get("customer_name") or "", "debtor", rec.get("email", ""),
                     rec.get("phone", ""), "", True, True, True, True, True)
                    for ref, rec in new.items() if rec.get("email") or rec.get("phone")]
        _insert(Contact, ["organization", "customer", "name", "kind", "email", "phone", "whatsapp", "is_primary",
                          "consent_email", "consent_sms", "consent_whatsapp", "consent_call"], contacts)
        search.reindex(org, [ids[ref] for ref in new])
        result.customers_created = len(new)
    return ids


def _write_customers(org: Organization, records: list[dict], result: ImportResult, reader: _Reader) -> None:
    fields = ("name", "country", "tax_id", "language", "timezone", *ADDRESS_FIELDS)
    existing = {ref: (pk, rest) for ref, pk, *rest in Customer.objects.for_org(org).values_list("ref", "pk", *fields)}
    contacts = {cust: (pk, email, phone, whatsapp) for cust, pk, email, phone, whatsapp in (
        Contact.objects.for_org(org).filter(is_primary=True).order_by("-id")
        .values_list("customer_id", "pk", "email", "phone", "whatsapp"))}
    now = _db_now()
    new_rows, new_contacts, customer_updates, contact_updates, contact_inserts = [], {}, [], [], []
    touched: list[int] = []  # existing customers whose search keys change
    for rec in records:
        country = rec["country"]
        values = (rec["name"], country, rec["tax_id"], rec["language"] or COUNTRY_LANGUAGE.get(country, "es"),
                  rec["timezone"], *(rec[k] for k in ADDRESS_FIELDS))
        email, phone, whatsapp = (rec.get(k, "") for k in ("email", "phone", "whatsapp"))
        old = existing.get(rec["customer_ref"])
        if old is not None:
            # A blank address cell keeps the address Cobro already has (a file without those columns
            # does not erase them); a new value replaces it.
            kept = len(values) - len(ADDRESS_FIELDS)
            values = values[:kept] + tuple(new or was for new, was in zip(values[kept:], old[1][kept:], strict=True))
        if old is None:
            channel = "whatsapp" if whatsapp else "email" if email else "sms" if phone else "call"
            new_rows.append((org.pk, rec["customer_ref"], *values, channel, "", now, now))
            if email or phone or whatsapp:
                new_contacts[rec["customer_ref"]] = (rec["name"], email, phone, whatsapp)
            continue
        pk, old_values = old
        changed = tuple(old_values) != values
        if changed:
            customer_updates.append((*values, now, pk))
        contact = contacts.get(pk)
        contact_changed = False
        if contact is None:
            if email or phone or whatsapp:
                contact_inserts.append((org.pk, pk, rec["name"], "debtor", email, phone, whatsapp,
                                        True, True, True, True, True))
                contact_changed = True
        else:
            # A blank cell keeps what Cobro already knows; a new value replaces it.
            merged = tuple(new or old for new, old in zip((email, phone, whatsapp), contact[1:], strict=True))
            if merged != contact[1:]:
                contact_updates.append((*merged, contact[0]))
                contact_changed = True
        if changed or contact_changed:
            touched.append(pk)
            result.updated += 1
        else:
            result.unchanged += 1
    _insert(Customer, ["organization", "ref", *fields, "preferred_channel", "segment", "created_at", "updated_at"],
            new_rows)
    if new_contacts:
        ids = _customer_ids(org)
        contact_inserts += [(org.pk, ids[ref], name, "debtor", email, phone, whatsapp, True, True, True, True, True)
                            for ref, (name, email, phone, whatsapp) in new_contacts.items()]
    _insert(Contact, ["organization", "customer", "name", "kind", "email", "phone", "whatsapp", "is_primary",
                      "consent_email", "consent_sms", "consent_whatsapp", "consent_call"], contact_inserts)
    with connection.cursor() as cur:
        if customer_updates:
            cur.executemany(f"UPDATE {Customer._meta.db_table} SET name = %s, country = %s, tax_id = %s, "
                            "language = %s, timezone = %s, address = %s, city = %s, region = %s, "
                            "postal_code = %s, updated_at = %s WHERE id = %s", customer_updates)
        if contact_updates:
            cur.executemany(f"UPDATE {Contact._meta.db_table} SET email = %s, phone = %s, whatsapp = %s "
                            "WHERE id = %s", contact_updates)
    if new_rows or touched:
        ids = _customer_ids(org) if new_rows else {}
        search.reindex(org, touched + [ids[row[1]] for row in new_rows])
    result.created = len(new_rows)


def _write_invoices(org: Organization, records: list[dict], result: ImportResult, reader: _Reader) -> None:
    wanted = {}
    for rec in records:
        wanted.setdefault(rec["customer_ref"], rec)
    ids = _ensure_customers(org, wanted, result)
    existing = {ref: (pk, cust, issue, due, cur, amount, open_amount) for ref, pk, cust, issue, due, cur, amount,
                open_amount in Invoice.objects.for_org(org).values_list(
                    "ref", "pk", "customer_id", "issue_date", "due_date", "currency", "amount", "open_amount")}
    now = _db_now()
    day = _DayText()
    inserts, updates = [], []
    for rec in records:
        cust_id = ids[rec["customer_ref"]]
        old = existing.get(rec["invoice_ref"])
        if old is None:
            inserts.append((org.pk, cust_id, rec["invoice_ref"], day[rec["issue_date"]], day[rec["due_date"]],
                            rec["currency"], rec["amount"], rec["amount"], "open", now, now))
            continue
        pk, old_cust, issue, due, cur, amount, open_amount = old
        new = (cust_id, rec["issue_date"], rec["due_date"], rec["currency"], rec["amount"])
        if new == (old_cust, issue, due, cur, amount):
            result.unchanged += 1
            continue
        if old_cust != cust_id:
            reader.problem(rec["row"], "customer_ref", Text(gettext_noop(
                "la factura %(ref)s ya es de otro cliente; una importación no puede moverla"), ref=rec["invoice_ref"]))
            continue
        settled_part = amount - open_amount
        if (cur != rec["currency"] or rec["amount"] < settled_part) and settled_part:
            reader.problem(rec["row"], "amount", Text(gettext_noop(
                "la factura %(ref)s ya tiene pagos o notas de crédito; su moneda no puede cambiar ni su monto "
                "bajar de lo ya saldado"), ref=rec["invoice_ref"]))
            continue
        updates.append((pk, rec))
    if reader.problems:
        return
    _insert(Invoice, ["organization", "customer", "ref", "issue_date", "due_date", "currency", "amount",
                      "open_amount", "status", "created_at", "updated_at"], inserts)
    search.index_invoices(org, [row[2] for row in inserts])
    delta = Totals()  # the Dashboard's daily totals move with the rows, in this transaction
    issued: dict[tuple, list[int]] = {}  # (currency, issue, due) -> [amount, count]: a few thousand keys
    for rec in records:
        if rec["invoice_ref"] not in existing:
            group = issued.setdefault((rec["currency"], rec["issue_date"], rec["due_date"]), [0, 0])
            group[0] += rec["amount"]
            group[1] += 1
    for (currency, issue, due), (amount, count) in issued.items():
        delta.issued(currency, issue, due, amount, count=count)
    if updates:
        row_of = dict(updates)
        before = totals.invoice_facts(org, row_of)
        objs = list(Invoice.objects.for_org(org).filter(pk__in=[pk for pk, _ in updates]))
        for inv in objs:
            rec = row_of[inv.pk]
            settled_part = inv.amount - inv.open_amount
            inv.issue_date, inv.due_date, inv.currency = rec["issue_date"], rec["due_date"], rec["currency"]
            inv.amount, inv.open_amount = rec["amount"], rec["amount"] - settled_part
            inv.status = Invoice.Status.OPEN if inv.open_amount else inv.status
            old = before[inv.pk]
            delta.invoice(old, sign=-1)
            delta.invoice(dataclasses.replace(old, currency=inv.currency, issue_date=inv.issue_date,
                                              due_date=inv.due_date, amount=inv.amount,
                                              is_open=inv.status == Invoice.Status.OPEN))
        Invoice.objects.bulk_update(objs, ["issue_date", "due_date", "currency", "amount", "open_amount",
                                           "status", "updated_at"], batch_size=1000)
    totals.save(org, delta)
    result.created, result.updated = len(inserts), len(updates)


def _write_payments(org: Organization, records: list[dict], result: ImportResult, reader: _Reader) -> None:
    """Record payments and allocate them in date order, exactly as ``services.apply_payment`` would."""
    ids = _customer_ids(org)
    existing = {ref: (cust, day, amount, cur) for ref, cust, day, amount, cur in
                Payment.objects.for_org(org).values_list("ref", "customer_id", "date", "amount", "currency")}
    customers = {ids.get(r["customer_ref"]) for r in records} - {None}
    invoice_by_ref = {}
    open_by_customer: dict[tuple[int, str], dict[int, list]] = {}
    invoices = Invoice.objects.for_org(org)
    if len(customers) <= 2000:
        # A small file reads only its customers' invoices; a big one reads the organization's at once
        # (one list of ids per customer would exceed SQLite's limit on query parameters).
        invoices = invoices.filter(customer_id__in=customers)
    dates: dict[int, tuple[dt.date, dt.date]] = {}  # open invoice -> (issue date, due date)
    for pk, ref, cust, due, cur, open_amount, issued in (invoices.values_list(
            "pk", "ref", "customer_id", "due_date", "currency", "open_amount", "issue_date")):
        invoice_by_ref[ref] = (pk, cust, cur)
        if open_amount > 0:
            open_by_customer.setdefault((cust, cur), {})[pk] = [due, open_amount, ref]
            dates[pk] = (issued, due)
    fresh = []
    for rec in records:
        cust_id = ids.get(rec["customer_ref"])
        if cust_id is None:
            reader.problem(rec["row"], "customer_ref", Text(gettext_noop(
                "no hay un cliente %(ref)r (importe antes los clientes o sus facturas)"), ref=rec["customer_ref"]))
            continue
        if rec["invoice_ref"]:
            inv = invoice_by_ref.get(rec["invoice_ref"])
            if inv is None or inv[1] != cust_id:
                reader.problem(rec["row"], "invoice_ref", Text(gettext_noop(
                    "no hay una factura %(ref)r del cliente %(customer)r"), ref=rec["invoice_ref"],
                    customer=rec["customer_ref"]))
                continue
            if inv[2] != rec["currency"]:
                reader.problem(rec["row"], "currency", Text(gettext_noop(
                    "la factura %(ref)s está en %(invoice)s y el pago en %(payment)s"), ref=rec["invoice_ref"],
                    invoice=inv[2], payment=rec["currency"]))
                continue
        old = existing.get(rec["payment_ref"])
        if old is not None:
            if old != (cust_id, rec["date"], rec["amount"], rec["currency"]):
                reader.problem(rec["row"], "payment_ref", Text(gettext_noop(
                    "el pago %(ref)s ya existe con otros datos; una importación no cambia pagos registrados"),
                    ref=rec["payment_ref"]))
            else:
                result.unchanged += 1
            continue
        fresh.append((rec, cust_id))
    if reader.problems:
        return
    fresh.sort(key=lambda pair: (pair[0]["date"], pair[0]["row"]))
    now = _db_now()
    _insert(Payment, ["organization", "customer", "ref", "date", "currency", "amount", "method", "unallocated",
                      "created_at"],
            [(org.pk, cust, rec["payment_ref"], rec["date"], rec["currency"], rec["amount"], rec["method"],
              0, now) for rec, cust in fresh])
    new_refs = {r["payment_ref"] for r, _ in fresh}
    # All of the organization's payment ids in one read: a list of a million refs would exceed
    # SQLite's limit on query parameters.
    pay_ids = {ref: pk for ref, pk in Payment.objects.for_org(org).values_list("ref", "pk") if ref in new_refs}
    allocations, events, unallocated, touched = [], [], [], {}
    delta = Totals()
    for rec, cust in fresh:
        delta.payment(rec["currency"], rec["date"], rec["amount"])
        pool = open_by_customer.get((cust, rec["currency"]), {})
        items = [OpenItem(pk, due, amount, ref) for pk, (due, amount, ref) in pool.items()]
        explicit = invoice_by_ref[rec["invoice_ref"]][0] if rec["invoice_ref"] else None
        applied, rest = allocate(rec["amount"], items, explicit=explicit)
        pay_id = pay_ids[rec["payment_ref"]]
        for inv_id, part in applied:
            allocations.append((org.pk, pay_id, inv_id, part, rec["date"]))
            delta.movement(rec["currency"], *dates[inv_id], rec["date"], part)
            pool[inv_id][1] -= part
            touched[inv_id] = rec["date"]
            if pool[inv_id][1] == 0:
                del pool[inv_id]
        if rest:
            unallocated.append((rest, pay_id))
        events.append(TimelineEvent(
            organization=org, customer_id=cust, kind="payment.received", summary=f"Pago {rec['payment_ref']} recibido",
            at=dt.datetime.combine(rec["date"], dt.time(12), tzinfo=dt.UTC),
            data={"ref": rec["payment_ref"], "amount": rec["amount"], "currency": rec["currency"],
                  "method": rec["method"], "allocated": applied, "credit": rest, "source": "import"}))
    _insert(Allocation, ["organization", "payment", "invoice", "amount", "date"], allocations)
    if unallocated:
        with connection.cursor() as cur:
            cur.executemany(f"UPDATE {Payment._meta.db_table} SET unallocated = %s WHERE id = %s", unallocated)
    TimelineEvent.objects.bulk_create(events, batch_size=2000)
    settled = _settle_bulk(org, touched, delta)
    totals.save(org, delta)
    result.created = len(fresh)
    if settled:
        settled_ids = [pk for pk, _ in settled]
        customer_ids = sorted({c for _, c in settled})
        last = max(touched[pk] for pk in settled_ids)
        transaction.on_commit(lambda: signals.invoices_settled.send(
            sender=Invoice, organization=org, invoice_ids=settled_ids, customer_ids=customer_ids, on_date=last))
    pay_pks = list(pay_ids.values())
    transaction.on_commit(lambda: signals.payments_recorded.send(sender=Payment, organization=org,
                                                                 payment_ids=pay_pks))


def _settle_bulk(org: Organization, touched: dict[int, dt.date], delta: Totals) -> list[tuple[int, int]]:
    """Recompute the open amounts of the invoices a payment file touched, in a few set queries.

    An invoice closed is closed on its last movement's date (like ``services.settle``), which is
    this file's last payment to it unless a credit note is dated later; ``delta`` gets the change to
    the Dashboard's open-invoice counts.
    """
    if not touched:
        return []
    ids = list(touched)
    settled = []
    for start in range(0, len(ids), 5000):
        chunk = ids[start:start + 5000]
        paid = {pk: (s, last) for pk, s, last in Allocation.objects.filter(invoice_id__in=chunk).values("invoice_id")
                .annotate(s=Sum("amount"), last=Max("date")).values_list("invoice_id", "s", "last")}
        credited = {pk: (s, last) for pk, s, last in CreditNote.objects.filter(invoice_id__in=chunk)
                    .values("invoice_id").annotate(s=Sum("amount"), last=Max("date"))
                    .values_list("invoice_id", "s", "last")}
        rows = []
        for pk, amount, cust, cur, issued, due, was, was_closed_on in Invoice.objects.filter(pk__in=chunk).values_list(
                "pk", "amount", "customer_id", "currency", "issue_date", "due_date", "status", "closed_on"):
            (p, p_last), (c, c_last) = paid.get(pk, (0, None)), credited.get(pk, (0, None))
            open_amount = amount - p - c
            status = Invoice.Status.OPEN if open_amount else Invoice.Status.PAID
            closed_on = max(d for d in (touched[pk], p_last, c_last) if d) if open_amount == 0 else None
            delta.closing(cur, issued, due, was == Invoice.Status.OPEN, was_closed_on, sign=-1)
            delta.closing(cur, issued, due, status == Invoice.Status.OPEN, closed_on)
            rows.append((open_amount, status, closed_on, pk))
            if open_amount == 0:
                settled.append((pk, cust))
        with connection.cursor() as cur:
            cur.executemany(f"UPDATE {Invoice._meta.db_table} SET open_amount = %s, status = %s, closed_on = %s "
                            "WHERE id = %s", rows)
    return settled


def amount_text(minor: int, currency: str) -> str:
    """Minor units back to the canonical file form: "1234.56" (USD), "450000" (CLP)."""
    exp = exponent(currency)
    return str(Decimal(minor).scaleb(-exp)) if exp else str(minor)
