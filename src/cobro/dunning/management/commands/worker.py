import threading

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connections
from django.utils import timezone

from cobro.dunning import heartbeat
from cobro.dunning.shards import requeue_stale
from cobro.dunning.tasks import enqueue_due


def uses_rq() -> bool:
    return settings.TASKS["default"]["BACKEND"] == settings.TASK_BACKENDS["rq"]


def process_queue(once: bool) -> None:
    """Run the task queue: the database queue (``db_worker``), or RQ over Redis (COBRO_TASKS_BACKEND=rq).

    ``once``: until the queue is empty, then return. RQ runs each job in the worker's own process
    (``rq.SimpleWorker``, no fork): a worker killed mid-shard takes only its shard with it, and the
    shard's lease hands it on (docs/scaling.md).
    """
    if not uses_rq():
        call_command("db_worker", batch=once)
        return
    from django_rq import get_worker
    from django_tasks_rq import Job
    from rq import SimpleWorker

    connections.close_all()
    get_worker("default", job_class=Job, worker_class=SimpleWorker).work(burst=once, with_scheduler=False)


def deliver_webhooks():
    """Outgoing webhooks that are due (docs/api.md): the worker delivers them between schedule checks."""
    from cobro.api.webhooks import deliver_due

    deliver_due()


def deliver_outbox(stand_in: str | None = None) -> dict:
    """Every due message of every organization (a message sent by hand leaves on the next pass)."""
    try:
        from cobro.messaging import outbox
    except ImportError:  # pragma: no cover - an installation without the messaging app
        return {}
    return outbox.deliver(None, stand_in=stand_in).as_dict()


class Command(BaseCommand):
    help = ("Run the background worker: enqueue each organization's daily cycle at its local hour "
            "(option cycle_hour, default 08:00), deliver the outbox and the webhooks that are due, process "
            "the task queue (the database queue, or RQ over Redis with COBRO_TASKS_BACKEND=rq), put back "
            "cycle shards whose worker stopped, and record a heartbeat on every pass (shown on the settings pages).")

    def add_arguments(self, parser):
        parser.add_argument("--every", type=int, default=60, help="seconds between passes (default 60)")
        parser.add_argument("--once", action="store_true",
                            help="one pass: enqueue what is due, deliver, process the queue until empty, and exit")
        parser.add_argument("--demo", action="store_true",
                            help="messages of channels that are turned off leave through the demo transport "
                                 "instead of failing (what `cobro run` uses for the demo)")

    def one_pass(self, enqueued: set, stand_in: str | None, started, process_queue=None) -> None:
        queued = enqueue_due(already=enqueued)
        for pk, day in queued:
            self.stdout.write(f"enqueued cycle of organization {pk} for {day}")
        requeued = requeue_stale()
        for org_id, day, index, count in requeued:
            self.stdout.write(f"requeued shard {index}/{count} of organization {org_id} for {day} (its worker stopped)")
        if process_queue is not None:
            process_queue()
        report = deliver_outbox(stand_in)
        if report.get("sent") or report.get("failed"):
            self.stdout.write(f"outbox: {report}")
        deliver_webhooks()
        heartbeat.beat(last={"cycles": len(queued), "shards_requeued": len(requeued), "outbox": report},
                       started_at=started)

    def handle(self, *args, every, once, demo, **opts):
        enqueued: set = set()
        stand_in = "demo" if demo else None
        started = timezone.now()
        if once:
            self.one_pass(enqueued, stand_in, started, lambda: process_queue(once=True))
            return
        stop = threading.Event()

        def schedule():
            while not stop.is_set():
                try:
                    self.one_pass(enqueued, stand_in, started)
                except Exception as exc:  # a bad moment of the database must not kill the scheduler
                    self.stderr.write(f"scheduler: {exc}")
                stop.wait(every)

        thread = threading.Thread(target=schedule, name="cobro-scheduler", daemon=True)
        thread.start()
        try:
            process_queue(once=False)
        finally:
            stop.set()
