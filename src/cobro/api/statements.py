"""Bank statements and their lines: what the bank said, what Cobro matched and applied. Reading them
lets an ERP reconcile its own books; uploading one goes through ``payments.services.import_statement``,
exactly as the command line and the import page do."""

from __future__ import annotations

from typing import Literal

from django.db.models import Q
from django.http import Http404
from ninja import File, Query, Router, UploadedFile

from cobro.api import schemas as s
from cobro.api.problems import ApiProblem
from cobro.api.resources import Paging, answers, invalid, money, org, page, refs_by_id, writable
from cobro.ledger.models import Customer, Invoice
from cobro.ledger.tables import Limits
from cobro.payments import services as payments
from cobro.payments.formats import FORMATS, StatementError
from cobro.payments.models import BankAccount, Statement, StatementLine

router = Router(tags=["statements"])


def _statements_out(request, rows) -> list[dict]:
    accounts = dict(BankAccount.objects.for_org(org(request)).filter(pk__in={r.account_id for r in rows})
                    .values_list("pk", "number"))
    names = dict(BankAccount.objects.for_org(org(request)).filter(pk__in=accounts).values_list("pk", "name"))
    return [{"id": r.pk, "account_number": accounts[r.account_id], "account_name": names[r.account_id],
             "format": r.format, "filename": r.filename, "statement_date": r.statement_date,
             "lines_total": r.lines_total, "lines_new": r.lines_new, "imported_at": r.imported_at} for r in rows]


def _lines_out(request, rows) -> list[dict]:
    o = org(request)
    accounts = dict(BankAccount.objects.for_org(o).filter(pk__in={r.account_id for r in rows})
                    .values_list("pk", "number"))
    customers = refs_by_id(Customer, o, [r.customer_id for r in rows if r.customer_id])
    invoices = refs_by_id(Invoice, o, [inv for r in rows for inv, _amount in r.allocations])
    paid: dict[int, list[str]] = {}
    for line_id, ref in (StatementLine.payments.through.objects.filter(statementline__in=rows)
                         .order_by("payment_id").values_list("statementline_id", "payment__ref")):
        paid.setdefault(line_id, []).append(ref)
    return [{"id": r.pk, "statement_id": r.statement_id, "account_number": accounts[r.account_id], "key": r.key,
             "position": r.position, "booking_date": r.booking_date, "value_date": r.value_date,
             "amount": money(r.amount, r.currency), "currency": r.currency, "text": r.text,
             "counterparty": r.counterparty, "counterparty_account": r.counterparty_account,
             "counterparty_tax_id": r.counterparty_tax_id, "reference": r.reference, "kind": r.kind,
             "status": r.status, "customer_ref": customers.get(r.customer_id),
             "allocations": [{"invoice_ref": invoices[inv], "amount": money(amount, r.currency)}
                             for inv, amount in r.allocations if inv in invoices],
             "confidence": round(r.confidence, 3), "payment_refs": paid.get(r.pk, []),
             "decided_at": r.decided_at, "created_at": r.created_at} for r in rows]


def _account(request, number: str | None):
    if not number:
        return None
    found = BankAccount.objects.for_org(org(request)).filter(number=number).first()
    if found is None:
        raise invalid("account", f"no bank account {number!r}")
    return found


@router.get("/statements", response=answers(s.StatementPage))
def list_statements(request, paging: Query[Paging], account: str | None = None):
    """The statement files read, oldest first; ``updated_since`` is the time a file was read."""
    qs = Statement.objects.for_org(org(request))
    if account:
        qs = qs.filter(account=_account(request, account))
    return page(qs, paging, lambda rows: _statements_out(request, rows), updated_field="imported_at")


@router.get("/statements/{statement_id}", response=answers(s.StatementOut))
def get_statement(request, statement_id: int):
    found = Statement.objects.for_org(org(request)).filter(pk=statement_id).first()
    if found is None:
        raise Http404("no such statement")
    return _statements_out(request, [found])[0]


def _lines(request, qs, paging: Paging, status, customer):
    if status:
        qs = qs.filter(status=status)
    if customer:
        qs = qs.filter(customer__ref=customer)
    if paging.updated_since is not None:
        # A line changes when a person decides it (accept, assign, undo): new or decided since.
        since = paging.updated_since
        qs = qs.filter(Q(created_at__gte=since) | Q(decided_at__gte=since))
        paging = paging.model_copy(update={"updated_since": None})
    return page(qs, paging, lambda rows: _lines_out(request, rows))


LineStatus = Literal[tuple(StatementLine.Status.values)]  # type: ignore[valid-type]


@router.get("/statements/{statement_id}/lines", response=answers(s.StatementLinePage))
def statement_lines(request, statement_id: int, paging: Query[Paging], status: LineStatus | None = None,
                    customer: str | None = None):
    """The lines a file brought that no earlier file had, in the order of the file."""
    found = Statement.objects.for_org(org(request)).filter(pk=statement_id).first()
    if found is None:
        raise Http404("no such statement")
    return _lines(request, StatementLine.objects.for_org(org(request)).filter(statement=found), paging, status,
                  customer)


@router.get("/statement-lines", response=answers(s.StatementLinePage))
def list_statement_lines(request, paging: Query[Paging], status: LineStatus | None = None,
                         customer: str | None = None, account: str | None = None):
    """Every bank line of the organization; ``updated_since`` finds those new or decided since then."""
    qs = StatementLine.objects.for_org(org(request))
    if account:
        qs = qs.filter(account=_account(request, account))
    return _lines(request, qs, paging, status, customer)


@router.post("/statements", response=answers({200: s.StatementImported}))
def import_statement(request, file: UploadedFile = File(...), account: str | None = None,  # noqa: B008
                     format: Literal[("auto", *FORMATS)] = "auto", dry_run: bool = False):  # noqa: A002
    """Upload a bank statement (CAMT.053, MT940, OFX, Norma 43, CSV/XLSX): its new lines are stored and
    those Cobro can prove are applied as payments; a line already read is a ``duplicate``. All or nothing:
    a file that cannot be read answers 422 with its line and nothing is written."""
    if not dry_run:
        writable(request)
    most = Limits.from_settings().bytes
    if file.size > most:
        raise invalid("file", f"{file.name}: larger than {most // 2**20} MB (COBRO_IMPORT_MAX_BYTES)")
    if account and len(account) > 64:
        raise invalid("account", "an account number has at most 64 characters")
    try:
        outcome = payments.import_statement(org(request), file.read(), fmt=format, account=account or None,
                                            filename=(file.name or "statement")[-200:], dry_run=dry_run)
    except StatementError as exc:
        raise ApiProblem(422, "nothing was imported", errors=[{"field": "file", "message": str(exc)}]) from None
    stored = _statements_out(request, [outcome.stored])[0] if outcome.stored else None
    return {"statement": stored, "lines": [line.as_json() for line in outcome.lines], "dry_run": dry_run}
