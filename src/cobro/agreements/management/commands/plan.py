from decimal import Decimal, InvalidOperation
from pathlib import Path

from cobro.agreements import services
from cobro.agreements.management.base import AgreementCommand, bad, date_arg, money
from cobro.agreements.models import Plan
from cobro.agreements.pdf import plan_schedule_pdf


def plan_row(p: Plan) -> dict:
    c = p.currency
    return {"id": p.pk, "customer_ref": p.customer.ref, "status": p.status, "currency": c,
            "principal": money(p.principal, c), "down_payment": money(p.down_payment, c),
            "interest": money(p.interest, c), "annual_rate": str(p.annual_rate), "total": money(p.total, c),
            "count": p.count, "frequency": p.frequency, "start_date": p.start_date,
            "paid": money(p.paid_amount, c), "within_limits": p.within_limits, "outside_limits": p.limit_notes,
            "invoice_refs": sorted(i.ref for i in p.invoices.all()),
            "instalments": [{"number": i.number, "due_date": i.due_date, "amount": money(i.amount, c),
                             "paid": money(i.paid_amount, c)} for i in p.instalments.all()]}


class Command(AgreementCommand):
    help = "Payment plans: add, options, list, show, approve, cancel, pdf, evaluate (see docs/agreements.md)."
    subcommands = {"add": "restructure open invoices into a plan", "options": "plans the customer may pick alone",
                   "list": "list plans", "show": "one plan and its schedule", "approve": "approve a proposed plan",
                   "cancel": "cancel a plan", "pdf": "write the schedule document (PDF)",
                   "evaluate": "follow instalments, complete or break plans (and promises) as of a date"}

    def _invoice_args(self, p):
        p.add_argument("--customer", required=True, help="customer ref")
        p.add_argument("--invoice", action="append", help="invoice ref (repeat); default: every open invoice")
        p.add_argument("--start", type=date_arg, help="down payment date; default: today")

    def args_add(self, p):
        self._invoice_args(p)
        p.add_argument("--instalments", required=True, type=int)
        p.add_argument("--frequency", default="monthly", choices=[f for f, _ in Plan.Frequency.choices])
        p.add_argument("--down", help="down payment in major units; default: the organization's minimum")
        p.add_argument("--rate", default="0", help="annual interest in %% (never above the legal ceiling)")
        p.add_argument("--first-due", type=date_arg)
        p.add_argument("--by", help="username of who agreed the plan")
        p.add_argument("--approved-by", help="a manager's username, for a plan outside the limits")

    def do_add(self, customer, invoice, start, instalments, frequency, down, rate, first_due, by, approved_by, **_):
        cust = self.customer(customer)
        invs = self.invoices(invoice)
        currency = invs[0].currency if invs else self.org.currency
        try:
            annual_rate = Decimal(rate)
        except InvalidOperation:
            raise bad(f"--rate: {rate!r} is not a number") from None
        p = services.create_plan(self.org, cust, invs, instalments, frequency, start,
                                 down_payment=None if down is None else self.amount(down, currency),
                                 annual_rate=annual_rate, first_due=first_due, created_by=self.user(by),
                                 approved_by=self.user(approved_by))
        row = plan_row(p)
        self.emit(row, f"Plan {p.pk} ({p.status}): {row['down_payment']} down + {p.count} × {frequency}, "
                       f"total {row['total']} {p.currency}"
                       + (f" — needs approval: {'; '.join(p.limit_notes)}" if p.status == "proposed" else ""))

    def args_options(self, p):
        self._invoice_args(p)

    def do_options(self, customer, invoice, start, **_):
        cust = self.customer(customer)
        invs = self.invoices(invoice)
        for o in services.plan_options(self.org, cust, invs, start):
            c = invs[0].currency if invs else self.org.currency
            row = {"count": o.count, "frequency": o.frequency, "down_payment": money(o.down_payment, c),
                   "instalment": money(o.instalment, c), "interest": money(o.interest, c),
                   "total": money(o.total, c), "currency": c}
            self.emit(row, f"{o.count:>3} × {o.frequency:<12} down {row['down_payment']:>12}  "
                           f"instalment {row['instalment']:>12}  total {row['total']} {c}")

    def args_list(self, p):
        p.add_argument("--status", choices=[s for s, _ in Plan.Status.choices])

    def do_list(self, status, **_):
        qs = Plan.objects.for_org(self.org).select_related("customer").prefetch_related("invoices", "instalments")
        for p in qs.filter(status=status) if status else qs:
            row = plan_row(p)
            self.emit(row, f"{p.pk:>6}  {p.customer.ref:<12} {p.status:<10} {p.count} × {p.frequency:<12} "
                           f"{row['total']:>14} {p.currency}  paid {row['paid']}")

    def args_show(self, p):
        p.add_argument("id", type=int)

    def do_show(self, id, **_):
        p = self.get(Plan, id)
        row = plan_row(p)
        lines = [f"Plan {p.pk} of {p.customer.ref} ({p.status}), total {row['total']} {p.currency}"]
        lines += [f"  {'pie' if i['number'] == 0 else i['number']:>4}  {i['due_date']}  {i['amount']:>14}  "
                  f"paid {i['paid']}" for i in row["instalments"]]
        self.emit(row, "\n".join(lines))

    def args_approve(self, p):
        p.add_argument("id", type=int)
        p.add_argument("--by", required=True, help="a manager's username")

    def do_approve(self, id, by, **_):
        p = services.approve_plan(self.org, self.get(Plan, id), self.user(by))
        self.emit(plan_row(p), f"Plan {p.pk} approved")

    def args_cancel(self, p):
        p.add_argument("id", type=int)
        p.add_argument("--reason", default="")

    def do_cancel(self, id, reason, **_):
        p = services.cancel_plan(self.org, self.get(Plan, id), reason=reason)
        self.emit(plan_row(p), f"Plan {p.pk} cancelled")

    def args_pdf(self, p):
        p.add_argument("id", type=int)
        p.add_argument("--out", required=True, help="file to write")
        p.add_argument("--lang", help="es, en or pt-br; default: the customer's language")

    def do_pdf(self, id, out, lang, **_):
        data = plan_schedule_pdf(self.get(Plan, id), language=lang)
        Path(out).write_bytes(data)
        self.emit({"id": id, "path": out, "bytes": len(data)}, f"Wrote {out} ({len(data):,} bytes)")
