"""B5: messages rendered and handed to a local SMTP server, per second (target ≥ 200/s).

    python benchmarks/bench_messages.py --size S [--db sqlite|postgres] [--runs 3]

Sets up customers with contacts and open invoices (two per message, two currencies), the default
templates, and a real SMTP server (aiosmtpd) on 127.0.0.1. Each run queues a fresh batch of email
messages and times ``outbox.deliver``: claim, render (text + HTML), tone check, SMTP hand-off over one
connection, "sent" and the timeline event. In the same run it times rendering alone, so the ratio
shows what the SMTP hand-off and the bookkeeping cost on this machine.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import time

from common import make_org, peak_mb, setup_django

SIZES = {"S": 1_000, "M": 3_000, "L": 10_000}
TARGET = 200


class Sink:
    def __init__(self, counter):
        self.counter = counter

    async def handle_DATA(self, server, session, envelope):
        with self.counter.get_lock():
            self.counter.value += 1
        return "250 OK"


def serve(port: int, counter, ready, stop) -> None:
    """The SMTP server in its own process, as a real one would be (not sharing the sender's GIL)."""
    from aiosmtpd.controller import Controller

    smtp = Controller(Sink(counter), hostname="127.0.0.1", port=port)
    smtp.start()
    ready.set()
    stop.wait()
    smtp.stop()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="S")
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    n = SIZES[args.size.upper()]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    os.environ.update({"COBRO_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                       "COBRO_EMAIL_HOST": "127.0.0.1", "COBRO_EMAIL_PORT": str(port)})
    where = setup_django(args.db, f"messages_{args.size.lower()}")
    import datetime as dt
    import multiprocessing as mp

    from django.utils import timezone

    from cobro.ledger.models import Contact, Customer, Invoice
    from cobro.messaging import outbox, services
    from cobro.messaging.models import Message
    from cobro.messaging.render import Renderer

    org = make_org("b5", "CLP")
    services.install_default_templates(org)
    today = timezone.localdate()
    customers = Customer.objects.bulk_create(
        [Customer(organization=org, ref=f"C{i}", name=f"Cliente {i} Ltda", country="CL", timezone="America/Santiago",
                  language=("es", "en", "pt-BR")[i % 3]) for i in range(n)], batch_size=2000)
    Contact.objects.bulk_create([Contact(organization=org, customer=c, name=f"Contacto {c.ref}",
                                         email=f"{c.ref.lower()}@example.com") for c in customers], batch_size=2000)
    invoices = Invoice.objects.bulk_create(
        [Invoice(organization=org, customer=c, ref=f"F-{c.ref}-{k}", issue_date=today - dt.timedelta(days=40),
                 due_date=today - dt.timedelta(days=10 - k), currency=("CLP", "EUR")[k], amount=1_000_000 + k,
                 open_amount=1_000_000 + k) for c in customers for k in (0, 1)], batch_size=2000)
    by_customer: dict[int, list[int]] = {}
    for inv in invoices:
        by_customer.setdefault(inv.customer_id, []).append(inv.pk)

    def queue(run: int) -> None:
        now = timezone.now()
        Message.objects.bulk_create(
            [Message(organization=org, customer=c, key=f"b5:{run}:{c.pk}", template="overdue_neutral",
                     channel="email", invoice_ids=by_customer[c.pk], scheduled_for=now, next_attempt_at=now)
             for c in customers], batch_size=2000)

    ctx = mp.get_context("spawn")
    counter, ready, stop = ctx.Value("i", 0), ctx.Event(), ctx.Event()
    server = ctx.Process(target=serve, args=(port, counter, ready, stop), daemon=True)
    server.start()
    ready.wait(30)
    try:
        rates, render_rates, cpu_rates = [], [], []
        for run in range(args.runs):
            queue(run)
            msgs = list(Message.objects.for_org(org).filter(key__startswith=f"b5:{run}:"))
            start = time.perf_counter()
            renderer = Renderer(org, msgs)
            for m in msgs:
                renderer.render(m)
            render_rates.append(n / (time.perf_counter() - start))
            start, cpu = time.perf_counter(), time.process_time()
            report = outbox.deliver(org, batch=200, limiter=outbox.RateLimiter({}))
            elapsed = time.perf_counter() - start
            # CPU seconds of this process (the SMTP server is another): steadier than wall time on a
            # shared machine, and what one free core would turn into messages per second.
            cpu_rates.append(n / max(time.process_time() - cpu, 1e-9))
            if report.sent != n:
                print(f"B5: only {report.sent} of {n} sent: {report.as_dict()}", file=sys.stderr)
                return 1
            rates.append(n / elapsed)
    finally:
        stop.set()
        server.join(10)
    rate, render_rate = statistics.median(rates), statistics.median(render_rates)
    load = os.getloadavg()[0]
    print(f"B5 messages rendered and sent to loopback SMTP {args.db}: {rate:,.0f} msg/s median of {args.runs} "
          f"({n:,} messages each; runs {', '.join(f'{r:,.0f}' for r in rates)}), render only {render_rate:,.0f} "
          f"msg/s (ratio {render_rate / rate:.1f}), {statistics.median(cpu_rates):,.0f} msg per CPU-second, "
          f"load average {load:.1f}, SMTP received {counter.value:,}, peak {peak_mb():,.0f} MB "
          f"— target ≥ {TARGET}/s {'met' if rate >= TARGET else 'NOT met'} [{where}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
