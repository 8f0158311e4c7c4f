from cobro.agreements import services
from cobro.agreements.management.base import AgreementCommand, date_arg, money
from cobro.agreements.models import Fee


def fee_row(f: Fee) -> dict:
    c = f.currency
    return {"id": f.pk, "customer_ref": f.customer.ref, "invoice_ref": f.invoice.ref,
            "fee_ref": f.fee_invoice.ref if f.fee_invoice else None, "status": f.status, "posted_on": f.posted_on,
            "days_overdue": f.days_overdue, "requested": money(f.requested, c), "cap": money(f.cap, c),
            "amount": money(f.amount, c), "currency": c, "reason": f.reason, "waived_reason": f.waived_reason}


class Command(AgreementCommand):
    help = "Late fees posted by the policy's fee step: list and waive (see docs/agreements.md)."
    subcommands = {"list": "list fees with their basis and cap", "waive": "waive a fee (a manager, with a reason)"}

    def args_list(self, p):
        p.add_argument("--status", choices=[s for s, _ in Fee.Status.choices])

    def do_list(self, status, **_):
        qs = Fee.objects.for_org(self.org).select_related("customer", "invoice", "fee_invoice")
        for f in qs.filter(status=status) if status else qs:
            row = fee_row(f)
            self.emit(row, f"{f.pk:>6}  {f.invoice.ref:<12} {row['amount']:>12} {f.currency} (asked "
                           f"{row['requested']}, cap {row['cap']})  {f.status}")

    def args_waive(self, p):
        p.add_argument("id", type=int)
        p.add_argument("--by", required=True, help="a manager's username")
        p.add_argument("--reason", required=True)
        p.add_argument("--on", type=date_arg, help="date of the credit note; default: today")

    def do_waive(self, id, by, reason, on, **_):
        f = services.waive_fee(self.org, self.get(Fee, id), self.user(by), reason, on_date=on)
        self.emit(fee_row(f), f"Fee {f.pk} waived")
