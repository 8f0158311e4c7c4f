"""Another organization's ids inside POST bodies (issue #10, tenancy proven everywhere).

``test_tenancy_everywhere`` puts the victim's ids in URLs; this puts them in the *bodies*. For every POST
view of the team's pages (workspace, messaging, agreements, payments, portal settings, settings: API and
providers), as each role of the attacker's organization, every id-like form field gets each of the
victim's real ids of the table it names, the other fields staying the attacker's own valid values so
that the view goes as deep as it can.

The fields come from two places, so fields added later are covered without editing this file:

- the HTML forms of the attacker's own pages (inputs, selects, submit buttons and their values);
- the keys each view actually reads from ``request.POST`` (recorded while probing it).

Each request runs in a savepoint that is rolled back, so every attempt meets the same world. After each
one: no marker of the victim in the answer, its headers or its flash messages; and, when the request
wrote anything, no row of the victim changed (every tenant table, and its members' accounts) and no row
of the attacker points at a row of the victim (foreign keys, many-to-many, ``*_ids`` lists, memberships
of the victim's people).
"""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model
from django.core.handlers.wsgi import WSGIRequest
from django.db import connection, models, transaction
from django.http import QueryDict
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from test_tenancy_everywhere import MARKERS, POST_DATA, _leaks, _tenant_models, _victim, snapshot

from cobro.ledger import services
from cobro.ledger.models import Contact, Membership, Organization, Role

D = dt.date(2026, 3, 10)

#: The team's POST views: these modules' URL patterns.
IN_SCOPE = ("cobro.workspace.", "cobro.messaging.", "cobro.agreements.", "cobro.payments.", "cobro.portal.staff_views",
            "cobro.api.views", "cobro.providers.views", "cobro.dunning.", "cobro.insights.")
#: Public pages reached by signed links or providers' calls (tested in their apps, with signatures).
PUBLIC = ("login/", "logout/", "invitation/", "messages/s/", "messages/u/", "messages/hooks/", "webhooks/", "pay/",
          "portal/", "api/")

#: The URL segment before an ``<int:pk>`` names the table of the attacker's own id put there.
SEGMENT_MODEL = {"tasks": "ledger.Task", "inbox": "ledger.Task", "move": "ledger.Customer",
                 "customers": "ledger.Customer", "views": "workspace.SavedView", "reasons": "workspace.DelayReason",
                 "team": "ledger.Membership", "messages": "messaging.Message", "templates": "messaging.MessageTemplate",
                 "lines": "payments.StatementLine", "keys": "api.ApiKey", "webhooks": "api.WebhookEndpoint",
                 "deliveries": "api.WebhookDelivery", "invitations": "workspace.Invitation",
                 "abtests": "insights.AbTest", "segments": "dunning.Segment"}
#: Other parameters: the attacker's own value.
OWN_PARAM = {"stage": "legal", "fmt": "csv", "kind": "invoices"}

#: A form field is id-like when one of its words names a table; it then gets the victim's rows of it.
ID_WORDS = {
    "customer": ["ledger.Customer"], "customers": ["ledger.Customer"], "invoice": ["ledger.Invoice"],
    "invoices": ["ledger.Invoice"], "task": ["ledger.Task"], "listed": ["ledger.Task"], "tasks": ["ledger.Task"],
    "contact": ["ledger.Contact"], "template": ["messaging.MessageTemplate"], "message": ["messaging.Message"],
    "owner": ["user", "ledger.Membership"], "user": ["user"], "member": ["user", "ledger.Membership"],
    "assignee": ["user"], "view": ["workspace.SavedView"], "line": ["payments.StatementLine"],
    "account": ["payments.BankAccount"], "reason": ["workspace.DelayReason", "agreements.DisputeReason"],
    "org": ["org"], "organization": ["org"], "policy": ["dunning.Policy"], "code": ["dunning.Policy"],
    "key": ["api.ApiKey"], "endpoint": ["api.WebhookEndpoint"], "delivery": ["api.WebhookDelivery"],
    "promise": ["agreements.Promise"], "plan": ["agreements.Plan"], "dispute": ["agreements.Dispute"],
    "payment": ["ledger.Payment"], "provider": ["providers.ProviderAccount"], "pk": ["*"], "id": ["*"],
}
#: Fields that choose what the view does: each value the pages offer is a variant of the request.
SELECTORS = ("do", "action", "op", "step", "scope", "remove")
SELECTOR_VALUES = {"do": ["save", "preview", "accept", "create", "add", "delete", "logo", "account"],
                   "action": ["owner", "stage", "pause", "approve"], "op": ["preview", "save"],
                   "scope": ["", "all"], "step": ["", "confirm"]}


# ---- the two organizations -------------------------------------------------------------------------

def _extras(org, tag: str, marker: str, user) -> None:
    """Rows of the tables the services of ``_victim`` leave empty: bank lines, saved views, API keys,
    webhook endpoints and deliveries, exchange rates, an approval task."""
    from cobro.api.keys import create_key
    from cobro.api.models import WebhookDelivery
    from cobro.api.webhooks import create_endpoint
    from cobro.ledger.models import Customer
    from cobro.payments.models import BankAccount, Statement, StatementLine
    from cobro.workspace.models import Invitation, SavedView

    customer = Customer.objects.filter(organization=org).order_by("pk").first()
    account = BankAccount.objects.create(organization=org, name=f"Cuenta {marker}", number=f"{tag}-0001",
                                         currency="CLP", show_in_portal=True, country="CL", bank_name="Banco",
                                         holder=f"Titular {marker}")
    stmt = Statement.objects.create(organization=org, account=account, format="csv", sha256=tag * 8)
    for n, status in enumerate(("unmatched", "suggested", "applied"), 1):
        StatementLine.objects.create(organization=org, account=account, statement=stmt, key=f"{tag}-L{n}",
                                     position=n, booking_date=D, amount=1000 * n, currency="CLP",
                                     text=f"Transferencia {marker}", counterparty=f"Ordenante {marker}",
                                     kind="credit", status=status, customer=customer if n > 1 else None)
    SavedView.objects.create(organization=org, user=user, name=f"Vista {marker}", query="stage=legal")
    Invitation.objects.create(organization=org, email=f"{tag.lower()}@invitada.example", role="admin",
                              created_at=timezone.now())
    create_key(org, f"Llave {marker}", "write")
    endpoint = create_endpoint(org, f"https://hooks.{tag.lower()}.example/in", [], f"Destino {marker}")
    WebhookDelivery.objects.create(organization=org, endpoint=endpoint, event_id=f"{tag}-ev1",
                                   event_type="invoice.created", payload={"data": {"name": marker}},
                                   next_attempt_at=timezone.now(), status="failed")
    services.create_task(org, customer, "approval", f"Aprobar {marker}", D, data={"action_key": f"{tag}:x"})
    services.create_task(org, customer, "reply", f"Respuesta {marker}", D)
    from cobro.workspace import services as workspace

    workspace.save_exchange_rate(org, "USD", "950", actor=user)
    from cobro.insights.models import AbTest

    AbTest.objects.create(organization=org, name=f"Prueba {marker}", policy_code="estandar", step="+3",
                          template_a="overdue_friendly", template_b="overdue_neutral", salt=tag, status="running",
                          starts_on=D)


def _attacker_book(org) -> None:
    """The attacker's own rows, so that its forms are valid and its views go deep."""
    customer, _ = services.get_or_create_customer(org, "ACME-C1", "Cliente Acme", country="CL")
    services.get_or_create_customer(org, "ACME-C2", "Cliente Acme Dos", country="CL")
    Contact.objects.create(organization=org, customer=customer, name="Contacto Acme", email="pago@acme.example",
                           phone="+56933334444")
    invs = [services.add_invoice(org, customer, f"ACME-{n}", D - dt.timedelta(days=60), D - dt.timedelta(days=d),
                                 "CLP", 300_000) for n, d in ((1, 20), (2, 5), (3, -10))]
    services.create_task(org, customer, "call", "Llamar Acme", D)
    from cobro.agreements import services as agreements
    from cobro.dunning import services as dunning
    from cobro.messaging import services as messaging
    from cobro.messaging.models import Message
    from cobro.workspace import services as workspace

    messaging.install_default_templates(org)
    Message.objects.create(organization=org, customer=customer, key="acme:1", template="overdue_friendly",
                           channel="email", invoice_ids=[invs[0].pk], scheduled_for=timezone.now(),
                           next_attempt_at=timezone.now(), to="pago@acme.example", status="failed")
    agreements.create_promise(org, customer, D + dt.timedelta(days=5), 1000, "CLP", [invs[1]], made_on=D)
    agreements.open_dispute(org, invs[0], "other", "Reclamo Acme")
    dunning.ensure_default_policy(org)
    from cobro.dunning import segments

    segments.save_segment(org, {"name": "Segmento Acme", "policy": "estandar", "bands": ["low"]})
    workspace.save_reason(org, "acme-motivo", "Motivo Acme")


@pytest.fixture
def world(db):
    attacker = Organization.objects.create(slug="aaa", name="Acme Atacante", country="CL", currency="CLP",
                                           timezone="America/Santiago")
    victim = _victim()
    users = {}
    for role in Role.values:
        u = get_user_model().objects.create_user(f"atk-{role}", email=f"atk-{role}@acme.example", password="x")
        Membership.objects.create(user=u, organization=attacker, role=role)
        users[role] = u
    _attacker_book(attacker)
    _extras(attacker, "ACME", "Acme", users["admin"])
    _extras(victim, "ZAF", "Zafiro", Membership.objects.filter(organization=victim, role="admin").get().user)
    return attacker, victim, users


# ---- what the victim owns, and what would show that a request crossed over ---------------------------

def _model(label):
    from django.apps import apps

    return apps.get_model(label)


def victim_values(victim, label: str) -> list[str]:
    """The victim's real ids (and codes) for a table named by ``ID_WORDS``: at most three rows each."""
    User = get_user_model()
    if label == "user":
        return [str(pk) for pk in User.objects.filter(memberships__organization=victim).order_by("pk")
                .values_list("pk", flat=True)[:3]]
    if label == "org":
        return [str(victim.pk), victim.slug]
    if label == "*":
        out = [str(victim.pk)]
        for m in _tenant_models():
            pk = m.objects.filter(organization=victim).order_by("pk").values_list("pk", flat=True).first()
            if isinstance(pk, int):
                out.append(str(pk))
        return sorted(set(out), key=int)
    model = _model(label)
    out = [str(pk) for pk in model.objects.filter(organization=victim).order_by("pk").values_list("pk", flat=True)[:3]]
    for code_field in ("code", "prefix"):
        if any(f.name == code_field for f in model._meta.get_fields()):
            out += list(model.objects.filter(organization=victim).order_by("pk").values_list(code_field, flat=True)[:3])
    return out


def _relations():
    """(model, lookup, target) for every relation of a tenant row to a tenant row, an organization or a user."""
    tenant = set(_tenant_models())
    out = []
    for m in tenant:
        for f in m._meta.get_fields():
            if not (f.is_relation and (f.many_to_one or f.many_to_many) and not f.auto_created) or f.name == "organization":
                continue
            target = f.related_model
            if target in tenant:
                out.append((m, f"{f.name}__organization", "org"))
            elif target is Organization:
                out.append((m, f.name, "org"))
            elif target is get_user_model():
                out.append((m, f"{f.name}__in", "users"))
    return out


def _id_lists():
    """(model, field, target model) for JSON lists of ids, such as ``Message.invoice_ids``."""
    out = []
    for m in _tenant_models():
        for f in m._meta.get_fields():
            if isinstance(f, models.JSONField) and f.name.endswith("_ids"):
                word = f.name[:-4]
                target = ID_WORDS.get(word, ID_WORDS.get(word + "s", [None]))[0]
                if target and "." in target:
                    out.append((m, f.name, _model(target)))
    return out


class Crossing:
    """Checks that nothing of the victim changed and nothing of the attacker points at the victim."""

    def __init__(self, attacker, victim):
        self.attacker, self.victim = attacker, victim
        self.before = snapshot(victim)
        self.victim_only_users = list(get_user_model().objects.filter(memberships__organization=victim)
                                      .exclude(memberships__organization=attacker).values_list("pk", flat=True))
        self.relations, self.id_lists = _relations(), _id_lists()

    def problems(self, tables: set[str] | None = None) -> list[str]:
        """What crossed over; with ``tables`` (those the request wrote), only what those tables can show."""
        def written(m):
            if tables is None:
                return True
            own = {m._meta.db_table} | {f.remote_field.through._meta.db_table for f in m._meta.many_to_many}
            return bool(own & tables)

        out = []
        for m in _tenant_models():
            label = m._meta.label
            if label in self.before and written(m):
                now = list(m.objects.filter(organization=self.victim).order_by("pk").values())
                if now != self.before[label]:
                    out.append(f"the victim's {label} changed")
        if tables is None or {"ledger_organization", get_user_model()._meta.db_table} & tables:
            now = snapshot(self.victim)
            out += [f"the victim's {key} changed" for key in ("org", "users") if now[key] != self.before[key]]
        for m, lookup, target in self.relations:
            value = self.victim if target == "org" else self.victim_only_users
            if written(m) and m.objects.filter(organization=self.attacker, **{lookup: value}).exists():
                out.append(f"a row of {m._meta.label} of the attacker points at the victim ({lookup})")
        for m, field, target in self.id_lists:
            if not written(m):
                continue
            theirs = set(target.objects.filter(organization=self.victim).values_list("pk", flat=True))
            for ids in m.objects.filter(organization=self.attacker).values_list(field, flat=True):
                if theirs & set(ids or []):
                    out.append(f"{m._meta.label}.{field} of the attacker lists the victim's rows")
        return out


# ---- the forms of the pages, and the keys the views read ----------------------------------------------

class _Forms(HTMLParser):
    """The POST forms of a page: action, each field with the values the page offers for it and what a
    browser would send untouched (``defaults``: values, checked boxes, the selected or first option)."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.page, self.forms, self._form, self._select = page, [], None, None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self._form = None
            if a.get("method", "get").lower() == "post":
                self._form = {"action": a.get("action") or self.page, "fields": {}, "defaults": {}, "buttons": []}
                self.forms.append(self._form)
            return
        form = self._form
        if form is None:
            return
        name = a.get("name")
        if tag in ("input", "button") and name:
            kind = a.get("type", "text" if tag == "input" else "submit").lower()
            if kind == "submit" or tag == "button":
                form["buttons"].append((name, a.get("value", "")))
                return
            if kind == "file":
                return
            value = a.get("value", "on" if kind in ("checkbox", "radio") else "")
            form["fields"].setdefault(name, []).append(value)
            if kind not in ("checkbox", "radio") or "checked" in a:
                form["defaults"].setdefault(name, []).append(value)
        elif tag == "textarea" and name:
            form["fields"].setdefault(name, []).append("")
            form["defaults"].setdefault(name, [""])
        elif tag == "select" and name:
            self._select = name
            form["picked"] = False
            form["fields"].setdefault(name, [])
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            form["fields"][self._select].append(value)
            chosen = form["defaults"].get(self._select)
            if "selected" in a or not chosen or (not chosen[0] and value and not form.get("picked")):
                form["defaults"][self._select] = [value]
            if "selected" in a:
                form["picked"] = True

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None

    def variants(self, form):
        """What the form sends: untouched with each of its buttons, and with each value of a choosing field."""
        base = {k: list(v) for k, v in form["defaults"].items()}
        for k, v in base.items():  # a required text left empty: what a person would type in it
            word = re.split(r"[-_]", k)[-1]
            if v in ([""], []) and word in POST_DATA:
                base[k] = [POST_DATA[word]]
        for name, value in form["buttons"] or [(None, None)]:
            yield dict(base, **({name: [value]} if name else {}))
        for key in SELECTORS:
            for value in dict.fromkeys(form["fields"].get(key, [])):
                if value and [value] != base.get(key):
                    yield dict(base, **{key: [value]})


class _Recording(QueryDict):
    """``request.POST`` that remembers which keys the view asked for."""

    seen: set[str] = set()

    def __getitem__(self, key):
        _Recording.seen.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        _Recording.seen.add(key)
        return super().get(key, default)

    def getlist(self, key, default=None):
        _Recording.seen.add(key)
        return super().getlist(key, default)

    def __contains__(self, key):
        _Recording.seen.add(key)
        return super().__contains__(key)


@pytest.fixture
def recording(monkeypatch):
    original = WSGIRequest._load_post_and_files

    def load(self):
        original(self)
        if isinstance(self._post, QueryDict) and not isinstance(self._post, _Recording):
            copy = _Recording(mutable=True)
            for key, values in self._post.lists():
                copy.setlist(key, values)
            copy._mutable = False
            self._post = copy

    monkeypatch.setattr(WSGIRequest, "_load_post_and_files", load)
    return _Recording.seen


def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p


_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")


def team_routes(attacker) -> dict[str, list[str]]:
    """Every URL pattern of the team's pages, with the attacker's own ids and codes: route → paths to try
    (the first that the view does not answer 404 is the one used)."""
    out = {}
    for route, p in _walk(get_resolver().url_patterns):
        module = getattr(p.callback, "__module__", "")
        if not module.startswith(IN_SCOPE) or route.startswith(PUBLIC) or route.startswith("admin/"):
            continue
        params = _PARAM.findall(route)
        assert len(params) <= 1, f"{route}: one parameter at most is filled here"
        if not params:
            out[route] = ["/" + route]
            continue
        (converter, name), = params
        if converter == "int":
            segment = route[:route.index("<")].rstrip("/").split("/")[-1]
            assert segment in SEGMENT_MODEL, f"{route}: say in SEGMENT_MODEL which table <{name}> is an id of"
            values = [str(pk) for pk in _model(SEGMENT_MODEL[segment]).objects.filter(organization=attacker)
                      .order_by("pk").values_list("pk", flat=True)[:6]]
        elif name == "code":
            values = list(_model("dunning.Policy").objects.filter(organization=attacker).values_list("code", flat=True))
        else:
            assert name in OWN_PARAM, f"{route}: say in OWN_PARAM what <{name}> is"
            values = [OWN_PARAM[name]]
        out[route] = ["/" + _PARAM.sub(v, route) for v in values]
    return out


#: Variants of a form kept per view (its buttons: save first, then preview…), so that a page with many
#: buttons (the policy editor's up/down/remove per row) does not multiply the requests.
MAX_VARIANTS = 6
_FIRST = ("save", "preview", "accept", "create", "add", "account", "owner", "stage", "approve", "confirm")


def _few(variants):
    unique = list({repr(sorted(d.items())): (d, o) for d, o in variants}.values())

    def rank(variant):
        chosen = [v for k in SELECTORS for v in variant[0].get(k, [])]
        return min((_FIRST.index(v) for v in chosen if v in _FIRST), default=len(_FIRST))

    return sorted(unique, key=rank)[:MAX_VARIANTS]


def _one_per_shape(fields) -> list[str]:
    """``s-0-template`` and ``s-7-template`` are the same field of two rows: the first two rows are tried."""
    out, shapes = [], {}
    for f in sorted(fields):
        shape = re.sub(r"\d+", "#", f)
        shapes[shape] = shapes.get(shape, 0) + 1
        if shapes[shape] <= 2:
            out.append(f)
    return out


def _id_word(field: str) -> list[str] | None:
    """The tables a field names by its last word (``call-dispute_invoice``, ``owner-owner``, ``customer_id``);
    ``holder_tax_id`` or ``promise_amount`` are not ids."""
    words = [w for w in re.split(r"[-_.\[\]]", field.lower()) if w]
    if not words:
        return None
    if len(words) > 1 and words[-1] in ("id", "ids", "pk"):
        return ID_WORDS.get(words[-2]) if words[-2] in ID_WORDS else None
    return ID_WORDS.get(words[-1])


class Attempts:
    """Per view: its variants (own valid values) and the id-like fields found in its forms or its reads."""

    def __init__(self, client, attacker, routes, recording):
        self.client, self.recording = client, recording
        self.paths, gets = {}, {}
        for route, candidates in routes.items():  # the first of the attacker's own rows the view accepts
            self.paths[route] = candidates[0] if candidates else None
            for path in candidates:
                if self.post(path, {}).status_code != 404:
                    self.paths[route] = path
                    break
        self.paths = {r: p for r, p in self.paths.items() if p}
        by_path = {path: route for route, path in self.paths.items()}
        self.variants = {route: [] for route in self.paths}
        for route, path in self.paths.items():  # the attacker's own pages, as its admin sees them
            resp = client.get(path)
            gets[route] = resp.status_code
            if resp.status_code != 200 or "html" not in resp.get("Content-Type", ""):
                continue
            parser = _Forms(path)
            parser.feed(resp.content.decode())
            for form in parser.forms:
                target = by_path.get(form["action"].split("?")[0])
                if target is None:
                    continue
                for data in parser.variants(form):
                    self.variants[target].append((data, form["fields"]))
        for route, found in self.variants.items():
            self.variants[route] = _few(found)
        self.post_views, self.fields = [], {}
        for route, path in self.paths.items():
            has_form = bool(self.variants[route])
            if not has_form:
                self.variants[route].append(({k: [v] for k, v in POST_DATA.items()}, {}))
            seen, statuses = set(), set()
            for data, _offered in self.variants[route]:
                for variant in self._selector_variants(data, not has_form):
                    recording.clear()
                    statuses.add(self.post(path, variant).status_code)
                    seen |= recording
            # A POST view: a form of the pages posts to it, it reads the body, or it takes nothing but POST.
            if statuses != {405} and (has_form or seen or gets[route] == 405):
                self.post_views.append(route)
                offered = set().union(*(set(o) for _d, o in self.variants[route]))
                self.fields[route] = _one_per_shape(f for f in offered | seen if _id_word(f))

    def _selector_variants(self, data, fallback):
        """The data, and for a view without a form on the pages, each value of its choosing fields."""
        yield data
        if not fallback:
            return
        for key, values in SELECTOR_VALUES.items():
            if key in data:
                for value in values:
                    if [value] != data[key]:
                        yield dict(data, **{key: [value]})

    def post(self, path, data):
        """One POST in a savepoint rolled back afterwards; returns the answer."""
        with transaction.atomic():
            resp = self.client.post(path, data)
            transaction.set_rollback(True)
        self.client.cookies.pop("messages", None)
        return resp


def _flash(resp) -> str:
    storage = getattr(resp.wsgi_request, "_messages", None)
    return " ".join(str(m) for m in getattr(storage, "_queued_messages", []))


#: Writes every request may make without touching anyone's data.
_BOOKKEEPING = ("django_session", "workspace_loginfailure")
_WRITE = re.compile(r'^\s*(INSERT INTO|UPDATE|DELETE FROM)\s+"?(\w+)"?', re.I)


def _values(victim, field: str) -> list[str]:
    values = [v for label in _id_word(field) or [] for v in victim_values(victim, label)]
    if field.split("-")[-1] == "query":  # a saved filter: the victim's people and customers inside it
        values = [f"owner={u}" for u in victim_values(victim, "user")[:1]] + \
                 [f"customer={c}" for c in victim_values(victim, "ledger.Customer")[:1]]
    return values


def test_the_victims_ids_in_every_post_field_change_and_show_nothing(world, recording):
    attacker, victim, users = world
    crossing = Crossing(attacker, victim)
    assert not crossing.problems()  # the world starts clean

    admin_client = Client(raise_request_exception=False)
    admin_client.force_login(users["admin"])
    attempts = Attempts(admin_client, attacker, team_routes(attacker), recording)
    fields = {route: [f for f in attempts.fields[route]] + (["query"] if "query" in attempts.variants[route][0][0]
                                                             else []) for route in attempts.post_views}
    assert len(attempts.post_views) >= 35, attempts.post_views  # the walk found the team's POST views
    assert sum(map(len, fields.values())) >= 25, fields  # and their id-like fields

    found, errors, tried, checks = [], [], 0, 0
    for role in Role.values:
        client = Client(raise_request_exception=False)
        client.force_login(users[role])
        for route in attempts.post_views:
            path = attempts.paths[route]
            for field in fields[route]:
                for data, offered in attempts.variants[route]:
                    for value in _values(victim, field):
                        own = [v for v in data.get(field, []) if v] or [v for v in offered.get(field, []) if v][:1]
                        body = dict(data, **{field: [*own, value]})
                        tried += 1
                        connection.queries_log.clear()  # a full log (9000) would capture nothing
                        with transaction.atomic():
                            with CaptureQueriesContext(connection) as queries:
                                resp = client.post(path, body)
                            wrote = {m.group(2) for q in queries.captured_queries
                                     if (m := _WRITE.match(q["sql"])) and m.group(2) not in _BOOKKEEPING}
                            problems = crossing.problems(wrote) if wrote else []
                            checks += bool(wrote)
                            transaction.set_rollback(True)
                        client.cookies.pop("messages", None)
                        where = f"{role} POST {path} {field}={value} → {resp.status_code}"
                        if resp.status_code >= 500:
                            errors.append(where)
                        aside = (_flash(resp) + " " + resp.get("Location", "")).lower()
                        shown = _leaks(resp) + [m for m in MARKERS if m.lower() in aside]
                        if shown or problems:
                            found.append(f"{where}: shows {shown} {problems}")
    print(f"{len(attempts.post_views)} POST views, {sum(map(len, fields.values()))} id-like fields, "
          f"{tried} requests over {len(Role.values)} roles, {checks} of them wrote and were checked")
    assert tried > 500
    assert not found, "\n".join(found)
    assert not errors, "\n".join(errors)
    assert snapshot(victim) == crossing.before


# ---- management commands: the victim's ids, refs and people in every argument -------------------------

#: What the victim's value is for an argument, by its name (positional ``dest`` or option without dashes).
def _command_values(victim, name: str, users, prefix="ZAF") -> list[str]:
    people = [u.username for u in users]
    customer, invoice = f"{prefix}-C1", f"{prefix}-1001" if prefix == "ZAF" else f"{prefix}-3"
    by_name = {"customer_ref": [customer], "customer": [customer], "invoice": [invoice], "ref": [invoice],
               "by": people, "approved_by": people, "taken_by": people, "email": [u.email for u in users][:1],
               "prefix": victim_values(victim, "api.ApiKey")[3:4] or ["x"], "slug": [victim.slug],
               "provider": ["stripe"], "kind": ["invoices"]}
    if name in by_name:
        return by_name[name]
    if name in ("id", "pk"):
        return victim_values(victim, "*")
    return []


_FILLER = {"reason": "cambiado", "text": "cambiado", "note": "cambiado", "amount": "1", "date": "2026-04-01",
           "as_of": "2026-03-10", "on": "2026-04-01", "start": "2026-04-01", "first_due": "2026-05-01",
           "made_on": "2026-03-10", "instalments": "2", "frequency": "monthly", "url": "https://x.example/in",
           "name": "cambiado", "number": "123", "currency": "CLP", "role": "admin", "path": "/nonexistent"}


def test_every_per_org_command_refuses_the_victims_ids_refs_and_people(world):
    """Each sub-command of every command taking ``--org``, run for the attacker with every argument that
    names something (ids, customer and invoice refs, ``--by`` people) set to the victim's, the other
    required ones filled: it refuses or does nothing to the victim, and prints nothing of it."""
    import argparse
    import io

    from django.core.management import call_command, get_commands, load_command_class

    attacker, victim, users = world
    crossing = Crossing(attacker, victim)
    people = list(get_user_model().objects.filter(memberships__organization=victim).order_by("pk"))
    ran, tried_names = 0, set()
    for name, app in sorted(get_commands().items()):
        # Not per organization: the demo, servers and workers, and the installation operator's own
        # ``org`` and ``user`` (``user create`` adds an existing account to an organization: whoever has the
        # shell is the installation's administrator; see docs/security.md).
        if not app.startswith("cobro.") or name in ("demo", "org", "user", "run", "worker"):
            continue
        parser = load_command_class(app, name).create_parser("cobro", name)
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        for sub, sp in ([(s, p) for a in subs for s, p in a.choices.items()] or [(None, parser)]):
            actions = [a for a in sp._actions if a.dest not in ("help", "version") and not a.dest.startswith("_")]
            if not any("--org" in a.option_strings for a in actions):
                continue
            named = [a for a in actions if _command_values(victim, a.dest, people)]
            for target in named or [None]:
                for value in (_command_values(victim, target.dest, people) if target else [None])[:6]:
                    argv = [sub] if sub else []
                    for a in actions:
                        if a.option_strings and "--org" in a.option_strings:
                            argv += ["--org", attacker.slug]
                            continue
                        if "--once" in a.option_strings:  # a polling loop runs one pass
                            argv.append("--once")
                            continue
                        if a is target:
                            given = value
                        elif a.required or not a.option_strings:
                            if a.choices:
                                given = str(next(iter(a.choices)))
                            else:
                                own = _command_values(attacker, a.dest, [users["admin"]], "ACME")
                                given = _FILLER.get(a.dest) or (own[0] if own else "1")
                        else:
                            continue
                        argv += [a.option_strings[0], given] if a.option_strings else [given]
                    out = io.StringIO()
                    with transaction.atomic():
                        try:
                            call_command(name, *argv, stdout=out, stderr=out)
                        except (Exception, SystemExit):  # a refusal is fine; only leaks and changes count
                            pass
                        problems = crossing.problems()
                        transaction.set_rollback(True)
                    ran += 1
                    tried_names.add(name)
                    shown = [m for m in MARKERS if m.lower() in out.getvalue().lower()]
                    assert not shown and not problems, f"cobro {name} {' '.join(argv)}: {shown} {problems}"
    assert ran > 50 and {"promise", "plan", "dispute", "fee", "portal", "explain", "apikey"} <= tried_names
