"""SWIFT MT940 (customer statement), read with the ``mt-940`` package.

The package does the tag grammar; this module turns its transactions into ``Entry`` values, finds
each ``:61:`` line's number in the file for errors and positions, and reads the structured ``:86:``
sub-fields many banks use (``?20``–``?29`` remittance, ``?32``/``?33`` name, ``?31`` account) when
they are there. Transaction type codes ``NCHG``/``NCOM`` are the bank's own charges.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import mt940

from cobro.engine.text import Text, gettext_noop
from cobro.payments.formats import Entry, Statement, StatementError

_FEE_TYPES = {"NCHG", "NCOM", "FCHG", "FCOM", "NINT"}
_SUBFIELD = re.compile(r"\?(\d\d)")


def parse_mt940(data: bytes) -> Statement:
    text = _decode(data).replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    positions = [n for n, ln in enumerate(lines, start=1) if ln.strip().startswith(":61:")]
    if ":20:" not in text:
        raise StatementError(1, Text(gettext_noop("no es un estado MT940 (falta la referencia :20:)")))
    if ":60F:" not in text and ":60M:" not in text:
        raise StatementError(1, Text(gettext_noop("el estado MT940 no tiene saldo inicial (:60F:)")))
    for n, ln in enumerate(lines, start=1):
        if ln.startswith(":61:") and not re.match(r"^:61:\d{6}(\d{4}|\s{4})?R?[CD][A-Z]?\d[\d,]*", ln):
            raise StatementError(n, Text(gettext_noop("la línea de movimiento :61: no es válida: %(value)s"), value=repr(ln[:40])))
    try:
        transactions = mt940.models.Transactions()
        transactions.parse(text)
    except Exception as exc:  # the package raises bare RuntimeError/ValueError for broken tags
        raise StatementError(1, Text(gettext_noop("no es un estado MT940 válido: %(error)s"), error=str(exc))) from None
    head = transactions.data
    account = str(head.get("account_identification") or "").strip()
    if not account:
        raise StatementError(1, Text(gettext_noop("el estado MT940 no dice la cuenta (:25:)")))
    closing = head.get("final_closing_balance")
    opening = head.get("final_opening_balance")
    currency = str(head.get("currency") or (opening.amount.currency if opening is not None else "") or "")
    result = Statement(format="mt940", account=account, currency=currency,
                       statement_id=str(head.get("transaction_reference") or ""),
                       date=_day(closing.date) if closing is not None else None,
                       opening=_signed(opening) if opening is not None else None,
                       closing=_signed(closing) if closing is not None else None)
    if len(transactions.transactions) != len(positions):
        raise StatementError(positions[0] if positions else 1,
                             Text(gettext_noop("%(lines)s líneas :61: pero solo %(read)s legibles"), lines=len(positions), read=len(transactions.transactions)))
    for tx, line in zip(transactions.transactions, positions, strict=True):
        d = tx.data
        amount = d["amount"].amount
        if not isinstance(amount, Decimal):
            amount = Decimal(str(amount))
        details = str(d.get("transaction_details") or "").replace("\n", "")
        name, account_no, remittance = _structured(details)
        status = str(d.get("status") or "")
        entry_date = d.get("entry_date") or d.get("date")
        result.entries.append(Entry(
            booking_date=_day(entry_date), value_date=_day(d.get("date")), amount=amount,
            currency=str(d["amount"].currency or currency), text=remittance or details,
            counterparty=name, counterparty_account=account_no,
            reference=_ref(d.get("customer_reference")), bank_ref=_ref(d.get("bank_reference")),
            reversal=status.startswith("R"), fee=str(d.get("id") or "") in _FEE_TYPES, source_line=line))
    if result.date is None and result.entries:
        result.date = max(e.booking_date for e in result.entries)
    return result


def _day(value) -> dt.date | None:
    # mt-940 returns its own Date subclass; the rest of Cobro compares plain dates.
    return dt.date(value.year, value.month, value.day) if value is not None else None


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _ref(value) -> str:
    value = str(value or "").strip()
    return "" if value.upper() in ("NONREF", "") else value


def _signed(balance) -> Decimal:
    return Decimal(str(balance.amount.amount))


def _structured(details: str) -> tuple[str, str, str]:
    """Name, account and remittance text from a structured :86: (``?20``..), or ("", "", "")."""
    if "?" not in details or not _SUBFIELD.search(details):
        return "", "", ""
    fields: dict[str, str] = {}
    parts = _SUBFIELD.split(details)
    for code, value in zip(parts[1::2], parts[2::2], strict=False):
        fields[code] = fields.get(code, "") + value
    remittance = "".join(fields.get(str(c), "") for c in range(20, 30)) + fields.get("60", "")
    name = (fields.get("32", "") + fields.get("33", "")).strip()
    return name, fields.get("31", "").strip(), remittance.strip()
