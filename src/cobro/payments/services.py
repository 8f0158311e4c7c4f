"""Writes to the payments tables: statements in, lines stored once, matches applied, people's decisions.

The matching itself is pure (``cobro.payments.matching``); this module loads the book for it with one
query per table, stores what it decided, and records payments only through ``ledger.services``
(method "transfer", provider "statement", provider_ref = the line's key), exactly as an imported
payment would be.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from cobro.engine.money import MoneyError, check_currency, format_money, from_minor, to_minor
from cobro.engine.text import Text, gettext_noop, message_of
from cobro.ledger import services as ledger
from cobro.ledger.importing import _db_now, _insert
from cobro.ledger.models import CreditNote, Customer, Invoice, Organization, Payment, TimelineEvent
from cobro.payments import matching
from cobro.payments.formats import Entry, StatementError, parse
from cobro.payments.formats import Statement as ParsedStatement
from cobro.payments.models import BankAccount, PayerAlias, Statement, StatementLine


class PaymentsError(ValueError):
    """A decision the payments app refuses; the message is safe to show to the person who asked."""


# -- the sentence that explains a line -------------------------------------------------------------

#: Reason code -> the words (Spanish msgid; en and pt-BR in the catalogs). Parameters are filled in.
REASONS = {
    "ignored_debit": N_("es un cargo a la cuenta, no un pago"),
    "ignored_fee": N_("es una comisión o gasto del banco"),
    "ignored_reversal": N_("es una reversa o anulación del banco"),
    "ignored_pending": N_("el banco aún no contabiliza este movimiento"),
    "tax": N_("el identificador tributario %(tax_id)s es de %(customer)s"),
    "alias_name": N_("el ordenante %(payer)s fue asignado antes a %(customer)s"),
    "alias_account": N_("la cuenta %(account)s fue asignada antes a %(customer)s"),
    "invoice": N_("la glosa menciona %(invoices)s de %(customer)s"),
    "name": N_("el nombre del ordenante es el de %(customer)s"),
    "name_weak": N_("el nombre del ordenante se parece al de %(customer)s"),
    "exact_refs": N_("el monto es el saldo de %(invoices)s"),
    "exact_one": N_("el monto es el saldo de la factura %(invoices)s"),
    "exact_one_ambiguous": N_("varias facturas tienen ese saldo y se propone la más antigua, %(invoices)s"),
    "subset": N_("el monto es la suma de los saldos de %(invoices)s"),
    "subset_ambiguous": N_("varias combinaciones de facturas suman el monto, por ejemplo %(invoices)s"),
    "instalment": N_("el monto es una cuota de su plan de pago"),
    "promise": N_("el monto es el de su promesa de pago"),
    "discount": N_("el monto es el saldo de %(invoices)s menos el descuento por pronto pago"),
    "fee": N_("el monto es el saldo de %(invoices)s menos %(diff)s de comisión bancaria"),
    "partial_refs": N_("es un abono parcial a %(invoices)s"),
    "partial": N_("es un abono parcial que se imputa a las facturas más antiguas"),
    "over_refs": N_("el monto supera el saldo de %(invoices)s y el resto queda a favor del cliente"),
    "over": N_("el monto supera todo lo que debe y el resto queda a favor del cliente"),
    "no_open": N_("el cliente no tiene facturas abiertas en %(currency)s"),
    "conflict": N_("el identificador es de %(customer)s pero las facturas mencionadas son de otro cliente"),
    "ambiguous_customer": N_("calzan varios clientes (%(customers)s) y debe elegir una persona"),
    "amount_only": N_("solo el monto calza, con la factura %(invoices)s de %(customer)s"),
    "currency": N_("las facturas mencionadas (%(invoices)s) no están en %(currency)s"),
    "unmatched": N_("no calza ningún cliente, factura ni monto"),
    "duplicate": N_("este movimiento ya se importó el %(date)s"),
    "accepted": N_("%(person)s aceptó la sugerencia"),
    "assigned": N_("%(person)s lo asignó a mano"),
    "split": N_("%(person)s lo repartió entre %(count)s clientes"),
    "undone": N_("%(person)s deshizo la conciliación: %(reason)s"),
    "dismissed": N_("%(person)s lo marcó como no relacionado con clientes: %(reason)s"),
}


def explain(reasons, language: str = "es") -> str:
    """One sentence from the reason codes, in ``language``: "El RUT ... ; el monto es ...". """
    language = language or "es"
    # Activating a language costs more than the sentence: skip it when it is already the active one.
    same = (translation.get_language() or "").lower() == language.lower().replace("_", "-")
    with contextlib.nullcontext() if same else translation.override(language):
        parts = []
        for code, params in reasons:
            words = _(REASONS.get(code, code))
            shown = {k: (format_money(v, params.get("currency", "CLP"), language) if k == "diff" else v)
                     for k, v in (params or {}).items()}
            try:
                parts.append(words % shown if "%(" in words else words)
            except (KeyError, ValueError, TypeError):
                parts.append(words)
        text = "; ".join(p for p in parts if p)
    return (text[:1].upper() + text[1:] + ".") if text else ""


# -- reading and storing a statement ---------------------------------------------------------------

@dataclass
class LineOutcome:
    """What happened to one line of the file: the JSON the command prints."""

    line: int
    date: dt.date
    amount: int
    currency: str
    status: str
    customer_ref: str | None
    invoice_refs: list[str]
    confidence: float
    why: str
    key: str
    text: str

    def as_json(self) -> dict:
        return {"line": self.line, "date": self.date.isoformat(),
                "amount": str(from_minor(self.amount, self.currency)), "currency": self.currency,
                "status": self.status, "customer_ref": self.customer_ref, "invoice_refs": self.invoice_refs,
                "confidence": round(self.confidence, 3), "why": self.why, "key": self.key, "text": self.text}


@dataclass
class ImportOutcome:
    statement: ParsedStatement
    account: BankAccount | None
    lines: list[LineOutcome] = field(default_factory=list)
    #: The row the file was stored as (None on a dry run).
    stored: Statement | None = None

    def counts(self) -> Counter:
        return Counter(o.status for o in self.lines)

    def summary(self) -> str:
        c = self.counts()
        return (f"{len(self.lines)} lines: {c['applied']} applied, {c['suggested']} suggested, "
                f"{c['unmatched']} unmatched, {c['ignored']} ignored, {c['duplicate']} duplicate")


def line_keys(account_number: str, entries: list[Entry]) -> list[str]:
    """Each entry's identity: the bank's reference, else a hash of what it says and its rank among twins.

    Two identical transfers on one day (same amount, same text) are two payments: the rank ("the
    second such line") tells them apart and stays the same when an overlapping statement repeats them.
    """
    seen: Counter = Counter()
    keys = []
    for e in entries:
        if e.bank_ref:
            keys.append(f"b:{e.bank_ref}"[:100])
            continue
        base = "|".join([account_number, e.booking_date.isoformat(), str(e.amount), " ".join(e.text.split()),
                         e.reference])
        seen[base] += 1
        digest = hashlib.sha256(f"{base}|{seen[base]}".encode()).hexdigest()[:40]
        keys.append(f"h:{digest}")
    return keys


def _kind(e: Entry) -> str:
    if not e.booked:
        return "pending"
    if e.reversal:
        return "reversal"
    if e.fee:
        return "fee"
    return "credit" if e.amount > 0 else "debit"


def find_account(org: Organization, account: str | None) -> BankAccount | None:
    if not account:
        return None
    return (BankAccount.objects.for_org(org).filter(number=account).first()
            or BankAccount.objects.for_org(org).filter(name=account).first())


def import_statement(org: Organization, data: bytes, *, fmt: str = "auto", account: str | None = None,
                     filename: str = "", dry_run: bool = False, actor=None,
                     as_of: dt.date | None = None, now: dt.datetime | None = None) -> ImportOutcome:
    """Read a statement file, store its new lines and apply what matches; all or nothing.

    ``now``: the moment the file is read (the statement's ``imported_at``, its lines' and payments'
    ``created_at``, the "statement.applied" events); default the clock's now. A caller running by
    its own clock (the demo, a replay) passes it.

    Raises ``StatementError`` ("line N: ...") for a file that cannot be read; nothing is written then.
    """
    chosen = find_account(org, account)
    mapping = chosen.csv_mapping if chosen else None
    parsed = parse(data, fmt, mapping=mapping, currency=(chosen.currency if chosen else "") or org.currency)
    number = chosen.number if chosen else (account or parsed.account)
    if not number:
        raise StatementError(1, Text(gettext_noop("el archivo no dice de qué cuenta es: elija la cuenta "
                                                  "(--account)")))
    if chosen is None:
        chosen = BankAccount.objects.for_org(org).filter(number=number).first()
    currency = parsed.currency or (chosen.currency if chosen else org.currency)
    minor = []
    for e in parsed.entries:
        try:
            check_currency(e.currency)
            minor.append(to_minor(e.amount, e.currency))
        except MoneyError as exc:
            raise StatementError(e.source_line or 1, message_of(exc)) from None
    keys = line_keys(number, parsed.entries)
    existing = {}
    if chosen is not None:
        existing = {ln.key: ln for ln in StatementLine.objects.for_org(org).filter(account=chosen, key__in=keys)
                    .select_related("customer")}
    today = as_of or timezone.localdate()
    book = load_book(org, today) if any(k not in existing for k in keys) else None
    outcome = ImportOutcome(parsed, chosen)
    customers = {c.id: c for c in book.customers} if book else {}
    invoice_refs = {inv.id: inv.ref for inv in book.invoices} if book else {}
    # Duplicates show what they were matched to: those invoices may be paid by now, read them once.
    invoice_refs.update(_invoice_refs(org, [a for ln in existing.values() for a in ln.allocations]))
    new_rows: list[tuple[StatementLine, matching.Result]] = []
    seen_in_file: set[str] = set()
    paused = gc.isenabled()
    gc.disable()  # a statement of 100,000 lines makes as many small objects, none in a cycle
    try:
        with translation.override(org.language or "es"):
            _match_lines(org, parsed, minor, keys, existing, book, customers, invoice_refs, today, outcome,
                         new_rows, seen_in_file)
        if dry_run:
            return outcome
        return _store(org, data, parsed, chosen, number, currency, filename, actor, outcome, new_rows, now)
    finally:
        if paused:
            gc.enable()


def _match_lines(org, parsed, minor, keys, existing, book, customers, invoice_refs, today, outcome, new_rows,
                 seen_in_file) -> None:
    for position, (e, amount, key) in enumerate(zip(parsed.entries, minor, keys, strict=True), start=1):
        if key in existing or key in seen_in_file:
            old = existing.get(key)
            reasons = [("duplicate", {"date": (old.created_at.date() if old else today).isoformat()})]
            outcome.lines.append(LineOutcome(
                position, e.booking_date, amount, e.currency, matching.DUPLICATE,
                old.customer.ref if old and old.customer else None,
                [invoice_refs[a[0]] for a in old.allocations if a[0] in invoice_refs] if old else [], 1.0, explain(reasons, org.language), key, e.text))
            continue
        seen_in_file.add(key)
        line = matching.Line(position, e.booking_date, amount, e.currency, e.text, e.counterparty,
                             e.counterparty_account, e.counterparty_tax_id, e.reference, _kind(e))
        result = book.match(line)
        if result.status == matching.APPLIED:
            book.consume(result.allocations)
        cust = customers.get(result.customer_id)
        outcome.lines.append(LineOutcome(
            position, e.booking_date, amount, e.currency, result.status, cust.ref if cust else None,
            [invoice_refs[i] for i in result.invoice_ids if i in invoice_refs], result.confidence,
            explain(result.reasons, org.language), key, e.text))
        new_rows.append((StatementLine(
            organization=org, key=key, position=position, booking_date=e.booking_date, value_date=e.value_date,
            amount=amount, currency=e.currency, text=e.text[:500], counterparty=e.counterparty[:200],
            counterparty_account=e.counterparty_account[:64], counterparty_tax_id=e.counterparty_tax_id[:32],
            reference=e.reference[:140], kind=line.kind,
            status=result.status if result.status != matching.APPLIED else StatementLine.Status.SUGGESTED,
            customer_id=result.customer_id, allocations=[list(a) for a in result.allocations],
            confidence=result.confidence, reasons=[list(r) for r in result.reasons]), result))


def _store(org, data, parsed, chosen, number, currency, filename, actor, outcome, new_rows, at=None
           ) -> ImportOutcome:
    with transaction.atomic(), translation.override(org.language or "es"):
        if chosen is None:
            chosen = BankAccount.objects.create(organization=org, name=number[-24:], number=number,
                                                currency=currency)
            outcome.account = chosen
        stmt = Statement.objects.create(organization=org, account=chosen, format=parsed.format, filename=filename[:300],
                                        sha256=hashlib.sha256(data).hexdigest(), statement_date=parsed.date,
                                        lines_total=len(parsed.entries), lines_new=len(new_rows), imported_by=actor)
        if at is not None:  # ``imported_at`` is stamped on insert (auto_now_add): the caller's clock wins
            Statement.objects.filter(pk=stmt.pk).update(imported_at=at)
            stmt.imported_at = at
        outcome.stored = stmt
        now = ledger._db_time(at) if at is not None else _db_now()
        for row, result in new_rows:
            row.account, row.statement = chosen, stmt
            if result.status == matching.APPLIED:
                row.status = StatementLine.Status.APPLIED
        # Straight through the driver (a statement may hold 100,000 lines), then the ids read back.
        _insert(StatementLine, _LINE_FIELDS, [(
            org.pk, chosen.pk, stmt.pk, r.key, r.position, r.booking_date, r.value_date, r.amount, r.currency, r.text,
            r.counterparty, r.counterparty_account, r.counterparty_tax_id, r.reference, r.kind, r.status,
            r.customer_id, json.dumps(r.allocations), r.confidence, json.dumps(r.reasons, ensure_ascii=False), now)
            for r, _ in new_rows])
        ids = dict(StatementLine.objects.for_org(org).filter(statement=stmt).values_list("key", "pk"))
        for row, _result in new_rows:
            row.pk = row.id = ids[row.key]
        _apply_many(org, [(row, r) for row, r in new_rows if r.status == matching.APPLIED],
                    {o.key: o.why for o in outcome.lines}, at)
        if parsed.date and (chosen.last_statement_date is None or parsed.date > chosen.last_statement_date):
            chosen.last_statement_date = parsed.date
            chosen.save(update_fields=["last_statement_date"])
    return outcome


_LINE_FIELDS = ["organization", "account", "statement", "key", "position", "booking_date", "value_date", "amount",
                "currency", "text", "counterparty", "counterparty_account", "counterparty_tax_id", "reference", "kind",
                "status", "customer", "allocations", "confidence", "reasons", "created_at"]


def _apply_many(org: Organization, applied: list[tuple[StatementLine, matching.Result]], whys: dict[str, str],
                at: dt.datetime | None = None) -> None:
    """Record the payments of the lines the matcher applied, in one batch through ``ledger.apply_payments``.

    The same payments, allocations, events and totals as ``_apply`` line by line, at statement speed.
    """
    if not applied:
        return
    payments = ledger.apply_payments(org, [ledger.NewPayment(
        result.customer_id, f"ST-{row.pk}", row.booking_date, row.amount, row.currency, "transfer",
        tuple(a[0] for a in result.allocations), "statement", row.key) for row, result in applied], now=at)
    fee_reason = _("Comisión bancaria descontada del pago")
    for row, result in applied:
        for n, (inv_id, off) in enumerate(result.writeoff or ()):
            inv = Invoice.objects.for_org(org).get(pk=inv_id)
            if 0 < off <= inv.open_amount:
                ledger.add_credit_note(org, inv, f"ST-{row.pk}-FEE{n or ''}", row.booking_date, off,
                                       reason=fee_reason, now=at)
    through = StatementLine.payments.through
    _insert(through, ["statementline", "payment"],
            [(row.pk, pay.pk) for (row, _r), pay in zip(applied, payments, strict=True)])
    title, now = _("Movimiento bancario conciliado"), (ledger._db_time(at) if at is not None else _db_now())
    _insert(TimelineEvent, ["organization", "customer", "at", "kind", "summary", "data"], [(
        org.pk, result.customer_id, now, "statement.applied", f"{title}: {whys.get(row.key, '')}"[:300],
        json.dumps({"line_id": row.pk, "key": row.key, "payment": pay.ref,
                    "allocations": [list(a) for a in result.allocations]}))
        for (row, result), pay in zip(applied, payments, strict=True)])


def _invoice_refs(org: Organization, allocations) -> dict[int, str]:
    ids = {a[0] for a in allocations or []}
    return dict(Invoice.objects.for_org(org).filter(pk__in=ids).values_list("pk", "ref")) if ids else {}


def _apply(org: Organization, line: StatementLine, customer: Customer, allocations, writeoff=(), *, actor,
           why: str, part: int = 0, amount: int | None = None) -> Payment:
    """Record the payment for (a part of) a line through the ledger and mark the line applied."""
    invoices = list(Invoice.objects.for_org(org).filter(pk__in=[a[0] for a in allocations], customer=customer))
    order = {a[0]: n for n, a in enumerate(allocations)}
    invoices.sort(key=lambda inv: order.get(inv.pk, 0))
    ref = f"ST-{line.pk}" + (f"-{part}" if part else "")
    payment = ledger.apply_payment(org, customer, ref, line.booking_date, amount or line.amount, line.currency,
                                   "transfer", invoices=invoices or None, provider="statement",
                                   provider_ref=line.key, actor=actor)
    for n, (inv_id, off) in enumerate(writeoff or ()):
        inv = Invoice.objects.for_org(org).get(pk=inv_id)
        if 0 < off <= inv.open_amount:
            ledger.add_credit_note(org, inv, f"ST-{line.pk}-FEE{n or ''}", line.booking_date, off,
                                   reason=_("Comisión bancaria descontada del pago"), actor=actor)
    line.payments.add(payment)
    line.status = StatementLine.Status.APPLIED
    if not part:  # a split line belongs to no single customer
        line.customer_id = line.customer_id or customer.pk
    line.save(update_fields=["status", "customer"])
    ledger.record_event(org, customer, "statement.applied", f"{_('Movimiento bancario conciliado')}: {why}"[:300],
                        data={"line_id": line.pk, "key": line.key, "payment": payment.ref,
                              "allocations": [list(a) for a in allocations]}, actor=actor)
    return payment


# -- the book the matcher reads -------------------------------------------------------------------

def fee_tolerance(org: Organization) -> dict[str, int]:
    """Per currency, the most a payer's bank may keep from a transfer: ``options["statement_fee_tolerance"]``
    ({"CLP": 2000, ...} in major units) over the defaults in ``matching.DEFAULT_FEE_TOLERANCE``."""
    chosen = {**matching.DEFAULT_FEE_TOLERANCE, **(org.option("statement_fee_tolerance") or {})}
    out = {}
    for cur, major in chosen.items():
        try:
            out[cur] = to_minor(major, cur)
        except MoneyError:
            continue
    return out


def threshold(org: Organization) -> float:
    return float(org.option("statement_auto_threshold", matching.DEFAULT_THRESHOLD))


def load_book(org: Organization, as_of: dt.date) -> matching.Book:
    """The open book as the matcher wants it: one query per table, no per-invoice work."""
    customers = [matching.Customer(*row) for row in Customer.objects.for_org(org).values_list(
        "pk", "ref", "name", "tax_id", "country").iterator(chunk_size=5000)]
    invoices = [matching.Invoice(*row) for row in Invoice.objects.for_org(org).filter(
        status=Invoice.Status.OPEN, open_amount__gt=0).values_list(
        "pk", "ref", "customer_id", "currency", "open_amount", "issue_date", "due_date").iterator(chunk_size=5000)]
    expected: list[matching.Expected] = []
    try:
        from cobro.agreements import services as agreements
        from cobro.agreements.models import Instalment, Plan, Promise
    except ImportError:  # an installation without agreements matches without plans and promises
        agreements = None
    if agreements is not None:
        offers = agreements.discount_offers(org, as_of)
        for inv in invoices:
            if inv.id in offers:
                inv.discount = offers[inv.id]["amount"]
        for cid, cur, amount, paid in Instalment.objects.for_org(org).filter(
                plan__status=Plan.Status.ACTIVE, paid_on__isnull=True).values_list(
                "plan__customer_id", "plan__currency", "amount", "paid_amount"):
            if amount > paid:
                expected.append(matching.Expected(cid, cur, amount - paid, "instalment"))
        promises = Promise.objects.for_org(org).filter(status=Promise.Status.PENDING).prefetch_related("invoices")
        for p in promises:
            expected.append(matching.Expected(p.customer_id, p.currency, p.amount - p.paid_amount, "promise",
                                              tuple(i.pk for i in p.invoices.all())))
    names, accounts = {}, {}
    for kind, value, cid in PayerAlias.objects.for_org(org).values_list("kind", "value", "customer_id"):
        (names if kind == PayerAlias.Kind.NAME else accounts)[value] = cid
    return matching.Book(customers, invoices, expected, names, accounts, threshold=threshold(org),
                         fee_tolerance=fee_tolerance(org))


# -- people's decisions on the reconciliation page -------------------------------------------------

def _person(actor) -> str:
    return (actor.get_full_name() or actor.get_username()) if actor else "Cobro"


def _decided(line: StatementLine, actor) -> None:
    line.decided_by = actor
    line.decided_at = timezone.now()
    line.save(update_fields=["decided_by", "decided_at"])


def accept(org: Organization, line: StatementLine, actor) -> Payment:
    """Apply a suggestion as it stands: its customer and its invoices."""
    if line.status != StatementLine.Status.SUGGESTED or line.customer_id is None:
        raise PaymentsError(_("Este movimiento no tiene una sugerencia que aceptar."))
    with transaction.atomic():
        line = StatementLine.objects.for_org(org).select_for_update().get(pk=line.pk)
        customer = Customer.objects.for_org(org).get(pk=line.customer_id)
        open_ids = set(Invoice.objects.for_org(org).filter(pk__in=[a[0] for a in line.allocations],
                                                           open_amount__gt=0).values_list("pk", flat=True))
        allocations = [a for a in line.allocations if a[0] in open_ids]
        why = explain([("accepted", {"person": _person(actor)})] + [tuple(r) for r in line.reasons], org.language)
        payment = _apply(org, line, customer, allocations, actor=actor, why=why)
        learn(org, line, customer, actor)
        _decided(line, actor)
    return payment


def assign(org: Organization, line: StatementLine, parts: list[tuple[Customer, list[Invoice], int | None]],
           actor) -> list[Payment]:
    """Apply a line by hand: to one customer and chosen invoices, or split across several customers.

    ``parts`` is ``[(customer, invoices, amount)]``; a single part may leave ``amount`` None (the whole
    line). The amounts of a split must add up to the line exactly. A single customer is learnt: later
    lines from the same payer name or account match it.
    """
    if line.kind != StatementLine.Kind.CREDIT:
        raise PaymentsError(_("Solo un abono puede imputarse a un cliente."))
    if line.status == StatementLine.Status.APPLIED:
        raise PaymentsError(_("Este movimiento ya está conciliado: deshágalo antes de cambiarlo."))
    if not parts:
        raise PaymentsError(_("Elija al menos un cliente."))
    amounts = [amt if amt is not None else (line.amount if len(parts) == 1 else None) for _c, _i, amt in parts]
    if any(a is None or a <= 0 for a in amounts) or sum(amounts) != line.amount:
        raise PaymentsError(_("Los montos del reparto deben ser positivos y sumar exactamente %(total)s.")
                            % {"total": format_money(line.amount, line.currency, org.language)})
    payments = []
    with transaction.atomic():
        line = StatementLine.objects.for_org(org).select_for_update().get(pk=line.pk)
        code = "split" if len(parts) > 1 else "assigned"
        why = explain([(code, {"person": _person(actor), "count": len(parts)})], org.language)
        for n, ((customer, invoices, _amt), amount) in enumerate(zip(parts, amounts, strict=True), start=1):
            if customer.organization_id != org.pk:
                raise PaymentsError(_("Cliente desconocido."))
            for inv in invoices:
                if inv.customer_id != customer.pk or inv.currency != line.currency:
                    raise PaymentsError(_("La factura %(ref)s no es de %(customer)s en %(currency)s.")
                                        % {"ref": inv.ref, "customer": customer.name, "currency": line.currency})
            payments.append(_apply(org, line, customer, [[inv.pk, 0] for inv in invoices], actor=actor, why=why,
                                   part=n if len(parts) > 1 else 0, amount=amount))
        if len(parts) == 1:
            line.customer = parts[0][0]
            line.allocations = [[a.invoice_id, a.amount] for p in payments for a in p.allocations.all()]
            line.save(update_fields=["customer", "allocations"])
            learn(org, line, parts[0][0], actor)
        line.reasons = [[code, {"person": _person(actor), "count": len(parts)}]]
        line.confidence = 1.0
        line.save(update_fields=["reasons", "confidence"])
        _decided(line, actor)
    return payments


def undo(org: Organization, line: StatementLine, actor, reason: str) -> None:
    """Reverse an applied line: its payments and their allocations go, the line waits again."""
    reason = (reason or "").strip()
    if not reason:
        raise PaymentsError(_("Diga por qué deshace la conciliación."))
    if line.status != StatementLine.Status.APPLIED:
        raise PaymentsError(_("Este movimiento no está conciliado."))
    with transaction.atomic():
        line = StatementLine.objects.for_org(org).select_for_update().get(pk=line.pk)
        customers = set()
        for payment in list(line.payments.all()):
            customers.add(payment.customer_id)
            ledger.reverse_payment(org, payment, reason, actor=actor)
        for note in CreditNote.objects.for_org(org).filter(ref__startswith=f"ST-{line.pk}-FEE"):
            ledger.reverse_credit_note(org, note, reason, actor=actor)
        line.status = StatementLine.Status.SUGGESTED if line.customer_id else StatementLine.Status.UNMATCHED
        line.reasons = [["undone", {"person": _person(actor), "reason": reason}]] + [
            r for r in line.reasons if r and r[0] not in ("undone", "accepted")]
        line.save(update_fields=["status", "reasons"])
        why = explain([("undone", {"person": _person(actor), "reason": reason})], org.language)
        for cid in customers:
            ledger.record_event(org, cid, "statement.undone", why[:300],
                                data={"line_id": line.pk, "key": line.key, "reason": reason}, actor=actor)
        _decided(line, actor)


def dismiss(org: Organization, line: StatementLine, actor, reason: str) -> None:
    """Set a credit aside as not a customer's payment (a loan, a transfer between own accounts)."""
    if line.status == StatementLine.Status.APPLIED:
        raise PaymentsError(_("Este movimiento ya está conciliado: deshágalo antes de cambiarlo."))
    line.status = StatementLine.Status.IGNORED
    line.reasons = [["dismissed", {"person": _person(actor), "reason": (reason or "").strip() or "—"}]]
    line.save(update_fields=["status", "reasons"])
    _decided(line, actor)


def learn(org: Organization, line: StatementLine, customer: Customer, actor) -> list[PayerAlias]:
    """Remember the payer's name and account for ``customer`` so that later lines match by them."""
    learnt = []
    name = matching.payer_key(line.counterparty or line.text)
    wanted = []
    if name and any(len(w) >= 3 for w in name.split()):
        wanted.append((PayerAlias.Kind.NAME, name))
    if line.counterparty_account:
        wanted.append((PayerAlias.Kind.ACCOUNT, matching.compact_tax_id(line.counterparty_account)))
    for kind, value in wanted:
        alias, created = PayerAlias.objects.get_or_create(organization=org, kind=kind, value=value[:200],
                                                          defaults={"customer": customer, "created_by": actor})
        if not created and alias.customer_id != customer.pk:
            alias.customer, alias.created_by = customer, actor
            alias.save(update_fields=["customer", "created_by"])
        learnt.append(alias)
    return learnt


def queue_counts(org: Organization, day: dt.date | None = None) -> dict[str, int]:
    qs = StatementLine.objects.for_org(org)
    if day:
        qs = qs.filter(booking_date=day)
    return Counter(qs.values_list("status", flat=True))


def accounts_health(org: Organization, today: dt.date) -> list[dict]:
    """Each bank account's last statement day, and whether one is missing (for the dashboard)."""
    out = []
    for acc in BankAccount.objects.for_org(org).order_by("name"):
        late = acc.last_statement_date is None or (today - acc.last_statement_date).days > acc.expected_every_days
        out.append({"account": acc, "last": acc.last_statement_date, "missing": late})
    return out

