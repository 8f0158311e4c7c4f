"""Run by the shard tests in real subprocesses, on crash_worker's book and day (2026-03-04).

    python shard_worker.py build          # crash_worker's book; its daily hour never comes (no whole cycle
                                          # is enqueued by the workers' schedule: only the shards run)
    python shard_worker.py work SLOW ARGS # `cobro worker ARGS`, each shard in batches of two customers,
                                          # every batch announced on stdout ("batch SHARD N") and SLOW s
                                          # apart, so the test can kill a worker in the middle of a shard;
                                          # the outbox and webhooks are left alone (the test is the cycle's)
    python shard_worker.py status         # the day's shards as JSON
"""

import json
import sys
import time

import crash_worker  # sets Django up
from django.core.management import call_command  # noqa: E402

from cobro.dunning import shards  # noqa: E402
from cobro.dunning.management.commands import worker as worker_command  # noqa: E402
from cobro.dunning.models import CycleShard  # noqa: E402
from cobro.ledger.models import Organization  # noqa: E402


def build():
    crash_worker.build()
    Organization.objects.filter(slug="crash").update(options={"cycle_hour": 99})


def work(slow: float, *args: str):
    original = shards.run_cycle

    def slowly(org, as_of, **kw):
        index, beat = kw["shard"].index, kw["on_batch"]

        def after(n):
            beat(n)
            print(f"batch {index} {n}", flush=True)
            time.sleep(slow)

        return original(org, as_of, **{**kw, "batch_customers": 2, "on_batch": after})

    shards.run_cycle = slowly
    worker_command.deliver_outbox = lambda stand_in=None: {}
    worker_command.deliver_webhooks = lambda: None
    call_command("worker", *args)


def status():
    rows = CycleShard.objects.filter(as_of=crash_worker.AS_OF).order_by("count", "index").values(
        "count", "index", "worker", "attempts", "created", "finished_at")
    print(json.dumps([{**r, "finished_at": r["finished_at"] is not None} for r in rows]))


if __name__ == "__main__":
    {"build": build, "status": status}.get(sys.argv[1], lambda: work(float(sys.argv[2]), *sys.argv[3:]))()
