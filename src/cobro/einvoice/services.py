"""E-invoices into the ledger: customers, invoices, credit notes and payments, exactly and once.

All files of one import are read and checked first; then everything is written in one transaction,
or nothing is (a problem in the tenth file leaves the first nine unwritten too, as the table importer
does).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from cobro.einvoice import parse as p
from cobro.einvoice.models import Document
from cobro.engine.money import MoneyError, to_minor
from cobro.engine.text import Text, gettext_noop, message_of
from cobro.ledger import services as ledger
from cobro.ledger.models import Customer, Invoice, Organization
from cobro.ledger.validation import check_email, check_tax_id

MAX_FILES = 10_000
ORDER = {"invoice": 0, "credit_note": 1, "payment": 2}  # what a document points at is written first


class ImportFailed(Exception):
    """``problems``: one message per file at fault (``Text``: English as ``str``, ``localized()`` for a page)."""

    def __init__(self, problems: list[Text | str]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


def _in(name: str, error) -> Text:
    """"factura.xml: cbc:IssueDate: ..." — the file, then what is wrong with it."""
    return Text("%(name)s: %(error)s", name=name, error=message_of(error) if isinstance(error, Exception) else error)


def _too_big(name: str, most: int) -> Text:
    return _in(name, Text(gettext_noop("archivo: mayor que %(mb)s MB"), mb=most // 2**20))


@dataclass
class Result:
    created: dict[str, int] = field(default_factory=lambda: {"invoice": 0, "credit_note": 0, "payment": 0})
    unchanged: int = 0
    customers: int = 0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        c = self.created
        return (f"{c['invoice']} invoice(s), {c['credit_note']} credit note(s), {c['payment']} payment(s) "
                f"imported; {self.unchanged} already imported; {self.customers} new customer(s).")


def compact_tax_id(value: str) -> str:
    return "".join(ch for ch in value.upper() if ch.isalnum())


def same_tax_id(a: str, b: str) -> bool:
    """``76.086.428-5`` is ``760864285``; a VAT number's country prefix (``ESB12345674``) is ignored."""
    a, b = compact_tax_id(a), compact_tax_id(b)
    if a == b:
        return True
    longer, shorter = (a, b) if len(a) > len(b) else (b, a)
    return len(longer) == len(shorter) + 2 and longer[:2].isalpha() and longer[2:] == shorter


def collect(paths: list[str]) -> list[tuple[str, bytes]]:
    """(name, bytes) of every XML in the given files, folders (recursively) and zips."""
    out: list[tuple[str, bytes]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(f for f in path.rglob("*") if f.is_file() and f.suffix.lower() in (".xml", ".zip"))
        elif path.is_file():
            files = [path]
        else:
            raise ImportFailed([_in(raw, Text(gettext_noop("no existe el archivo o carpeta")))])
        for f in files:
            if f.stat().st_size > p.MAX_BYTES * 5:
                raise ImportFailed([_too_big(str(f), p.MAX_BYTES * 5)])
            data = f.read_bytes()
            out += unzip(str(f), data) if f.suffix.lower() == ".zip" else [(str(f), data)]
        if len(out) > MAX_FILES:
            raise ImportFailed([Text(gettext_noop("más de %(n)s documentos en una importación: divídala"),
                                     n=MAX_FILES)])
    return out


def unzip(name: str, data: bytes) -> list[tuple[str, bytes]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ImportFailed([_in(name, Text(gettext_noop("archivo: no es un archivo zip")))]) from None
    members = [i for i in archive.infolist() if not i.is_dir() and i.filename.lower().endswith(".xml")]
    if len(members) > MAX_FILES:
        raise ImportFailed([_in(name, Text(gettext_noop("más de %(n)s documentos"), n=MAX_FILES))])
    out = []
    for info in members:
        if info.file_size > p.MAX_BYTES:
            raise ImportFailed([_too_big(f"{name}/{info.filename}", p.MAX_BYTES)])
        with archive.open(info) as member:
            content = member.read(p.MAX_BYTES + 1)  # never trust the declared size alone
        if len(content) > p.MAX_BYTES:
            raise ImportFailed([_too_big(f"{name}/{info.filename}", p.MAX_BYTES)])
        out.append((f"{name}/{info.filename}", content))
    return out


def import_files(org: Organization, files: list[tuple[str, bytes]], *, dry_run: bool = False) -> Result:
    """Read, check and (unless ``dry_run``) write every document of ``files``."""
    if not org.tax_id:
        raise ImportFailed([Text(gettext_noop("la organización %(slug)s no tiene identificador tributario: "
                                              "indíquelo con `cobro org update %(slug)s --tax-id ID` o en "
                                              "Configuración (identifica al emisor)"), slug=org.slug)])
    problems: list[Text | str] = []
    docs: list[tuple[str, str, p.Document]] = []
    for name, data in files:
        try:
            parsed = p.parse(data)
        except p.DocumentError as exc:
            problems.append(_in(name, exc))
            continue
        digest = hashlib.sha256(data).hexdigest()
        for doc in parsed:
            if not same_tax_id(doc.issuer.tax_id, org.tax_id):
                problems.append(_in(name, Text(gettext_noop(
                    "emisor: emitido por %(issuer)s, no por %(org)s (%(tax_id)s); Cobro importa solo los documentos "
                    "de la propia organización"), issuer=doc.issuer.tax_id, org=org.name, tax_id=org.tax_id)))
                continue
            docs.append((name, digest, doc))
    if problems:
        raise ImportFailed(problems)
    docs.sort(key=lambda item: ORDER[item[2].kind])
    result = Result()
    with transaction.atomic():
        writer = _Writer(org, result)
        for name, digest, doc in docs:
            try:
                writer.write(name, digest, doc)
            except (p.DocumentError, ledger.LedgerError, MoneyError, ValueError) as exc:
                problems.append(_in(name, exc))
        if problems:
            raise ImportFailed(problems)  # leaves the transaction: nothing was written
        if dry_run:
            transaction.set_rollback(True)
    return result


class _Writer:
    def __init__(self, org: Organization, result: Result):
        self.org, self.result = org, result
        self.default_terms = int(org.options.get("default_terms_days", 30))

    def _customer(self, party: p.Party) -> Customer:
        country = party.country or self.org.country
        try:
            formatted = check_tax_id(party.tax_id, country)
        except ValueError as exc:
            raise p.DocumentError("receiver", message_of(exc)) from None
        wanted = {compact_tax_id(formatted)}
        for c in Customer.objects.for_org(self.org).filter(tax_id__in={formatted, party.tax_id, *wanted}):
            return self._update(c, party)
        customer, created = ledger.get_or_create_customer(
            self.org, formatted[:64], party.name or formatted, country=country, tax_id=formatted,
            email=_email(party.email))
        if created:
            self.result.customers += 1
        return self._update(customer, party)

    def _update(self, customer: Customer, party: p.Party) -> Customer:
        """What the document says of its receiver wins: name and address (a field it leaves out stays)."""
        given = {"name": party.name[:200], "address": party.address[:200], "city": party.city[:100],
                 "region": party.region[:100], "postal_code": party.postal_code[:16]}
        changed = [k for k, v in given.items() if v and getattr(customer, k) != v]
        if changed:
            for k in changed:
                setattr(customer, k, given[k])
            customer.save(update_fields=changed + ["updated_at"])
        return customer

    def write(self, name: str, digest: str, doc: p.Document) -> None:
        if Document.objects.for_org(self.org).filter(key=doc.key).exists():
            self.result.unchanged += 1
            return
        customer = self._customer(doc.receiver)
        try:
            amount = to_minor(doc.total, doc.currency)
        except MoneyError as exc:
            raise p.DocumentError("total", message_of(exc)) from None
        invoice = None
        if doc.kind == "invoice":
            if amount <= 0:
                raise p.DocumentError("total", Text(gettext_noop("una factura por cero")))
            due = doc.due_date or doc.issue_date + dt.timedelta(days=self.default_terms)
            if Invoice.objects.for_org(self.org).filter(ref=doc.ref).exclude(customer=customer).exists():
                raise p.DocumentError("ref", Text(gettext_noop("la factura %(ref)s existe para otro cliente"),
                                                  ref=doc.ref))
            invoice, _ = ledger.upsert_invoice(self.org, customer, doc.ref, doc.issue_date, due, doc.currency, amount)
            if not doc.due_date:
                self.result.notes.append(_in(name, Text(gettext_noop(
                    "el documento no tiene fecha de vencimiento; se suponen %(days)s días desde la emisión (%(due)s)"),
                    days=self.default_terms, due=due.isoformat())))
        elif doc.kind == "credit_note":
            invoice = self._credited(doc)
            ledger.add_credit_note(self.org, invoice, doc.ref, doc.issue_date, amount,
                                   reason=f"{doc.format.upper()} {doc.ref}")
        else:
            for n, alloc in enumerate(doc.allocations, 1):
                target = self._by_key(alloc.key, "pago20:DoctoRelacionado")
                ledger.apply_payment(self.org, customer, f"{doc.ref}-{n}"[:64], doc.issue_date,
                                     to_minor(alloc.amount, doc.currency), doc.currency, "transfer",
                                     invoice=target, provider="cfdi", provider_ref=doc.key)
        self.result.created[doc.kind] += 1
        self.result.notes += [f"{name}: {note}" for note in doc.notes]
        Document.objects.create(organization=self.org, key=doc.key, format=doc.format, kind=doc.kind, ref=doc.ref,
                                issuer_tax_id=doc.issuer.tax_id, receiver_tax_id=doc.receiver.tax_id,
                                file_name=name[-255:], sha256=digest, invoice=invoice,
                                data={"address": doc.receiver.address, "city": doc.receiver.city,
                                      "postal_code": doc.receiver.postal_code, "total": str(doc.total),
                                      "currency": doc.currency})

    def _by_key(self, key: str, element: str) -> Invoice:
        found = Document.objects.for_org(self.org).filter(key=key, kind="invoice").select_related("invoice").first()
        if found is None or found.invoice is None:
            raise p.DocumentError(element, Text(gettext_noop("la factura %(key)s no está en Cobro: impórtela antes"),
                                                key=key.split(":", 1)[1]))
        return found.invoice

    def _credited(self, doc: p.Document) -> Invoice:
        for target in doc.credits:
            if ":" in target:
                try:
                    return self._by_key(target, "reference")
                except p.DocumentError:
                    continue
            invoice = Invoice.objects.for_org(self.org).filter(ref=target).first()
            if invoice:
                return invoice
        raise p.DocumentError("reference", Text(gettext_noop(
            "la factura que corrige (%(refs)s) no está en Cobro: impórtela antes"), refs=", ".join(doc.credits)))


def _email(value: str) -> str:
    try:
        return check_email(value) if value else ""
    except ValueError:
        return ""
