"""The import page ("Importar"): customers, invoices, payments, e-invoices and bank statements.

Two steps, as ``cobro import`` with and without ``--dry-run``: the upload is checked without writing
anything and the page shows what would be created, updated or left as it is, and every problem by
row and column; the file is kept on the server (``staging``) and a confirm button imports it. The
services are all or nothing, so a refused file writes nothing. Managers and admins only.
"""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods

from cobro.einvoice import services as einvoice
from cobro.engine.text import localized
from cobro.ledger.importing import MAX_PROBLEMS_SHOWN, TEMPLATE_HEADERS, ImportFailed, import_file
from cobro.ledger.tables import Limits
from cobro.ledger.tenancy import require_role
from cobro.payments import services as payments
from cobro.payments.formats import StatementError
from cobro.payments.models import BankAccount
from cobro.workspace import staging

KINDS = [
    ("invoices", gettext_lazy("Facturas"), gettext_lazy("CSV o XLSX, una fila por factura.")),
    ("customers", gettext_lazy("Clientes"), gettext_lazy("CSV o XLSX, una fila por cliente.")),
    ("payments", gettext_lazy("Pagos"), gettext_lazy("CSV o XLSX, una fila por pago; se imputan a las "
                                                     "facturas más antiguas.")),
    ("einvoice", gettext_lazy("Facturas electrónicas"), gettext_lazy("XML (UBL 2.1, CFDI 4.0, DTE) o ZIP; "
                                                                     "puede elegir varios archivos.")),
    ("statement", gettext_lazy("Estado de cuenta bancario"), gettext_lazy("CAMT.053, MT940, OFX, Norma 43, "
                                                                          "CSV o XLSX.")),
]
TABLE_KINDS = tuple(TEMPLATE_HEADERS)
TEMPLATE_NAMES = {"customers": "clientes", "invoices": "facturas", "payments": "pagos"}


def _megabytes(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


def _accounts(org):
    return list(BankAccount.objects.for_org(org).order_by("name"))


def _einvoice_files(files):
    out = []
    for name, data in files:
        out += einvoice.unzip(name, data) if name.lower().endswith(".zip") else [(name, data)]
        if len(out) > einvoice.MAX_FILES:
            raise einvoice.ImportFailed([_("más de %(n)s documentos en una importación: divídala")
                                         % {"n": einvoice.MAX_FILES}])
    return out


def _counts_table(result, dry_run):
    rows = [(_("se crearían") if dry_run else _("creadas"), result.created),
            (_("se actualizarían") if dry_run else _("actualizadas"), result.updated),
            (_("sin cambios"), result.unchanged)]
    if result.customers_created:
        rows.append((_("clientes nuevos"), result.customers_created))
    return rows


def _counts_einvoice(result):
    c = result.created
    return [(_("facturas"), c["invoice"]), (_("notas de crédito"), c["credit_note"]), (_("pagos"), c["payment"]),
            (_("ya importados"), result.unchanged), (_("clientes nuevos"), result.customers)]


STATEMENT_STATUS = [("applied", gettext_lazy("conciliados")), ("suggested", gettext_lazy("con sugerencia")),
                    ("unmatched", gettext_lazy("sin conciliar")), ("ignored", gettext_lazy("ignorados")),
                    ("duplicate", gettext_lazy("ya importados"))]


def run(request, kind: str, account: str, files: list[tuple[str, bytes]], *, dry_run: bool) -> dict:
    """Check (``dry_run``) or import ``files``; what the page shows: counts, notes and problems."""
    org = request.org
    try:
        if kind in TABLE_KINDS:
            name, data = files[0]
            result = import_file(org, kind, data, name=name, dry_run=dry_run)
            return {"rows": result.rows, "counts": _counts_table(result, dry_run),
                    "notes": [localized(n) for n in result.notes]}
        if kind == "einvoice":
            result = einvoice.import_files(org, _einvoice_files(files), dry_run=dry_run)
            return {"rows": sum(result.created.values()) + result.unchanged, "counts": _counts_einvoice(result),
                    "notes": [localized(n) for n in result.notes]}
        name, data = files[0]
        outcome = payments.import_statement(org, data, account=account or None, filename=name, dry_run=dry_run,
                                            actor=request.user)
        counts = outcome.counts()
        return {"rows": len(outcome.lines), "counts": [(str(label), counts[code]) for code, label in STATEMENT_STATUS],
                "notes": []}
    except ImportFailed as failed:
        problems = [p.localized() for p in failed.problems]
    except einvoice.ImportFailed as failed:
        problems = [localized(p) for p in failed.problems]
    except StatementError as exc:
        problems = [_("Línea %(line)s: %(message)s") % {"line": exc.line, "message": localized(exc.message)}]
    return {"problems": problems[:MAX_PROBLEMS_SHOWN], "more": max(0, len(problems) - MAX_PROBLEMS_SHOWN),
            "total": len(problems)}


def _uploaded(request, kind: str) -> tuple[list[tuple[str, bytes]], str | None]:
    """The uploaded files, or an error: none, several for a kind that takes one, or above the ceiling."""
    uploads = request.FILES.getlist("file")
    if not uploads:
        return [], _("Elija un archivo.")
    if len(uploads) > 1 and kind != "einvoice":
        return [], _("Este tipo de importación lee un solo archivo.")
    most = Limits.from_settings().bytes
    size = sum(f.size for f in uploads)
    if size > most:
        return [], (_("Los archivos pesan %(size)s; lo más que lee una importación es %(most)s "
                      "(COBRO_IMPORT_MAX_BYTES): divídalos.") % {"size": _megabytes(size), "most": _megabytes(most)})
    return [((f.name or "archivo")[-200:], f.read()) for f in uploads], None


@require_http_methods(["GET", "POST"])
@require_role("manager")
def import_page(request):
    org = request.org
    accounts = _accounts(org)
    context = {"kinds": KINDS, "accounts": accounts, "kind": request.POST.get("kind") or request.GET.get("kind")
               or "invoices", "account": request.POST.get("account", "")}
    if context["kind"] not in dict((k, label) for k, label, _help in KINDS):
        context["kind"] = "invoices"
    if request.method == "POST":
        if request.POST.get("step") == "confirm":
            staged = staging.load(request, request.POST.get("token", ""))
            if staged is None:
                context["error"] = _("La revisión ya no está disponible: vuelva a subir el archivo.")
            else:
                context.update(kind=staged.kind, account=staged.account, names=[n for n, _ in staged.files])
                context["report"] = run(request, staged.kind, staged.account, staged.files, dry_run=False)
                context["imported"] = "problems" not in context["report"]
                staging.discard(request)
        else:
            kind, account = context["kind"], context["account"]
            if account and account not in {a.number for a in accounts}:
                account = context["account"] = ""
            files, error = _uploaded(request, kind)
            if error:
                context["error"] = error
            else:
                context["names"] = [n for n, _ in files]
                context["report"] = run(request, kind, account, files, dry_run=True)
                if "problems" not in context["report"]:
                    context["token"] = staging.stage(request, kind, account, files)
                else:
                    staging.discard(request)
    context["kind_label"] = dict((k, label) for k, label, _help in KINDS)[context["kind"]]
    if context.get("report") and "problems" in context["report"]:
        total = context["report"]["total"]
        context["problems_title"] = ngettext("%(n)s problema: no se importó nada.",
                                             "%(n)s problemas: no se importó nada.", total) % {"n": total}
    return render(request, "workspace/import.html", context)


@require_GET
@require_role("manager")
def import_template(request, kind: str):
    """A CSV with the Spanish headers the importer accepts for ``kind``, ready to fill in."""
    if kind not in TEMPLATE_HEADERS:
        raise Http404
    response = HttpResponse(",".join(TEMPLATE_HEADERS[kind].values()) + "\r\n", content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="plantilla-{TEMPLATE_NAMES[kind]}.csv"'
    return response
