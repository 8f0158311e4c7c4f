"""The team's pages. Views parse the request, call a service, and render; they never write tables."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.paginator import Paginator
from django.forms.utils import ErrorDict
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.html import escape, format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from cobro.engine.money import MoneyError, parse_amount
from cobro.ledger.models import Customer, Invoice, Membership, Task, TimelineEvent
from cobro.ledger.services import complete_task
from cobro.ledger.tenancy import require_role, switch_org
from cobro.workspace import board as boardlib
from cobro.workspace import ratelimit, services
from cobro.workspace.forms import DISPUTE_REASONS, CallOutcomeForm, NoteForm, OwnerForm, PauseForm
from cobro.workspace.timeline import attach_messages
from cobro.workspace.worklist import worklist

LANG_CODES = {code for code, _name in settings.LANGUAGES}


def org_today(org) -> dt.date:
    """The organization's calendar day: a team in Santiago starts its Monday before UTC does."""
    try:
        return timezone.localdate(timezone=ZoneInfo(org.timezone))
    except (KeyError, ValueError):
        return timezone.localdate()


def _lang_response(response, language: str | None):
    if language:
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600,
                            samesite="Lax", secure=settings.SESSION_COOKIE_SECURE)
    return response


class LoginView(auth_views.LoginView):
    """Sign-in that brings back the language the person chose last time, on any device."""

    template_name = "workspace/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        username, ip = request.POST.get("username", ""), ratelimit.client_ip(request)
        if ratelimit.blocked(username, ip):
            # An unbound form: a locked sign-in never reaches the password check.
            form = self.get_form_class()(request, initial={"username": username})
            form._errors = ErrorDict({NON_FIELD_ERRORS: form.error_class([
                _("Demasiados intentos fallidos. Espere %(m)s minutos e intente de nuevo.")
                % {"m": ratelimit.window_minutes()}])})
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        ratelimit.record_failure(self.request.POST.get("username", ""), ratelimit.client_ip(self.request))
        return super().form_invalid(form)


    def dispatch(self, request, *args, **kwargs):
        # The language the person chose (the cookie, set when they last chose or signed in), else
        # the product's own: never the browser's guess, which may not be what this team works in.
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = chosen if chosen in LANG_CODES else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        ratelimit.clear(self.request.POST.get("username", ""))
        response = super().form_valid(form)
        return _lang_response(response, services.user_language(form.get_user()))


def _safe_next(request, fallback="/"):
    target = request.POST.get("next") or request.GET.get("next") or fallback
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return fallback
    return target


@require_role("viewer")
def home(request):
    return redirect("today")


@require_POST
@require_role("viewer")
def org_switch(request):
    if not switch_org(request, request.POST.get("org", "")):
        raise Http404(_("No pertenece a esa organización."))
    return redirect("/")  # the page being viewed may belong to the previous organization


@require_POST
def set_language(request):
    language = request.POST.get("language", "")
    if language not in LANG_CODES:
        return HttpResponseBadRequest(_("Idioma desconocido."))
    if request.user.is_authenticated:
        services.set_language(request.user, language)
    translation.activate(language)
    return _lang_response(redirect(_safe_next(request)), language)


# ---------------------------------------------------------------- today
@require_GET
@require_role("viewer")
def today(request):
    day = org_today(request.org)
    items = worklist(request.org, request.user, day, translation.get_language() or "es",
                     approvals=request.membership.can("manager"))
    # Only the first item carries its outcome form; the others fetch theirs when opened, so a
    # day of 200 calls renders in a fraction of the time.
    callable_items = [i for i in items if not i.is_approval]
    if callable_items:
        first = callable_items[0]
        first.form = _outcome_form(request, first.invoices, services.delay_reasons(request.org), day,
                                   prefix=f"t{first.task.pk}")
    for item in items:
        item.action, item.target = f"/tasks/{item.task.pk}/log/", f"#task-{item.task.pk}"
    return render(request, "workspace/today.html", {"items": items, "day": day,
                                                    "approvals": sum(1 for i in items if i.is_approval),
                                                    "can_act": request.membership.can("agent"),
                                                    "can_approve": request.membership.can("manager")})


@require_POST
@require_role("manager")
def task_approve(request, pk: int):
    """Approve the mediation or legal step behind an approval task (the dunning app decides the rest)."""
    task = get_object_or_404(Task.objects.for_org(request.org).select_related("customer"), pk=pk,
                             kind="approval", status=Task.Status.OPEN)
    ok, message = _approve(request, task)
    (messages.success if ok else messages.error)(request, message)
    return redirect("today")


@require_POST
@require_role("manager")
def tasks_approve(request):
    """Approve every ticked step of the day's list at once; each is checked as if approved alone."""
    field = "listed" if request.POST.get("scope") == "all" else "task"
    ids = [int(v) for v in request.POST.getlist(field) if v.isdigit()]
    tasks = list(Task.objects.for_org(request.org).select_related("customer")
                 .filter(pk__in=ids, kind="approval", status=Task.Status.OPEN).order_by("id"))
    if not tasks:
        messages.error(request, _("Marque al menos un paso para aprobar."))
        return redirect("today")
    approved, refused = 0, []
    for task in tasks:
        ok, message = _approve(request, task)
        if ok:
            approved += 1
        else:
            refused.append(message)
    if approved:
        messages.success(request, ngettext("%(n)d paso aprobado.", "%(n)d pasos aprobados.", approved)
                         % {"n": approved})
    for message in refused:
        messages.error(request, message)
    return redirect("today")


def _approve(request, task) -> tuple[bool, str]:
    """Approve one approval task; (done, sentence for the manager)."""
    from cobro.dunning.models import Action
    from cobro.workspace.worklist import moot_approvals

    if moot_approvals(request.org, [task]):
        complete_task(task, "moot", actor=request.user)
        return False, _("%(c)s prometió pagar o acordó un plan después de proponerse este paso: ya no "
                        "corresponde y se cerró sin aprobar.") % {"c": task.customer.name}
    action = Action.objects.for_org(request.org).filter(key=task.data.get("action_key", "")).first()
    if action is None:
        raise Http404(_("El paso a aprobar ya no existe."))
    try:
        boardlib._dunning().approve_action(request.org, action, request.user)
    except (ValueError, ValidationError):
        return False, _("El paso de %(c)s ya no espera aprobación.") % {"c": task.customer.name}
    complete_task(task, "approved", actor=request.user)
    return True, _("Paso aprobado para %(c)s.") % {"c": task.customer.name}


def _dispute_reasons(org):
    try:
        from cobro.agreements.services import dispute_reasons
    except ImportError:
        return DISPUTE_REASONS
    return [(r.code, r.label) for r in dispute_reasons(org)]


def _outcome_form(request, invoices, reasons, day, data=None, prefix=None):
    if not hasattr(request, "_cobro_dispute_reasons"):
        request._cobro_dispute_reasons = _dispute_reasons(request.org)  # once per request, not per task
    return CallOutcomeForm(data, reasons=reasons, invoices=invoices, currency=request.org.currency, today=day,
                           prefix=prefix, dispute_reasons=request._cobro_dispute_reasons)


def _log_from_form(request, customer, form, task=None):
    """Turn a valid outcome form into a call log; returns an error message or None."""
    d = form.cleaned_data
    promise = None
    if d.get("promise_minor"):
        promise = services.PromiseInput(d["promise_date"], d["promise_minor"], form.currency)
    dispute = None
    if d.get("dispute_invoice"):
        invoice = get_object_or_404(Invoice.objects.for_org(request.org), pk=d["dispute_invoice"],
                                    customer=customer)
        dispute = services.DisputeInput(invoice, d["dispute_reason"], d["dispute_text"])
    callback = None
    if d.get("callback_date") and d.get("callback_time"):
        callback = services.CallbackInput(d["callback_date"], d["callback_time"])
    try:
        services.log_call(request.org, customer, request.user, outcome=d["outcome"], reason=d.get("reason", ""),
                          note=d.get("note", ""), task=task, promise=promise,
                          plan_proposal=d.get("plan_proposal", ""), dispute=dispute, callback=callback)
    except (services.WorkspaceError, ValidationError, ValueError) as exc:
        return "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    return None


def customer_open_invoices(request, customer):
    return list(Invoice.objects.for_org(request.org).filter(customer=customer, status=Invoice.Status.OPEN)
                .order_by("due_date"))


@require_GET
@require_role("agent")
def task_form(request, pk: int):
    task = get_object_or_404(Task.objects.for_org(request.org).select_related("customer"), pk=pk)
    form = _outcome_form(request, customer_open_invoices(request, task.customer), services.delay_reasons(request.org),
                         org_today(request.org), prefix=f"t{task.pk}")
    return render(request, "workspace/partials/outcome_form.html",
                  {"form": form, "task": task, "action": f"/tasks/{task.pk}/log/", "target": f"#task-{task.pk}"})


@require_POST
@require_role("agent")
def task_log(request, pk: int):
    task = get_object_or_404(Task.objects.for_org(request.org).select_related("customer"), pk=pk)
    day = org_today(request.org)
    invoices = customer_open_invoices(request, task.customer)
    form = _outcome_form(request, invoices, services.delay_reasons(request.org), day, request.POST,
                         prefix=f"t{task.pk}")
    error = None
    if form.is_valid():
        error = _log_from_form(request, task.customer, form, task=task)
        if error is None:
            if request.htmx:
                return render(request, "workspace/partials/task_done.html", {"task": task})
            messages.success(request, _("Llamada registrada."))
            return redirect("today")
    if not request.htmx:
        messages.error(request, error or _("Revise los datos de la llamada."))
        return redirect("today")
    # 200, not 422: htmx does not swap error answers, and the agent must see what to correct. Only
    # the form is replaced (not the whole item), so the customer's name and script stay on screen.
    response = render(request, "workspace/partials/outcome_form.html",
                      {"form": form, "task": task, "error": error,
                       "action": f"/tasks/{task.pk}/log/", "target": f"#task-{task.pk}"})
    response["HX-Retarget"] = f"#outcome-t{task.pk}"
    response["HX-Reswap"] = "outerHTML"
    return response


# ---------------------------------------------------------------- board
def _board_filters(request) -> boardlib.Filters:
    min_text = request.GET.get("min", "").strip()
    try:
        min_overdue = parse_amount(min_text, request.org.currency) if min_text else 0
    except MoneyError:
        min_overdue = 0
        messages.error(request, _("Monto mínimo ilegible: %(v)s") % {"v": min_text})
    return boardlib.Filters(owner=request.GET.get("owner", ""), segment=request.GET.get("segment", ""),
                            country=request.GET.get("country", ""), min_overdue=min_overdue,
                            q=request.GET.get("q", "").strip())


def _stage_options(columns):
    """Each column's "move to" list, rendered once per column (every card of a column is in the
    same stage, so may go to the same places): 180 cards × 9 stages is a lot of template."""
    for col in columns:
        allowed = boardlib.allowed_moves(col.code)
        col.stage_options = format_html('<option value="">{}</option>', _("Mover a…")) + format_html_join(
            "", '<option value="{}">{}</option>',
            ((c.code, c.label) for c in columns if c.code != col.code and (allowed is None or c.code in allowed)))


@require_GET
@require_role("viewer")
def board(request):
    day = org_today(request.org)
    filters = _board_filters(request)
    columns, bals = boardlib.build_columns(request.org, request.user, filters, day)
    boardlib.fill_cards(request.org, columns, bals, day)
    _stage_options(columns)
    customers = Customer.objects.for_org(request.org)
    members = Membership.objects.filter(organization=request.org).select_related("user")
    return render(request, "workspace/board.html", {
        "columns": columns, "filters": filters, "members": members,
        # order_by(): the model's default ordering by name would make DISTINCT one row per customer.
        "segments": sorted(s for s in customers.order_by().values_list("segment", flat=True).distinct() if s),
        "countries": sorted(c for c in customers.order_by().values_list("country", flat=True).distinct() if c),
        "can_move": boardlib.can_move() and request.membership.can("agent"),
        "query": request.GET.urlencode(),
        "min_text": request.GET.get("min", ""),
    })


@require_GET
@require_role("viewer")
def board_column(request, stage: str):
    """The next page of one column's cards (the "show more" button), so no page loads all 10,000."""
    day = org_today(request.org)
    columns, bals = boardlib.build_columns(request.org, request.user, _board_filters(request), day)
    col = next((c for c in columns if c.code == stage), None)
    if col is None:
        raise Http404(stage)
    try:
        offset = max(0, int(request.GET.get("offset", "0")))
    except ValueError:
        offset = 0
    boardlib.fill_cards(request.org, [col], bals, day, offset=offset)
    _stage_options(columns)
    params = request.GET.copy()
    params.pop("offset", None)
    return render(request, "workspace/partials/board_cards.html", {
        "col": col, "cards": col.cards, "query": params.urlencode(),
        "can_move": boardlib.can_move() and request.membership.can("agent")})


@require_POST
@require_role("agent")
def board_move(request, pk: int):
    customer = get_object_or_404(Customer.objects.for_org(request.org), pk=pk)
    to_stage = request.POST.get("stage", "")
    if not boardlib.can_move():
        return HttpResponse(_("Las etapas aún no están disponibles."), status=409)
    from cobro.dunning import services as dunning

    if to_stage not in {code for code, _label in dunning.stages(request.org)}:
        # Plain text, and the submitted name escaped anyway: it came from the request.
        return HttpResponseBadRequest(_("Etapa desconocida: %(s)s") % {"s": escape(to_stage[:60])},
                                      content_type="text/plain; charset=utf-8")
    refusal = boardlib.move_refusal(request.org, customer, to_stage, org_today(request.org),
                                    request.membership.can("manager"))
    if refusal:
        if request.htmx:
            return HttpResponse(refusal, status=409, content_type="text/plain; charset=utf-8")
        messages.error(request, refusal)
        return redirect(_safe_next(request, "/board/"))
    try:
        dunning.move_stage(request.org, customer, to_stage, actor=request.user,
                           reason=request.POST.get("reason", "")[:300])
    except (ValueError, ValidationError) as exc:
        message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        if request.htmx:
            return HttpResponse(message, status=409, content_type="text/plain; charset=utf-8")
        messages.error(request, message)
        return redirect(_safe_next(request, "/board/"))
    if request.htmx:
        return HttpResponse(status=204, headers={"HX-Trigger": "cardMoved"})
    messages.success(request, _("%(c)s pasó a «%(s)s».") % {"c": customer.name,
                                                           "s": dict(boardlib.stages(request.org)).get(to_stage)})
    return redirect(_safe_next(request, "/board/"))


# ---------------------------------------------------------------- customer page
TIMELINE_PAGE = 40
AGE_BUCKETS = ((0, gettext_lazy("al día")), (30, "1–30"), (60, "31–60"), (90, "61–90"))  # read per request


def age_bucket(days: int) -> str:
    for limit, label in AGE_BUCKETS:
        if days <= limit:
            return str(label)
    return "90+"


def timeline_page(org, customer, offset: int = 0, limit: int = TIMELINE_PAGE):
    """One page of the timeline with each message's delivery status and content (two queries)."""
    events = list(TimelineEvent.objects.for_org(org).filter(customer=customer).select_related("actor", "invoice")
                  .order_by("-at", "-id")[offset:offset + limit + 1])
    return attach_messages(org, events[:limit]), len(events) > limit


def _customer_context(request, customer):
    org, day = request.org, org_today(request.org)
    invoices = customer_open_invoices(request, customer)
    for inv in invoices:
        inv.days_overdue = max(0, (day - inv.due_date).days)
        inv.bucket = age_bucket(inv.days_overdue)
    bal = boardlib.balances(org, day, customer_ids=[customer.pk]).get(customer.pk, boardlib.Balance())
    events, has_more = timeline_page(org, customer)
    dunning = boardlib._dunning()
    explanation, stage = [], None
    if dunning is not None:
        explanation = dunning.explain(org, customer, day)
    stage = boardlib.stage_of_customers(org, {customer.pk: bal}, [customer.pk], day)[customer.pk]
    stage_label = dict(boardlib.stages(org)).get(stage, stage)
    members = list(Membership.objects.filter(organization=org).select_related("user"))
    reasons = services.delay_reasons(org)
    last_reason = (TimelineEvent.objects.for_org(org).filter(customer=customer, kind="call.logged")
                   .exclude(data__reason="").exclude(data__reason__isnull=True).order_by("-at", "-id").first())
    return {
        "delay_reason": dict(reasons).get(last_reason.data["reason"], last_reason.data["reason"])
        if last_reason else "", "delay_reason_at": last_reason.at if last_reason else None,
        "customer": customer, "contacts": list(customer.contacts.all()), "invoices": invoices, "balance": bal,
        "events": events, "has_more": has_more, "next_offset": TIMELINE_PAGE, "explanation": explanation,
        "stage": stage, "stage_label": stage_label, "day": day,
        "tasks": list(Task.objects.for_org(org).filter(customer=customer, status=Task.Status.OPEN)),
        "can_act": request.membership.can("agent"), "can_manage": request.membership.can("manager"),
        "can_pause": dunning is not None and hasattr(dunning, "pause_customer"),
        "outcome_form": _outcome_form(request, invoices, reasons, day, prefix="call"),
        "pause_form": PauseForm(prefix="pause"), "note_form": NoteForm(prefix="note"),
        "owner_form": OwnerForm(members=members, initial={"owner": customer.owner_id or ""}, prefix="owner"),
        **(_one_off_context(org, customer) if request.membership.can("agent") else {}),
    }


# ---------------------------------------------------------------- one-off message
def _messaging():
    try:
        from cobro.messaging import services as messaging
    except ImportError:  # an installation without the messaging app has no message form
        return None
    return messaging


def _one_off_context(org, customer, template="", channel=""):
    """The "send a message" form: templates in the customer's language, channels they can be reached on."""
    messaging = _messaging()
    if messaging is None:
        return {}
    codes = {}
    for tpl in messaging.one_off_templates(org, customer):
        codes.setdefault(tpl.code, []).append(tpl.channel)
    channels = messaging.reachable_channels(org, customer)
    return {"one_off": {"codes": sorted(codes), "channels": channels, "template": template,
                        "channel": channel or (channels[0] if channels else ""),
                        "token": uuid.uuid4().hex}}


def _one_off_partial(request, customer, **extra):
    ctx = _one_off_context(request.org, customer, request.POST.get("template") or request.GET.get("template", ""),
                           request.POST.get("channel") or request.GET.get("channel", ""))
    return render(request, "workspace/partials/one_off_form.html", {"customer": customer, **ctx, **extra})


@require_GET
@require_role("agent")
def customer_message_preview(request, pk: int):
    """What the chosen template would say to this customer now, rendered by the outbox's own code."""
    customer = _customer(request, pk)
    messaging = _messaging()
    template, channel = request.GET.get("template", ""), request.GET.get("channel", "")
    preview, error = None, ""
    if messaging is not None and template and channel:
        from cobro.messaging.render import RenderError

        try:
            preview, _tpl = messaging.preview_one_off(request.org, customer, template, channel)
        except RenderError as exc:
            error = _("No se puede escribir este mensaje: %(r)s") % {"r": exc}
        except messaging.OneOffRefused as exc:
            error = str(exc)
    # Only the preview is replaced: the selects stay as the person left them.
    return render(request, "workspace/partials/one_off_preview.html", {"preview": preview, "preview_error": error})


@require_POST
@require_role("agent")
def customer_message(request, pk: int):
    customer = _customer(request, pk)
    messaging = _messaging()
    if messaging is None:
        raise Http404(_("Los mensajes no están disponibles."))
    try:
        msg = messaging.queue_one_off(request.org, customer, request.POST.get("template", ""),
                                      request.POST.get("channel", ""), request.user,
                                      token=request.POST.get("token", ""))
    except messaging.OneOffRefused as exc:
        if request.htmx:
            # 200, not 422: htmx (as configured here) does not swap error responses, and the agent must see why.
            return _one_off_partial(request, customer, error=str(exc))
        messages.error(request, str(exc))
        return redirect("customer", pk=customer.pk)
    done = (_("Mensaje en cola para %(c)s por %(ch)s.") if msg.created
            else _("Ese mensaje ya estaba en cola; no se envía dos veces.")) % {"c": customer.name, "ch": msg.get_channel_display()}
    if request.htmx:
        response = _one_off_partial(request, customer, success=done, message=msg)
        response["HX-Trigger"] = "messageQueued"  # the timeline reloads its first page to show it
        return response
    return _back(request, customer, done)


def _customer(request, pk):
    return get_object_or_404(Customer.objects.for_org(request.org).select_related("owner"), pk=pk)


@require_GET
@require_role("viewer")
def customer_detail(request, pk: int):
    customer = _customer(request, pk)
    return render(request, "workspace/customer.html", _customer_context(request, customer))


@require_GET
@require_role("viewer")
def customer_timeline(request, pk: int):
    customer = _customer(request, pk)
    try:
        offset = max(0, int(request.GET.get("offset", "0")))
    except ValueError:
        offset = 0
    events, has_more = timeline_page(request.org, customer, offset)
    return render(request, "workspace/partials/timeline_items.html", {
        "customer": customer, "events": events, "has_more": has_more, "next_offset": offset + TIMELINE_PAGE})


def _back(request, customer, ok_message):
    messages.success(request, ok_message)
    return redirect("customer", pk=customer.pk)


def _invalid(request, customer, form):
    errors = "; ".join(f"{form.fields[f].label if f in form.fields else ''}: {' '.join(e)}".lstrip(": ")
                       for f, e in form.errors.items())
    messages.error(request, errors)
    return redirect("customer", pk=customer.pk)


@require_POST
@require_role("agent")
def customer_call(request, pk: int):
    customer = _customer(request, pk)
    day = org_today(request.org)
    form = _outcome_form(request, customer_open_invoices(request, customer), services.delay_reasons(request.org),
                         day, request.POST, prefix="call")
    if not form.is_valid():
        return _invalid(request, customer, form)
    error = _log_from_form(request, customer, form)
    if error:
        messages.error(request, error)
        return redirect("customer", pk=customer.pk)
    return _back(request, customer, _("Llamada registrada."))


@require_POST
@require_role("agent")
def customer_note(request, pk: int):
    customer = _customer(request, pk)
    form = NoteForm(request.POST, prefix="note")
    if not form.is_valid():
        return _invalid(request, customer, form)
    services.add_note(request.org, customer, form.cleaned_data["text"], actor=request.user)
    return _back(request, customer, _("Nota guardada."))


@require_POST
@require_role("agent")
def customer_pause(request, pk: int):
    customer = _customer(request, pk)
    form = PauseForm(request.POST, prefix="pause")
    if not form.is_valid():
        return _invalid(request, customer, form)
    dunning = boardlib._dunning()
    if dunning is None or not hasattr(dunning, "pause_customer"):
        messages.error(request, _("La pausa de cobranza aún no está disponible."))
        return redirect("customer", pk=customer.pk)
    until = org_today(request.org) + dt.timedelta(days=form.cleaned_data["days"])
    dunning.pause_customer(request.org, customer, until, form.cleaned_data["reason"], request.user)
    return _back(request, customer, _("Cobranza en pausa hasta el %(d)s.") % {"d": date_format(until, "DATE_FORMAT")})


@require_POST
@require_role("manager")
def customer_owner(request, pk: int):
    customer = _customer(request, pk)
    members = list(Membership.objects.filter(organization=request.org).select_related("user"))
    form = OwnerForm(request.POST, members=members, prefix="owner")
    if not form.is_valid():
        return _invalid(request, customer, form)
    owner_id = form.cleaned_data["owner"]
    owner = next((m.user for m in members if str(m.user_id) == owner_id), None)
    services.assign_owner(request.org, customer, owner, actor=request.user)
    return _back(request, customer, _("Responsable actualizado."))


@require_GET
@require_role("agent")
def case_file(request, pk: int):
    """The whole account as a PDF for a mediator or a lawyer: every invoice and every contact made."""
    from cobro.workspace.casefile import render_case_file

    customer = _customer(request, pk)
    pdf = render_case_file(request.org, customer, org_today(request.org), request.user)
    services.record_case_file(request.org, customer, actor=request.user)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="expediente-{customer.ref}.pdf"'
    return response


# ---------------------------------------------------------------- inbox
@require_GET
@require_role("viewer")
def inbox(request):
    """What needs someone: replies, broken promises and plans, failed messages, open disputes."""
    from cobro.workspace import inbox as inboxlib

    kind = request.GET.get("kind", "")
    if kind not in inboxlib.KINDS:
        kind = ""
    page = Paginator(inboxlib.open_items(request.org, kind).select_related("customer", "assignee"), 50
                     ).get_page(request.GET.get("page"))
    items = inboxlib.attach_details(request.org, list(page))
    return render(request, "workspace/inbox.html", {
        "page": page, "items": items, "kind": kind, "kinds": list(inboxlib.KINDS.items()),
        "can_act": request.membership.can("agent")})


@require_POST
@require_role("agent")
def inbox_done(request, pk: int):
    """Mark one item handled; under htmx the item leaves the list and the badge is redrawn."""
    from cobro.workspace import inbox as inboxlib

    task = get_object_or_404(Task.objects.for_org(request.org).select_related("customer"), pk=pk,
                             kind__in=inboxlib.TASK_KINDS)
    try:
        services.close_inbox_item(request.org, task, request.user)
    except services.WorkspaceError as exc:
        if request.htmx:
            # 200: htmx does not swap error answers. Someone else handled it: it leaves the list anyway.
            return _inbox_done(request, task, error=str(exc))
        messages.error(request, str(exc))
        return redirect(_safe_next(request, "/inbox/"))
    done = _("Atendido: %(c)s.") % {"c": task.customer.name}
    if request.htmx:
        return _inbox_done(request, task, done=done)
    messages.success(request, done)
    return redirect(_safe_next(request, "/inbox/"))


def _inbox_done(request, task, **extra):
    """What replaces a handled item: nothing in the list, the status line, and the counts redrawn."""
    from cobro.workspace import inbox as inboxlib

    kind = request.POST.get("kind", "")
    total = inboxlib.count(request.org)
    listed = inboxlib.open_items(request.org, kind).count() if kind in inboxlib.KINDS else total
    return render(request, "workspace/partials/inbox_done.html",
                  {"task": task, "inbox_count": total, "listed": listed, **extra})


# ---------------------------------------------------------------- team figures
@require_GET
@require_role("manager")
def team(request):
    """Per agent and ISO week: calls, reach rate, promises made and kept, money collected."""
    from cobro.workspace import team as teamlib

    try:
        weeks = min(max(int(request.GET.get("weeks", teamlib.DEFAULT_WEEKS)), 1), teamlib.MAX_WEEKS)
    except ValueError:
        weeks = teamlib.DEFAULT_WEEKS
    report = teamlib.figures(request.org, org_today(request.org), weeks)
    return render(request, "workspace/team.html", {"report": report, "weeks": weeks,
                                                   "week_choices": teamlib.WEEK_CHOICES})
