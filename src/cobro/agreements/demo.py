"""The demo organization's agreements: one of each kind, dated relative to ``today``.

A kept, a broken and a pending promise; an active, a broken and a proposed plan; an open, an
answered and two resolved disputes; posted and waived late fees; customers with early-payment
discounts. Everything goes through ``agreements.services`` and the ledger's services, so the
timeline, the tasks and the balances are those the real flow produces. Idempotent: a second run
finds the promises and adds nothing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction

from cobro.agreements import services
from cobro.agreements.models import Promise
from cobro.ledger import services as ledger
from cobro.ledger.models import Customer, Invoice, Organization


def populate(org: Organization, today: dt.date) -> None:
    if Promise.objects.for_org(org).exists():
        return
    users = {u.username: u for u in get_user_model().objects.filter(memberships__organization=org)}
    manager = users.get("supervisora@demo.cobro")
    agent = users.get("gestor1@demo.cobro")
    day = lambda n: today + dt.timedelta(days=n)  # noqa: E731
    at = lambda n: services.noon_utc(day(n))  # noqa: E731  (the demo's clock: noon of that day)
    picks = _Picker(org, today)
    with transaction.atomic():
        # Promises: one kept (paid in two parts), one broken (only a part arrived), one pending.
        inv = picks.overdue(30)
        if inv:
            services.create_promise(org, inv.customer, day(-12), inv.open_amount, inv.currency, [inv], "call",
                                    agent, made_on=day(-20), at=at(-20))
            part = _part(inv, 2)
            ledger.apply_payment(org, inv.customer, f"DEMO-AG-{inv.ref}-1", day(-16), part, inv.currency,
                                 "transferencia", invoice=inv, now=at(-16))
            ledger.apply_payment(org, inv.customer, f"DEMO-AG-{inv.ref}-2", day(-12), inv.open_amount - part,
                                 inv.currency, "transferencia", invoice=inv, now=at(-12))
            services.evaluate_agreements(org, day(-12), [inv.customer_id])
        inv = picks.overdue(20)
        if inv:
            services.create_promise(org, inv.customer, day(-8), inv.open_amount, inv.currency, [inv], "whatsapp",
                                    agent, made_on=day(-15), at=at(-15))
            ledger.apply_payment(org, inv.customer, f"DEMO-AG-{inv.ref}-1", day(-9), _part(inv, 3), inv.currency,
                                 "transferencia", invoice=inv, now=at(-9))
            # Judged below, as of today: today's cycle then tells the customer and the team calls.
        inv = picks.overdue(10)
        if inv:
            # Due tomorrow: today's cycle sends its reminder.
            services.create_promise(org, inv.customer, day(1), inv.open_amount, inv.currency, [inv], "call", agent,
                                    made_on=day(-1), at=at(-1))

        # Plans: an active one with the down payment and first instalment paid, a broken one that
        # stopped after the down payment, and one outside the limits waiting for the manager.
        cust = picks.customer_with_open(2)
        if cust:
            plan = services.create_plan(org, cust, None, 4, "monthly", day(-40), created_by=agent, at=at(-40))
            first_two = sum(i.amount for i in plan.instalments.all()[:2])
            ledger.apply_payment(org, cust, f"DEMO-AG-PLAN-{plan.pk}-1", day(-40), plan.down_payment, plan.currency,
                                 "transferencia", now=at(-40))
            ledger.apply_payment(org, cust, f"DEMO-AG-PLAN-{plan.pk}-2", day(-9), first_two - plan.down_payment,
                                 plan.currency, "transferencia", now=at(-9))
        cust = picks.customer_with_open(1)
        if cust:
            plan = services.create_plan(org, cust, None, 3, "monthly", day(-100), created_by=agent, at=at(-100))
            ledger.apply_payment(org, cust, f"DEMO-AG-PLAN-{plan.pk}-1", day(-100), plan.down_payment,
                                 plan.currency, "depósito", now=at(-100))
        cust = picks.customer_with_open(1)
        if cust:
            services.create_plan(org, cust, None, 12, "fortnightly", day(0), down_payment=0, created_by=agent,
                                 at=at(0))
        services.evaluate_agreements(org, today)

        # Disputes: open, answered, resolved as not valid (collection resumes), resolved as valid.
        inv = picks.overdue(5)
        if inv:
            services.open_dispute(org, inv, "wrong_amount", "El precio unitario no coincide con la cotización.",
                                  agent, at=at(-3))
        inv = picks.overdue(5)
        if inv:
            d = services.open_dispute(org, inv, "not_received", "Falta un bulto del despacho.", agent, at=at(-6))
            services.answer_dispute(org, d, "Pedimos la guía firmada a transporte.", manager, at=at(-4))
        inv = picks.overdue(15)
        if inv:
            d = services.open_dispute(org, inv, "already_paid", "Dicen que pagaron por caja.", agent, at=at(-9))
            # Resolved today, so today's cycle explains it to the customer and collection resumes.
            services.resolve_dispute(org, d, False, "No hay pago registrado ni en caja ni en banco; se envía "
                                     "el estado de cuenta.", manager, at=at(0))
        inv = picks.overdue(15)
        if inv:
            d = services.open_dispute(org, inv, "wrong_amount", "Se facturó el flete dos veces.", agent, at=at(-25))
            services.resolve_dispute(org, d, True, "Flete duplicado: nota de crédito por el total.", manager,
                                     at=at(-18))

        # Terms, fees and discounts: Chilean customers with a fixed fee (capped by law), one fee waived.
        for k, inv in enumerate(filter(None, (picks.overdue(35, "CLP") for _ in range(3)))):
            services.set_terms(org, inv.customer, at=at(-3), late_fee_kind="fixed", late_fee_fixed=25_000,
                               grace_days=5)
            fee = services.post_fee(org, inv, day(-2), key="demo")
            if fee and k == 0 and manager:
                services.waive_fee(org, fee, manager, "Cliente de años, primer atraso: gesto comercial.",
                                   on_date=day(-1), at=at(-1))
        for cust in picks.recent_customers(4):
            services.set_terms(org, cust, at=at(-5), early_discount_percent=Decimal("2"), early_discount_days=10)


def _part(inv: Invoice, share: int) -> int:
    part = inv.open_amount // share
    return part - part % 100 if inv.currency == "CLP" else part


class _Picker:
    """Chooses distinct demo customers deterministically (by reference), each used once."""

    def __init__(self, org: Organization, today: dt.date):
        self.org, self.today, self.used = org, today, set()
        self.open = list(Invoice.objects.for_org(org).filter(status=Invoice.Status.OPEN, open_amount__gt=0)
                         .exclude(ref__startswith="CM-").select_related("customer").order_by("customer__ref", "ref"))

    def overdue(self, days: int, currency: str | None = None) -> Invoice | None:
        for inv in self.open:
            if (inv.customer_id not in self.used and (self.today - inv.due_date).days >= days
                    and (currency is None or inv.currency == currency)):
                self.used.add(inv.customer_id)
                inv.refresh_from_db(fields=["open_amount", "status"])
                return inv
        return None

    def customer_with_open(self, n: int) -> Customer | None:
        counts: dict[int, list[Invoice]] = {}
        for inv in self.open:
            counts.setdefault(inv.customer_id, []).append(inv)
        for cid, rows in counts.items():
            # Untouched invoices only: a plan dated in the past must not count older part-payments.
            if (cid not in self.used and len(rows) >= n and len({i.currency for i in rows}) == 1
                    and all(i.open_amount == i.amount for i in rows)):
                self.used.add(cid)
                return rows[0].customer
        return None

    def recent_customers(self, n: int) -> list[Customer]:
        out = []
        for inv in self.open:
            if inv.customer_id not in self.used and (self.today - inv.issue_date).days <= 5:
                self.used.add(inv.customer_id)
                out.append(inv.customer)
                if len(out) == n:
                    break
        return out
