"""B7: the daily cycle on Tryton's own dunning workload, for the side-by-side comparison (#16).

    python benchmarks/bench_tryton.py [--db sqlite|postgres] [--runs 5]

The workload is the one Tryton's dunning was measured on: 10,000 overdue lines, 2,000 customers with
five lines each, due dates spread evenly over the last 120 days. Cobro sees it as a first run (no cycle
on record), the analogue of Tryton's "generate dunnings" followed by "process dunnings" over lines that
have none yet.

Two figures:
- **in-process**: ``run_cycle`` alone, inside one Python process with Django set up and the book loaded
  (median of ``--runs``, today's actions forgotten between runs), split into load, plan and persist
  (persist = the cycle minus load and plan: actions, tasks, outbox rows and their events);
- **whole command**: a ``cobro cycle`` process on this book minus the same command on an empty
  organization (process start, Django set-up and migrations check are the same in both).

Target (issue #16): 100x Tryton's 6.7 s, i.e. at most 67 ms of the cycle's own work.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import time

from common import ROOT, make_org, peak_mb, setup_django

TARGET_MS = 67.0
TRYTON_S = 6.7
CUSTOMERS, LINES_EACH, SPREAD_DAYS = 2_000, 5, 120
AS_OF = dt.date(2026, 6, 30)


def load(org) -> int:
    """2,000 customers with an e-mail each, five overdue invoices each, due over the last 120 days,
    through the real importer (so every kept figure is as a real import leaves it)."""
    import csv
    import io

    from cobro.ledger.importing import import_file

    def csv_bytes(header, rows) -> bytes:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        return buf.getvalue().encode("utf-8")

    customers = [(f"T-{i:05d}", f"Cliente Tryton {i:05d}", f"pagos{i}@cliente.example", "CL", "America/Santiago")
                 for i in range(CUSTOMERS)]
    import_file(org, "customers", csv_bytes(("customer_ref", "name", "email", "country", "timezone"), customers))
    invoices = []
    for n in range(CUSTOMERS * LINES_EACH):
        due = AS_OF - dt.timedelta(days=1 + (n * SPREAD_DAYS) // (CUSTOMERS * LINES_EACH))
        invoices.append((f"F-{n:06d}", customers[n // LINES_EACH][0], (due - dt.timedelta(30)).isoformat(),
                         due.isoformat(), "CLP", str(100_000 + (n * 7919) % 900_000)))
    import_file(org, "invoices", csv_bytes(("invoice_ref", "customer_ref", "issue_date", "due_date", "currency",
                                            "amount"), invoices))
    return len(invoices)


def reset(org) -> None:
    from cobro.dunning.models import Action, CycleRun
    from cobro.ledger.models import Task, TimelineEvent
    from cobro.messaging.models import Message

    Message.objects.filter(organization=org).delete()
    Action.objects.for_org(org).delete()
    Task.objects.for_org(org).filter(source_key__startswith="dunning:").delete()
    CycleRun.objects.for_org(org).delete()
    TimelineEvent.objects.for_org(org).exclude(kind="note").delete()


def in_process(org, runs: int) -> dict:
    """Medians of wall time and of this process's CPU time (SQLite runs in-process, so its work counts;
    on a shared machine CPU time is the steadier of the two, PostgreSQL's own work is not in it)."""
    from cobro.dunning.cycle import load_snapshot, run_cycle
    from cobro.engine.plan import plan

    wall: dict[str, list[float]] = {"cycle": [], "load": [], "plan": []}
    cpu: dict[str, list[float]] = {"cycle": [], "load": [], "plan": []}
    created = 0

    def timed(name, fn):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        wall[name].append(time.perf_counter() - w)
        cpu[name].append(time.process_time() - c)
        return out

    for _ in range(runs):
        reset(org)
        snap = timed("load", lambda: load_snapshot(org, AS_OF))
        timed("plan", lambda snap=snap: plan(snap))
        del snap
        reset(org)
        created = len(timed("cycle", lambda: run_cycle(org, AS_OF)).created)

    def split(times):
        med = {k: statistics.median(v) for k, v in times.items()}
        med["persist"] = max(med["cycle"] - med["load"] - med["plan"], 0.0)
        return med
    return {**split(wall), "cpu": split(cpu), "created": created, "runs": wall["cycle"]}


def command_time(slug: str, runs: int) -> float:
    """Median wall time of a whole ``cobro cycle --org SLUG`` process (its output discarded)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "cobro", "cycle", "--org", slug, "--as-of", AS_OF.isoformat()],
                       check=True, stdout=subprocess.DEVNULL, env=os.environ.copy(), cwd=ROOT)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    where = setup_django(args.db, "tryton")
    org = make_org("tryton", currency="CLP")
    empty = make_org("empty", currency="CLP")
    t0 = time.perf_counter()
    lines = load(org)
    print(f"   set-up: {lines} overdue lines for {CUSTOMERS} customers in {time.perf_counter() - t0:.1f} s "
          f"({args.db}: {where})", file=sys.stderr)
    figures = in_process(org, args.runs)
    reset(org)
    full = command_time(org.slug, max(1, args.runs // 2))
    reset(org)
    baseline = command_time(empty.slug, max(1, args.runs // 2))
    own_ms = figures["cycle"] * 1000
    status = "ok" if own_ms <= TARGET_MS else "MISS"
    print(f"B7 Tryton workload on {args.db}: {lines} overdue lines, {CUSTOMERS} customers, "
          f"{figures['created']} actions")
    cpu = figures["cpu"]
    print(f"   cycle in-process  {own_ms:8.1f} ms  (target <= {TARGET_MS:.0f} ms) {status}; "
          f"{TRYTON_S / figures['cycle']:.0f}x Tryton's {TRYTON_S} s; CPU {cpu['cycle'] * 1000:.1f} ms")
    print(f"     load            {figures['load'] * 1000:8.1f} ms  (CPU {cpu['load'] * 1000:.1f} ms)")
    print(f"     plan            {figures['plan'] * 1000:8.1f} ms  "
          f"({figures['plan'] / CUSTOMERS * 1e6:.0f} us per customer; CPU {cpu['plan'] * 1000:.1f} ms)")
    print(f"     persist         {figures['persist'] * 1000:8.1f} ms  (actions, tasks, outbox, events; "
          f"CPU {cpu['persist'] * 1000:.1f} ms)")
    print(f"   whole command     {(full - baseline) * 1000:8.1f} ms  beyond an empty organization's "
          f"({full:.2f} s - {baseline:.2f} s)")
    print(f"   runs: {', '.join(f'{t * 1000:.0f}' for t in figures['runs'])} ms; peak {peak_mb():.0f} MB; "
          f"load average {open('/proc/loadavg').read().split()[0]}")


if __name__ == "__main__":
    main()
