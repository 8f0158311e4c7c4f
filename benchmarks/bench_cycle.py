"""B1, B1s and B6: the daily cycle on workload W (targets in BENCHMARKS.md).

    python benchmarks/bench_cycle.py --size L [--db sqlite|postgres] [--runs 3]
    python benchmarks/bench_cycle.py --size S,M,L          # B1s: growth with the open book

Workload W comes from ``workload.py`` (customers, invoices, payments through the real importer). This
script adds what only the engine knows: contact history over the last 30 days (messages sent, calls
with 5 % real conversations, so caps and cool-downs bite), 1 % of debtors opted out of a channel,
and 17 % of debtors on hold (standing for promises, plans and disputes; they are loaded the same
way). The cycle is measured as a normal day: yesterday's run is on record, so today's steps are
the ones that fall due today. Each run is on a fresh copy of the actions (deleted between runs).

Figures: B1 = full cycle (agreements settled, load, decide, persist actions, tasks and outbox rows);
"scan" = one raw read of the same columns with a plain cursor, in the same run; the ratio is B1/scan.
``--segments``: four segments route customers to a second policy by risk band (a stored band for every
customer), open amount, country, tags and days since the first invoice, so the cycle reads what they
ask for and chooses a policy per customer.
B6 = a re-run for the same day, both unchanged (fast path) and after a change in the book (full
re-plan); both must create nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time

from common import make_org, peak_mb, setup_django

TARGET_L_S = 10.0
TARGET_RATIO = 3.0


def extras(org, wl) -> None:
    """Contact history, opt-outs and holds, deterministic from the workload's seed."""
    from cobro.dunning.models import Pause
    from cobro.ledger.models import Customer, TimelineEvent
    from cobro.messaging.models import OptOut

    rng = wl.extras_rng
    as_of = wl.as_of
    events, pauses, optouts = [], [], []
    for cid in Customer.objects.for_org(org).values_list("pk", flat=True).order_by("pk"):
        for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
            at = dt.datetime.combine(as_of - dt.timedelta(days=rng.randint(1, 30)), dt.time(14), tzinfo=dt.UTC)
            channel = rng.choice(("email", "email", "whatsapp", "sms"))
            events.append(TimelineEvent(organization=org, customer_id=cid, at=at, kind="message.sent",
                                        summary="mensaje", data={"channel": channel}))
        if rng.random() < 0.10:
            at = dt.datetime.combine(as_of - dt.timedelta(days=rng.randint(1, 20)), dt.time(15), tzinfo=dt.UTC)
            outcome = "reached" if rng.random() < 0.5 else "no_answer"
            events.append(TimelineEvent(organization=org, customer_id=cid, at=at, kind="call.logged",
                                        summary="llamada", data={"outcome": outcome}))
        if rng.random() < 0.17:
            pauses.append(Pause(organization=org, customer_id=cid, until=as_of + dt.timedelta(days=rng.randint(1, 30)),
                                reason="promesa, plan o disputa"))
        if rng.random() < 0.01:
            optouts.append(OptOut(organization=org, customer_id=cid, channel=rng.choice(("email", "whatsapp", "sms")),
                                  source="manual", at=dt.datetime.combine(as_of, dt.time(), tzinfo=dt.UTC)))
    TimelineEvent.objects.bulk_create(events, batch_size=5000)
    Pause.objects.bulk_create(pauses, batch_size=5000)
    OptOut.objects.bulk_create(optouts, batch_size=5000)


def load_book(org, wl, chunk: int = 25_000) -> None:
    """Workload W through the real importer, in files of ``chunk`` rows.

    The importer looks up every reference of a file in one query; SQLite refuses more than 32,766
    parameters, so the L payments file is given in parts.
    """
    import csv
    import io

    from workload import CUSTOMER_COLUMNS, INVOICE_COLUMNS, PAYMENT_COLUMNS

    from cobro.ledger.importing import import_file

    for kind, header, rows in (("customers", CUSTOMER_COLUMNS, wl.customers),
                               ("invoices", INVOICE_COLUMNS, wl.invoices),
                               ("payments", PAYMENT_COLUMNS, wl.payments)):
        for start in range(0, len(rows), chunk):
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows[start:start + chunk])
            import_file(org, kind, buf.getvalue().encode("utf-8"))


def raw_scan(org, as_of) -> float:
    """One plain read of the columns the cycle reads, with a cursor (the floor for the ratio)."""
    from django.db import connection

    since = dt.datetime.combine(as_of - dt.timedelta(days=35), dt.time(), tzinfo=dt.UTC)
    queries = [
        ("SELECT id, customer_id, ref, due_date, currency, open_amount FROM ledger_invoice "
         "WHERE organization_id = %s AND status = 'open' AND open_amount > 0", [org.pk]),
        ("SELECT id, ref, country, timezone, preferred_channel, segment FROM ledger_customer "
         "WHERE organization_id = %s", [org.pk]),
        ("SELECT customer_id, email, phone, whatsapp, consent_email, consent_sms, consent_whatsapp, consent_call "
         "FROM ledger_contact WHERE organization_id = %s", [org.pk]),
        ("SELECT customer_id, at, kind, data FROM ledger_timelineevent WHERE organization_id = %s "
         "AND kind IN ('message.sent', 'message.reply', 'call.logged') AND at >= %s", [org.pk, since]),
    ]
    start = time.perf_counter()
    with connection.cursor() as cur:
        for sql, params in queries:
            cur.execute(sql, params)
            while cur.fetchmany(20000):
                pass
    return time.perf_counter() - start


def reset(org, as_of) -> None:
    """Forget today's run (actions, tasks, outbox, events it wrote) so the next run is a first run."""
    from cobro.dunning.models import Action, CycleRun
    from cobro.ledger.models import Task
    from cobro.messaging.models import Message

    Message.objects.filter(organization=org).delete()
    Action.objects.for_org(org).filter(as_of=as_of).delete()
    Task.objects.for_org(org).filter(source_key__startswith="dunning:").delete()
    CycleRun.objects.for_org(org).filter(as_of=as_of).delete()


def add_segments(org, as_of) -> None:
    """A second policy, four segments over every kind of condition, and a stored band per customer."""
    import random

    from cobro.dunning import segments, services
    from cobro.dunning.models import CustomerRisk, Segment
    from cobro.ledger.models import Customer

    if Segment.objects.for_org(org).exists():
        return
    services.ensure_default_policy(org)
    services.import_policies(org, "code: firme\nname: Firme\nsteps:\n"
                                  "  - {code: '+2', offset: 2, action: message, channel: preferred, "
                                  "template: overdue_firm, tone: firm}\n"
                                  "  - {code: '+9', offset: 9, action: call_task, channel: call, "
                                  "template: overdue_firm, tone: firm}\n")
    rng = random.Random(7)
    CustomerRisk.objects.bulk_create([
        CustomerRisk(organization=org, customer_id=cid, score=s, band="high" if s >= 60 else "medium" if s >= 30
                     else "low", scored_on=as_of)
        for cid in Customer.objects.for_org(org).values_list("pk", flat=True) for s in [rng.randint(0, 100)]],
        batch_size=5000)
    for data in ({"name": "Altos grandes", "policy": "firme", "bands": ["high"], "currency": "CLP",
                  "amount_min": 1_000_000},
                 {"name": "Nuevos", "policy": "firme", "bands": [], "days_max": 60},
                 {"name": "Exterior", "policy": "estandar", "bands": [], "countries": ["MX", "CO", "PE"]},
                 {"name": "Pymes medias", "policy": "firme", "bands": ["medium"], "tags": ["pyme"]}):
        segments.save_segment(org, data)


def bench(size: str, db: str, runs: int, simulate_year: bool = False, reuse: str = "",
          with_segments: bool = False) -> dict:
    if reuse:
        # A book loaded by an earlier run of this script (its data folder): set-up at L takes long.
        import django

        os.environ["COBRO_DATA_DIR"] = reuse
        if db == "postgres":
            from common import PG_URL

            os.environ["COBRO_DATABASE_URL"] = PG_URL.rsplit("/", 1)[0] + f"/cobro_cycle_{size.lower()}"
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cobro.settings")
        django.setup()
    else:
        setup_django(db, f"cycle_{size.lower()}")
        print(f"   data folder: {os.environ['COBRO_DATA_DIR']} (pass --reuse to measure it again)",
              file=sys.stderr)
    from workload import AS_OF, generate

    from cobro.dunning.cycle import load_snapshot, run_cycle
    from cobro.dunning.models import CycleRun
    from cobro.engine.plan import plan
    from cobro.ledger.models import Organization, TimelineEvent

    as_of = AS_OF
    if reuse:
        org = Organization.objects.get(slug="bench")
    else:
        wl = generate(size)
        org = make_org()
        t0 = time.perf_counter()
        load_book(org, wl)
        extras(org, wl)
        print(f"   set-up {size} {db}: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        # Yesterday's cycle is on record: today is a normal day, not a first run over the whole history.
        CycleRun.objects.create(organization=org, as_of=as_of - dt.timedelta(days=1), started_at=t0_aware(),
                                finished_at=t0_aware())
    TimelineEvent.objects.for_org(org).filter(kind="note", summary="un cambio en el libro").delete()
    if with_segments:
        add_segments(org, as_of)
    times, scans, loads, plans = [], [], [], []
    created = 0
    for _ in range(runs):
        reset(org, as_of)
        scans.append(raw_scan(org, as_of))
        start = time.perf_counter()
        snap = load_snapshot(org, as_of)
        loads.append(time.perf_counter() - start)
        start = time.perf_counter()
        plan(snap)
        plans.append(time.perf_counter() - start)
        del snap
        start = time.perf_counter()
        result = run_cycle(org, as_of)
        times.append(time.perf_counter() - start)
        created = len(result.created)
    start = time.perf_counter()
    same = run_cycle(org, as_of)
    rerun = time.perf_counter() - start
    TimelineEvent.objects.create(organization=org, customer_id=snap_customer(org), at=t0_aware(), kind="note",
                                 summary="un cambio en el libro")
    start = time.perf_counter()
    changed = run_cycle(org, as_of)
    rerun_changed = time.perf_counter() - start
    from cobro.ledger.models import Invoice

    open_n = Invoice.objects.for_org(org).filter(status="open").count()
    sim = None
    if simulate_year:
        from cobro.dunning.simulate import simulate

        start = time.perf_counter()
        replayed = simulate(org, as_of - dt.timedelta(days=364), as_of)
        sim = (time.perf_counter() - start, len(replayed))
    return {"size": size, "db": db, "b1": statistics.median(times), "scan": statistics.median(scans),
            "load": statistics.median(loads), "plan": statistics.median(plans), "created": created,
            "open": open_n, "rerun": rerun, "rerun_new": len(same.created), "rerun_changed": rerun_changed,
            "rerun_changed_new": len(changed.created), "peak": peak_mb(), "runs": times, "sim": sim}


def t0_aware():
    from django.utils import timezone

    return timezone.now()


def snap_customer(org) -> int:
    from cobro.ledger.models import Customer

    return Customer.objects.for_org(org).values_list("pk", flat=True).first()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="S", help="S, M or L, or several: S,M,L (B1s)")
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--simulate", action="store_true", help="also replay the last year (cobro simulate)")
    parser.add_argument("--segments", action="store_true", help="segments choose the policy (see above)")
    parser.add_argument("--reuse", default="", help="data folder of an earlier run: skip the set-up "
                        "(with --db postgres, its database cobro_cycle_<size> is reused)")
    args = parser.parse_args()
    sizes = args.size.split(",")
    if len(sizes) > 1:
        # Each size in its own process: Django is set up once per process.
        import subprocess

        for size in sizes:
            subprocess.run([sys.executable, __file__, "--size", size, "--db", args.db, "--runs", str(args.runs),
                            *(["--simulate"] if args.simulate else [])], check=False)
        return 0
    r = bench(sizes[0], args.db, args.runs, args.simulate, args.reuse, args.segments)
    ratio = r["b1"] / r["scan"] if r["scan"] else float("inf")
    verdict = ""
    if r["size"] == "L":
        verdict = " ok" if r["b1"] <= TARGET_L_S and ratio <= TARGET_RATIO else " ABOVE TARGET"
    print(f"B1 cycle {r['size']} {r['db']}: {r['b1']:.2f} s (scan {r['scan']:.2f} s, ratio {ratio:.1f}; "
          f"load {r['load']:.2f} s, plan {r['plan']:.2f} s), {r['created']:,} actions, "
          f"{r['open']:,} open invoices, peak {r['peak']:,.0f} MB{verdict}")
    print(f"B1s cycle {r['size']} {r['db']}: {r['b1'] / max(r['open'], 1) * 1e6:.1f} µs per open invoice "
          f"(runs: {', '.join(f'{t:.2f}' for t in r['runs'])} s)")
    share = r["rerun"] / r["b1"] * 100
    share_changed = r["rerun_changed"] / r["b1"] * 100
    print(f"B6 re-run {r['size']} {r['db']}: {r['rerun']:.3f} s unchanged ({share:.0f} % of a first run), "
          f"{r['rerun_changed']:.2f} s after a change ({share_changed:.0f} %), "
          f"{r['rerun_new'] + r['rerun_changed_new']} new actions")
    if r["sim"]:
        print(f"SIM simulate {r['size']} {r['db']}: 365 days replayed in {r['sim'][0]:.1f} s, "
              f"{r['sim'][1]:,} actions (target: well under a minute for 10,000 invoices)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
