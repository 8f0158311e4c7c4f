"""OFX statements, 1.x (SGML) and 2.x (XML), read with ``ofxtools``.

``ofxtools`` parses the header and the aggregate and converts types (dates, Decimal amounts);
this module takes the bank statement's transactions. OFX has no line numbers in its model, so a
transaction's line is found from its FITID in the raw text.
"""

from __future__ import annotations

import io

from cobro.engine.text import Text, gettext_noop
from cobro.payments.formats import Entry, Statement, StatementError

_FEES = {"FEE", "SRVCHG"}


def parse_ofx(data: bytes) -> Statement:
    from ofxtools.Parser import OFXTree

    tree = OFXTree()
    try:
        tree.parse(io.BytesIO(data))
        ofx = tree.convert()
    except Exception as exc:  # ofxtools raises several of its own types (header, SGML, value errors)
        raise StatementError(_line_of(data, exc), Text(gettext_noop("no es un archivo OFX válido: %(error)s"), error=str(exc))) from None
    statements = list(getattr(ofx, "statements", []) or [])
    if not statements:
        raise StatementError(1, Text(gettext_noop("el archivo OFX no trae un estado bancario (STMTRS)")))
    if len(statements) > 1:
        raise StatementError(1, Text(gettext_noop("el archivo OFX trae más de un estado: impórtelos de a uno")))
    stmt = statements[0]
    raw = data.decode("latin-1")
    ledger = getattr(stmt, "ledgerbal", None)
    result = Statement(format="ofx", account=str(stmt.account.acctid), currency=str(stmt.curdef),
                       date=ledger.dtasof.date() if ledger is not None else None,
                       closing=ledger.balamt if ledger is not None else None)
    for tx in stmt.banktranlist or []:
        fitid = str(tx.fitid or "")
        kind = str(tx.trntype or "")
        text = " ".join(str(v) for v in (tx.name, tx.memo) if v)
        payee = getattr(tx, "payee", None)
        result.entries.append(Entry(
            booking_date=tx.dtposted.date(), value_date=tx.dtuser.date() if tx.dtuser else None,
            amount=tx.trnamt, currency=str(getattr(tx, "currency", None) and tx.currency.cursym or stmt.curdef),
            text=text, counterparty=str(tx.name or (payee.name if payee is not None else "") or ""),
            counterparty_account=str(tx.bankacctto.acctid) if getattr(tx, "bankacctto", None) else "",
            reference=str(tx.refnum or tx.checknum or ""), bank_ref=fitid,
            fee=kind in _FEES, source_line=_fitid_line(raw, fitid)))
    if result.date is None and result.entries:
        result.date = max(e.booking_date for e in result.entries)
    return result


def _fitid_line(raw: str, fitid: str) -> int:
    at = raw.find(f"<FITID>{fitid}") if fitid else -1
    return raw.count("\n", 0, at) + 1 if at >= 0 else 0


def _line_of(data: bytes, exc: Exception) -> int:
    # ofxtools names the offending element, not its line; point at the first line that mentions it.
    words = [w.strip("'\"<>()") for w in str(exc).split()]
    raw = data.decode("latin-1")
    for word in words:
        if word.isupper() and len(word) > 2:
            at = raw.find(f"<{word}>")
            if at >= 0:
                return raw.count("\n", 0, at) + 1
    return 1
