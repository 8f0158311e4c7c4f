import threading

from django.core.management import call_command
from django.core.management.base import BaseCommand

from cobro.dunning.tasks import enqueue_due


def deliver_webhooks():
    """Outgoing webhooks that are due (docs/api.md): the worker delivers them between schedule checks."""
    from cobro.api.webhooks import deliver_due

    deliver_due()


class Command(BaseCommand):
    help = ("Run the background worker: enqueue each organization's daily cycle at its local hour "
            "(option cycle_hour, default 08:00) and process the task queue (messages to the outbox...).")

    def add_arguments(self, parser):
        parser.add_argument("--every", type=int, default=60, help="seconds between schedule checks (default 60)")
        parser.add_argument("--once", action="store_true",
                            help="enqueue what is due, process the queue until empty, and exit")

    def handle(self, *args, every, once, **opts):
        enqueued: set = set()
        if once:
            for pk, day in enqueue_due(already=enqueued):
                self.stdout.write(f"enqueued cycle of organization {pk} for {day}")
            call_command("db_worker", batch=True)
            deliver_webhooks()
            return
        stop = threading.Event()

        def schedule():
            while not stop.is_set():
                try:
                    for pk, day in enqueue_due(already=enqueued):
                        self.stdout.write(f"enqueued cycle of organization {pk} for {day}")
                    deliver_webhooks()
                except Exception as exc:  # a bad moment of the database must not kill the scheduler
                    self.stderr.write(f"scheduler: {exc}")
                stop.wait(every)

        thread = threading.Thread(target=schedule, name="cobro-scheduler", daemon=True)
        thread.start()
        try:
            call_command("db_worker")
        finally:
            stop.set()
