"""Tenancy proven everywhere (issue #10): every URL pattern, every admin and every management command is
tried by each role of one organization with another organization's ids, GET and POST; nothing of the
other organization may appear in an answer or change in the database.

The URL list comes from Django's resolver, the admins from the admin site's registry and the commands
from Django's command list, so URLs, admins and commands added later are covered without editing this
file: every int parameter gets each of the victim's ids (one per table), every slug/str parameter the
victim's slug and codes.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import re

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import call_command, get_commands, load_command_class
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

from cobro.ledger import services
from cobro.ledger.models import Membership, Organization, Role

MARKERS = ("Zafiro", "ZAF-", "99.999.999-9", "zafiro.example")
D = dt.date(2026, 3, 10)
POST_DATA = {"role": "admin", "stage": "legal", "to": "legal", "body": "cambiado", "subject": "cambiado",
             "text": "cambiado", "note": "cambiado", "reason": "cambiado", "amount": "1", "outcome": "promise",
             "label": "cambiado", "do": "save", "tone": "friendly", "email": "x@acme.example", "valid": "1",
             "active": "0", "until": "2026-04-01", "date": "2026-04-01", "owner": "", "channel": "email",
             "template": "overdue_friendly", "language": "es", "situation": "first_contact", "country": "CL"}


def _victim():
    """Organization B with a row in as many tables as its services write, every name carrying a marker."""
    org = Organization.objects.create(slug="bsec", name="Zafiro Secreto Ltda", country="CL", currency="CLP",
                                      timezone="America/Santiago", tax_id="99.999.999-9",
                                      email="cobranza@zafiro.example")
    User = get_user_model()
    for role in Role.values:
        u = User.objects.create_user(f"{role}@zafiro.example", email=f"{role}@zafiro.example", password="x")
        Membership.objects.create(user=u, organization=org, role=role)
    customer, _ = services.get_or_create_customer(org, "ZAF-C1", "Cliente Zafiro", country="CL")
    from cobro.ledger.models import Contact

    Contact.objects.create(organization=org, customer=customer, name="Contacto Zafiro",
                           email="pago@zafiro.example", phone="+56911112222")
    invs = [services.add_invoice(org, customer, f"ZAF-{n}", D - dt.timedelta(days=60), D - dt.timedelta(days=d),
                                 "CLP", 500_000) for n, d in ((1001, 20), (1002, 5), (1003, -10))]
    services.add_credit_note(org, invs[0], "ZAF-NC1", D, 1000)
    services.apply_payment(org, customer, "ZAF-P1", D, 2000, "CLP")
    services.create_task(org, customer, "call", "Llamar Zafiro", D)
    services.record_event(org, customer, "note.added", "Nota Zafiro")
    try:
        from cobro.messaging import services as messaging
        from cobro.messaging.models import Message

        messaging.install_default_templates(org)
        Message.objects.create(organization=org, customer=customer, key="zaf:1", template="overdue_friendly",
                               channel="email", invoice_ids=[invs[0].pk], scheduled_for=None or _now(),
                               next_attempt_at=_now(), to="pago@zafiro.example")
        messaging.opt_out(org, customer, "sms", "link", address="+56911112222")
    except ImportError:
        pass
    try:
        from cobro.agreements import services as agreements

        agreements.create_promise(org, customer, D + dt.timedelta(days=5), 1000, "CLP", [invs[1]], made_on=D)
        agreements.create_plan(org, customer, [invs[2]], 2, "monthly", D)
        agreements.open_dispute(org, invs[0], "other", "Reclamo Zafiro")
        agreements.set_terms(org, customer, grace_days=3)
    except ImportError:
        pass
    try:
        from cobro.dunning import services as dunning

        from cobro.dunning import segments

        dunning.ensure_default_policy(org)
        dunning.pause_customer(org, customer, D + dt.timedelta(days=3), "Pausa Zafiro")
        segments.save_segment(org, {"name": "Segmento Zafiro", "policy": "estandar", "bands": ["high"]})
    except ImportError:
        pass
    try:
        from cobro.insights import abtest
        from cobro.insights.models import AbExposure

        test = abtest.start(org, policy_code="estandar", step="+3", template_b="overdue_neutral", metric="paid",
                            horizon_days=7, name="Prueba Zafiro", today=D - dt.timedelta(days=30))
        AbExposure.objects.create(organization=org, test=test, customer=customer, variant="B", day=D)
    except ImportError:
        pass
    try:
        from cobro.workspace import services as workspace

        workspace.save_reason(org, "bsec-motivo", "Motivo Zafiro")
        workspace.save_script(org, "first_contact", "es", "Hola Zafiro, ¿cómo está? ¿Podemos hablar de la factura?")
    except ImportError:
        pass
    return org


def _now():
    from django.utils import timezone

    return timezone.now()


def _tenant_models():
    return [m for m in apps.get_models() if m.__module__.startswith("cobro.")
            and any(f.name == "organization" for f in m._meta.get_fields())]


#: Audit logs that must record every call, refused ones included: a forged provider webhook sent to the
#: victim's URL is logged there as refused (its outcome is checked in tests/providers), nothing else.
AUDIT_LOGS = {"providers.WebhookLog"}


def snapshot(org) -> dict:
    """Every row of the organization in every table, and its members' accounts."""
    out = {m._meta.label: list(m.objects.filter(organization=org).order_by("pk").values()) for m in _tenant_models()
           if m._meta.label not in AUDIT_LOGS}
    out["org"] = list(Organization.objects.filter(pk=org.pk).values())
    out["users"] = list(get_user_model().objects.filter(memberships__organization=org).order_by("pk").values())
    return out


def victim_ids(org) -> list[int]:
    """One id per table (the first row of each), then the members' user ids."""
    ids = {org.pk}
    for m in _tenant_models():
        pk = m.objects.filter(organization=org).order_by("pk").values_list("pk", flat=True).first()
        if isinstance(pk, int):
            ids.add(pk)
    ids |= set(get_user_model().objects.filter(memberships__organization=org).values_list("pk", flat=True))
    return sorted(ids)


def victim_strings(org) -> list[str]:
    return [org.slug, str(org.pk), "legal", "first_contact", "bsec-motivo"]


def _walk(patterns, prefix="", namespace=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), (namespace + p.name) if p.name else None, p


_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")


def concrete_paths(ids, strings):
    """Every URL of the project (admin's own excepted: below) with the victim's ids and codes in it."""
    out = set()
    for route, name, p in _walk(get_resolver().url_patterns):
        if route.startswith("admin/") or route.startswith("^admin/"):
            continue
        params = list(p.pattern.regex.groupindex) if hasattr(p.pattern, "regex") else []
        if not params:
            out.add("/" + route.lstrip("^").rstrip("$"))
            continue
        for value in itertools.chain(ids, strings):
            kwargs = {k: value for k in params}
            try:
                out.add(reverse(name, kwargs=kwargs) if name else None)
            except NoReverseMatch:
                continue
        if not name:  # an unnamed route: fill its converters by hand
            for value in itertools.chain(ids, strings):
                out.add("/" + _PARAM.sub(str(value), route))
    out.discard(None)
    return sorted(out)


@pytest.fixture
def world(db):
    attacker = Organization.objects.create(slug="aaa", name="Acme Atacante", country="CL", currency="CLP",
                                           timezone="America/Santiago")
    victim = _victim()
    users = {}
    for role in Role.values:
        u = get_user_model().objects.create_user(f"atk-{role}", password="x", is_staff=True)
        u.user_permissions.set(Permission.objects.all())
        Membership.objects.create(user=u, organization=attacker, role=role)
        users[role] = u
    return attacker, victim, users


def _leaks(resp) -> list[str]:
    if resp.get("Content-Type", "").split(";")[0] not in ("text/html", "application/json", "text/plain", "text/csv",
                                                            "text/calendar", "application/xml", "text/xml", ""):
        body = resp.content.decode("latin-1") if not getattr(resp, "streaming", False) else ""
    else:
        body = b"".join(resp.streaming_content).decode("utf-8", "replace") if getattr(resp, "streaming", False) \
            else resp.content.decode("utf-8", "replace")
    return [m for m in MARKERS if m.lower() in body.lower()]


@pytest.mark.parametrize("role", Role.values)
def test_no_url_shows_or_changes_another_organizations_data(world, role):
    _attacker, victim, users = world
    before = snapshot(victim)
    client = Client(raise_request_exception=False)
    client.force_login(users[role])
    paths = concrete_paths(victim_ids(victim), victim_strings(victim))
    assert any("/customers/" in p for p in paths) and len(paths) > 30  # the walk found the app's URLs
    leaks, errors = [], []
    for path in paths:
        for method in ("get", "post"):
            resp = getattr(client, method)(path, POST_DATA if method == "post" else None)
            if resp.status_code >= 500:
                errors.append(f"{method.upper()} {path} → {resp.status_code}")
            found = _leaks(resp)
            if found:
                leaks.append(f"{method.upper()} {path} → {resp.status_code} shows {found}")
    assert not leaks, "\n".join(leaks)
    assert snapshot(victim) == before
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("role", Role.values)
def test_no_admin_shows_or_changes_another_organizations_data(world, role):
    _attacker, victim, users = world
    before = snapshot(victim)
    client = Client(raise_request_exception=False)
    client.force_login(users[role])
    leaks = []
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        pks = list(model.objects.order_by("pk").values_list("pk", flat=True))
        theirs = [pk for pk in pks if pk in _victim_pks(model, victim)][:3]
        base = "/admin/{}/{}/".format(*info)
        requests = [("get", base, None), ("get", base + "?q=Cliente", None),
                    ("post", base + "add/", {"organization": victim.pk, "name": "nuevo", **POST_DATA})]
        for pk in theirs:
            requests += [("get", f"{base}{pk}/change/", None), ("get", f"{base}{pk}/history/", None),
                         ("post", f"{base}{pk}/change/", {"organization": victim.pk, **POST_DATA}),
                         ("post", f"{base}{pk}/delete/", {"post": "yes"})]
        for method, path, data in requests:
            resp = getattr(client, method)(path, data)
            found = _leaks(resp)
            if found:
                leaks.append(f"{method.upper()} {path} → {resp.status_code} shows {found}")
    assert not leaks, "\n".join(leaks)
    assert snapshot(victim) == before


def _victim_pks(model, victim) -> set:
    from cobro.ledger.admin_site import kind_of

    kind = kind_of(model)
    if kind == "tenant":
        return set(model.objects.filter(organization=victim).values_list("pk", flat=True))
    if kind == "org":
        return {victim.pk}
    if kind == "user":
        return set(model.objects.filter(memberships__organization=victim).values_list("pk", flat=True))
    return set(model.objects.values_list("pk", flat=True))  # global tables: none may be reached at all


#: Commands that are not per organization (Django's own, the demo, servers and workers).
NOT_PER_ORG = {"demo", "worker", "run", "runserver", "shell", "dbshell", "test", "testserver", "migrate", "flush",
               "loaddata", "dumpdata", "squashmigrations", "makemigrations", "startapp", "startproject",
               "createsuperuser", "changepassword", "collectstatic", "findstatic", "compilemessages",
               "makemessages", "sendtestemail", "inspectdb", "diffsettings", "check", "showmigrations",
               "sqlflush", "sqlmigrate", "sqlsequencereset", "optimizemigration", "remove_stale_contenttypes",
               "clearsessions", "db_worker", "prune_db_task_results", "runserver_nostatic", "org", "user"}


def test_no_command_run_for_one_organization_touches_another(world):
    attacker, victim, _users = world
    before = snapshot(victim)
    ran = []
    for name, app in sorted(get_commands().items()):
        if not app.startswith("cobro.") or name in NOT_PER_ORG:
            continue
        command = load_command_class(app, name)
        parser = command.create_parser("cobro", name)
        subs = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
        variants = [[sub] for a in subs for sub in a.choices] or [[]]
        for variant in variants:
            for victim_id in victim_ids(victim)[:6]:
                args = [*variant, str(victim_id), "--org", attacker.slug]
                out = io.StringIO()
                try:
                    call_command(name, *args, stdout=out, stderr=out)
                except (Exception, SystemExit):  # a refusal is fine; only leaks and changes count
                    pass
                ran.append(" ".join([name, *args]))
                found = [m for m in MARKERS if m.lower() in out.getvalue().lower()]
                assert not found, f"cobro {' '.join([name, *args])} printed {found}: {out.getvalue()[:300]}"
    per_org = {name for name, app in get_commands().items() if app.startswith("cobro.") and name not in NOT_PER_ORG}
    assert {"outbox", "tone", "cycle"} <= per_org  # the list of commands is the real one
    assert {r.split()[0] for r in ran} == per_org  # and every one of them was tried
    assert snapshot(victim) == before
