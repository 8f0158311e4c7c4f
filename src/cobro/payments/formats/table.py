"""Statements exported as CSV or XLSX from a bank's web site: columns found by their header.

The spreadsheet is read by the invoice importer's reader (``cobro.ledger.tables``: encoding,
delimiter, XLSX) and amounts by ``cobro.engine.money`` with the decimal mark the column itself shows.
Banks put a few title lines above the header (account, period): the header is the first of the
first 15 rows that names a date and an amount. A saved mapping (``{field: header}``, per bank account)
overrides the guess for the fields it names.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from cobro.engine.money import MoneyError, from_minor, guess_decimal_mark, parse_amount
from cobro.engine.text import Text, gettext_noop, message_of
from cobro.ledger.tables import TableError, normalize_header, read_table
from cobro.payments.formats import Entry, Statement, StatementError

#: Canonical field -> the headers Chilean, Colombian, Mexican and Spanish banks use (normalised).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "date": ("fecha", "fechaoperacion", "fechacontable", "fechamovimiento", "fechatransaccion", "date",
             "fechadeoperacion", "fechaop", "dia"),
    "value_date": ("fechavalor", "valuedate"),
    "text": ("descripcion", "glosa", "concepto", "detalle", "descripciondelmovimiento", "movimiento",
             "description", "observaciones", "glosadetalle", "leyenda"),
    "credit": ("abono", "abonos", "haber", "credito", "creditos", "deposito", "depositos", "ingreso",
               "ingresos", "credit"),
    "debit": ("cargo", "cargos", "debe", "debito", "debitos", "retiro", "retiros", "egreso", "egresos",
              "debit"),
    "amount": ("monto", "importe", "valor", "amount", "montomovimiento", "importeeur"),
    "reference": ("referencia", "ref", "nrooperacion", "numerooperacion", "noperacion", "documento",
                  "nrodocumento", "numerodocumento", "folio", "reference", "referencia1"),
    "tax_id": ("rut", "nit", "rfc", "cif", "nif", "rutordenante", "nitordenante", "rfcordenante",
               "identificacion", "taxid", "rutorigen"),
    "balance": ("saldo", "saldodisponible", "saldocontable", "balance"),
    "counterparty": ("ordenante", "nombreordenante", "remitente", "contraparte", "nombre", "titular",
                     "beneficiario", "counterparty"),
    "counterparty_account": ("cuentaorigen", "cuentaordenante", "cuentacontraparte", "iban", "clabe",
                             "cuenta"),
    "currency": ("moneda", "divisa", "currency"),
}
_LOOKUP = {syn: canon for canon, syns in SYNONYMS.items() for syn in syns}
_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})$")


def map_header(header: list[str], mapping: dict | None = None) -> dict[str, int]:
    """Canonical field -> column index, from a saved mapping first, then the synonyms."""
    norm = [normalize_header(h) for h in header]
    columns: dict[str, int] = {}
    for canon, wanted in (mapping or {}).items():
        if normalize_header(wanted) in norm:
            columns[canon] = norm.index(normalize_header(wanted))
    for idx, name in enumerate(norm):
        canon = _LOOKUP.get(name)
        if canon and canon not in columns and idx not in columns.values():
            columns[canon] = idx
    return columns


def parse_table(data: bytes, *, mapping: dict | None = None, currency: str = "") -> Statement:
    try:
        table = read_table(data)
    except TableError as exc:
        raise StatementError(1, exc.text) from None
    rows = [(1, table.header)] + table.rows
    found = None
    for pos, (row_no, cells) in enumerate(rows[:15]):
        cols = map_header([_cell(c) for c in cells], mapping)
        if "date" in cols and ("amount" in cols or "credit" in cols or "debit" in cols):
            found = (pos, row_no, cols)
            break
    if found is None:
        raise StatementError(1, Text(gettext_noop("no hay en las 15 primeras filas un encabezado con una columna de "
                                                  "fecha y una de monto (o de abono y cargo)")))
    pos, header_row, cols = found
    body = rows[pos + 1:]
    mark = None
    if table.source == "csv":
        samples = [_cell(cells[idx]) for _, cells in body[:2000]
                   for f in ("amount", "credit", "debit", "balance") if (idx := cols.get(f)) is not None
                   and idx < len(cells)]
        mark = guess_decimal_mark(samples)
    order = _date_order([cells[cols["date"]] for _, cells in body if cols["date"] < len(cells)])
    result = Statement(format="csv", currency=currency)
    for row_no, cells in body:
        get = lambda f, cells=cells: _cell(cells[cols[f]]) if f in cols and cols[f] < len(cells) else ""  # noqa: E731
        raw_date = cells[cols["date"]] if cols["date"] < len(cells) else ""
        if not get("date") and not get("amount") and not get("credit") and not get("debit"):
            continue
        text = get("text")
        norm = normalize_header(text[:60])  # the words it starts with are all that is looked at
        if norm.startswith(("saldoinicial", "saldofinal", "saldoanterior", "total")):
            continue  # summary lines some banks put between movements
        cur = (get("currency") or currency).upper()
        if not cur:
            raise StatementError(row_no, Text(gettext_noop("el archivo no dice la moneda: elija la cuenta "
                                                             "(--account) de esa moneda")))
        booking = _date(raw_date, order, row_no)
        try:
            if "amount" in cols and get("amount"):
                amount = parse_amount(get("amount"), cur, mark)
            else:
                credit = parse_amount(get("credit"), cur, mark) if get("credit") else 0
                debit = parse_amount(get("debit"), cur, mark) if get("debit") else 0
                if credit and debit:
                    raise StatementError(row_no, Text(gettext_noop("un abono y un cargo en la misma línea")))
                amount = credit - abs(debit)
        except MoneyError as exc:
            raise StatementError(row_no, message_of(exc)) from None
        if amount == 0:
            raise StatementError(row_no, Text(gettext_noop("el monto es cero o falta")))
        result.entries.append(Entry(
            booking_date=booking, amount=from_minor(amount, cur) if isinstance(amount, int) else Decimal(amount),
            currency=cur, text=text, counterparty=get("counterparty"),
            counterparty_account=get("counterparty_account"), counterparty_tax_id=get("tax_id"),
            reference=get("reference"), bank_ref="",
            value_date=_date(cells[cols["value_date"]], order, row_no) if get("value_date") else None,
            reversal=norm.startswith(("reversa", "anulacion", "devolucion", "extorno")),
            fee=norm.startswith(("comision", "cargocomision", "ivacomision", "impuesto",
                                                   "gmf", "4x1000", "itf")),
            source_line=row_no))
        if get("balance"):
            try:
                result.closing = from_minor(parse_amount(get("balance"), cur, mark), cur)
            except MoneyError as exc:
                raise StatementError(row_no, Text(gettext_noop("saldo: %(error)s"), error=message_of(exc))) from None
    if result.entries:
        result.date = max(e.booking_date for e in result.entries)
        result.currency = result.currency or result.entries[0].currency
    return result


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return str(value).strip()


def _date_order(values) -> str:
    for v in values:
        m = _DMY.match(_cell(v)) if isinstance(v, str) else None
        if m and int(m.group(1)) > 12:
            return "dmy"
        if m and int(m.group(2)) > 12:
            return "mdy"
    return "dmy"


def _date(value, order: str, row: int) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _cell(value)
    if len(text) >= 10 and text[4:5] in "-/":
        try:
            return dt.date(int(text[:4]), int(text[5:7]), int(text[8:10]))
        except ValueError:
            pass
    m = _DMY.match(text)
    if m:
        a, b, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        year += 2000 if year < 100 else 0
        day, month = (b, a) if order == "mdy" else (a, b)
        try:
            return dt.date(year, month, day)
        except ValueError:
            pass
    raise StatementError(row, Text(gettext_noop("%(text)r no es una fecha (use DD/MM/AAAA o AAAA-MM-DD)"), text=text)
                         if text else Text(gettext_noop("la fecha está vacía")))
