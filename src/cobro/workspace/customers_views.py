"""The customers list's pages: the list itself, its export, saved views and bulk actions."""

from __future__ import annotations

import datetime as dt
import io

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from cobro.ledger.exporting import table_xlsx_bytes, write_table_csv
from cobro.ledger.replica import replica_reads
from cobro.ledger.models import Customer, Membership, Task
from cobro.ledger.tenancy import require_role
from cobro.workspace import board as boardlib
from cobro.workspace import customer_list as cl
from cobro.workspace.forms import PauseForm
from cobro.workspace.models import SavedView
from cobro.workspace.views import _approve, org_today

#: "All matching the filter" acts on at most this many customers at once.
BULK_LIMIT = 5000


def _choices(org):
    customers = Customer.objects.for_org(org).order_by()
    return {
        "segments": sorted(s for s in customers.values_list("segment", flat=True).distinct() if s),
        "countries": sorted(c for c in customers.values_list("country", flat=True).distinct() if c),
        "members": list(Membership.objects.filter(organization=org).select_related("user").order_by("user__first_name",
                                                                                                  "user__username")),
        "stages": boardlib.stages(org),
    }


@require_GET
@require_role("viewer")
def customers(request):
    org, day = request.org, org_today(request.org)
    f = cl.parse_filters(request.GET, org)
    for error in f.errors:
        messages.error(request, error)
    ids, bals, stages = cl.matching_ids(org, request.user, f, day)
    page = Paginator(ids, cl.PAGE_SIZE).get_page(request.GET.get("page"))
    rows = cl.page_rows(org, list(page.object_list), bals, stages, day)
    query = f.query()
    base = QueryDict(query, mutable=True)
    base.pop("sort", None)
    return render(request, "workspace/customers.html", {
        "page": page, "rows": rows, "f": f, "q": f.q, "day": day, "query": query, "sort_base": base.urlencode(),
        "buckets": cl.BUCKETS, "sorts": cl.SORTS, **_choices(org),
        "views": SavedView.objects.for_org(org).filter(user=request.user),
        "can_act": request.membership.can("agent"), "can_manage": request.membership.can("manager"),
        "can_move": boardlib.can_move(), "pause_form": PauseForm(prefix="pause"),
    })


@require_GET
@require_role("agent")
@replica_reads
def customers_export(request, fmt: str):
    if fmt not in ("csv", "xlsx"):
        raise Http404(fmt)
    org, day = request.org, org_today(request.org)
    f = cl.parse_filters(request.GET, org)
    ids, bals, stages = cl.matching_ids(org, request.user, f, day)
    head, body = cl.export_table(org, ids, bals, stages, day)
    name = f"clientes-{day.isoformat()}"
    if fmt == "xlsx":
        response = HttpResponse(table_xlsx_bytes(_("Clientes"), head, body),
                                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    else:
        out = io.StringIO()
        write_table_csv(head, body, out)
        response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@require_POST
@require_role("viewer")
def view_save(request):
    name = request.POST.get("name", "").strip()[:80]
    f = cl.parse_filters(QueryDict(request.POST.get("query", "")), request.org)
    if not name:
        messages.error(request, _("Dé un nombre a la vista para guardarla."))
        return redirect(f"/customers/?{f.query()}")
    try:
        with transaction.atomic():
            SavedView.objects.create(organization=request.org, user=request.user, name=name, query=f.query())
    except IntegrityError:
        SavedView.objects.for_org(request.org).filter(user=request.user, name=name).update(query=f.query())
    messages.success(request, _("Vista «%(n)s» guardada.") % {"n": name})
    return redirect(f"/customers/?{f.query()}")


@require_POST
@require_role("viewer")
def view_delete(request, pk: int):
    view = get_object_or_404(SavedView.objects.for_org(request.org), pk=pk, user=request.user)
    view.delete()
    messages.success(request, _("Vista «%(n)s» eliminada.") % {"n": view.name})
    return redirect("customers")


def _selected(request) -> list[Customer] | None:
    """The customers the action is for: the ticked ones, or every one matching the list's filter."""
    org = request.org
    if request.POST.get("scope") == "all":
        f = cl.parse_filters(QueryDict(request.POST.get("query", "")), org)
        ids, _bals, _stages = cl.matching_ids(org, request.user, f, org_today(org))
        if len(ids) > BULK_LIMIT:
            messages.error(request, _("El filtro abarca %(n)s clientes; una acción en bloque llega a %(max)s como "
                                      "máximo. Acote el filtro.") % {"n": len(ids), "max": BULK_LIMIT})
            return None
    else:
        ids = [int(v) for v in request.POST.getlist("customer") if v.isdigit()]
    found = Customer.objects.for_org(org).select_related("owner").in_bulk(ids)
    return [found[i] for i in ids if i in found]


@require_POST
@require_role("agent")
def customers_bulk(request):
    org, action = request.org, request.POST.get("action", "")
    back = f"/customers/?{cl.parse_filters(QueryDict(request.POST.get('query', '')), org).query()}"
    if action in {"owner", "approve"} and not request.membership.can("manager"):
        raise PermissionDenied(_("Solo un supervisor puede asignar responsables o aprobar pasos."))
    chosen = _selected(request)
    if chosen is None:
        return redirect(back)
    if not chosen:
        messages.error(request, _("Marque al menos un cliente."))
        return redirect(back)
    day = org_today(org)
    if action == "owner":
        members = {str(m.user_id): m.user for m in Membership.objects.filter(organization=org).select_related("user")}
        owner_id = request.POST.get("owner", "")
        if owner_id and owner_id not in members:
            messages.error(request, _("Ese responsable no pertenece a esta organización."))
            return redirect(back)
        result = cl.bulk_owner(org, chosen, members.get(owner_id), request.user)
        done = ngettext("Responsable asignado a %(n)d cliente.", "Responsable asignado a %(n)d clientes.", result.done)
    elif action == "stage":
        result = cl.bulk_stage(org, chosen, request.POST.get("stage", ""), request.user,
                               request.membership.can("manager"), day)
        done = ngettext("%(n)d cliente cambió de etapa.", "%(n)d clientes cambiaron de etapa.", result.done)
    elif action == "pause":
        form = PauseForm(request.POST, prefix="pause")
        if not form.is_valid():
            messages.error(request, "; ".join(f"{form.fields[k].label}: {' '.join(v)}" for k, v in form.errors.items()))
            return redirect(back)
        result = cl.bulk_pause(org, chosen, form.cleaned_data["days"], form.cleaned_data["reason"], request.user, day)
        until = date_format(day + dt.timedelta(days=form.cleaned_data["days"]), "DATE_FORMAT")
        done = ngettext("Cobranza en pausa hasta el %(d)s para %(n)d cliente.",
                        "Cobranza en pausa hasta el %(d)s para %(n)d clientes.", result.done) % {
            "d": until, "n": result.done}
    elif action == "approve":
        result = cl.BulkResult()
        tasks = {}
        for task in (Task.objects.for_org(org).select_related("customer")
                     .filter(customer__in=chosen, kind="approval", status=Task.Status.OPEN).order_by("id")):
            tasks.setdefault(task.customer_id, []).append(task)
        for c in chosen:
            if c.pk not in tasks:
                result.refused.append(_("%(c)s no tiene pasos esperando aprobación.") % {"c": c.name})
            for task in tasks.get(c.pk, []):
                ok, message = _approve(request, task)
                if ok:
                    result.done += 1
                else:
                    result.refused.append(message)
        done = ngettext("%(n)d paso aprobado.", "%(n)d pasos aprobados.", result.done)
    else:
        messages.error(request, _("Elija qué hacer con los clientes marcados."))
        return redirect(back)
    if result.done:
        messages.success(request, done % {"n": result.done})
    for refusal in result.refused:
        messages.error(request, refusal)
    return redirect(back)
