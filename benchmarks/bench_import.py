"""B2: import of invoices from CSV, with full validation (target ≥ 50,000 rows/s on SQLite at L).

    python benchmarks/bench_import.py --size L [--db sqlite|postgres]

Generates workload W, imports the customers, then times the invoice import (read, check every row,
write all in one transaction) and a re-import of the same file (all rows unchanged).
"""

from __future__ import annotations

import argparse
import sys

from common import make_org, peak_mb, setup_django, timer

TARGET_ROWS_PER_S = 50_000


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="S")
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    args = parser.parse_args()
    setup_django(args.db, f"import_{args.size.lower()}")
    import csv
    import io

    from workload import CUSTOMER_COLUMNS, INVOICE_COLUMNS, generate

    from cobro.ledger.importing import import_file

    wl = generate(args.size)

    def as_csv(header, rows) -> bytes:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
        return buf.getvalue().encode("utf-8")

    customers, invoices = as_csv(CUSTOMER_COLUMNS, wl.customers), as_csv(INVOICE_COLUMNS, wl.invoices)
    org = make_org()
    with timer() as t_cust:
        import_file(org, "customers", customers)
    with timer() as t_inv:
        result = import_file(org, "invoices", invoices)
    with timer() as t_again:
        again = import_file(org, "invoices", invoices)
    n = len(wl.invoices)
    rate = n / t_inv["s"]
    verdict = "ok" if rate >= TARGET_ROWS_PER_S else "BELOW TARGET"
    print(f"B2 import {args.size} {args.db}: {rate:,.0f} invoice rows/s ({n:,} rows in {t_inv['s']:.2f} s, "
          f"{result.created:,} created; target {TARGET_ROWS_PER_S:,}) {verdict}")
    print(f"B2 customers {args.size} {args.db}: {len(wl.customers) / t_cust['s']:,.0f} rows/s "
          f"({len(wl.customers):,} rows in {t_cust['s']:.2f} s)")
    print(f"B2 re-import {args.size} {args.db}: {n / t_again['s']:,.0f} rows/s ({again.unchanged:,} unchanged), "
          f"peak {peak_mb():,.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
