"""How long the policies page takes to count the customers each segment holds today (``held_today``).

    python benchmarks/bench_segments.py [--size S|M|L] [--db sqlite|postgres] [--customers N]
                                        [--invoices-each 5] [--open-share 0.3]

A fresh book (``--size``: 2,000, 20,000 or 200,000 customers, unless ``--customers`` says): customers in four countries with tags, five invoices each issued over the last
900 days (``--open-share`` of them still open), a stored risk band per customer, and four segments
over every kind of condition (band and amount, days since the first invoice, countries, band and tag).
Prints each run's time and what each segment holds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import time

from common import make_org, setup_django

SIZES = {"S": 2_000, "M": 20_000, "L": 200_000}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="L", choices=sorted(SIZES))
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    parser.add_argument("--customers", type=int, default=0, help="default: by --size")
    parser.add_argument("--invoices-each", type=int, default=5)
    parser.add_argument("--open-share", type=float, default=0.3)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    args.customers = args.customers or SIZES[args.size]
    setup_django(args.db, f"segments_{args.size.lower()}")
    from cobro.dunning import segments, services
    from cobro.dunning.models import CustomerRisk
    from cobro.ledger.models import Customer, Invoice

    org = make_org(currency="CLP")
    services.ensure_default_policy(org)
    services.import_policies(org, "code: firme\nname: Firme\nsteps:\n  - {code: '+2', offset: 2, action: message, "
                                  "channel: preferred, template: overdue_firm, tone: firm}\n")
    rng, today = random.Random(1), dt.date(2026, 3, 2)
    Customer.objects.bulk_create([
        Customer(organization=org, ref=f"C{i}", name=f"C{i}", country=rng.choice(("CL", "MX", "CO", "PE")),
                 segment=rng.choice(("", "pyme", "corporativo", "pyme, exportador"))) for i in range(args.customers)],
        batch_size=5000)
    ids = list(Customer.objects.for_org(org).values_list("pk", flat=True))
    invoices = []
    for cid in ids:
        for k in range(args.invoices_each):
            amount = rng.randint(1, 5_000_000)
            is_open = rng.random() < args.open_share
            invoices.append(Invoice(organization=org, customer_id=cid, ref=f"F{cid}-{k}", currency="CLP",
                                    issue_date=today - dt.timedelta(days=rng.randint(1, 900)), due_date=today,
                                    amount=amount, open_amount=amount if is_open else 0,
                                    status="open" if is_open else "paid"))
        if len(invoices) >= 50_000:
            Invoice.objects.bulk_create(invoices, batch_size=5000)
            invoices = []
    Invoice.objects.bulk_create(invoices, batch_size=5000)
    CustomerRisk.objects.bulk_create([
        CustomerRisk(organization=org, customer_id=cid, score=s, scored_on=today,
                     band="high" if s >= 60 else "medium" if s >= 30 else "low")
        for cid in ids for s in [rng.randint(0, 100)]], batch_size=5000)
    for data in ({"name": "Altos grandes", "policy": "firme", "bands": ["high"], "currency": "CLP",
                  "amount_min": 1_000_000},
                 {"name": "Nuevos", "policy": "firme", "days_max": 60},
                 {"name": "Exterior", "policy": "estandar", "countries": ["MX", "CO"]},
                 {"name": "Pymes medias", "policy": "firme", "bands": ["medium"], "tags": ["pyme"]}):
        segments.save_segment(org, data)
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        held, own, rest = segments.held_today(org, today)
        times.append(time.perf_counter() - start)
    print(f"held_today {args.customers:,} customers, {len(ids) * args.invoices_each:,} invoices "
          f"({args.open_share:.0%} open), 4 segments, {args.db}: {statistics.median(times):.2f} s median "
          f"(runs: {', '.join(f'{t:.2f}' for t in times)}); held {dict(held)}, own {own}, in none {rest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
