"""B8: the daily cycle split into shards, run by 1, 2 and 4 worker processes on PostgreSQL (#16).

    python benchmarks/bench_shards.py --size M [--workers 1,2,4] [--runs 2] [--backend db|rq] [--first-run]
                                      [--reuse DIR]

The book is workload W with bench_cycle's contact history, opt-outs and holds, on a normal day
(yesterday's run on record; ``--first-run``: none, so every overdue invoice has a step). For each number of workers N: N worker processes are started and warmed
up first (the database queue's ``db_worker``, polling every 0.05 s, or an RQ worker; one uncounted
run imports what a shard needs), then the clock
runs from ``shards.begin`` (the day prepared, its fingerprint taken, N shard tasks enqueued, what
``cobro cycle --shards N`` does) until the day's ``CycleRun`` is closed by the last shard. Today's
actions, tasks and outbox rows are deleted between runs. "one process" is ``run_cycle`` in this
process, unsplit, for comparison. Every run must create the same number of actions.

Figures are wall times: on a machine shared with other work they are pessimistic, and N workers
cannot go faster than the cores free to them (the load average is printed).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import time

from common import ROOT

#: Targets (ours; the issue asks for the figures): N workers take at most this share of one worker's time.
TARGET_SHARE = {1: 1.0, 2: 0.6, 4: 0.35}


def start_workers(n: int, backend: str) -> list[subprocess.Popen]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    if backend == "rq":
        cmd = [sys.executable, "-c", "import django, os; django.setup(); "
               "from cobro.dunning.management.commands.worker import process_queue; process_queue(once=False)"]
    else:
        cmd = [sys.executable, "-m", "cobro", "db_worker", "--interval", "0.05", "--no-reload"]
    return [subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(n)]


def wait_closed(org, as_of, timeout: float = 1800) -> None:
    from cobro.dunning.models import CycleRun

    deadline = time.monotonic() + timeout
    while not CycleRun.objects.for_org(org).filter(as_of=as_of, finished_at__isnull=False).exists():
        if time.monotonic() > deadline:
            raise SystemExit("the shards did not finish")
        time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="M")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--backend", choices=("db", "rq"), default="db")
    parser.add_argument("--first-run", action="store_true",
                        help="no earlier run on record: a first run over the whole book (many more actions)")
    parser.add_argument("--reuse", default="", help="the data folder of an earlier run (its book is kept)")
    args = parser.parse_args()
    os.environ["COBRO_TASKS_BACKEND"] = args.backend
    from bench_cycle import extras, load_book, reset, t0_aware
    from common import PG_URL, make_org, setup_django

    label = f"shards_{args.size.lower()}"
    if args.reuse:
        import django

        os.environ["COBRO_DATA_DIR"] = args.reuse
        os.environ["COBRO_DATABASE_URL"] = PG_URL.rsplit("/", 1)[0] + f"/cobro_{label}"
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cobro.settings")
        django.setup()
    else:
        setup_django("postgres", label)
        print(f"   data folder: {os.environ['COBRO_DATA_DIR']} (pass --reuse to measure it again)", file=sys.stderr)
    import datetime as dt

    from workload import AS_OF, generate

    from cobro.dunning import shards
    from cobro.dunning.cycle import run_cycle
    from cobro.dunning.models import CycleRun, CycleShard
    from cobro.ledger.models import Invoice, Organization

    as_of = AS_OF
    if args.reuse:
        org = Organization.objects.get(slug="bench")
    else:
        t0 = time.perf_counter()
        wl = generate(args.size)
        org = make_org()
        load_book(org, wl)
        extras(org, wl)
        CycleRun.objects.create(organization=org, as_of=as_of - dt.timedelta(days=1), started_at=t0_aware(),
                                finished_at=t0_aware())
        print(f"   set-up {args.size}: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        del wl  # the generated rows would slow this process's unsplit run (the garbage collector walks them)
        gc.collect()

    yesterday = CycleRun.objects.for_org(org).filter(as_of=as_of - dt.timedelta(days=1))
    if args.first_run:
        yesterday.delete()  # no run on record: every overdue invoice has a step today
    elif not yesterday.exists():
        CycleRun.objects.create(organization=org, as_of=as_of - dt.timedelta(days=1), started_at=t0_aware(),
                                finished_at=t0_aware())

    def fresh():
        reset(org, as_of)
        CycleShard.objects.for_org(org).filter(as_of=as_of).delete()

    open_n = Invoice.objects.for_org(org).filter(status="open").count()
    one, created = [], set()
    for _ in range(args.runs):
        fresh()
        start = time.perf_counter()
        created.add(len(run_cycle(org, as_of).created))
        one.append(time.perf_counter() - start)
    results = {}
    for n in (int(x) for x in args.workers.split(",")):
        procs = start_workers(n, args.backend)
        time.sleep(8)  # Django set-up of each worker, before the clock runs
        times = []
        try:
            for run in range(args.runs + 1):
                fresh()
                start = time.perf_counter()
                shards.begin(org, as_of, n)
                wait_closed(org, as_of)
                if run:  # the first run warms the workers up (imports, connections): not counted
                    times.append(time.perf_counter() - start)
                created.add(CycleRun.objects.for_org(org).get(as_of=as_of).created)
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:  # an idle RQ worker waits on Redis before it stops
                    proc.kill()
                    proc.wait()
        results[n] = times
    load = os.getloadavg()
    base = statistics.median(results.get(1, one))
    day = "first run" if args.first_run else "normal day"
    print(f"B8 cycle in shards, size {args.size} ({open_n:,} open invoices, {day}), PostgreSQL, {args.backend} queue, "
          f"{os.cpu_count()} cores shared (load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f})")
    print(f"   one process, unsplit: {statistics.median(one):.2f} s (runs {', '.join(f'{t:.2f}' for t in one)})")
    for n, times in results.items():
        med = statistics.median(times)
        share = med / base
        target = TARGET_SHARE.get(n)
        verdict = "" if target is None else f"  target <= {target:.2f} of 1 worker: {'ok' if share <= target else 'MISSED'}"
        print(f"   {n} worker(s): {med:.2f} s (runs {', '.join(f'{t:.2f}' for t in times)}), "
              f"{share:.2f} of 1 worker, speed-up {base / med:.2f}x{verdict}")
    print(f"   actions created per run: {sorted(created)} (must be one number)")
    if len(created) != 1:
        raise SystemExit("the runs did not create the same actions")


if __name__ == "__main__":
    main()
