"""Bank statements in the formats banks give, read into one shape.

Every reader takes the file's bytes and returns a ``Statement`` of ``Entry`` values in file order, or
raises ``StatementError`` naming the line of the file that is wrong. Readers are pure (no database):
what a line *means* for the ledger is decided later by ``cobro.payments.matching``.

Amounts stay ``Decimal`` in major units here, exactly as written in the file; they become integer
minor units (``cobro.engine.money.to_minor``) once the currency is known to be valid.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from cobro.engine.text import Text, gettext_noop

FORMATS = ("camt053", "mt940", "ofx", "n43", "csv")


class StatementError(ValueError):
    """The file cannot be read as a statement; ``line`` is the line of the file (1-based) at fault."""

    def __init__(self, line: int, message: str | Text):
        super().__init__(f"line {line}: {message}")  # English: the command line's and the logs' words
        self.line, self.message = line, message

    def localized(self) -> str:
        """``line N: message`` in the active language ("línea N: ..." in Spanish)."""
        return Text(gettext_noop("línea %(line)s: %(message)s"), line=self.line,
                    message=self.message if isinstance(self.message, Text) else str(self.message)).localized()


@dataclass(frozen=True)
class Entry:
    """One movement of the account, as the bank wrote it.

    ``amount`` is signed: positive is money in (a credit to our account), negative is money out.
    ``bank_ref`` is the bank's own reference of the entry when the format has one (CAMT's
    AcctSvcrRef, MT940's bank reference, OFX's FITID); without it a line is identified by a hash
    (see ``cobro.payments.services.line_key``).
    """

    booking_date: dt.date
    amount: Decimal
    currency: str
    text: str = ""
    value_date: dt.date | None = None
    counterparty: str = ""
    counterparty_account: str = ""
    counterparty_tax_id: str = ""
    reference: str = ""  # the payer's reference (end-to-end id, structured remittance)
    bank_ref: str = ""
    reversal: bool = False
    fee: bool = False
    booked: bool = True  # False for CAMT's pending or information-only entries
    source_line: int = 0  # line of the file where the entry starts

    @property
    def is_credit(self) -> bool:
        return self.amount > 0


@dataclass
class Statement:
    format: str
    account: str = ""
    currency: str = ""
    statement_id: str = ""
    date: dt.date | None = None  # the day the statement covers up to (closing balance date)
    opening: Decimal | None = None
    closing: Decimal | None = None
    entries: list[Entry] = field(default_factory=list)
    schema_checked: bool = False  # CAMT.053: valid against ISO 20022's schema (installed, see iso20022)


def detect(data: bytes) -> str:
    """Which format ``data`` is in, from its first bytes."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[:4] == b"PK\x03\x04":
        return "csv"  # XLSX: the spreadsheet reader handles both
    low = head.lower()
    if b"ofxheader" in low or b"<ofx>" in low or b"<?ofx" in low:
        return "ofx"
    if head.startswith(b"<") and b"camt.053" in low:
        return "camt053"
    if head.startswith(b"<"):
        return "camt053"
    text = head.decode("latin-1")
    if ":20:" in text and (":60f:" in text.lower() or ":61:" in text):
        return "mt940"
    first = text.splitlines()[0] if text.splitlines() else ""
    if first.startswith("11") and len(first.rstrip("\r\n")) in (80, 81) and first[:20].replace(" ", "").isdigit():
        return "n43"
    if text.startswith("{1:"):
        return "mt940"
    return "csv"


def parse(data: bytes, fmt: str = "auto", *, mapping: dict | None = None, currency: str = "") -> Statement:
    """Read ``data`` as a statement in ``fmt`` ("auto" detects it)."""
    if not data or not data.strip():
        raise StatementError(1, Text(gettext_noop("el archivo está vacío")))
    fmt = detect(data) if fmt in ("", "auto") else fmt
    if fmt == "camt053":
        from cobro.payments.formats.camt053 import parse_camt053 as reader
    elif fmt == "mt940":
        from cobro.payments.formats.mt940 import parse_mt940 as reader
    elif fmt == "ofx":
        from cobro.payments.formats.ofx import parse_ofx as reader
    elif fmt == "n43":
        from cobro.payments.formats.n43 import parse_n43 as reader
    elif fmt == "csv":
        from cobro.payments.formats.table import parse_table

        return parse_table(data, mapping=mapping, currency=currency)
    else:
        raise StatementError(1, Text(gettext_noop("formato desconocido %(fmt)r (use uno de: auto, %(formats)s)"),
                                     fmt=fmt, formats=", ".join(FORMATS)))
    return reader(data)
