"""The top bar's search: one box over customers, invoice numbers, tax ids and contacts."""

from __future__ import annotations

from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from cobro.ledger import search
from cobro.ledger.tenancy import require_role

GROUP_TITLES = {"customers": _("Clientes"), "invoices": _("Facturas"), "contacts": _("Contactos")}
KIND_LABELS = {"name": _("Razón social"), "ref": _("Código"), "tax_id": _("Identificador tributario"),
               "invoice": _("Factura"), "contact": _("Contacto"), "email": _("Correo"), "phone": _("Teléfono")}


@require_GET
@require_role("viewer")
def search_page(request):
    q = request.GET.get("q", "").strip()[:100]
    found = search.search(request.org, q) if q else {}
    groups = [{"code": code, "title": GROUP_TITLES[code],
               "results": [{"customer": r.customer,
                            "hits": [(KIND_LABELS[h.kind], h.label) for h in r.hits[:3] if h.kind != "name"]} for r in results]}
              for code, results in found.items()]
    too_short = bool(q) and len(search.fold(q)) < search.MIN_QUERY and len(search.compact(q)) < search.MIN_QUERY
    return render(request, "workspace/search.html", {"q": q, "groups": groups, "too_short": too_short})
