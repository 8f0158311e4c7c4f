"""A real accounts-receivable history (IBM's public sample, beside the project in shared/data):
import it as a person would, settle each invoice on its SettledDate, and check the ledger against the
file's own columns."""

import pytest

from cobro.ledger.importing import ImportFailed, import_file
from cobro.ledger.models import Invoice
from ibm_sample import SAMPLE, load_history, us_date

pytestmark = pytest.mark.skipif(not SAMPLE.exists(), reason="shared/data/ar-sample-ibm.csv is not beside the project")


def test_raw_file_names_the_country_codes_it_cannot_read(org):
    with pytest.raises(ImportFailed) as exc:
        import_file(org, "invoices", SAMPLE.read_bytes())
    first = str(exc.value.problems[0])
    assert first == "row 2, column country: '391' is not an ISO 3166 country code (such as CL, CO, MX, ES)"
    assert Invoice.objects.count() == 0


def test_history_imports_and_settles_as_the_file_says(org):
    # The file's own headers (customerID, invoiceNumber, InvoiceDate, DueDate, InvoiceAmount) and its
    # month/day/year dates are read as they are; only the non-ISO country codes are left out.
    result, rows = load_history(org)
    assert result.created == len(rows) == 2466
    assert any("month/day/year" in n for n in result.notes)
    invoices = {i.ref: i for i in Invoice.objects.for_org(org)}
    for r in rows:
        inv = invoices[r["invoiceNumber"]]
        assert inv.status == "paid" and inv.open_amount == 0
        assert inv.closed_on == us_date(r["SettledDate"])
        assert (inv.closed_on - inv.issue_date).days == int(r["DaysToSettle"])
        assert max(0, (inv.closed_on - inv.due_date).days) == int(r["DaysLate"])
