"""B3: ageing buckets + DSO + CEI for one organization (target ≤ 200 ms at L).

    python benchmarks/bench_metrics.py --size L [--db sqlite|postgres] [--runs 5]

Loads workload W through the real importer, then times, median of ``--runs``:
- ``book``: the ageing on the period's last day and the opening balance CEI needs (GROUP BY in the
  database over invoices, allocations and credit notes);
- ``dso``: a year of daily sales (one GROUP BY) and the standard and countback DSO;
- ``cei``: the engine's CEI over the loaded sums (the loading is in ``book`` and ``dso``);
- the whole Dashboard (every figure, including collections, promises and messages);
- for comparison, today's ageing by reading the open book's columns into Python (``values_list``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from common import make_org, peak_mb, setup_django, timer

TARGET_MS = 200


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="S")
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    setup_django(args.db, f"metrics_{args.size.lower()}")
    from workload import generate, load

    from cobro.engine import metrics
    from cobro.insights import services
    from cobro.ledger.models import Invoice

    wl = generate(args.size)
    org = make_org()
    with timer() as t_load:
        load(org, wl)
    n_invoices = Invoice.objects.for_org(org).count()
    n_open = Invoice.objects.for_org(org).filter(status="open").count()
    period = services.make_period(wl.as_of, "90d")

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
        services.dashboard(org, period)
        dash.append(time.perf_counter() - start)
    python_path = []
    for _ in range(args.runs):
        start = time.perf_counter()
        by_python = services.load_ageing_python(org, wl.as_of)
        python_path.append(time.perf_counter() - start)
    today_sql = services.load_book(org, wl.as_of, wl.as_of).ending
    agree = "agree" if by_python == today_sql else "DISAGREE"

    verdict = "ok" if med["total"] * 1000 <= TARGET_MS else "ABOVE TARGET"
    print(f"B3 metrics {args.size} {args.db}: {_ms(med['total'])} (ageing {_ms(med['book'])}, "
          f"dso {_ms(med['dso'])}, cei {_ms(med['cei'])}); target {TARGET_MS} ms {verdict}")
    print(f"B3 dashboard {args.size} {args.db}: {_ms(statistics.median(dash))} (every figure of the page)")
    print(f"B3 ageing by values_list + Python {args.size} {args.db}: {_ms(statistics.median(python_path))} "
          f"vs GROUP BY {_ms(med['book'])}; results {agree}")
    print(f"B3 book {args.size}: {n_invoices:,} invoices, {n_open:,} open; loaded in {t_load['s']:.1f} s; "
          f"peak {peak_mb():,.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
