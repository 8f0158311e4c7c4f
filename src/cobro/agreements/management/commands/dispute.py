from pathlib import Path

from cobro.agreements import services
from cobro.agreements.management.base import AgreementCommand, bad, money
from cobro.agreements.models import Dispute


def dispute_row(d: Dispute) -> dict:
    return {"id": d.pk, "customer_ref": d.customer.ref, "invoice_ref": d.invoice.ref, "status": d.status,
            "reason": d.reason, "text": d.text, "opened_at": d.opened_at, "resolved_at": d.resolved_at,
            "resolution_seconds": d.resolution_seconds, "credit_note_ref": d.credit_note_ref,
            "open_amount": money(d.invoice.open_amount, d.invoice.currency), "currency": d.invoice.currency}


class Command(AgreementCommand):
    help = "Disputes on invoices: open, answer, resolve, list, reasons (see docs/agreements.md)."
    subcommands = {"open": "open a dispute (pauses that invoice's collection)", "answer": "answer the customer",
                   "resolve": "resolve as valid (credit note) or invalid (collection resumes)",
                   "list": "list disputes", "reasons": "the organization's reasons"}

    def args_open(self, p):
        p.add_argument("--invoice", required=True, help="invoice ref")
        p.add_argument("--reason", required=True, help="reason code (see `cobro dispute reasons`)")
        p.add_argument("--text", default="")
        p.add_argument("--attach", action="append", default=[], help="a file to attach (repeat)")
        p.add_argument("--by", help="username")

    def do_open(self, invoice, reason, text, attach, by, **_):
        files = []
        for path in attach:
            try:
                files.append((Path(path).name, Path(path).read_bytes()))
            except OSError as exc:
                raise bad(f"--attach {path}: {exc.strerror}") from None
        d = services.open_dispute(self.org, self.invoices([invoice])[0], reason, text, self.user(by),
                                  attachments=files)
        self.emit(dispute_row(d), f"Dispute {d.pk} opened on {invoice}: its collection is paused")

    def args_answer(self, p):
        p.add_argument("id", type=int)
        p.add_argument("--text", required=True)
        p.add_argument("--by", help="username")

    def do_answer(self, id, text, by, **_):
        d = services.answer_dispute(self.org, self.get(Dispute, id), text, self.user(by))
        self.emit(dispute_row(d), f"Dispute {d.pk} answered")

    def args_resolve(self, p):
        p.add_argument("id", type=int)
        verdict = p.add_mutually_exclusive_group(required=True)
        verdict.add_argument("--valid", action="store_true", help="the customer is right: credit note")
        verdict.add_argument("--invalid", action="store_true", help="collection resumes with an explanation")
        p.add_argument("--note", required=True, help="the resolution, as the customer will read it")
        p.add_argument("--credit", help="credit note amount in major units; default: the open balance")
        p.add_argument("--by", help="username")

    def do_resolve(self, id, valid, invalid, note, credit, by, **_):
        d = self.get(Dispute, id)
        amount = None if credit is None else self.amount(credit, d.invoice.currency)
        d = services.resolve_dispute(self.org, d, valid, note, self.user(by), credit_amount=amount)
        self.emit(dispute_row(d), f"Dispute {d.pk} resolved: {d.status}"
                  + (f", credit note {d.credit_note_ref}" if d.credit_note_ref else ""))

    def args_list(self, p):
        p.add_argument("--status", choices=[s for s, _ in Dispute.Status.choices])

    def do_list(self, status, **_):
        qs = Dispute.objects.for_org(self.org).select_related("customer", "invoice")
        for d in qs.filter(status=status) if status else qs:
            self.emit(dispute_row(d), f"{d.pk:>6}  {d.invoice.ref:<12} {d.reason:<14} {d.status}")

    def do_reasons(self, **_):
        for r in services.dispute_reasons(self.org, active_only=False):
            self.emit({"code": r.code, "label": r.label, "active": r.active},
                      f"{r.code:<16} {r.label}" + ("" if r.active else " (inactive)"))
