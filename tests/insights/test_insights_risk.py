"""`cobro risk`, `cobro forecast` and `cobro risk backtest` on real books: the contract's fields, no
later fact leaks into an answer, and the figures on IBM's sample."""

import csv
import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from cobro.ledger.importing import import_file
from cobro.ledger.models import Organization
from ibm_sample import SAMPLE, rows, us_date

needs_sample = pytest.mark.skipif(not SAMPLE.exists(), reason="shared/data/ar-sample-ibm.csv is not beside the project")


@pytest.fixture
def org(db):
    return Organization.objects.create(slug="acme", name="Acme", country="US", currency="USD",
                                       timezone="America/New_York")


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def as_csv(header, data) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(data)
    return buf.getvalue().encode()


def small_book(org):
    import_file(org, "invoices", as_csv(["invoice_ref", "customer_ref", "customer_name", "issue_date", "due_date", "amount"], [
        ["F-1", "K-1", "Uno", "2026-01-02", "2026-02-01", "100.00"],
        ["F-2", "K-1", "Uno", "2026-02-05", "2026-03-07", "300.00"],
        ["F-3", "K-2", "Dos", "2026-01-10", "2026-01-25", "50.00"],
        ["F-4", "K-3", "Tres", "2026-03-01", "2026-03-31", "80.00"],
    ]))
    import_file(org, "payments", as_csv(["payment_ref", "customer_ref", "invoice_ref", "date", "amount"], [
        ["P-1", "K-1", "F-1", "2026-02-20", "100.00"],
    ]))


def test_risk_and_forecast_commands_on_a_small_book(org):
    small_book(org)
    risks = [json.loads(line) for line in run("risk", "--org", "acme", "--as-of", "2026-03-10", "--json").splitlines()]
    assert [r["customer_ref"] for r in risks] == ["K-1", "K-2", "K-3"]
    by = {r["customer_ref"]: r for r in risks}
    assert all(0 <= r["score"] <= 100 and r["band"] in {"low", "medium", "high"} for r in risks)
    # K-1 paid F-1 19 days late and F-2 is 3 days past due: the reason says so in Spanish
    k1 = {x["factor"]: x for x in by["K-1"]["reasons"]}
    assert k1["days_late"]["text"].startswith("pagó su última factura con 19 días de atraso")
    assert k1["days_late"]["points"] > 0
    # K-2 never paid and is 44 days past due: riskier than K-3, whose invoice is not due yet
    assert by["K-2"]["score"] > by["K-3"]["score"]
    assert "no_history" in {x["factor"] for x in by["K-2"]["reasons"]}
    total = by["K-2"]["base_points"] + sum(x["points"] for x in by["K-2"]["reasons"])
    import math
    assert abs(100 / (1 + math.exp(-total / 10)) - by["K-2"]["score"]) <= 1
    fc = [json.loads(line) for line in run("forecast", "--org", "acme", "--as-of", "2026-03-10", "--json").splitlines()]
    assert [f["invoice_ref"] for f in fc] == ["F-2", "F-3", "F-4"]
    assert all(f["expected_payment_date"] > "2026-03-10" and 0 <= f["p_paid_30"] <= 1 for f in fc)
    # the naive fallback: F-2 due 2026-03-07 + K-1's 19 days late
    assert fc[0]["expected_payment_date"] == "2026-03-26"
    # before F-4 was issued it is not in the forecast, and F-1 was still open
    early = [json.loads(line)["invoice_ref"] for line in
             run("forecast", "--org", "acme", "--as-of", "2026-02-10", "--json").splitlines()]
    assert early == ["F-1", "F-2", "F-3"]  # F-1 was paid on 2026-02-20


def test_bad_input_is_named(org):
    with pytest.raises(CommandError, match="no organization 'nope'"):
        run("risk", "--org", "nope", "--as-of", "2026-03-10")
    with pytest.raises(CommandError, match="needs --from and --to"):
        run("risk", "backtest", "--org", "acme", "--from", "2026-01-01")
    with pytest.raises(CommandError, match="not a date"):
        run("forecast", "--org", "acme", "--as-of", "10/03/2026")


def ibm_split(before: dt.date):
    """The sample's invoices and settlements known on ``before`` and those that came after."""
    text = SAMPLE.read_text(encoding="utf-8").replace("countryCode,", "ibmCountry,", 1).splitlines()
    header, lines = text[0], text[1:]
    data = rows()
    known = [ln for ln, r in zip(lines, data, strict=True) if us_date(r["InvoiceDate"]) <= before]
    later = [ln for ln, r in zip(lines, data, strict=True) if us_date(r["InvoiceDate"]) > before]
    pay = [[f"S-{r['invoiceNumber']}", r["customerID"], r["invoiceNumber"], r["SettledDate"], r["InvoiceAmount"]]
           for r in data]
    pay_known = [p for p, r in zip(pay, data, strict=True) if us_date(r["SettledDate"]) <= before]
    pay_later = [p for p, r in zip(pay, data, strict=True) if us_date(r["SettledDate"]) > before]
    return header, known, later, pay_known, pay_later


PAY = ["payment_ref", "customer_ref", "invoice_ref", "date", "amount"]


@needs_sample
def test_no_later_fact_changes_an_answer(org):
    from cobro.agreements.models import Promise
    from cobro.ledger.models import Customer

    as_of = dt.date(2013, 6, 30)
    header, known, later, pay_known, pay_later = ibm_split(as_of)
    import_file(org, "invoices", "\n".join([header, *known]).encode())
    import_file(org, "payments", as_csv(PAY, pay_known))
    args = ("--org", "acme", "--as-of", as_of.isoformat(), "--json")
    first = run("risk", *args), run("forecast", *args)
    assert len(first[0].splitlines()) > 20 and len(first[1].splitlines()) > 50
    import_file(org, "invoices", "\n".join([header, *later]).encode())
    import_file(org, "payments", as_csv(PAY, pay_later))
    customer = Customer.objects.for_org(org).order_by("ref").first()
    Promise.objects.create(organization=org, customer=customer, made_on=as_of + dt.timedelta(3),
                           promised_date=as_of + dt.timedelta(10), amount=100, currency="USD",
                           status="broken", resolved_on=as_of + dt.timedelta(12))
    second = run("risk", *args), run("forecast", *args)
    assert second == first
    # and the later facts do change a later day's answer
    assert run("forecast", "--org", "acme", "--as-of", "2013-07-31", "--json") != first[1]


@needs_sample
def test_backtest_on_ibm_sample_meets_the_targets(org):
    """Every month-end of 2013 (the benchmark runs the same; B8 of BENCHMARKS.md)."""
    from ibm_sample import load_history

    load_history(org)
    out = run("risk", "backtest", "--org", "acme", "--from", "2013-01-01", "--to", "2013-12-31", "--json")
    lines = [json.loads(line) for line in out.splitlines()]
    assert [x["cutoff"] for x in lines[:-1]] == [f"2013-{m:02d}-{d}" for m, d in zip(
        range(1, 13), [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], strict=True)]
    pooled = lines[-1]
    assert 7 <= pooled["mae_naive"] <= 9
    assert pooled["mae_better_pct"] >= 25
    assert pooled["auc"] >= 0.90
    assert abs(pooled["mean_p_paid_30"] - pooled["paid_30_rate"]) < 0.05  # calibrated on the whole
