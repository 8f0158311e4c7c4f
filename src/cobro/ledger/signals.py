"""Signals the ledger sends after its writes commit."""

from django.dispatch import Signal

#: Sent after commit when payments or credit notes bring invoices to zero, with ``organization``,
#: ``invoice_ids`` (list[int]), ``customer_ids`` (list[int]), ``on_date`` (the payment's date) and
#: ``at`` (the moment the writer acted at, by its clock: a replay's or the demo's; None: now).
#: Messaging thanks the customer; agreements checks promises and plans.
invoices_settled = Signal()

#: Sent after commit whenever payments are recorded, with ``organization``, ``payment_ids``.
payments_recorded = Signal()
