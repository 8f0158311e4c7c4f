"""IBM's public accounts-receivable sample (shared/data, beside the project), loaded as a person would:
the invoices with the file's own headers and month/day/year dates, and a payment on each SettledDate."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from cobro.ledger.importing import ImportResult, import_file

# Beside the project (../shared/data); a worktree one level deeper finds it two levels up.
SAMPLE = next((p / "shared" / "data" / "ar-sample-ibm.csv" for p in Path(__file__).resolve().parents[2:4]
               if (p / "shared" / "data" / "ar-sample-ibm.csv").exists()),
              Path(__file__).resolve().parents[2] / "shared" / "data" / "ar-sample-ibm.csv")


def us_date(text: str) -> dt.date:
    month, day, year = (int(x) for x in text.split("/"))
    return dt.date(year, month, day)


def rows() -> list[dict]:
    with SAMPLE.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def load_history(org) -> tuple[ImportResult, list[dict]]:
    """Import the invoices (leaving out the file's non-ISO country codes) and settle each one."""
    text = SAMPLE.read_text(encoding="utf-8").replace("countryCode,", "ibmCountry,", 1)
    result = import_file(org, "invoices", text.encode("utf-8"))
    sample = rows()
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["payment_ref", "customer_ref", "invoice_ref", "date", "amount"])
    for r in sample:
        w.writerow([f"S-{r['invoiceNumber']}", r["customerID"], r["invoiceNumber"], r["SettledDate"],
                    r["InvoiceAmount"]])
    import_file(org, "payments", buf.getvalue().encode("utf-8"))
    return result, sample
