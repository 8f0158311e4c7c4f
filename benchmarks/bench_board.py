"""The board and the customer page at 10,000 customers (issue 6: "must stay fast").

    python benchmarks/bench_board.py [--customers 10000] [--db sqlite|postgres] [--runs 5]

Loads workload W with five invoices per customer, then times the board's first page (every column's
count and total, 20 cards per column), one lazy-loaded page of a column, today's worklist, and a
customer page, through Django's test client (the whole request: middleware, queries, templates).
Prints medians and the number of queries of each page.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import make_org, setup_django  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    where = setup_django(args.db, "board")
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from workload import generate, load

    from cobro.ledger.models import Customer, Membership
    from cobro.ledger.services import create_task

    wl = generate(args.customers * 5)
    org = make_org()
    start = time.perf_counter()
    load(org, wl)
    print(f"loaded {Customer.objects.for_org(org).count():,} customers in {time.perf_counter() - start:.1f} s ({where})")
    user = get_user_model().objects.create_user("bench-agent", password="x" * 12)
    Membership.objects.create(user=user, organization=org, role="agent")
    ids = list(Customer.objects.for_org(org).values_list("pk", flat=True)[:200])
    from cobro.workspace.views import org_today

    today = org_today(org)
    for cid in ids:
        create_task(org, cid, "call", "Llamar", today, source_key=f"bench:{cid}")
    client = Client()
    client.force_login(user)

    def measure(path: str) -> tuple[float, int]:
        client.get(path)  # warm
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            response = client.get(path)
            times.append(time.perf_counter() - t0)
            assert response.status_code == 200, (path, response.status_code)
        with CaptureQueriesContext(connection) as ctx:
            client.get(path)
        return statistics.median(times), len(ctx.captured_queries)

    for label, path in (("board", "/board/"), ("board, one column page", "/board/column/vencida/?offset=20"),
                        ("board, filtered by country", "/board/?country=CL"),
                        ("today (200 tasks)", "/today/"), ("customer page", f"/customers/{ids[0]}/")):
        median, queries = measure(path)
        print(f"{label:<28} median {median * 1000:7.1f} ms  {queries:3d} queries")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
