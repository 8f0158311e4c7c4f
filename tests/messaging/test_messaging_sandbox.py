"""Templates are data, never code (issue #10.1): the sandbox renders a fixed vocabulary of plain values
and refuses every other construct by name, on save, on preview and at send time."""

import pytest
from django.utils.html import escape

from cobro.messaging import defaults, sandbox, services
from cobro.messaging.models import MessageTemplate
from cobro.messaging.render import Renderer, RenderError

REFUSED = [
    ("{% load static %}", "{% load static %}"),
    ("{% include 'messaging/email.html' %}", "{% include 'messaging/email.html' %}"),
    ("{% debug %}", "{% debug %}"),
    ("{% url 'login' %}", "{% url 'login' %}"),
    ("{% for m in invoices.0.organization.memberships.all %}x{% endfor %}", "{% for m in"),
    ("{% if total %}x{% endif %}", "{% if total %}"),
    ("{% with a=1 %}{% endwith %}", "{% with a=1 %}"),
    ("{% now 'Y' %}", "{% now 'Y' %}"),
    ("{{ invoices.0.organization.name }}", "{{ invoices.0.organization.name }}"),
    ("{{ labels.invoice }}", "{{ labels.invoice }}"),
    ("{{ total.__class__ }}", "{{ total.__class__ }}"),
    ("{{ customer.user.password }}", "{{ customer.user.password }}"),
    ("{{ request }}", "{{ request }}"),
    ("{{ settings.SECRET_KEY }}", "{{ settings.SECRET_KEY }}"),
    ("{{ total|safe }}", "|safe"),
    ("{{ total|pprint }}", "|pprint"),
    ("{{ total|default:csrf_token }}", "|default:csrf_token"),
    ("{% for invoice in invoices %}{{ invoice.customer.name }}{% endfor %}", "{{ invoice.customer.name }}"),
    ("{{ invoice.ref }}", "{{ invoice.ref }}"),
    ("{% for invoice in invoices %}x", "Falta {% endfor %}"),
    ("x {% endfor %}", "{% endfor %}"),
    ("{{ total ", "{{"),
    ("{{ 'a' }}", "{{ 'a' }}"),
]


@pytest.mark.parametrize("source,named", REFUSED)
def test_every_other_construct_is_refused_naming_it(source, named):
    with pytest.raises(sandbox.TemplateRefused) as exc:
        sandbox.check(f"Hola {{{{ contact_name }}}}. {source}")
    assert named in str(exc.value)


def test_vocabulary_filters_and_a_bounded_loop_over_plain_rows():
    rows = [{"ref": f"F-{i}", "amount": f"$ {i}", "due": "1 de marzo", "when": "vencida"} for i in range(500)]
    out = sandbox.render('{{ contact_name|upper }} {{ org_phone|default:"sin teléfono" }} {# nota #}'
                         "{% for invoice in invoices %}[{{ invoice.ref }} {{ invoice.amount }}]{% endfor %}",
                         {"contact_name": "Rosa", "org_phone": "", "invoices": rows})
    assert out.startswith("ROSA sin teléfono [F-0 $ 0][F-1 $ 1]")
    assert out.count("[") == sandbox.MAX_LOOP and "nota" not in out


def test_objects_never_reach_the_renderer():
    class Secret:
        def __str__(self):
            return "hash"

    with pytest.raises(TypeError):
        sandbox.render("{{ total }}", {"total": Secret()})


@pytest.mark.parametrize("language", defaults.LANGUAGES)
def test_shipped_templates_are_inside_the_sandbox(language):
    for row in defaults.default_rows(language):
        sandbox.check(row["subject"])
        sandbox.check(row["body"])


def test_save_refuses_and_stores_nothing(book):
    tpl = MessageTemplate.objects.get(organization=book.org, code="overdue_friendly", channel="email", language="es")
    with pytest.raises(sandbox.TemplateRefused, match="load"):
        services.save_template(book.org, code=tpl.code, language="es", channel="email", subject="Hola",
                               body="{% load static %}{{ total }}", tone_code="friendly", membership=None)
    tpl.refresh_from_db()
    assert "load" not in tpl.body


def test_send_time_refuses_a_template_already_stored(book, queue):
    MessageTemplate.objects.filter(organization=book.org, code="overdue_friendly", channel="email",
                                   language="es").update(body="{{ invoices.0.organization.name }}")
    msg = queue(book.org, book.es, "overdue_friendly", "email", [book.inv["es1"]])
    with pytest.raises(RenderError, match="invoices.0.organization.name"):
        Renderer(book.org, [msg]).render(msg, as_of=book.today)


ATTACKS = ["{{ invoices.0.organization.memberships.all.0.user.password }}",
           "{% for m in invoices.0.organization.memberships.all %}{{ m.user.password }}{% endfor %}",
           "{% for invoice in invoices %}{{ invoice.organization.name }}{% endfor %}",
           "{% debug %}", "{% include 'messaging/email.html' %}", "{% load static %}{% static 'x' %}"]


@pytest.mark.parametrize("do", ["preview", "save"])
@pytest.mark.parametrize("attack", ATTACKS)
def test_an_agents_preview_never_prints_another_orgs_data_or_a_hash(book, client, do, attack):
    tpl = MessageTemplate.objects.get(organization=book.org, code="overdue_friendly", channel="email", language="es")
    before = tpl.body
    client.force_login(book.agent if do == "preview" else book.manager)
    resp = client.post(f"/messages/templates/{tpl.pk}/", {"do": do, "subject": tpl.subject, "tone": "friendly",
                                                          "body": "Hola {{ contact_name }} " + attack,
                                                          "customer": book.es.pk, "reason": "x"})
    html = resp.content.decode()
    assert resp.status_code == 422
    with pytest.raises(sandbox.TemplateRefused) as refusal:
        sandbox.check("Hola {{ contact_name }} " + attack)
    assert escape(str(refusal.value)) in html  # the sandbox's own refusal, in words
    for leak in ("pbkdf2", "Otra Ltda", "Cliente Secreto", "oscar", "SECRET_KEY"):
        assert leak not in html, leak
    tpl.refresh_from_db()
    assert tpl.body == before
