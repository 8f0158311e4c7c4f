"""The A/B test pages: who may read, start, stop and apply; another organization's test is not found;
the result page shows the groups, the interval, the p-value and the verdict in words."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth import get_user_model

from cobro.dunning.models import Policy
from cobro.dunning.services import ensure_default_policy
from cobro.engine.abtest import assign
from cobro.insights import abtest
from cobro.insights.models import AbExposure, AbTest
from cobro.ledger.models import Membership, Organization
from cobro.ledger.services import apply_payment, get_or_create_customer
from cobro.messaging.services import install_default_templates

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 3, 10)
NOON = dt.datetime(2026, 3, 10, 15, tzinfo=dt.UTC)  # 12:00 in Santiago


@pytest.fixture
def world():
    acme = Organization.objects.create(slug="acme", name="Acme", country="CL", currency="CLP",
                                       timezone="America/Santiago")
    other = Organization.objects.create(slug="other", name="Other", country="CL", currency="CLP",
                                        timezone="America/Santiago")
    for org in (acme, other):
        ensure_default_policy(org)
        install_default_templates(org)
    users = {}
    for name, org, role in [("viewer", acme, "viewer"), ("agent", acme, "agent"), ("manager", acme, "manager"),
                            ("outsider", other, "admin")]:
        users[name] = get_user_model().objects.create_user(name, password="pw")
        Membership.objects.create(user=users[name], organization=org, role=role)
    theirs = abtest.start(other, policy_code="estandar", step="+3", template_b="overdue_neutral", metric="paid",
                          horizon_days=7, today=TODAY, name="Prueba de Other")
    return {"acme": acme, "other": other, "users": users, "theirs": theirs}


def _as(client, world, who):
    client.force_login(world["users"][who])
    return client


FORM = {"name": "Más directo", "step": "estandar|+3", "template_b": "overdue_neutral", "metric": "paid",
        "horizon": "7", "holdout": "0.1"}


@time_machine.travel(NOON, tick=False)
def test_a_manager_starts_a_test_from_the_form(client, world):
    c = _as(client, world, "manager")
    page = c.get("/insights/abtests/").content.decode()
    assert 'id="abtest-form"' in page and "Su factura con … venció el …" in page  # texts, not codes
    assert '<option value="0.1">10 % de los clientes</option>' in page  # a value the form reads back
    response = c.post("/insights/abtests/start/", FORM)
    test = AbTest.objects.get(organization=world["acme"])
    assert response.status_code == 302 and response["Location"] == f"/insights/abtests/{test.pk}/"
    assert (test.step, test.template_a, test.template_b, test.metric, test.horizon_days, test.holdout) == (
        "+3", "overdue_friendly", "overdue_neutral", "paid", 7, 0.1)
    assert test.starts_on == TODAY + dt.timedelta(days=1) and test.created_by == world["users"]["manager"]
    page = c.get(response["Location"]).content.decode()
    assert "Sin conclusión todavía" in page and "Prueba iniciada" in page and "11/03/2026" in page


@pytest.mark.parametrize("who", ["viewer", "agent"])
def test_readers_and_agents_see_tests_but_cannot_start_stop_or_apply(client, world, who):
    mine = abtest.start(world["acme"], policy_code="estandar", step="+7", template_b="overdue_firm",
                        metric="reply", horizon_days=3, today=TODAY)
    c = _as(client, world, who)
    listing = c.get("/insights/abtests/").content.decode()
    assert mine.name in listing and 'id="abtest-form"' not in listing
    detail = c.get(f"/insights/abtests/{mine.pk}/").content.decode()
    assert "Sin conclusión todavía" in detail and 'id="abtest-stop"' not in detail
    assert c.post("/insights/abtests/start/", FORM).status_code == 403
    assert c.post(f"/insights/abtests/{mine.pk}/stop/").status_code == 403
    assert c.post(f"/insights/abtests/{mine.pk}/apply/").status_code == 403
    assert AbTest.objects.filter(organization=world["acme"]).count() == 1
    mine.refresh_from_db()
    assert mine.status == "running"


def test_another_organizations_test_is_not_found(client, world):
    c = _as(client, world, "manager")
    theirs = world["theirs"]
    for url in (f"/insights/abtests/{theirs.pk}/",):
        assert c.get(url).status_code == 404
    for url in (f"/insights/abtests/{theirs.pk}/stop/", f"/insights/abtests/{theirs.pk}/apply/"):
        assert c.post(url).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "running"
    assert theirs.name not in c.get("/insights/abtests/").content.decode()


def test_anonymous_is_sent_to_sign_in(client, world):
    assert client.get("/insights/abtests/").status_code == 302
    assert client.post("/insights/abtests/start/", FORM).status_code == 302


def test_a_refused_start_says_why(client, world):
    c = _as(client, world, "manager")
    page = c.post("/insights/abtests/start/", {**FORM, "template_b": "overdue_friendly"}, follow=True)
    assert "La plantilla B debe ser otra plantilla" in page.content.decode()
    assert not AbTest.objects.filter(organization=world["acme"]).exists()


@time_machine.travel(NOON, tick=False)
def test_the_result_page_reads_the_verdict_and_applies_the_winner(client, world):
    org = world["acme"]
    test = abtest.start(org, policy_code="estandar", step="+3", template_b="overdue_neutral", metric="paid",
                        horizon_days=7, today=TODAY - dt.timedelta(days=20))
    day = TODAY - dt.timedelta(days=15)
    for n in range(80):
        c, _ = get_or_create_customer(org, f"K-{n}", country="CL", email=f"k{n}@example.com")
        AbExposure.objects.create(organization=org, test=test, customer=c, variant=assign(test.salt, c.pk), day=day)
        if assign(test.salt, c.pk) == "B" or n % 5 == 0:
            apply_payment(org, c, f"P-{n}", day + dt.timedelta(days=1), 1000, "CLP")
    c = _as(client, world, "manager")
    page = c.get(f"/insights/abtests/{test.pk}/").content.decode()
    assert "B cobra más: +" in page and "IC 95 %" in page
    assert 'id="abtest-apply"' in page
    c.post(f"/insights/abtests/{test.pk}/apply/")
    test.refresh_from_db()
    assert test.status == "applied" and test.winner == "B"
    policy = Policy.objects.for_org(org).get(code="estandar")
    assert next(s for s in policy.definition["steps"] if s["code"] == "+3")["template"] == "overdue_neutral"
    page = c.get(f"/insights/abtests/{test.pk}/").content.decode()
    assert 'id="abtest-applied"' in page and 'id="abtest-apply"' not in page


@time_machine.travel(NOON, tick=False)
def test_the_pages_in_english(client, world):
    c = _as(client, world, "manager")
    test = abtest.start(world["acme"], policy_code="estandar", step="+3", template_b="overdue_neutral",
                        metric="paid", horizon_days=7, today=TODAY)
    page = c.get(f"/insights/abtests/{test.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "No conclusion yet" in page and "Sin conclusión" not in page


def test_reading_the_page_writes_nothing_and_starting_saves_the_shipped_policy(client):
    org = Organization.objects.create(slug="new", name="New", country="CL", currency="CLP",
                                      timezone="America/Santiago")
    install_default_templates(org)
    user = get_user_model().objects.create_user("boss", password="pw")
    Membership.objects.create(user=user, organization=org, role="manager")
    client.force_login(user)
    assert "Primer recordatorio de factura vencida (+3)" in client.get("/insights/abtests/").content.decode()
    assert not Policy.objects.for_org(org).exists()
    client.post("/insights/abtests/start/", FORM)
    assert Policy.objects.for_org(org).get().code == "estandar"
    assert AbTest.objects.for_org(org).get().template_a == "overdue_friendly"
