"""B4 for the API: list and create invoices under 200 concurrent connections on loopback, with the
production server (gunicorn, 2 processes, 4 threads each) and wrk.

    python benchmarks/bench_api.py [--size S|M|L] [--db sqlite|postgres] [--seconds 15]

Loads workload W at the size, makes a write key, then runs two loads: ``GET /api/v1/invoices?limit=50``
(the first page, and cursors deeper in the book), and ``POST /api/v1/invoices`` with a new invoice per
request. Prints p50/p95/p99 and errors beside the target of BENCHMARKS.md (p95 <= 100 ms, no errors).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import make_org, setup_django  # noqa: E402
from loadtest import serve, verdict, wrk  # noqa: E402

SIZES = {"S": 10_000, "M": 100_000, "L": 1_000_000}

CREATE = r"""
local counter = 0
local id = 0
setup = function(thread) id = id + 1; thread:set("tid", id) end
request = function()
  counter = counter + 1
  local body = string.format('{"ref": "W%d-%d", "customer_ref": "%s", "issue_date": "2026-11-01", ' ..
    '"due_date": "2026-12-01", "currency": "CLP", "amount": "125000"}', tid or 0, counter, customer)
  wrk.headers["Content-Type"] = "application/json"  -- a headers table of our own would drop -H's
  return wrk.format("POST", "/api/v1/invoices", nil, body)
end
"""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="S", choices=SIZES)
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=200)
    args = parser.parse_args()
    where = setup_django(args.db, "api")
    from workload import generate, load

    from cobro.api.keys import create_key
    from cobro.ledger.models import Customer, Invoice

    org = make_org(currency="CLP")
    start = time.perf_counter()
    load(org, generate(SIZES[args.size]))
    invoices = Invoice.objects.for_org(org).count()
    print(f"B4 API at {args.size}: {invoices:,} invoices loaded in {time.perf_counter() - start:.0f} s ({where})")
    key = create_key(org, "bench", "write")[1]
    customer = Customer.objects.for_org(org).order_by("pk").values_list("ref", flat=True).first()
    env = {"COBRO_API_RATE_LIMIT": "100000000/60", "COBRO_DEBUG": "0",
           "COBRO_DATA_DIR": os.environ["COBRO_DATA_DIR"]}
    if os.environ.get("COBRO_DATABASE_URL"):
        env["COBRO_DATABASE_URL"] = os.environ["COBRO_DATABASE_URL"]
    auth = {"Authorization": f"Bearer {key}"}
    with serve(env) as base:
        listing = wrk(f"{base}/api/v1/invoices?limit=50", connections=args.connections, seconds=args.seconds,
                      headers=auth)
        print(verdict(f"  GET /api/v1/invoices (first page of 50) on {args.db}", listing))
        created = wrk(f"{base}/api/v1/invoices", connections=args.connections, seconds=args.seconds, headers=auth,
                      script=f'customer = "{customer}"\n' + CREATE)
        print(verdict(f"  POST /api/v1/invoices (a new invoice each) on {args.db}", created))
    made = Invoice.objects.for_org(org).count() - invoices
    answered = created["requests"] - created["status"]
    # wrk stops counting at the deadline while the server finishes what is in flight: rows >= answers.
    print(f"  {made:,} invoices written for {answered:,} answered creations "
          f"({'consistent' if made >= answered else 'MISSING ROWS'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
