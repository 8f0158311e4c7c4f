"""The debtor portal: the statement behind the customer's signed link, paying online (providers
app), promising a date, proposing a plan, disputing an invoice, the thank-you survey; and the start
page where a debtor who lost the link asks for a new one with their tax id."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import InvalidOperation

from django.conf import settings
from django.db import transaction
from django.db.models.expressions import RawSQL
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format, get_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_POST

from cobro.agreements import services as agreements
from cobro.engine.money import format_amounts, format_money, parse_amount
from cobro.ledger import services as ledger
from cobro.ledger.models import CreditNote, Invoice, Payment
from cobro.messaging import defaults, links
from cobro.portal import access, lists, pagecache, paying, team
from cobro.portal.models import Survey, TransferNotice

PROVIDERS = ("stripe", "mercadopago", "transbank")
MAX_UPLOAD = 5 * 2**20
# Receipts and dispute attachments: what the first bytes must be, whatever the file is called.
MAGIC = {b"%PDF-": "application/pdf", b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


NOT_RECORDED = gettext_noop("No pudimos registrarlo. Revise los datos o escríbanos.")  # translated where shown
#: The dispute reasons agreements ships (stored in Spanish): in the debtor's language while the
#: organization has not reworded them; a label it wrote shows as written.
SHIPPED_REASONS = {"wrong_amount": gettext_noop("Monto incorrecto"),
                   "not_received": gettext_noop("Mercadería o servicio no recibido"),
                   "already_paid": gettext_noop("Ya pagada"), "other": gettext_noop("Otro motivo")}


class Gone(Exception):
    def __init__(self, reason: str):
        self.reason = reason


def _open(token: str):
    try:
        # One query: the customer with its organization, both named by the signed token, and its link version.
        _data, customer = links.open_link(token, "pay")
    except links.MalformedLink:
        raise Gone("malformed") from None
    except links.LinkError as exc:
        raise Gone(str(exc)) from None
    if customer is None:
        raise Gone("invalid")
    return customer.organization, customer


def _lang(org, customer) -> str:
    return defaults.language_of(customer.language or org.language)


def portal_view(fn):
    """Open the link (or answer 410 with the friendly page), in the debtor's language."""
    def wrapper(request, token: str, *args, **kwargs):
        try:
            org, customer = _open(token)
        except Gone as gone:
            # Signed with our key but not a payload Cobro writes: an unknown page (404); a forged,
            # expired or revoked link: gone (410). Both show the same friendly page and no data.
            return render(request, "portal/gone.html", {"reason": gone.reason},
                          status=404 if gone.reason == "malformed" else 410)
        with translation.override(_lang(org, customer).lower()):
            return fn(request, token, org, customer, *args, **kwargs)
    wrapper.__name__ = fn.__name__
    return wrapper


def check_upload(upload) -> tuple[str, bytes] | str:
    """(name, content) of an acceptable PDF/PNG/JPEG, or the reason it is refused."""
    if upload is None:
        return ""
    if upload.size > MAX_UPLOAD:
        return _("El archivo supera el máximo de %(mb)s MB.") % {"mb": MAX_UPLOAD // 2**20}
    content = upload.read(MAX_UPLOAD + 1)
    if not any(content.startswith(magic) for magic in MAGIC):
        return _("El archivo debe ser un PDF, PNG o JPEG.")
    return (upload.name[:120], content)


def _rows(org, invoices, language: str, today: dt.date) -> list[dict]:
    # The organization's currency the local way, any other with its ISO code.
    def money(minor: int, currency: str) -> str:
        return format_money(minor, currency, language, home=org.currency)

    return [{"ref": inv.ref, "issued": inv.issue_date, "due": inv.due_date,
             "late": max(0, (today - inv.due_date).days) if inv.status == Invoice.Status.OPEN else 0,
             "amount": money(inv.amount, inv.currency), "credited": money(inv.credited, inv.currency),
             "paid": money(inv.amount - inv.open_amount - inv.credited, inv.currency),
             "balance": money(inv.open_amount, inv.currency)} for inv in invoices]


def _credits_sql() -> RawSQL:
    # Plain SQL: the ORM's Subquery/Coalesce/annotate chain cost more CPU to build than the page's
    # other work (B4); this is the same correlated sum, on the credit notes' invoice index.
    notes, invoices = CreditNote._meta.db_table, Invoice._meta.db_table
    return RawSQL(f'SELECT COALESCE(SUM(n."amount"), 0) FROM "{notes}" n WHERE n."invoice_id" = "{invoices}"."id" '
                  f'AND n."organization_id" = "{invoices}"."organization_id"', ())


def _with_credits(invoices):
    """Invoices with ``credited``: the sum of their credit notes, read in the same query."""
    return invoices.annotate(credited=_credits_sql())


def _credit_balance(org, customer, language: str) -> list[str]:
    """Payments received but not yet applied to any invoice, per currency (the customer's credit)."""
    found = defaultdict(int)
    for currency, unallocated in (Payment.objects.for_org(org).filter(customer=customer, unallocated__gt=0)
                                  .order_by().values_list("currency", "unallocated")):
        found[currency] += unallocated
    return format_amounts(dict(sorted(found.items())), language, home=org.currency) if found else []


_ROW_FIELDS = ("id", "organization_id", "customer_id", "ref", "issue_date", "due_date", "currency", "amount",
               "open_amount", "status")


def _statement(org, customer, language: str, today: dt.date) -> dict:
    invoices = list(_with_credits(Invoice.objects.for_org(org).filter(customer=customer, status=Invoice.Status.OPEN)
                                  .only(*_ROW_FIELDS)).order_by("due_date", "ref"))
    totals = defaultdict(int)
    for inv in invoices:
        totals[inv.currency] += inv.open_amount
    # Totals that mix currencies name each one.
    return {"rows": _rows(org, invoices, language, today), "invoices": invoices, "currencies": sorted(totals),
            "totals": format_amounts(dict(sorted(totals.items())), language, home=org.currency),
            "credit_balance": _credit_balance(org, customer, language)}


def _configured(org) -> list[str]:
    try:
        found = lists.providers(org)
    except ImportError:  # the providers app is not installed in this build
        return []
    return [p for p in found if p in PROVIDERS]


def _context(token, org, customer, statement: dict) -> dict:
    """What the page and the PDFs share: who is owed, by whom, and how to pay by transfer."""
    language = _lang(org, customer)
    return {"org_": org, "customer": customer, "token": token, "providers": _configured(org),
            "transfer": paying.transfer_options(org, customer, statement["currencies"], language),
            "debtor_country_name": paying.country_name(paying.debtor_country(org, customer), language),
            "reference": customer.ref, **statement}


def _page_context(token, org, customer, **extra) -> dict:
    language = _lang(org, customer)
    today = agreements.debtor_today(customer)
    statement = _statement(org, customer, language, today)
    base = reverse("portal:statement", args=[token])
    return {**_context(token, org, customer, statement), "today": today, "base": base,
            "has_logo": bool(org.option(paying.LOGO_OPTION)),
            "reasons": _reasons(org) if statement["rows"] else [],
            "promise_max_days": _promise_max_days(org),
            "promise_limit": _promise_limit(org, today),  # the date picker's last day
            "limits": agreements.plan_limits(org), **extra}


def _page(request, token, org, customer, *, status=200, **extra):
    return render(request, "portal/statement.html", _page_context(token, org, customer, **extra), status=status)


def _reasons(org) -> list[dict]:
    return [{"code": r.code, "label": _(r.label) if SHIPPED_REASONS.get(r.code) == r.label else r.label}
            for r in lists.dispute_reasons(org)]


def pdf_context(token, org, customer, invoice: Invoice | None = None) -> dict:
    """What the statement PDF (or, with ``invoice``, that invoice's PDF) shows, in the debtor's language."""
    today = agreements.debtor_today(customer)
    language = _lang(org, customer)
    if invoice is None:
        statement = _statement(org, customer, language, today)
    else:
        if not hasattr(invoice, "credited"):  # read without its credit notes
            invoice = _with_credits(Invoice.objects.for_org(org).filter(pk=invoice.pk)).get()
        statement = {"rows": _rows(org, [invoice], language, today), "invoices": [invoice], "totals": [],
                     "currencies": [invoice.currency] if invoice.status == Invoice.Status.OPEN else []}
    return {**_context(token, org, customer, statement), "today": today, "invoice": invoice, "pdf": True,
            "logo": paying.logo_data_uri(org),
            "portal_url": settings.COBRO_BASE_URL + reverse("portal:statement", args=[token])}


def _pdf_response(request, filename: str, ctx: dict):
    from cobro.portal.pdf import render_pdf

    response = HttpResponse(render_pdf("portal/pdf.html", ctx, request=request), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@portal_view
def statement_pdf(request, token, org, customer):
    return _pdf_response(request, f"estado-{_safe(customer.ref)}.pdf", pdf_context(token, org, customer))


@portal_view
def invoice_pdf(request, token, org, customer):
    """One invoice of this customer (open or not) as a PDF; any other ref is not found."""
    inv = _with_credits(Invoice.objects.for_org(org).filter(customer=customer, ref=request.GET.get("ref", ""))).first()
    if inv is None:
        return render(request, "portal/gone.html", {"reason": "invoice"}, status=404)
    return _pdf_response(request, f"factura-{_safe(inv.ref)}.pdf", pdf_context(token, org, customer, inv))


def _safe(ref: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in ref)[:80]


@portal_view
def logo(request, token, org, customer):
    found = paying.logo(org)
    if found is None:
        return HttpResponse(status=404)
    response = HttpResponse(found[0], content_type=found[1])
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _promise_max_days(org) -> int:
    return int(org.option("promise_max_days", 30) or 30)


def _promise_limit(org, today: dt.date) -> dt.date:
    """The last day a debtor may promise to pay on."""
    return today + dt.timedelta(days=_promise_max_days(org))


@portal_view
def statement(request, token, org, customer):
    # The page as the link shows it, with no form answered: rendered once per content (pagecache).
    return pagecache.render_shared(request, "portal/statement.html", _page_context(token, org, customer))


def _chosen(request, org, customer) -> list[Invoice]:
    refs = [r for r in request.POST.getlist("invoice") if r]
    qs = Invoice.objects.for_org(org).filter(customer=customer, status=Invoice.Status.OPEN)
    if not refs:
        return list(qs.order_by("due_date", "ref"))
    found = list(qs.filter(ref__in=refs).order_by("due_date", "ref"))
    if len(found) != len(set(refs)):
        raise ValueError(_("Alguna de las facturas elegidas no está pendiente."))
    return found


@require_POST
@portal_view
def pay(request, token, org, customer):
    provider = request.POST.get("provider", "")
    try:
        invoices = _chosen(request, org, customer)
        if provider not in PROVIDERS:
            raise ValueError(_("Elija un medio de pago."))
        if not invoices:
            raise ValueError(_("No tiene facturas pendientes."))
        if len({i.currency for i in invoices}) > 1:
            raise ValueError(_("Pague por separado las facturas de cada moneda."))
        from cobro.providers import services as providers

        base = settings.COBRO_BASE_URL + reverse("portal:statement", args=[token])  # the public address
        try:
            url = providers.start_checkout(org, customer, invoices, provider, success_url=base + "thanks/",
                                           cancel_url=base)
        except providers.ProviderUnavailable as exc:
            raise ValueError(str(exc)) from None
    except (ValueError, ImportError, AttributeError) as exc:
        message = str(exc) if isinstance(exc, ValueError) else _("El pago en línea no está disponible.")
        return _page(request, token, org, customer, status=400, pay_error=message)
    return _see_other(url)


def _see_other(url: str):
    from django.http import HttpResponseRedirect

    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


@require_POST
@portal_view
def promise(request, token, org, customer):
    today = agreements.debtor_today(customer)
    try:
        day = dt.date.fromisoformat(request.POST.get("date", ""))
    except ValueError:
        return _page(request, token, org, customer, status=400, promise_error=_("Indique una fecha válida."))
    limit = _promise_limit(org, today)
    if not today <= day <= limit:
        return _page(request, token, org, customer, status=400, promise_error=_(
            "La fecha debe estar entre hoy y el %(limit)s.") % {"limit": date_format(limit, "SHORT_DATE_FORMAT")})
    try:
        invoices = _chosen(request, org, customer)
        currencies = {i.currency for i in invoices}
        if len(currencies) != 1:
            raise ValueError(_("Elija facturas de una sola moneda."))
        currency = currencies.pop()
        p = agreements.create_promise(org, customer, day, sum(i.open_amount for i in invoices), currency,
                                      invoices=invoices, channel="portal", made_on=today)
    except agreements.AgreementError:
        return _page(request, token, org, customer, status=400, promise_error=_(NOT_RECORDED))
    except ValueError as exc:
        return _page(request, token, org, customer, status=400, promise_error=str(exc))
    return _page(request, token, org, customer, promise_done=p)


@require_POST
@portal_view
def plan(request, token, org, customer):
    today = agreements.debtor_today(customer)
    try:
        raw_count = request.POST.get("count", "").strip()
        if not raw_count.isdigit():
            raise ValueError(_("Indique el número de cuotas."))
        count = int(raw_count)
        invoices = _chosen(request, org, customer)
        taken = agreements.in_live_plan(org, invoices)
        if taken and any(request.POST.getlist("invoice")):
            raise ValueError(_("Ya hay un plan de pagos para %(refs)s.") % {"refs": ", ".join(sorted(taken))})
        invoices = [i for i in invoices if i.ref not in taken]  # "all open invoices": those not in a plan yet
        if taken and not invoices:
            raise ValueError(_("Todas sus facturas pendientes ya están en un plan de pagos."))
        if len({i.currency for i in invoices}) > 1:
            raise ValueError(_("Elija facturas de una sola moneda."))
        currency = invoices[0].currency if invoices else org.currency
        raw_down = request.POST.get("down_payment", "").strip()
        # As the debtor writes amounts: "159.000" is 159,000 pesos to a Chilean, not 159.
        down = parse_amount(raw_down, currency, get_format("DECIMAL_SEPARATOR")) if raw_down else None
        with transaction.atomic():
            p = agreements.create_plan(org, customer, invoices, count, "monthly", today, down_payment=down)
            if p.status == p.Status.PROPOSED:
                data = {"plan_id": p.pk}
                ledger.create_task(org, customer, "plan_approval", team.stored(org, team.title, "plan_approval", data),
                                   today, source_key=f"portal-plan-{p.pk}", data=data)
    except (ValueError, InvalidOperation, IndexError) as exc:
        # The agreements' own errors are written for the team (in English): the debtor gets ours.
        plain = isinstance(exc, ValueError) and not isinstance(exc, (agreements.AgreementError, InvalidOperation))
        message = str(exc) if plain and str(exc) else _("Revise el plan propuesto.")
        return _page(request, token, org, customer, status=400, plan_error=message)
    schedule = list(p.instalments.order_by("number"))
    if p.status == p.Status.ACTIVE:
        _mail_schedule(org, customer, p, schedule)
    rows = [{"due": i.due_date, "amount": format_money(i.amount, p.currency, _lang(org, customer))} for i in schedule]
    return _page(request, token, org, customer, plan_done=p, schedule_rows=rows)


def _mail_schedule(org, customer, plan, schedule) -> None:
    """E-mail the accepted plan's schedule (text, and the agreements' PDF) to the contacts on file."""
    from django.core.mail import EmailMessage

    from cobro.agreements.pdf import plan_schedule_pdf
    from cobro.ledger.models import Contact

    emails = sorted(set(Contact.objects.for_org(org).filter(customer=customer).exclude(email="")
                        .values_list("email", flat=True)))
    if not emails:
        return
    language = _lang(org, customer)
    lines = [f"{date_format(i.due_date, 'SHORT_DATE_FORMAT')}  {format_money(i.amount, plan.currency, language)}"
             for i in schedule]
    body = _("Su plan de pagos con %(org)s quedó aceptado. Estas son sus cuotas:") % {"org": org.name}
    mail = EmailMessage(_("%(org)s: su plan de pagos") % {"org": org.name}, body + "\n\n" + "\n".join(lines),
                        org.email or settings.DEFAULT_FROM_EMAIL, emails)
    mail.attach(f"plan-{plan.pk}.pdf", plan_schedule_pdf(plan, language), "application/pdf")
    mail.send()


@require_POST
@portal_view
def dispute(request, token, org, customer):
    inv = Invoice.objects.for_org(org).filter(customer=customer, ref=request.POST.get("invoice", "")).first()
    if inv is None:
        return _page(request, token, org, customer, status=400, dispute_error=_("Elija la factura."))
    if agreements.open_dispute_on(org, inv):
        return _page(request, token, org, customer, status=400, dispute_error=_(
            "Ya recibimos un reclamo sobre la factura %(ref)s y lo estamos revisando.") % {"ref": inv.ref})
    checked = check_upload(request.FILES.get("attachment"))
    if isinstance(checked, str) and checked:
        return _page(request, token, org, customer, status=400, dispute_error=checked)
    try:
        d = agreements.open_dispute(org, inv, request.POST.get("reason", ""), request.POST.get("text", "")[:2000],
                                    attachments=[checked] if checked else [])
    except ValueError:
        return _page(request, token, org, customer, status=400, dispute_error=_(NOT_RECORDED))
    return _page(request, token, org, customer, dispute_done=d)


def _paused_days(org) -> int:
    return int(org.option("transfer_pause_days", 5) or 5)


@require_POST
@portal_view
def paid(request, token, org, customer):
    """"Ya pagué": store the receipt, pause collection of the invoices paid (only those) a few
    days, open a task to confirm the transfer. The pause lifts by itself on its last day, or as
    soon as a payment to those invoices is recorded (``portal.receivers``)."""
    from django.core.files.base import ContentFile

    from cobro.dunning.services import pause_customer

    checked = check_upload(request.FILES.get("receipt"))
    if isinstance(checked, str):  # no file, or the reason it is refused
        return _page(request, token, org, customer, status=400, paid_error=checked or _("Adjunte el comprobante."))
    try:
        invoices = _chosen(request, org, customer)
        if not invoices:
            raise ValueError(_("No tiene facturas pendientes."))
    except ValueError as exc:
        return _page(request, token, org, customer, status=400, paid_error=str(exc))
    today = agreements.debtor_today(customer)
    until = today + dt.timedelta(days=_paused_days(org))
    refs = [i.ref for i in invoices]
    listed = ", ".join(refs)
    name, content = checked
    with transaction.atomic():
        notice = TransferNotice(organization=org, customer=customer, invoice_refs=refs, receipt_name=name)
        notice.receipt.save(name, ContentFile(content), save=False)
        notice.pause = pause_customer(org, customer, until, f"Transferencia informada en el portal ({listed})",
                                      invoices=invoices)
        notice.save()
        data = {"notice_id": notice.pk, "invoice_refs": refs, "pause_id": notice.pause.pk}
        ledger.create_task(org, customer, "confirm_transfer", team.stored(org, team.title, "confirm_transfer", data),
                           today, source_key=f"portal-transfer-{notice.pk}", data=data)
    return _page(request, token, org, customer, paid_done=until, paid_refs=listed)


@portal_view
def thanks(request, token, org, customer):
    done = False
    error = ""
    if request.method == "POST":
        try:
            rating = int(request.POST.get("rating", ""))
            if not 1 <= rating <= 5:
                raise ValueError
        except ValueError:
            error = _("Elija una nota del 1 al 5.")
        else:
            Survey.objects.create(organization=org, customer=customer, rating=rating,
                                  comment=request.POST.get("comment", "")[:1000],
                                  template=_last_template(org, customer), agent_id=customer.owner_id)
            ledger.record_event(org, customer, "portal.survey", team.stored(org, team.survey_line, {"rating": rating}),
                                data={"rating": rating})
            done = True
    return render(request, "portal/thanks.html", {"org_": org, "customer": customer, "token": token,
                                                  "done": done, "error": error, "payment": _last_payment(org, customer)},
                  status=400 if error else 200)


def _last_payment(org, customer) -> str:
    """How the debtor's latest online payment stands: "paid", "pending" (the provider has not
    confirmed it yet: a webhook still on its way, a Mercado Pago voucher to pay in cash), or ""."""
    try:
        from cobro.providers.models import PaymentRequest
    except ImportError:  # the providers app is not installed in this build
        return ""
    status = (PaymentRequest.objects.for_org(org).filter(customer=customer).order_by("-created_at")
              .values_list("status", flat=True).first())
    return status if status in (PaymentRequest.Status.PAID, PaymentRequest.Status.PENDING) else ""


def _last_template(org, customer) -> str:
    """The template of the last message sent to the customer (what led to the payment), or ""."""
    from cobro.messaging.models import Message

    return (Message.objects.for_org(org).filter(customer=customer, direction=Message.Direction.OUT,
                                                 status=Message.Status.SENT).exclude(template="")
            .order_by("-sent_at", "-pk").values_list("template", flat=True).first() or "")


def start(request):
    """Ask for a new link with the tax id. The answer is the same whether the tax id exists or not."""
    countries = sorted(access.TAX_IDS)
    ctx = {"countries": countries, "country": request.POST.get("country", "CL"), "sent": False, "error": ""}
    if request.method == "POST":
        ip = request.META.get("REMOTE_ADDR", "")
        try:
            spellings = access.normalise_tax_id(ctx["country"], request.POST.get("tax_id", ""))
        except access.BadTaxId as exc:
            ctx["error"] = str(exc)
            return render(request, "portal/start.html", ctx, status=400)
        if access.over_limit("ip:" + ip, "tax:" + ctx["country"] + spellings[0]):
            ctx["error"] = _("Demasiados intentos. Vuelva a intentarlo en una hora.")
            return render(request, "portal/start.html", ctx, status=429)
        access.send_magic_links(ctx["country"], spellings)
        ctx["sent"] = True
    return render(request, "portal/start.html", ctx)


