"""B3: ageing buckets + DSO + CEI for one organization (target ≤ 200 ms at L).

    python benchmarks/bench_metrics.py --size L [--db sqlite|postgres] [--runs 5] [--keep]

``--keep`` loads the workload once into a database that survives the run
(``$TMPDIR/cobro-bench-metrics-<size>`` on SQLite, ``cobro_bench_metrics_<size>`` on PostgreSQL) and
reuses it next time: loading L takes many minutes, the measurement a few seconds.

Loads workload W through the real importer (which keeps the daily totals as it writes), then
times, median of ``--runs``:
- the reads: ``services.load_book`` (the daily totals, ``cobro.engine.daybook``: the book on the
  period's last day by bucket, on the eve of its first day, and a year of daily sales);
- the engine's standard and countback DSO and CEI over those sums;
- the whole Dashboard (every figure, including collections, promises and messages), and the same
  Dashboard computed from the ledger's rows as before the totals (``source="ledger"``), with a check
  that both give identical figures;
- one plain SUM over the organization's invoices, the same run's yardstick.
A kept book loaded before the totals existed gets them from ``totals.rebuild`` first (timed).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import PG_URL, make_org, peak_mb, setup_django, timer

TARGET_MS = 200


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def _setup_kept(db: str, size: str) -> None:
    """Like ``common.setup_django`` but on a database that is kept between runs."""
    label = f"bench_metrics_{size.lower()}"
    data_dir = Path(tempfile.gettempdir()) / label.replace("_", "-")
    data_dir.mkdir(exist_ok=True)
    os.environ["COBRO_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cobro.settings")
    if db == "postgres":
        import dj_database_url
        import psycopg

        url = PG_URL.rsplit("/", 1)[0] + f"/cobro_{label}"
        cfg = dj_database_url.parse(url)
        with psycopg.connect(host=cfg["HOST"], port=cfg["PORT"] or 5432, user=cfg["USER"], dbname="postgres",
                             autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]]).fetchone():
                conn.execute(f'CREATE DATABASE "{cfg["NAME"]}"')
        os.environ["COBRO_DATABASE_URL"] = url
    else:
        os.environ.pop("COBRO_DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _load(org, wl) -> None:
    """Customers and invoices through the importer in one go, payments in slices.

    One file of 700,000 payments makes the importer ask for the open invoices of 200,000 customers
    in one query, past SQLite's limit on query parameters; slices of 20,000 stay under it and are
    imported exactly the same way (payments are idempotent by reference).
    """
    from workload import CUSTOMER_COLUMNS, INVOICE_COLUMNS, PAYMENT_COLUMNS

    from cobro.ledger.importing import import_file

    def as_csv(header, rows) -> bytes:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        return buf.getvalue().encode("utf-8")

    import_file(org, "customers", as_csv(CUSTOMER_COLUMNS, wl.customers))
    import_file(org, "invoices", as_csv(INVOICE_COLUMNS, wl.invoices))
    for i in range(0, len(wl.payments), 20_000):
        import_file(org, "payments", as_csv(PAYMENT_COLUMNS, wl.payments[i:i + 20_000]))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="S")
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="load once into a kept database and reuse it")
    args = parser.parse_args()
    if args.keep:
        _setup_kept(args.db, args.size)
    else:
        setup_django(args.db, f"metrics_{args.size.lower()}")
    from django.db import connection
    from django.db.models import Count, Sum
    from workload import generate

    from cobro.engine import metrics
    from cobro.insights import services
    from cobro.ledger.models import Invoice, Organization

    wl = generate(args.size)
    org = Organization.objects.filter(slug="bench").first() if args.keep else None
    with timer() as t_load:
        if org is None or not Invoice.objects.for_org(org).exists():
            org = org or make_org()
            _load(org, wl)
            # What PostgreSQL's autovacuum does within a minute of a bulk load, and what a SQLite
            # installation gets from `PRAGMA optimize`: without statistics both planners walk the
            # organization index row by row for whole-book sums.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
    n_invoices = Invoice.objects.for_org(org).count()
    n_open = Invoice.objects.for_org(org).filter(status="open").count()
    period = services.make_period(wl.as_of, "90d")

    from cobro.insights import totals
    from cobro.insights.models import DailyTotal

    if not DailyTotal.objects.for_org(org).exists():  # a kept book loaded before the totals existed
        with timer() as t_rebuild:
            totals.rebuild(org)
        print(f"B3 totals rebuilt for the kept book in {t_rebuild['s']:.1f} s (`cobro insights rebuild`)")
    n_rows = DailyTotal.objects.for_org(org).count()

    def one_run() -> dict[str, float]:
        t0 = time.perf_counter()
        book = services.load_book(org, period.start, period.end, services.COUNTBACK_DAYS)
        t1 = time.perf_counter()
        sales = book.sales
        for cur, ageing in book.ending.items():
            daily = sales.get(cur, [])
            metrics.dso_standard(ageing.total, sum(daily[: period.days]), period.days)
            metrics.dso_countback(ageing.total, daily)
        t2 = time.perf_counter()
        for cur, ageing in book.ending.items():
            metrics.collection_effectiveness(book.beginning.get(cur, 0), sum(sales.get(cur, [])[: period.days]),
                                             ageing.total, ageing.current)
        t3 = time.perf_counter()
        return {"book": t1 - t0, "dso": t2 - t1, "cei": t3 - t2, "total": t3 - t0}

    one_run()  # warm the database's cache once; the medians are of the runs after it
    runs = [one_run() for _ in range(args.runs)]
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    dash = []
    for _ in range(args.runs):
        start = time.perf_counter()
        board = services.dashboard(org, period)
        dash.append(time.perf_counter() - start)
    # The same figures computed the old way, from the ledger's rows (slow: at most three runs).
    ledger_runs = []
    for _ in range(min(args.runs, 3)):
        start = time.perf_counter()
        ledger_board = services.dashboard(org, period, source="ledger")
        ledger_runs.append(time.perf_counter() - start)
    same = "identical" if services.as_json(board) == services.as_json(ledger_board) else "DIFFERENT"
    # The floor on this machine right now: one plain pass summing the organization's invoices. The
    # ratio to it holds when the shared machine's speed drifts between runs.
    scan = []
    for _ in range(args.runs):
        start = time.perf_counter()
        Invoice.objects.for_org(org).aggregate(total=Sum("amount"), n=Count("id"))
        scan.append(time.perf_counter() - start)
    floor = statistics.median(scan)

    verdict = "ok" if med["total"] * 1000 <= TARGET_MS else "ABOVE TARGET"
    print(f"B3 metrics {args.size} {args.db}: {_ms(med['total'])} (reads of the daily totals for ageing, "
          f"opening balance and sales {_ms(med['book'])}; engine dso {_ms(med['dso'])}, cei {_ms(med['cei'])}; "
          f"{med['total'] / floor:.2f} × one plain pass over the invoices, {_ms(floor)}); "
          f"target {TARGET_MS} ms {verdict}")
    print(f"B3 dashboard {args.size} {args.db}: {_ms(statistics.median(dash))} (every figure of the page) vs "
          f"{_ms(statistics.median(ledger_runs))} computed from the ledger's rows; figures {same}")
    print(f"B3 book {args.size}: {n_invoices:,} invoices, {n_open:,} open, {n_rows:,} rows of daily totals; "
          f"loaded in {t_load['s']:.1f} s; peak {peak_mb():,.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
