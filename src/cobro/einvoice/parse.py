"""Electronic invoices as the tax authorities received them, read into plain facts.

Formats: UBL 2.1 Invoice and CreditNote (Peppol BIS 3, and the Colombian DIAN profile, which is UBL
2.1 with extensions), CFDI 4.0 (Mexico: comprobantes I, E and P with the Pagos 2.0 complement) and
Chile's DTE (an EnvioDTE or a single DTE: types 33, 34, 56 and 61).

The XML is parsed without a DTD, without entities and without the network (no XXE, no billion
laughs), under a size ceiling; a document with a DOCTYPE is refused outright, since none of these
formats uses one. Every problem names the file and the element: ``factura.xml: cbc:IssueDate: ...``.
This module knows nothing of the database: ``services`` writes what it returns.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from lxml import etree

from cobro.engine.text import Text, gettext_noop

MAX_BYTES = 20 * 2**20

UBL_NS = {
    "inv": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cn": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
CFDI_NS = {"cfdi": "http://www.sat.gob.mx/cfd/4", "tfd": "http://www.sat.gob.mx/TimbreFiscalDigital",
           "pago20": "http://www.sat.gob.mx/Pagos20"}
SII_NS = "http://www.sii.cl/SiiDte"


class DocumentError(ValueError):
    """A document Cobro cannot read; the message names the element."""

    def __init__(self, element: str, message: Text | str):
        label = _PLACES.get(element, element)
        super().__init__(Text("%(element)s: %(message)s", element=label, message=message))
        self.element = element


_MISSING = Text(gettext_noop("falta"))
#: Places in a document that are no XML element, named in words.
_PLACES = {"file": Text(gettext_noop("archivo")), "receiver": Text(gettext_noop("receptor")),
           "reference": Text(gettext_noop("referencia")), "ref": Text(gettext_noop("folio"))}


@dataclass
class Party:
    tax_id: str
    name: str = ""
    country: str = ""
    address: str = ""      # street and number
    city: str = ""         # city, or Chile's comuna
    region: str = ""       # state, department or province, as the document names it
    postal_code: str = ""
    email: str = ""


@dataclass
class Allocation:
    key: str          # the paid document's key (a CFDI UUID)
    amount: Decimal


@dataclass
class Document:
    """One document: an invoice, a credit note (``credits`` = the key or ref of what it corrects) or a
    payment (``allocations``)."""

    format: str       # "ubl", "cfdi", "dte"
    kind: str         # "invoice", "credit_note", "payment"
    key: str          # unique per issuer: UUID, DTE type+folio, UBL ID
    ref: str          # the number people quote (folio, serie-folio, UBL ID)
    issuer: Party
    receiver: Party
    issue_date: dt.date
    due_date: dt.date | None
    currency: str
    total: Decimal
    credits: list[str] = field(default_factory=list)
    allocations: list[Allocation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                          huge_tree=False, remove_comments=True, remove_pis=True)


def read_xml(data: bytes):
    if len(data) > MAX_BYTES:
        raise DocumentError("file", Text(gettext_noop("mayor que %(mb)s MB: no es una factura electrónica"),
                                             mb=MAX_BYTES // 2**20))
    head = data[:4096].lstrip()
    if b"<!DOCTYPE" in data[:65536].upper() or b"<!ENTITY" in data[:65536].upper():
        raise DocumentError("DOCTYPE", Text(gettext_noop(
            "se rechazan los documentos con DOCTYPE o entidades (ningún formato de factura electrónica los usa)")))
    if not head.startswith(b"<"):
        raise DocumentError("file", Text(gettext_noop("no es XML")))
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise DocumentError(f"line {exc.lineno}", Text(gettext_noop("XML mal formado (%(error)s)"), error=exc.msg)) from None


def parse(data: bytes) -> list[Document]:
    """Every document in ``data`` (an EnvioDTE holds several)."""
    root = read_xml(data)
    name = etree.QName(root)
    if name.namespace in (UBL_NS["inv"], UBL_NS["cn"]):
        return [_ubl(root, credit=name.namespace == UBL_NS["cn"])]
    if name.namespace == CFDI_NS["cfdi"] and name.localname == "Comprobante":
        return [_cfdi(root)]
    if name.namespace == "http://www.sat.gob.mx/cfd/3":
        raise DocumentError("cfdi:Comprobante", Text(gettext_noop(
            "el CFDI 3.3 ya no es válido; Cobro lee CFDI 4.0")))
    if name.namespace == SII_NS and name.localname in ("EnvioDTE", "DTE"):
        return _dte(root)
    raise DocumentError(name.localname, Text(gettext_noop(
        "tipo de documento desconocido (%(ns)s): Cobro lee UBL 2.1, CFDI 4.0 y el DTE de Chile"),
        ns=name.namespace or Text(gettext_noop("sin espacio de nombres"))))


# -- helpers ---------------------------------------------------------------------------------------

def _text(node, path: str, ns, *, required: bool = True, label: str | None = None) -> str:
    found = node.find(path, ns)
    value = (found.text or "").strip() if found is not None else ""
    if required and not value:
        raise DocumentError(label or path, _MISSING)
    return value


def _attr(node, name: str, label: str, *, required: bool = True) -> str:
    value = (node.get(name) or "").strip()
    if required and not value:
        raise DocumentError(f"{label}@{name}", _MISSING)
    return value


def _date(value: str, label: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(value[:10])
    except ValueError:
        raise DocumentError(label, Text(gettext_noop("%(value)r no es una fecha"), value=value)) from None
    if not dt.date(1900, 1, 1) <= day <= dt.date(2200, 12, 31):
        raise DocumentError(label, Text(gettext_noop("%(value)r está fuera de 1900-2200"), value=value))
    return day


def _amount(value: str, label: str) -> Decimal:
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise DocumentError(label, Text(gettext_noop("%(value)r no es un monto"), value=value)) from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal(10) ** 15:
        raise DocumentError(label, Text(gettext_noop("%(value)r no es un monto razonable"), value=value))
    return amount


# -- UBL 2.1 (Peppol BIS 3, DIAN) ------------------------------------------------------------------

def _ubl_party(node, role: str) -> Party:
    party = node.find(f"cac:{role}/cac:Party", UBL_NS)
    if party is None:
        raise DocumentError(f"cac:{role}", _MISSING)
    tax_id = ""
    for path in ("cac:PartyTaxScheme/cbc:CompanyID", "cac:PartyLegalEntity/cbc:CompanyID",
                 "cac:PartyIdentification/cbc:ID", "cbc:EndpointID"):
        node = party.find(path, UBL_NS)
        if node is not None and (node.text or "").strip():
            tax_id = node.text.strip()
            # DIAN writes a NIT without its check digit, which goes in schemeID (schemeName 31 = NIT).
            check = (node.get("schemeID") or "").strip()
            if node.get("schemeName") == "31" and check.isdigit() and len(check) == 1:
                tax_id = f"{tax_id}-{check}"
            break
    if not tax_id:
        raise DocumentError(f"cac:{role}/cac:Party", Text(gettext_noop(
            "sin identificador tributario (PartyTaxScheme/CompanyID)")))
    name = (_text(party, "cac:PartyLegalEntity/cbc:RegistrationName", UBL_NS, required=False)
            or _text(party, "cac:PartyName/cbc:Name", UBL_NS, required=False)
            or _text(party, "cac:PartyTaxScheme/cbc:RegistrationName", UBL_NS, required=False))
    address = party.find("cac:PostalAddress", UBL_NS)
    if address is None:
        address = party.find("cac:PhysicalLocation/cac:Address", UBL_NS)
    country, place = "", {}
    if address is not None:
        country = _text(address, "cac:Country/cbc:IdentificationCode", UBL_NS, required=False)
        place = {"address": ", ".join(filter(None, (
                     _text(address, "cbc:StreetName", UBL_NS, required=False),
                     _text(address, "cbc:BuildingNumber", UBL_NS, required=False),
                     _text(address, "cac:AddressLine/cbc:Line", UBL_NS, required=False)))),
                 "city": _text(address, "cbc:CityName", UBL_NS, required=False),
                 "region": _text(address, "cbc:CountrySubentity", UBL_NS, required=False),
                 "postal_code": _text(address, "cbc:PostalZone", UBL_NS, required=False)}
    email = _text(party, "cac:Contact/cbc:ElectronicMail", UBL_NS, required=False)
    return Party(tax_id=tax_id, name=name, country=country.upper()[:2], email=email, **place)


def _ubl(root, credit: bool) -> Document:
    ns = UBL_NS
    ref = _text(root, "cbc:ID", ns, label="cbc:ID")
    issue = _date(_text(root, "cbc:IssueDate", ns), "cbc:IssueDate")
    due_text = (_text(root, "cbc:DueDate", ns, required=False)
                or _text(root, "cac:PaymentMeans/cbc:PaymentDueDate", ns, required=False))
    currency = _text(root, "cbc:DocumentCurrencyCode", ns, label="cbc:DocumentCurrencyCode").upper()
    payable = root.find("cac:LegalMonetaryTotal/cbc:PayableAmount", ns)
    if payable is None or not (payable.text or "").strip():
        raise DocumentError("cac:LegalMonetaryTotal/cbc:PayableAmount", _MISSING)
    if payable.get("currencyID") and payable.get("currencyID").upper() != currency:
        raise DocumentError("cbc:PayableAmount@currencyID", Text(gettext_noop(
            "%(given)s difiere de la moneda del documento, %(currency)s"), given=payable.get("currencyID"),
            currency=currency))
    total = _amount(payable.text.strip(), "cbc:PayableAmount")
    uuid = _text(root, "cbc:UUID", ns, required=False)  # DIAN's CUFE
    doc = Document(format="ubl", kind="credit_note" if credit else "invoice", key=f"UBL:{uuid or ref}",
                   ref=ref, issuer=_ubl_party(root, "AccountingSupplierParty"),
                   receiver=_ubl_party(root, "AccountingCustomerParty"), issue_date=issue,
                   due_date=_date(due_text, "cbc:DueDate") if due_text else None, currency=currency, total=total)
    if credit:
        refs = [(e.text or "").strip() for e in
                root.findall("cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID", ns)]
        doc.credits = [r for r in refs if r]
        if not doc.credits:
            raise DocumentError("cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID",
                                Text(gettext_noop(
                "una nota de crédito debe decir qué factura corrige")))
    elif etree.QName(root).localname != "Invoice":
        raise DocumentError(etree.QName(root).localname, Text(gettext_noop(
            "documento UBL desconocido: se espera Invoice o CreditNote")))
    return doc


# -- CFDI 4.0 (SAT, Mexico) ------------------------------------------------------------------------

def _cfdi(root) -> Document:
    ns = CFDI_NS
    label = "cfdi:Comprobante"
    version = _attr(root, "Version", label)
    if version != "4.0":
        raise DocumentError(f"{label}@Version", Text(gettext_noop("%(version)r: Cobro lee CFDI 4.0"),
                                                                version=version))
    kind_code = _attr(root, "TipoDeComprobante", label)
    if kind_code not in ("I", "E", "P"):
        raise DocumentError(f"{label}@TipoDeComprobante", Text(gettext_noop(
            "%(kind)r: Cobro lee I (ingreso), E (egreso) y P (pago)"), kind=kind_code))
    stamp = root.find("cfdi:Complemento/tfd:TimbreFiscalDigital", ns)
    if stamp is None:
        raise DocumentError("tfd:TimbreFiscalDigital", Text(gettext_noop(
            "falta: un CFDI sin su timbre del SAT no es válido")))
    uuid = _attr(stamp, "UUID", "tfd:TimbreFiscalDigital").upper()
    emisor, receptor = root.find("cfdi:Emisor", ns), root.find("cfdi:Receptor", ns)
    if emisor is None:
        raise DocumentError("cfdi:Emisor", _MISSING)
    if receptor is None:
        raise DocumentError("cfdi:Receptor", _MISSING)
    issuer = Party(tax_id=_attr(emisor, "Rfc", "cfdi:Emisor"), name=emisor.get("Nombre", ""), country="MX")
    receiver = Party(tax_id=_attr(receptor, "Rfc", "cfdi:Receptor"), name=receptor.get("Nombre", ""),
                     country="MX", postal_code=receptor.get("DomicilioFiscalReceptor", ""))  # CFDI 4.0: a CP
    serie, folio = root.get("Serie", "").strip(), root.get("Folio", "").strip()
    ref = f"{serie}{folio}" if folio else uuid
    issue = _date(_attr(root, "Fecha", label), f"{label}@Fecha")
    doc = Document(format="cfdi", kind={"I": "invoice", "E": "credit_note", "P": "payment"}[kind_code],
                   key=f"CFDI:{uuid}", ref=ref, issuer=issuer, receiver=receiver, issue_date=issue, due_date=None,
                   currency=_attr(root, "Moneda", label).upper(),
                   total=_amount(_attr(root, "Total", label), f"{label}@Total"))
    if root.get("TipoCambio") and doc.currency != "MXN":
        doc.notes.append(f"exchange rate {root.get('TipoCambio')} MXN per {doc.currency} (kept in {doc.currency})")
    if kind_code == "E":
        related = [r.get("UUID", "").upper() for r in root.findall("cfdi:CfdiRelacionados/cfdi:CfdiRelacionado", ns)]
        doc.credits = [f"CFDI:{u}" for u in related if u]
        if not doc.credits:
            raise DocumentError("cfdi:CfdiRelacionados", Text(gettext_noop(
                "un egreso debe nombrar el CFDI que corrige")))
    if kind_code == "P":
        pagos = root.findall("cfdi:Complemento/pago20:Pagos/pago20:Pago", ns)
        if not pagos:
            raise DocumentError("pago20:Pagos", Text(gettext_noop(
                "un CFDI de tipo P necesita su complemento Pagos 2.0")))
        first = pagos[0]
        doc.issue_date = _date(_attr(first, "FechaPago", "pago20:Pago"), "pago20:Pago@FechaPago")
        doc.currency = _attr(first, "MonedaP", "pago20:Pago").upper()
        currencies = {p.get("MonedaP", "").upper() for p in pagos}
        if len(currencies) > 1:
            raise DocumentError("pago20:Pago@MonedaP", Text(gettext_noop(
                "pagos en varias monedas en un solo CFDI")))
        doc.total = sum((_amount(_attr(p, "Monto", "pago20:Pago"), "pago20:Pago@Monto") for p in pagos), Decimal(0))
        for p in pagos:
            for d in p.findall("pago20:DoctoRelacionado", ns):
                doc.allocations.append(Allocation(
                    key=f"CFDI:{_attr(d, 'IdDocumento', 'pago20:DoctoRelacionado').upper()}",
                    amount=_amount(_attr(d, "ImpPagado", "pago20:DoctoRelacionado"),
                                   "pago20:DoctoRelacionado@ImpPagado")))
    return doc


# -- Chile: DTE (SII) ------------------------------------------------------------------------------

DTE_TYPES = {"33": "invoice", "34": "invoice", "56": "invoice", "61": "credit_note"}
DTE_PREFIX = {"33": "", "34": "", "56": "ND-", "61": "NC-"}


def _dte(root) -> list[Document]:
    q = f"{{{SII_NS}}}"
    dtes = [root] if etree.QName(root).localname == "DTE" else root.findall(f"{q}SetDTE/{q}DTE")
    if not dtes:
        raise DocumentError("SetDTE/DTE", Text(gettext_noop("el EnvioDTE no contiene ningún DTE")))
    return [_one_dte(d, q, n) for n, d in enumerate(dtes, 1)]


def _one_dte(dte, q: str, n: int) -> Document:
    where = f"DTE[{n}]"
    doc_node = dte.find(f"{q}Documento")
    if doc_node is None:
        if dte.find(f"{q}Exportaciones") is not None or dte.find(f"{q}Liquidacion") is not None:
            raise DocumentError(f"{where}", Text(gettext_noop(
                "no se leen los DTE de exportación ni de liquidación")))
        raise DocumentError(f"{where}/Documento", _MISSING)
    head = doc_node.find(f"{q}Encabezado")
    if head is None:
        raise DocumentError(f"{where}/Encabezado", _MISSING)

    def text(path: str, required: bool = True) -> str:
        node = head.find("/".join(q + p for p in path.split("/")))
        value = (node.text or "").strip() if node is not None else ""
        if required and not value:
            raise DocumentError(f"{where}/{path}", _MISSING)
        return value

    kind = text("IdDoc/TipoDTE")
    if kind not in DTE_TYPES:
        raise DocumentError(f"{where}/IdDoc/TipoDTE", Text(gettext_noop(
            "%(kind)r: Cobro lee 33, 34 (facturas), 56 (nota de débito) y 61 (nota de crédito)"), kind=kind))
    folio = text("IdDoc/Folio")
    issuer = Party(tax_id=text("Emisor/RUTEmisor"), name=text("Emisor/RznSoc", required=False), country="CL")
    receiver = Party(tax_id=text("Receptor/RUTRecep"), name=text("Receptor/RznSocRecep", required=False),
                     country="CL",
                     address=text("Receptor/DirRecep", False),
                     city=text("Receptor/CmnaRecep", False) or text("Receptor/CiudadRecep", False),
                     email=text("Receptor/CorreoRecep", False))
    due = text("IdDoc/FchVenc", required=False)
    currency = text("Totales/TpoMoneda", required=False) or "CLP"
    currency = {"PESO CL": "CLP", "DOLAR USA": "USD", "EURO": "EUR"}.get(currency.upper(), currency.upper())
    doc = Document(format="dte", kind=DTE_TYPES[kind], key=f"DTE:{issuer.tax_id}:{kind}:{folio}",
                   ref=f"{DTE_PREFIX[kind]}{folio}", issuer=issuer, receiver=receiver,
                   issue_date=_date(text("IdDoc/FchEmis"), f"{where}/IdDoc/FchEmis"),
                   due_date=_date(due, f"{where}/IdDoc/FchVenc") if due else None, currency=currency,
                   total=_amount(text("Totales/MntTotal"), f"{where}/Totales/MntTotal"))
    if kind == "61":
        for ref_node in doc_node.findall(f"{q}Referencia"):
            tipo = (ref_node.findtext(f"{q}TpoDocRef") or "").strip()
            folio_ref = (ref_node.findtext(f"{q}FolioRef") or "").strip()
            if tipo in ("33", "34", "56") and folio_ref:
                doc.credits.append(f"DTE:{issuer.tax_id}:{tipo}:{folio_ref}")
        if not doc.credits:
            raise DocumentError(f"{where}/Referencia", Text(gettext_noop(
                "una nota de crédito debe referir la factura que corrige")))
    return doc
