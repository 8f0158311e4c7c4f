from cobro.agreements import services
from cobro.agreements.management.base import AgreementCommand, date_arg, money
from cobro.agreements.models import Promise


def promise_row(p: Promise) -> dict:
    return {"id": p.pk, "customer_ref": p.customer.ref, "status": p.status, "made_on": p.made_on,
            "promised_date": p.promised_date, "amount": money(p.amount, p.currency), "currency": p.currency,
            "paid": money(p.paid_amount, p.currency), "channel": p.channel,
            "invoice_refs": sorted(i.ref for i in p.invoices.all())}


class Command(AgreementCommand):
    help = "Promises to pay: add, list, cancel, evaluate (see docs/agreements.md)."
    subcommands = {"add": "record a promise to pay", "list": "list promises", "cancel": "cancel a pending promise",
                   "evaluate": "mark promises kept or broken (and plans) as of a date"}

    def args_add(self, p):
        p.add_argument("--customer", required=True, help="customer ref")
        p.add_argument("--date", required=True, type=date_arg, help="promised date (YYYY-MM-DD)")
        p.add_argument("--amount", required=True, help='amount in major units, e.g. "1234.56"')
        p.add_argument("--currency", help="default: the organization's")
        p.add_argument("--invoice", action="append", help="invoice ref (repeat); default: oldest open first")
        p.add_argument("--channel", default="call", choices=["call", "email", "sms", "whatsapp", "letter", "portal"])
        p.add_argument("--made-on", type=date_arg, help="default: today")
        p.add_argument("--by", help="username of who took the promise")

    def do_add(self, customer, date, amount, currency, invoice, channel, made_on, by, **_):
        currency = (currency or self.org.currency).upper()
        p = services.create_promise(self.org, self.customer(customer), date, self.amount(amount, currency), currency,
                                    invoices=self.invoices(invoice), channel=channel, taken_by=self.user(by),
                                    made_on=made_on)
        row = promise_row(p)
        self.emit(row, f"Promise {p.pk}: {row['amount']} {currency} by {date} on {', '.join(row['invoice_refs'])}")

    def args_list(self, p):
        p.add_argument("--status", choices=[s for s, _ in Promise.Status.choices])
        p.add_argument("--customer", help="customer ref")

    def do_list(self, status, customer, **_):
        qs = Promise.objects.for_org(self.org).select_related("customer").prefetch_related("invoices")
        if status:
            qs = qs.filter(status=status)
        if customer:
            qs = qs.filter(customer=self.customer(customer))
        for p in qs:
            row = promise_row(p)
            self.emit(row, f"{p.pk:>6}  {p.customer.ref:<12} {p.promised_date}  {row['amount']:>14} {p.currency}  "
                           f"{p.status}")

    def args_cancel(self, p):
        p.add_argument("id", type=int)
        p.add_argument("--reason", default="")

    def do_cancel(self, id, reason, **_):
        p = services.cancel_promise(self.org, self.get(Promise, id), reason=reason)
        self.emit(promise_row(p), f"Promise {p.pk} cancelled")
