"""Export of customers, invoices and payments in the same columns the importer reads.

Amounts are decimal strings in major units ("1234.56"; CLP "450000"); dates ISO. An export can be
imported back unchanged (the round trip is tested).

Whoever opens an export in a spreadsheet must not run what a debtor typed into their name (CSV
injection, OWASP): a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return gets a leading apostrophe in CSV, and is written as a text cell with Excel's quote prefix in
XLSX (never as a formula). Plain numbers ("-250.00", an E.164 phone "+56911111111") are not formulas
and stay as they are, so amounts remain numbers. Characters XML forbids (C0 controls) are dropped.
The importer removes that one apostrophe again (``importing.unquote``), so the round trip holds.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

from django.db.models import Sum

from cobro.ledger.importing import COLUMNS, EXPORT_EXTRA, amount_text
from cobro.ledger.models import Contact, Customer, Invoice, Organization, Payment

#: What a spreadsheet reads as the start of a formula (OWASP's list), after any apostrophes already
#: there (so that a value which itself starts with "'=" survives the round trip too).
_FORMULA_START = re.compile(r"'*[=+\-@\t\r]")
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def is_formula_like(value: str) -> bool:
    return bool(_FORMULA_START.match(value)) and not _NUMBER.fullmatch(value)


def clean(value):
    """A cell as it may be written: XML-illegal characters removed (other values untouched)."""
    return _ILLEGAL_XML.sub("", value) if isinstance(value, str) else value


def csv_cell(value):
    if not isinstance(value, str):
        return value
    # A lone carriage return is not quoted by the csv module (only "\n" is the line terminator):
    # written as it is, it would split the row for whoever reads the file.
    value = clean(value).replace("\r\n", "\n").replace("\r", "\n")
    return "'" + value if is_formula_like(value) else value


def header(kind: str) -> list[str]:
    return [*COLUMNS[kind], *EXPORT_EXTRA[kind]]


def rows(org: Organization, kind: str) -> Iterator[list]:
    return {"customers": _customers, "invoices": _invoices, "payments": _payments}[kind](org)


def _contacts(org: Organization) -> dict[int, tuple[str, str, str]]:
    out: dict[int, tuple[str, str, str]] = {}
    for cust, email, phone, whatsapp in (Contact.objects.for_org(org).filter(is_primary=True).order_by("id")
                                         .values_list("customer_id", "email", "phone", "whatsapp")):
        out.setdefault(cust, (email, phone, whatsapp))
    return out


def _customers(org: Organization) -> Iterator[list]:
    contacts = _contacts(org)
    balances: dict[int, list[tuple[str, int]]] = {}
    for cust, cur, total in (Invoice.objects.for_org(org).filter(open_amount__gt=0)
                             .values("customer_id", "currency").annotate(t=Sum("open_amount"))
                             .values_list("customer_id", "currency", "t")):
        balances.setdefault(cust, []).append((cur, total))
    for c in Customer.objects.for_org(org).order_by("ref").iterator(chunk_size=5000):
        email, phone, whatsapp = contacts.get(c.pk, ("", "", ""))
        owed = balances.get(c.pk) or [(org.currency, 0)]
        # One line per currency owed, so a customer with CLP and USD debts shows both.
        for cur, total in owed:
            yield [c.ref, c.name, email, phone, whatsapp, c.country, c.language, c.timezone, c.tax_id,
                   c.address, c.city, c.region, c.postal_code, amount_text(total, cur), cur]


def _invoices(org: Organization) -> Iterator[list]:
    customers = dict(Customer.objects.for_org(org).values_list("pk", "ref"))
    names = dict(Customer.objects.for_org(org).values_list("pk", "name"))
    countries = dict(Customer.objects.for_org(org).values_list("pk", "country"))
    contacts = _contacts(org)
    for (ref, cust, issue, due, cur, amount, open_amount, status) in (
            Invoice.objects.for_org(org).order_by("ref")
            .values_list("ref", "customer_id", "issue_date", "due_date", "currency", "amount", "open_amount",
                         "status").iterator(chunk_size=10000)):
        email, phone, _ = contacts.get(cust, ("", "", ""))
        yield [ref, customers[cust], names[cust], issue.isoformat(), due.isoformat(), cur, amount_text(amount, cur),
               email, phone, countries[cust], amount_text(open_amount, cur), status]


def _payments(org: Organization) -> Iterator[list]:
    customers = dict(Customer.objects.for_org(org).values_list("pk", "ref"))
    single_invoice = {}
    for pay, inv_ref in Payment.objects.for_org(org).filter(allocations__isnull=False).values_list(
            "pk", "allocations__invoice__ref"):
        single_invoice[pay] = inv_ref if pay not in single_invoice else ""
    for p in Payment.objects.for_org(org).order_by("date", "ref").iterator(chunk_size=5000):
        yield [p.ref, customers[p.customer_id], single_invoice.get(p.pk, ""), p.date.isoformat(),
               amount_text(p.amount, p.currency), p.currency, p.method, amount_text(p.unallocated, p.currency),
               p.provider, p.provider_ref]


def write_csv(org: Organization, kind: str, out) -> int:
    return write_table_csv(header(kind), rows(org, kind), out)


def xlsx_bytes(org: Organization, kind: str) -> bytes:
    return table_xlsx_bytes(kind, header(kind), rows(org, kind))


def write_table_csv(head: list[str], body, out) -> int:
    """Any table as CSV, every text cell neutralised (also the workspace's filtered customer list)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([csv_cell(v) for v in head])
    n = 0
    for row in body:
        writer.writerow([csv_cell(v) for v in row])
        n += 1
    return n


def table_xlsx_bytes(title: str, head: list[str], body) -> bytes:
    """Any table as one XLSX sheet: a formula-like text is a quoted text cell, never a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])

    def text_cell(value: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"  # openpyxl would store "=..." as a formula
        cell.quotePrefix = True  # and Excel shows it as text, even once edited
        return cell

    sheet.append(list(map(clean, head)))
    for row in body:
        sheet.append([text_cell(v) if isinstance(v, str) and is_formula_like(v) else v
                      for v in map(clean, row)])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
