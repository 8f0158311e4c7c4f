"""A real accounts-receivable history (IBM's public sample, beside the project in shared/data):
import it as a person would, settle each invoice on its SettledDate, and check the ledger against the
file's own columns."""

import csv
import datetime as dt
import io
from pathlib import Path

import pytest

from cobro.ledger.importing import ImportFailed, import_file
from cobro.ledger.models import Invoice

SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "data" / "ar-sample-ibm.csv"
pytestmark = pytest.mark.skipif(not SAMPLE.exists(), reason="shared/data/ar-sample-ibm.csv is not beside the project")


def _rows():
    with SAMPLE.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _us_date(text):
    month, day, year = (int(x) for x in text.split("/"))
    return dt.date(year, month, day)


def test_raw_file_names_the_country_codes_it_cannot_read(org):
    with pytest.raises(ImportFailed) as exc:
        import_file(org, "invoices", SAMPLE.read_bytes())
    first = str(exc.value.problems[0])
    assert first == "row 2, column country: '391' is not an ISO 3166 country code (such as CL, CO, MX, ES)"
    assert Invoice.objects.count() == 0


def test_history_imports_and_settles_as_the_file_says(org):
    rows = _rows()
    # The file's own headers (customerID, invoiceNumber, InvoiceDate, DueDate, InvoiceAmount) and its
    # month/day/year dates are read as they are; only the non-ISO country codes are left out.
    text = SAMPLE.read_text(encoding="utf-8").replace("countryCode,", "ibmCountry,", 1)
    result = import_file(org, "invoices", text.encode("utf-8"))
    assert result.created == len(rows) == 2466
    assert any("month/day/year" in n for n in result.notes)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["payment_ref", "customer_ref", "invoice_ref", "date", "amount"])
    for r in rows:
        w.writerow([f"S-{r['invoiceNumber']}", r["customerID"], r["invoiceNumber"], r["SettledDate"],
                    r["InvoiceAmount"]])
    import_file(org, "payments", buf.getvalue().encode("utf-8"))
    invoices = {i.ref: i for i in Invoice.objects.for_org(org)}
    for r in rows:
        inv = invoices[r["invoiceNumber"]]
        assert inv.status == "paid" and inv.open_amount == 0
        assert inv.closed_on == _us_date(r["SettledDate"])
        assert (inv.closed_on - inv.issue_date).days == int(r["DaysToSettle"])
        assert max(0, (inv.closed_on - inv.due_date).days) == int(r["DaysLate"])
