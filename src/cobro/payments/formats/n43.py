"""Norma 43 (AEB/CSB Cuaderno 43), the Spanish banks' account statement: fixed-width 80-column records.

No maintained Python library reads it, so it is written here from the AEB's "Información normalizada
de cuenta corriente" (Serie normas y procedimientos bancarios nº 43):

- ``11`` account header: bank(4) branch(4) account(10) from YYMMDD, to YYMMDD, D/H sign(1: 1 debit,
  2 credit), opening balance (14 digits, 2 decimals), currency (ISO numeric, 3), mode(1), name(26).
- ``22`` movement: free(4) origin branch(4) operation YYMMDD, value YYMMDD, common concept(2),
  own concept(3), D/H(1), amount(14, 2 decimals), document(10), reference 1(12), reference 2(16).
- ``23`` complementary concept (up to five per movement): code(2), two texts of 38.
- ``24`` equivalence in another currency (kept out of the text).
- ``33`` account totals: number and sum of debits and of credits, closing balance, currency.
- ``88`` end of file: nines(18), record count(6).

The totals of ``33`` are checked against the movements, so a truncated file is refused.
Common concept 17 is interest and charges (a fee); 98 is a cancellation or correction (a reversal).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from cobro.engine.text import Text, gettext_noop
from cobro.payments.formats import Entry, Statement, StatementError

_ISO_NUMERIC = {"978": "EUR", "840": "USD", "826": "GBP", "756": "CHF", "152": "CLP", "170": "COP",
                "484": "MXN", "986": "BRL", "032": "ARS", "604": "PEN", "392": "JPY"}


def parse_n43(data: bytes) -> Statement:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")  # Spanish banks still send ISO-8859-1
    result = Statement(format="n43")
    pending: dict | None = None
    counts = {"debits": 0, "credits": 0, "sum_debits": Decimal(0), "sum_credits": Decimal(0)}
    header_seen = ended = False
    header_count = 0
    records = 0
    currency = ""

    def flush():
        nonlocal pending
        if pending is not None:
            result.entries.append(Entry(**{k: v for k, v in pending.items() if k != "_texts"},
                                        text=" ".join(t for t in pending["_texts"] if t)))
            pending = None

    for n, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        rec = raw.rstrip("\r\n")
        if len(rec) < 80:
            rec = rec.ljust(80)
        elif len(rec) > 80:
            raise StatementError(n, Text(gettext_noop("un registro Norma 43 tiene 80 caracteres y este tiene %(count)s"), count=len(rec)))
        if ended:
            raise StatementError(n, Text(gettext_noop("hay registros después del registro de fin de archivo 88")))
        kind = rec[:2]
        records += 1
        if kind == "11":
            if header_seen:
                flush()
            header_seen = True
            header_count += 1
            result.account = f"{rec[2:6]}{rec[6:10]}{rec[10:20]}"
            if not result.account.isdigit():
                raise StatementError(n, Text(gettext_noop("la cuenta (columnas 3–20) debe ser de dígitos")))
            code = rec[47:50]
            currency = _ISO_NUMERIC.get(code, "")
            if not currency:
                raise StatementError(n, Text(gettext_noop("el código de moneda %(code)s (columnas 48–50) no es un número ISO 4217 conocido"), code=repr(code)))
            result.currency = currency
            result.opening = _amount(rec[33:47], n) * (-1 if rec[32] == "1" else 1)
            result.date = _date(rec[26:32], n)
        elif kind == "22":
            if not header_seen:
                raise StatementError(n, Text(gettext_noop("un movimiento (22) antes de la cabecera de cuenta (11)")))
            flush()
            sign = rec[27]
            if sign not in "12":
                raise StatementError(n, Text(gettext_noop("la marca de cargo/abono (columna 28) es %(value)s y debe ser 1 o 2"), value=repr(sign)))
            amount = _amount(rec[28:42], n)
            counts["credits" if sign == "2" else "debits"] += 1
            counts["sum_credits" if sign == "2" else "sum_debits"] += amount
            concept = rec[22:24]
            ref1, ref2 = rec[52:64].strip().lstrip("0"), rec[64:80].strip()
            pending = dict(booking_date=_date(rec[10:16], n), value_date=_date(rec[16:22], n),
                           amount=amount if sign == "2" else -amount, currency=currency,
                           reference=ref2 or ref1, bank_ref="", reversal=concept == "98",
                           fee=concept == "17", source_line=n, _texts=[ref2])
        elif kind == "23":
            if pending is None:
                raise StatementError(n, Text(gettext_noop("un concepto complementario (23) sin su movimiento (22)")))
            pending["_texts"].extend([rec[4:42].strip(), rec[42:80].strip()])
        elif kind == "24":
            if pending is None:
                raise StatementError(n, Text(gettext_noop("un registro de equivalencia (24) sin su movimiento (22)")))
        elif kind == "33":
            flush()
            expected = (int(_digits(rec[20:25], n)), _amount(rec[25:39], n), int(_digits(rec[39:44], n)),
                        _amount(rec[44:58], n))
            found = (counts["debits"], counts["sum_debits"], counts["credits"], counts["sum_credits"])
            if expected != found:
                raise StatementError(n, Text(gettext_noop("el registro de totales dice %(debits)s cargos por %(debit_total)s y %(credits)s abonos por %(credit_total)s; los movimientos suman %(found_debits)s por %(found_debit_total)s y %(found_credits)s por %(found_credit_total)s"), debits=expected[0], debit_total=expected[1], credits=expected[2], credit_total=expected[3], found_debits=found[0], found_debit_total=found[1], found_credits=found[2], found_credit_total=found[3]))
            result.closing = _amount(rec[59:73], n) * (-1 if rec[58] == "1" else 1)
            counts = {"debits": 0, "credits": 0, "sum_debits": Decimal(0), "sum_credits": Decimal(0)}
        elif kind == "88":
            ended = True
            declared = int(_digits(rec[20:26], n))
            # Banks differ on whether the count includes the 11/33 records: accept either reading.
            movements = records - 1 - 2 * sum(1 for _ in range(header_count))
            if declared not in (records - 1, records, movements):
                raise StatementError(n, Text(gettext_noop("el registro final cuenta %(declared)s registros y el archivo tiene %(found)s"), declared=declared, found=records - 1))
        else:
            raise StatementError(n, Text(gettext_noop("tipo de registro desconocido %(kind)s (Norma 43 tiene 11, 22, 23, 24, 33, 88)"), kind=repr(kind)))
    flush()
    if not header_seen:
        raise StatementError(1, Text(gettext_noop("no es un archivo Norma 43 (falta la cabecera de cuenta 11)")))
    if not ended:
        raise StatementError(records or 1, Text(gettext_noop("el archivo está cortado: falta el registro de fin de archivo 88")))
    return result


def _digits(text: str, line: int) -> str:
    if not text.isdigit():
        raise StatementError(line, Text(gettext_noop("%(value)s debería ser de dígitos"), value=repr(text)))
    return text


def _amount(text: str, line: int) -> Decimal:
    return Decimal(_digits(text, line)).scaleb(-2)


def _date(text: str, line: int) -> dt.date:
    try:
        return dt.date(2000 + int(_digits(text, line)[:2]), int(text[2:4]), int(text[4:6]))
    except ValueError:
        raise StatementError(line, Text(gettext_noop("%(value)s no es una fecha (AAMMDD)"), value=repr(text))) from None
