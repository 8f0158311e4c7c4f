"""Generated bank statements: writers for every format Cobro reads, and payers who type like people.

Used by the demo (a month of statements) and by ``benchmarks/bench_statements.py`` (labelled lines to
measure precision and recall). Pure: no Django, no clock; a seeded ``random.Random`` decides all.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class SynthLine:
    date: dt.date
    amount: Decimal  # signed major units
    currency: str
    text: str
    counterparty: str = ""
    tax_id: str = ""
    bank_ref: str = ""
    fee: bool = False
    # The truth, for the benchmark: who paid and for what (None: nobody's payment).
    customer_id: int | None = None
    invoice_ids: tuple[int, ...] = ()
    matchable: bool = False  # the line carries what a careful person needs to match it


def ascii_upper(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).upper()


def _plain_name(name: str) -> str:
    return re.sub(r"\s+", " ", ascii_upper(name).replace(".", "").replace(",", "")).strip()


def number_of(ref: str) -> str:
    digits = "".join(re.findall(r"\d+", ref))
    return digits.lstrip("0") or digits


def typed_ref(rng: random.Random, ref: str) -> str:
    """An invoice number as a payer types it: F-1001, FACT1001, fac 1001, N°1001, 0001001..."""
    n = number_of(ref)
    return rng.choice([ref, f"FACT {n}", f"FACT{n}", f"fac {n}", f"N°{n}", f"F-{n}", f"FACTURA {n}",
                       f"FAC.{n}", f"F {n.zfill(7)}", f"Nro {n}", ref.lower()])


def typed_refs(rng: random.Random, refs: list[str]) -> str:
    if len(refs) == 1:
        return typed_ref(rng, refs[0])
    nums = [number_of(r) for r in refs]
    return rng.choice([f"FACTS {' '.join(nums)}", f"FACTURAS {', '.join(nums[:-1])} Y {nums[-1]}",
                       " ".join(typed_ref(rng, r) for r in refs), f"FACT {'/'.join(nums)}"])


#: How each country's banks write an incoming transfer (the {who}/{ref}/{tax} parts are optional).
STYLES = {
    "CL": ["TRANSF DE {who} {ref}", "TEF {tax} {who}", "PAGO {ref} {who}", "TRASPASO DE: {who} {ref}",
           "TRANSFERENCIA RECIBIDA {tax} {ref}", "{ref} {who}", "DEP TRANSF {who}",
           "TEF {tax}", "TRANSF DE RUT {tax}", "PAGO {ref}", "{ref}", "TEF {tax} {ref}"],
    "CO": ["ABONO TRANSF {who} {ref}", "PSE {who} {ref}", "PAGO NIT {tax} {ref}", "CONSIGNACION {who} {ref}",
           "TRANSF ACH {who} NIT {tax}", "{ref}",
           "PAGO NIT {tax}", "ABONO {ref}", "ACH NIT {tax} {ref}"],
    "MX": ["SPEI RECIBIDO {who} REF {ref}", "PAGO {ref} RFC {tax}", "SPEI {who} {ref}", "DEPOSITO {who} {ref}",
           "TRANSF {tax} {ref}",
           "SPEI RFC {tax}", "PAGO {ref}"],
    "ES": ["TRANSFERENCIA DE {who}, CONCEPTO {ref}", "ABONO TRANSF. SEPA {who} {ref}", "TRANSF {who} {tax}",
           "INGRESO {ref} {who}", "TRANSFERENCIA {ref}",
           "TRANSF NIF {tax}", "TRANSFERENCIA {tax} {ref}"],
    "US": ["ACH CREDIT {who} {ref}", "WIRE IN {who} INV {ref}", "PAYMENT {ref}"],
}
NOISE = {"CL": ["DEPOSITO EN EFECTIVO", "DEP CHEQUE OTRO BANCO", "ABONO INTERESES", "TRASPASO FONDOS PROPIOS"],
         "CO": ["CONSIGNACION EFECTIVO", "ABONO INTERESES", "TRASLADO ENTRE CUENTAS"],
         "MX": ["DEPOSITO EFECTIVO", "SPEI RECIBIDO", "INTERESES GANADOS"],
         "ES": ["INGRESO EN EFECTIVO", "ABONO INTERESES", "TRASPASO"],
         "US": ["DEPOSIT", "INTEREST"]}
DEBITS = {"CL": ["PAGO PROVEEDOR", "COMISION MANTENCION", "PAGO IMPUESTOS F29", "CARGO SEGURO"],
          "CO": ["GMF 4X1000", "PAGO NOMINA", "COMISION MANEJO CUENTA"],
          "MX": ["COMISION SPEI", "PAGO PROVEEDOR", "IVA COMISION"],
          "ES": ["COMISION MANTENIMIENTO", "RECIBO LUZ", "PAGO NOMINA"],
          "US": ["SERVICE FEE", "ACH DEBIT"]}


def payer_text(rng: random.Random, country: str, who: str = "", ref: str = "", tax: str = "") -> str:
    """A line's text in ``country``'s banking style carrying exactly the parts given."""
    given = {k for k, v in (("who", who), ("ref", ref), ("tax", tax)) if v}
    styles = STYLES.get(country, STYLES["CL"])
    exact = [st for st in styles if set(re.findall(r"{(\w+)}", st)) == given]
    if exact:
        text = rng.choice(exact).format(who=who, ref=ref, tax=tax)
    else:
        text = " ".join(v for v in (who, ref, tax) if v)
    return re.sub(r"\s+", " ", text).strip()


def messy_name(rng: random.Random, name: str) -> str:
    """How a bank shows a payer's name: upper case, no accents or dots, sometimes cut at 20-25 chars."""
    plain = _plain_name(name)
    if rng.random() < 0.3:
        plain = plain[:rng.randrange(20, 26)].rstrip()
    return plain


def messy_tax(rng: random.Random, tax_id: str) -> str:
    compact = re.sub(r"[^0-9A-Za-z]", "", tax_id)
    return rng.choice([tax_id, compact, tax_id.replace(".", "")])


# -- writers ----------------------------------------------------------------------------------------

def _money(amount: Decimal, decimals: int, mark: str = ",", group: str = ".") -> str:
    q = abs(amount).quantize(Decimal(1).scaleb(-decimals)) if decimals else abs(amount).quantize(Decimal(1))
    whole, _, frac = f"{q:f}".partition(".")
    grouped = f"{int(whole):,}".replace(",", group)
    return grouped + (mark + frac if decimals else "")


def write_csv(lines: list[SynthLine], account: str, decimals: int) -> bytes:
    """A Chilean-style "cartola": title rows, ``;``, Cargos/Abonos, ``.`` for thousands."""
    out = ["Cartola de Cuenta Corriente;;;;;", f"Cuenta;{account};;;;",
           "Fecha;Descripción;N° Operación;Cargos;Abonos;RUT Origen"]
    for n, ln in enumerate(lines, start=1):
        amount = _money(ln.amount, decimals)
        cargo, abono = (amount, "") if ln.amount < 0 else ("", amount)
        out.append(f"{ln.date:%d/%m/%Y};{ln.text.replace(';', ' ')};{ln.bank_ref or n};{cargo};{abono};{ln.tax_id}")
    return ("\n".join(out) + "\n").encode("utf-8")


def write_camt053(lines: list[SynthLine], account: str, currency: str, version: str = "08") -> bytes:
    from xml.sax.saxutils import escape

    party = (lambda nm: f"<Pty><Nm>{escape(nm)}</Nm></Pty>") if version >= "07" else (lambda nm: f"<Nm>{escape(nm)}</Nm>")
    status = "<Sts><Cd>BOOK</Cd></Sts>" if version >= "07" else "<Sts>BOOK</Sts>"  # a code element from 001.07
    day = max((ln.date for ln in lines), default=dt.date(2026, 1, 1))
    entries = []
    for n, ln in enumerate(lines, start=1):
        ind = "CRDT" if ln.amount > 0 else "DBIT"
        # BkTxCd is mandatory in every version: the bank's charge, or a transfer received or sent.
        fee = ("<BkTxCd><Domn><Cd>ACMT</Cd><Fmly><Cd>MDOP</Cd><SubFmlyCd>CHRG</SubFmlyCd></Fmly></Domn></BkTxCd>"
               if ln.fee else f"<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>{'RCDT' if ln.amount > 0 else 'ICDT'}</Cd>"
                              "<SubFmlyCd>DMCT</SubFmlyCd></Fmly></Domn></BkTxCd>")
        # From 001.03 a transaction repeats its amount and direction.
        tx_amount = f"<Amt Ccy=\"{ln.currency}\">{abs(ln.amount)}</Amt><CdtDbtInd>{ind}</CdtDbtInd>" if version >= "03" else ""
        rltd = f"<RltdPties><Dbtr>{party(ln.counterparty)}</Dbtr></RltdPties>" if ln.counterparty else ""
        entries.append(
            f"<Ntry><Amt Ccy=\"{ln.currency}\">{abs(ln.amount)}</Amt><CdtDbtInd>{ind}</CdtDbtInd>{status}"
            f"<BookgDt><Dt>{ln.date.isoformat()}</Dt></BookgDt><AcctSvcrRef>{escape(ln.bank_ref or str(n))}</AcctSvcrRef>{fee}"
            f"<NtryDtls><TxDtls>{tx_amount}{rltd}<RmtInf><Ustrd>{escape(ln.text)}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>")
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}">'
            f"<BkToCstmrStmt><GrpHdr><MsgId>GEN-{day:%Y%m%d}</MsgId><CreDtTm>{day.isoformat()}T06:00:00</CreDtTm></GrpHdr>"
            f"<Stmt><Id>GEN-{day:%Y%m%d}</Id><CreDtTm>{day.isoformat()}T06:00:00</CreDtTm><Acct><Id><Othr><Id>{escape(account)}</Id></Othr></Id><Ccy>{currency}</Ccy></Acct>"
            f"<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"{currency}\">0</Amt><CdtDbtInd>CRDT</CdtDbtInd>"
            f"<Dt><Dt>{day.isoformat()}</Dt></Dt></Bal>\n" + "\n".join(entries) +
            "</Stmt></BkToCstmrStmt></Document>\n").encode("utf-8")


def write_mt940(lines: list[SynthLine], account: str, currency: str) -> bytes:
    day = max((ln.date for ln in lines), default=dt.date(2026, 1, 1))
    out = [":20:GEN" + day.strftime("%Y%m%d"), f":25:{account}", ":28C:1/1", f":60F:C{day:%y%m%d}{currency}0,"]
    for n, ln in enumerate(lines, start=1):
        mark = "C" if ln.amount > 0 else "D"
        amount = f"{abs(ln.amount):f}".replace(".", ",")
        if "," not in amount:
            amount += ","
        kind = "NCHG" if ln.fee else "NTRF"
        out.append(f":61:{ln.date:%y%m%d}{ln.date:%m%d}{mark}{amount}{kind}NONREF//{ln.bank_ref or n}")
        details = ln.text if not ln.counterparty else f"?20{ln.text[:27]}?21{ln.text[27:54]}?32{ln.counterparty[:27]}"
        out.append(f":86:{details}")
    out += [f":62F:C{day:%y%m%d}{currency}0,", "-"]
    return ("\r\n".join(out) + "\r\n").encode("latin-1", errors="replace")


def write_ofx(lines: list[SynthLine], account: str, currency: str) -> bytes:
    day = max((ln.date for ln in lines), default=dt.date(2026, 1, 1))
    head = ("OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:USASCII\nCHARSET:1252\n"
            "COMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n")
    body = [f"<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS><DTSERVER>{day:%Y%m%d}"
            "<LANGUAGE>SPA</SONRS></SIGNONMSGSRSV1><BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO"
            f"</STATUS><STMTRS><CURDEF>{currency}<BANKACCTFROM><BANKID>001<ACCTID>{account}<ACCTTYPE>CHECKING"
            f"</BANKACCTFROM><BANKTRANLIST><DTSTART>{day:%Y%m%d}<DTEND>{day:%Y%m%d}"]
    for n, ln in enumerate(lines, start=1):
        kind = "SRVCHG" if ln.fee else ("CREDIT" if ln.amount > 0 else "DEBIT")
        name = (ln.counterparty or ln.text)[:32].replace("<", " ").replace("&", "Y")
        memo = ln.text.replace("<", " ").replace("&", "Y")
        body.append(f"<STMTTRN><TRNTYPE>{kind}<DTPOSTED>{ln.date:%Y%m%d}<TRNAMT>{ln.amount:f}"
                    f"<FITID>{ln.bank_ref or n}<NAME>{name}<MEMO>{memo}</STMTTRN>")
    body.append(f"</BANKTRANLIST><LEDGERBAL><BALAMT>0<DTASOF>{day:%Y%m%d}</LEDGERBAL></STMTRS></STMTTRNRS>"
                "</BANKMSGSRSV1></OFX>")
    return (head + "\n".join(body) + "\n").encode("cp1252", errors="replace")


_N43_CURRENCY = {"EUR": "978", "USD": "840", "CLP": "152", "COP": "170", "MXN": "484"}


def write_n43(lines: list[SynthLine], account: str, currency: str) -> bytes:
    """Norma 43 records 11/22/23/33/88, 80 columns each (see ``formats/n43.py`` for the layout)."""
    digits = re.sub(r"\D", "", account).rjust(18, "0")[-18:]
    bank, branch, number = digits[:4], digits[4:8], digits[8:]
    first = min((ln.date for ln in lines), default=dt.date(2026, 1, 1))
    last = max((ln.date for ln in lines), default=first)
    cur = _N43_CURRENCY[currency]
    cents = lambda a: f"{int(abs(a) * 100):014d}"  # noqa: E731
    recs = [f"11{bank}{branch}{number}{first:%y%m%d}{last:%y%m%d}2{0:014d}{cur}3{'COBRO DEMO'.ljust(26)}   "]
    debits = credits = 0
    sum_d = sum_c = Decimal(0)
    for ln in lines:
        sign = "2" if ln.amount > 0 else "1"
        concept = "17" if ln.fee else "04" if ln.amount > 0 else "99"
        if ln.amount > 0:
            credits, sum_c = credits + 1, sum_c + ln.amount
        else:
            debits, sum_d = debits + 1, sum_d - ln.amount
        text = ascii_upper(ln.text)
        recs.append(f"22    {branch}{ln.date:%y%m%d}{ln.date:%y%m%d}{concept}000{sign}{cents(ln.amount)}"
                    f"{0:010d}{0:012d}{(ln.bank_ref or '')[:16].ljust(16)}")
        recs.append(f"2301{text[:38].ljust(38)}{text[38:76].ljust(38)}")
    closing = sum_c - sum_d
    recs.append(f"33{bank}{branch}{number}{debits:05d}{cents(sum_d)}{credits:05d}{cents(sum_c)}"
                f"{'2' if closing >= 0 else '1'}{cents(closing)}{cur}    ")
    recs.append(f"88{'9' * 18}{len(recs):06d}{' ' * 54}")
    assert all(len(r) == 80 for r in recs), [len(r) for r in recs]
    return ("".join(r + "\r\n" for r in recs)).encode("latin-1", errors="replace")


def write(fmt: str, lines: list[SynthLine], account: str, currency: str, decimals: int) -> bytes:
    if fmt == "csv":
        return write_csv(lines, account, decimals)
    if fmt == "camt053":
        return write_camt053(lines, account, currency)
    if fmt == "mt940":
        return write_mt940(lines, account, currency)
    if fmt == "ofx":
        return write_ofx(lines, account, currency)
    if fmt == "n43":
        return write_n43(lines, account, currency)
    raise ValueError(fmt)


# -- a day of payments, with the truth ----------------------------------------------------------------

@dataclass(frozen=True)
class BookCustomer:
    id: int
    name: str
    tax_id: str
    country: str


@dataclass(frozen=True)
class BookInvoice:
    id: int
    ref: str
    customer_id: int
    currency: str
    open_amount: int
    issue_date: dt.date


SCENARIOS = [("ref_exact", 30), ("ref_multi", 7), ("tax_exact", 15), ("tax_subset", 8), ("ref_partial", 10),
             ("ref_fee", 5), ("name_exact", 15), ("amount_only", 5), ("tax_ref", 5)]


def generate_day(rng: random.Random, day: dt.date, currency: str, country: str, customers: dict[int, BookCustomer],
                 open_by_customer: dict[int, list[BookInvoice]], n_payments: int, n_noise: int, *,
                 unique_names: set[int], fee_tolerance: int, used: set[int], ref_prefix: str = "") -> list[SynthLine]:
    """``n_payments`` customer payments in ``country``'s style and ``n_noise`` other movements, shuffled.

    Each payment line knows its truth (customer and invoices) and whether it is *matchable*: whether
    what it says is enough for a careful person (an invoice number, a tax id with an amount that fits
    one way only, a name no other customer has with such an amount).
    """
    from cobro.payments.matching import Invoice as MInvoice
    from cobro.payments.matching import _subsets

    exp = 0 if currency == "CLP" else 2
    to_major = lambda minor: Decimal(minor).scaleb(-exp)  # noqa: E731
    cids = [cid for cid, invs in open_by_customer.items() if any(i.id not in used and i.issue_date <= day for i in invs)]
    rng.shuffle(cids)
    out: list[SynthLine] = []
    names, weights = zip(*SCENARIOS, strict=True)
    for cid in cids[:n_payments]:
        c = customers[cid]
        mine = [i for i in open_by_customer[cid] if i.id not in used and i.issue_date <= day]
        if not mine:
            continue
        inv = rng.choice(mine)
        kind = rng.choices(names, weights)[0]
        if kind in ("tax_exact", "tax_subset", "tax_ref") and not c.tax_id:
            kind = "ref_exact"
        who = messy_name(rng, c.name) if rng.random() < 0.5 else ""
        chosen, amount, text, matchable, counterparty, tax_field = [inv], inv.open_amount, "", True, "", ""
        same_amount = sum(1 for i in mine if i.open_amount == inv.open_amount)
        if kind == "ref_exact":
            text = payer_text(rng, country, who=who, ref=typed_ref(rng, inv.ref))
        elif kind == "ref_multi" and len(mine) >= 2:
            chosen = rng.sample(mine, min(len(mine), rng.choice([2, 2, 3])))
            amount = sum(i.open_amount for i in chosen)
            text = payer_text(rng, country, who=who, ref=typed_refs(rng, [i.ref for i in chosen]))
        elif kind == "tax_exact" or (kind == "ref_multi"):
            text = payer_text(rng, country, tax=messy_tax(rng, c.tax_id))
            matchable = same_amount == 1
        elif kind == "tax_subset":
            if len(mine) >= 2:
                chosen = rng.sample(mine, 2)
                amount = sum(i.open_amount for i in chosen)
                as_m = [MInvoice(i.id, i.ref, cid, currency, i.open_amount, i.issue_date, i.issue_date) for i in mine]
                matchable = len(_subsets(amount, as_m[:12])) == 1 and not any(i.open_amount == amount for i in mine)
            else:
                matchable = same_amount == 1
            text = payer_text(rng, country, tax=messy_tax(rng, c.tax_id))
        elif kind == "tax_ref":
            text = payer_text(rng, country, tax=messy_tax(rng, c.tax_id), ref=typed_ref(rng, inv.ref))
        elif kind == "ref_partial":
            amount = max(1, inv.open_amount * rng.randrange(25, 75) // 100)
            text = payer_text(rng, country, who=who, ref=typed_ref(rng, inv.ref))
        elif kind == "ref_fee":
            fee = rng.randrange(1, max(2, fee_tolerance))
            amount = inv.open_amount - fee if inv.open_amount > fee * 3 else inv.open_amount
            text = payer_text(rng, country, ref=typed_ref(rng, inv.ref))
        elif kind == "name_exact":
            counterparty = messy_name(rng, c.name)
            text = rng.choice(["TRANSFERENCIA", "TRANSF", "SPEI", "ABONO", "PAGO"])
            matchable = cid in unique_names and same_amount == 1
        elif kind == "amount_only":
            text = rng.choice(NOISE.get(country, NOISE["CL"]))
            matchable = False
        if rng.random() < 0.3:
            text = text.lower() if rng.random() < 0.5 else text.title()
        used.update(i.id for i in chosen)
        out.append(SynthLine(day, to_major(amount), currency, text, counterparty, tax_field,
                             f"{ref_prefix}{day:%Y%m%d}{len(out):05d}", False, cid, tuple(i.id for i in chosen),
                             matchable))
    for _ in range(n_noise):
        roll = rng.random()
        minor = int(rng.lognormvariate(11 if exp == 0 else 9, 1.2))
        if roll < 0.45:
            out.append(SynthLine(day, -to_major(minor), currency, rng.choice(DEBITS.get(country, DEBITS["CL"])),
                                 bank_ref=f"{ref_prefix}{day:%Y%m%d}{len(out):05d}"))
        elif roll < 0.75:
            out.append(SynthLine(day, -to_major(max(1, minor // 50)), currency, "COMISION", fee=True,
                                 bank_ref=f"{ref_prefix}{day:%Y%m%d}{len(out):05d}"))
        else:
            out.append(SynthLine(day, to_major(minor), currency, rng.choice(NOISE.get(country, NOISE["CL"])),
                                 bank_ref=f"{ref_prefix}{day:%Y%m%d}{len(out):05d}"))
    rng.shuffle(out)
    return out
