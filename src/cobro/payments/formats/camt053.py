"""ISO 20022 CAMT.053 (BankToCustomerStatement), versions 001.02 to 001.08.

Read with lxml with every door shut: no DTDs, no entities, no network (a statement is untrusted
input, and an XML entity can read files or call out). Elements are found by local name within the
document's own camt.053 namespace, so the versions' differences are handled where they are:
001.03 repeats the amount in each transaction, 001.07 moved the status to ``Sts/Cd`` and the parties
to ``Dbtr/Pty``. When ISO 20022's schema for the version is installed (``formats.iso20022``) the
document must also be valid against it.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from lxml import etree

from cobro.engine.text import Text, gettext_noop
from cobro.payments.formats import Entry, Statement, StatementError, iso20022

_NS = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.(0[2-8])$")
# Bank transaction codes that are the bank's own charges (ISO external code list: CHRG, COMM, fees).
_FEE_SUBFAMILIES = {"CHRG", "COMM", "COME", "COMI", "FEES", "INTR", "TAXE"}


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_comments=True)


def parse_camt053(data: bytes) -> Statement:
    if b"<!DOCTYPE" in data[:2048] or b"<!ENTITY" in data:
        raise StatementError(1, Text(gettext_noop("el XML declara un DOCTYPE o entidades, algo que un archivo CAMT.053 nunca tiene")))
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise StatementError(exc.lineno or 1, Text(gettext_noop("el XML está mal formado: %(error)s"), error=exc.msg)) from None
    ns = etree.QName(root).namespace or ""
    match = _NS.match(ns)
    if not match:
        raise StatementError(root.sourceline or 1, Text(gettext_noop("no es un documento CAMT.053 001.02–001.08 (espacio de nombres %(namespace)s)"), namespace=repr(ns)))
    q = lambda path: "/".join(f"c:{p}" for p in path.split("/"))  # noqa: E731
    nsmap = {"c": ns}

    def find(el, path):
        return el.find(q(path), nsmap)

    def text(el, *paths) -> str:
        for path in paths:
            found = find(el, path) if el is not None else None
            if found is not None and (found.text or "").strip():
                return found.text.strip()
        return ""

    stmts = root.findall(q("BkToCstmrStmt/Stmt"), nsmap)
    if not stmts:
        raise StatementError(root.sourceline or 1, Text(gettext_noop("falta el elemento BkToCstmrStmt/Stmt")))
    result = Statement(format="camt053")
    for stmt in stmts:
        acct = find(stmt, "Acct")
        account = text(acct, "Id/IBAN", "Id/Othr/Id")
        if not account:
            raise StatementError(stmt.sourceline, Text(gettext_noop("Stmt no tiene Acct/Id (IBAN u Othr/Id)")))
        if result.account and account != result.account:
            raise StatementError(stmt.sourceline, Text(gettext_noop("el archivo trae estados de más de una cuenta")))
        result.account = account
        result.currency = text(acct, "Ccy") or result.currency
        result.statement_id = text(stmt, "Id")
        for bal in stmt.findall(q("Bal"), nsmap):
            code = text(bal, "Tp/CdOrPrtry/Cd")
            amount = _amount(find(bal, "Amt"), bal.sourceline)
            if text(bal, "CdtDbtInd") == "DBIT":
                amount = -amount
            day = _date(text(bal, "Dt/Dt", "Dt/DtTm"), bal.sourceline) if text(bal, "Dt/Dt", "Dt/DtTm") else None
            if code in ("OPBD", "PRCD") and result.opening is None:
                result.opening = amount
            elif code in ("CLBD",):
                result.closing, result.date = amount, day or result.date
        for ntry in stmt.findall(q("Ntry"), nsmap):
            result.entries.append(_entry(ntry, find, text))
    if result.date is None and result.entries:
        result.date = max(e.booking_date for e in result.entries)
    # After the reader's own checks (their messages say more than a schema's), the standard's schema.
    result.schema_checked = iso20022.validate(root, match.group(1))
    return result


def _entry(ntry, find, text) -> Entry:
    line = ntry.sourceline or 1
    amt = find(ntry, "Amt")
    if amt is None:
        raise StatementError(line, Text(gettext_noop("Ntry no tiene Amt")))
    amount = _amount(amt, line)
    currency = (amt.get("Ccy") or "").strip().upper()
    if not currency:
        raise StatementError(amt.sourceline or line, Text(gettext_noop("Amt no tiene el atributo Ccy")))
    indicator = text(ntry, "CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        raise StatementError(line, Text(gettext_noop("CdtDbtInd es %(value)s y debe ser CRDT o DBIT"), value=repr(indicator)))
    status = text(ntry, "Sts/Cd", "Sts")
    booked = text(ntry, "BookgDt/Dt", "BookgDt/DtTm", "ValDt/Dt")
    if not booked:
        raise StatementError(line, Text(gettext_noop("Ntry no tiene BookgDt")))
    tx = find(ntry, "NtryDtls/TxDtls")
    # 001.02–001.06: RltdPties/Dbtr/Nm; 001.07 on: RltdPties/Dbtr/Pty/Nm.
    payer = "Dbtr" if indicator == "CRDT" else "Cdtr"
    counterparty = text(tx, f"RltdPties/{payer}/Nm", f"RltdPties/{payer}/Pty/Nm") if tx is not None else ""
    tax_id = text(tx, f"RltdPties/{payer}/Id/OrgId/Othr/Id", f"RltdPties/{payer}/Pty/Id/OrgId/Othr/Id",
                  f"RltdPties/{payer}/Id/PrvtId/Othr/Id", f"RltdPties/{payer}/Pty/Id/PrvtId/Othr/Id") if tx is not None else ""
    cp_account = text(tx, f"RltdPties/{payer}Acct/Id/IBAN", f"RltdPties/{payer}Acct/Id/Othr/Id") if tx is not None else ""
    remittance = []
    if tx is not None:
        remittance = [el.text.strip() for el in tx.findall("c:RmtInf/c:Ustrd", {"c": etree.QName(ntry).namespace})
                      if el.text and el.text.strip()]
    reference = text(tx, "RmtInf/Strd/CdtrRefInf/Ref", "Refs/EndToEndId") if tx is not None else ""
    if reference == "NOTPROVIDED":
        reference = ""
    words = remittance + [text(ntry, "AddtlNtryInf")]
    subfamily = text(ntry, "BkTxCd/Domn/Fmly/SubFmlyCd")
    return Entry(
        booking_date=_date(booked, line), value_date=_date(text(ntry, "ValDt/Dt"), line) if text(ntry, "ValDt/Dt") else None,
        amount=amount if indicator == "CRDT" else -amount, currency=currency,
        text=" ".join(w for w in words if w), counterparty=counterparty, counterparty_account=cp_account,
        counterparty_tax_id=tax_id, reference=reference,
        bank_ref=text(ntry, "AcctSvcrRef", "NtryRef") or (text(tx, "Refs/AcctSvcrRef") if tx is not None else ""),
        reversal=text(ntry, "RvslInd").lower() == "true", booked=status not in ("PDNG", "INFO", "FUTR"),
        fee=subfamily in _FEE_SUBFAMILIES, source_line=line)


def _amount(el, line: int) -> Decimal:
    if el is None or not (el.text or "").strip():
        raise StatementError(line, Text(gettext_noop("falta un monto (Amt)")))
    try:
        value = Decimal(el.text.strip())
    except InvalidOperation:
        raise StatementError(el.sourceline or line, Text(gettext_noop("%(value)s no es un monto"), value=repr(el.text.strip()))) from None
    if value < 0 or not value.is_finite():
        raise StatementError(el.sourceline or line, Text(gettext_noop("%(value)s: los montos CAMT son positivos, el signo va en CdtDbtInd"), value=repr(el.text.strip())))
    return value


def _date(value: str, line: int) -> dt.date:
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        raise StatementError(line, Text(gettext_noop("%(value)s no es una fecha (AAAA-MM-DD)"), value=repr(value))) from None
