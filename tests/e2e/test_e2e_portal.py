"""Browser journeys through the debtor portal (issue 11's "Done when"): a debtor opens the link of a
demo message, sees what they owe, pays one invoice by card through Stripe (the local server speaking
its API, and its hosted page), answers the survey on the thank-you page, promises a date for another
invoice, gets a plan for a third accepted inside the limits and disputes a fourth; the team sees each
on the customer's timeline and board. At 390×844 and 1366×768, in Spanish, English and Brazilian
Portuguese; Mercado Pago and Webpay Plus (Transbank) through their local servers and hosted pages,
abandoned once and then paid; and a plan and the start page for a lost link in Portuguese."""

import datetime as dt
from pathlib import Path

import pytest

from cobro.agreements.models import Dispute, Plan, Promise
from cobro.ledger import services as ledger
from cobro.ledger.models import Customer, Invoice, Payment, TimelineEvent
from cobro.messaging.models import Message
from cobro.portal.access import portal_url
from cobro.portal.models import Survey

pytestmark = pytest.mark.e2e


def _debtor(org, min_open=3):
    for c in Customer.objects.for_org(org).order_by("ref"):
        open_ = list(Invoice.objects.for_org(org).filter(customer=c, status="open", currency=org.currency)
                     .exclude(promises__status="pending").exclude(plans__status__in=["active", "proposed"])
                     .exclude(disputes__status__in=["open", "answered"]).distinct().order_by("due_date"))
        if len(open_) >= min_open:
            return c, open_
    pytest.skip("no demo customer with three free open invoices")


MANAGER = "supervisora@demo.cobro"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
WHSEC = "whsec_e2e_portal"
#: Words of the portal's own Spanish text: none may show to a debtor who reads English.
SPANISH = ("Estado de cuenta", "Facturas pendientes", "Vencimiento", "Saldo", "Pagar", "Ya pagué", "Comprometer",
           "Proponer", "Reclamar", "Gracias", "días de atraso", "Cuota", "Monto incorrecto", "Otro motivo")
WORDS = {
    "es": {"statement": "Estado de cuenta", "thanks": "¡Gracias por su pago!", "survey": "Gracias por su opinión",
           "back": "Volver al estado de cuenta", "promise": "Registramos su compromiso de pago",
           "plan": "Su plan de pagos quedó aceptado", "dispute": "Pausamos la cobranza de esa factura"},
    "en": {"statement": "Statement", "thanks": "Thank you for your payment!", "survey": "Thank you for your feedback",
           "back": "Back to the statement", "promise": "We have recorded your promise to pay",
           "plan": "Your payment plan is accepted", "dispute": "Collection of that invoice is paused"},
    "pt-BR": {"statement": "Extrato", "thanks": "Obrigado pelo seu pagamento!", "survey": "Obrigado pela sua opinião",
              "back": "Voltar ao extrato", "promise": "Registramos seu compromisso de pagamento",
              "plan": "Seu plano de pagamento foi aceito", "dispute": "A cobrança dessa fatura fica pausada"},
}
#: Of those, the ones Portuguese does not share.
NOT_PORTUGUESE = tuple(w for w in SPANISH if w not in ("Saldo", "Pagar", "Reclamar"))
LOCALES = {"es": "es-CL", "en": "en-US", "pt-BR": "pt-BR"}
COMMENTS = {"es": "Fácil", "en": "Easy", "pt-BR": "Fácil demais"}


@pytest.fixture
def stripe_local(demo, live_server, settings):
    """The demo organization takes card payments through Stripe, here the local server speaking
    Stripe's API (and its hosted page, which notifies Cobro's webhook the way Stripe does)."""
    from tests.providers.fakes import FakeProviders

    from cobro.providers import services as providers

    fake = FakeProviders()
    settings.COBRO_STRIPE_API_BASE = fake.base
    settings.COBRO_BASE_URL = live_server.url
    providers.set_credentials(demo.org, "stripe", secret_key=fake.stripe_key, webhook_secret=WHSEC)
    fake.stripe_webhook = (f"{live_server.url}/webhooks/stripe/{demo.org.slug}/", WHSEC)
    yield fake
    fake.close()


def _linked_debtor(demo):
    """A debtor the demo sent a message with the portal link to, with four invoices of their own
    (one to pay, one to promise, one for a plan, one to dispute), and the path of that link."""
    linked = (Message.objects.for_org(demo.org).filter(direction="out", body_text__contains="/portal/",
                                                      customer__country=demo.org.country)
              .exclude(sent_at=None).order_by("id").first())
    assert linked is not None, "the demo sends messages with a portal link"
    path = "/portal/" + linked.body_text.split("/portal/", 1)[1].split()[0].split("/")[0] + "/"
    customer = linked.customer
    d = dt.timedelta
    fresh = [ledger.add_invoice(demo.org, customer, f"E2E-{n}", demo.today - d(days=40 + n), demo.today - d(days=10 + n),
                                demo.org.currency, amount)
             for n, amount in enumerate((150_000, 240_000, 360_000, 90_000), start=1)]
    return customer, path, fresh


def _no_spanish(page, language="en"):
    text = page.inner_text("main")
    assert not [w for w in (NOT_PORTUGUESE if language == "pt-BR" else SPANISH) if w in text], text


@pytest.mark.parametrize("viewport, language", [("phone", "es"), ("laptop", "es"), ("phone", "en"), ("laptop", "en"),
                                                ("phone", "pt-BR"), ("laptop", "pt-BR")])
def test_done_when_pay_one_by_stripe_promise_plan_dispute_survey_and_the_team_sees_each(
        demo, stripe_local, live_server, open_page, sign_in, shot, viewport, language, tmp_path):
    customer, path, (paid, promised, planned, disputed) = _linked_debtor(demo)
    Customer.objects.filter(pk=customer.pk).update(language=language)
    words = WORDS[language]
    page = open_page(viewport, locale=LOCALES[language])
    page.goto(path)
    assert page.url.endswith(path)
    # What they owe: every open invoice, on a page no wider than the phone, with no third-party script.
    main = page.inner_text("main")
    assert words["statement"] in main
    assert all(i.ref in main for i in Invoice.objects.for_org(demo.org).filter(customer=customer, status="open"))
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"] + 1
    sources = page.eval_on_selector_all("script[src]", "els => els.map(e => e.src)")
    assert all(src.startswith(page.url.split("/portal/")[0]) for src in sources)
    if language != "es":
        _no_spanish(page, language)
    shot(page, f"60-portal-statement-{language}", viewport)

    # Pay ONE invoice by card: only that box ticked, Stripe's (local) page, back to the thank-you.
    pay_form = page.locator("form[action$='/pay/']")
    for box in pay_form.locator("input[name=invoice]").all():
        box.set_checked(box.get_attribute("value") == paid.ref)
    with page.expect_navigation():
        pay_form.locator("button[type=submit]").click()
    assert page.url.startswith(stripe_local.base + "/pay/cs_test_")
    assert page.inner_text("#amount") == f"{paid.amount} {demo.org.currency}"
    with page.expect_navigation():
        page.click("#pay")
    assert stripe_local.webhook_answers == [(200, "recorded")]
    assert page.url == f"{live_server.url}{path}thanks/"
    assert words["thanks"] in page.inner_text("main")
    if language != "es":
        _no_spanish(page, language)
    shot(page, f"61-portal-thanks-{language}", viewport)
    payment = Payment.objects.get(customer=customer, provider="stripe")
    assert list(payment.allocations.values_list("invoice__ref", "amount")) == [(paid.ref, paid.amount)]
    assert Invoice.objects.get(pk=paid.pk).status == "paid"
    assert all(Invoice.objects.get(pk=i.pk).open_amount == i.amount for i in (promised, planned, disputed))
    # The survey.
    page.check("input[name=rating][value='5']")
    page.fill("#comment", COMMENTS[language])
    page.click("button[type=submit]")
    assert words["survey"] in page.inner_text("main")
    survey = Survey.objects.get(customer=customer)
    assert (survey.rating, survey.comment) == (5, COMMENTS[language])
    page.click(f"text={words['back']}")
    assert paid.ref not in page.inner_text("main")

    # Promise a date for another invoice.
    day = demo.today + dt.timedelta(days=7)
    page.select_option("#promise-inv", promised.ref)
    page.fill("#promise-date", day.isoformat())
    page.locator("form[action$='/promise/'] button[type=submit]").click()
    assert words["promise"] in page.inner_text("main")
    shot(page, f"62-portal-promise-{language}", viewport)
    promise = Promise.objects.get(customer=customer, channel="portal", promised_date=day)
    assert [i.pk for i in promise.invoices.all()] == [promised.pk] and promise.amount == promised.amount

    # A plan for a third, inside the limits: accepted at once, its schedule shown.
    page.select_option("#plan-inv", planned.ref)
    page.fill("#plan-count", "3")
    page.locator("form[action$='/plan/'] button[type=submit]").click()
    assert words["plan"] in page.inner_text("main")
    assert page.locator("[role=status] li").count() == 4  # the down payment and three instalments
    if language != "es":
        _no_spanish(page, language)
    shot(page, f"63-portal-plan-{language}", viewport)
    page.screenshot(path=str(SCREENSHOTS / f"63-portal-plan-{language}-{viewport}-full.png"), full_page=True)
    plan = Plan.objects.get(customer=customer, invoices=planned)
    assert plan.status == "active" and [i.pk for i in plan.invoices.all()] == [planned.pk]

    # A dispute on the fourth, with a PDF.
    pdf = tmp_path / "guia.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n")
    page.select_option("#d-inv", disputed.ref)
    page.fill("#d-text", "La mercadería llegó dañada" if language == "es" else "The goods arrived damaged")
    page.set_input_files("#d-file", str(pdf))
    page.locator("form[action$='/dispute/'] button[type=submit]").click()
    assert words["dispute"] in page.inner_text("main")
    if language != "es":
        _no_spanish(page, language)
    shot(page, f"64-portal-dispute-{language}", viewport)
    assert Dispute.objects.filter(invoice=disputed, status="open").count() == 1

    # The team sees each on the customer's timeline.
    team = open_page("laptop" if viewport == "phone" else "phone")
    sign_in(team, MANAGER, demo.password)
    team.goto(f"/customers/{customer.pk}/")
    timeline = team.inner_text("#timeline")
    kinds = set(TimelineEvent.objects.filter(customer=customer).values_list("kind", flat=True))
    assert {"payment.received", "portal.survey", "promise.made", "plan.created", "dispute.opened"} <= kinds
    assert "Encuesta del portal: 5/5" in timeline
    from django.utils import translation

    from cobro.engine.money import home_currency
    from cobro.workspace.labels import event_summary

    for kind in ("payment.received", "promise.made", "plan.created", "dispute.opened"):
        event = TimelineEvent.objects.filter(customer=customer, kind=kind).latest("at", "id")
        with translation.override("es"), home_currency(demo.org.currency):  # the team's page: Spanish
            line = event_summary(event)
        assert line in timeline, (kind, line)
    shot(team, f"65-portal-team-timeline-{language}", "laptop" if viewport == "phone" else "phone")
    # ...and on the board: the customer's card carries the promise, the plan and the dispute made.
    team.goto(f"/board/?q={customer.ref}")
    card = team.locator(f".kcard[data-id='{customer.pk}']")
    assert card.count() == 1
    assert {"Promesa", "Plan", "Disputa"} <= set(card.locator(".kcard-badges .badge").all_inner_texts())
    card.scroll_into_view_if_needed()
    shot(team, f"66-portal-team-board-{language}", "laptop" if viewport == "phone" else "phone")


def test_plan_inside_limits_and_the_start_page_in_portuguese(demo, open_page, shot):
    customer, invoices = _debtor(demo.org, min_open=1)
    Customer.objects.filter(pk=customer.pk).update(language="pt-BR")
    before = set(Plan.objects.filter(customer=customer).values_list("pk", flat=True))  # earlier, ended plans
    page = open_page("phone", locale="pt-BR")
    page.goto(portal_url(customer).split("8000", 1)[1])
    assert "Faturas em aberto" in page.content() and "Facturas" not in page.content()
    page.fill("#plan-count", "3")
    page.click("text=Propor o plano")
    assert "Seu plano de pagamento foi aceito" in page.content()
    shot(page, "64-portal-plan-pt", "phone")
    new = Plan.objects.filter(customer=customer).exclude(pk__in=before)
    assert [p.status for p in new] == ["active"]
    page.goto("/portal/")
    page.fill("#tax_id", "12.345.678-5")
    page.click("button[type=submit]")
    shot(page, "65-portal-start", "phone")


@pytest.fixture
def local_providers(demo, live_server, settings):
    """The demo organization takes Mercado Pago and Webpay Plus through the local server speaking
    their APIs, whose hosted pages send the debtor back (and Mercado Pago's notifies the webhook)."""
    from tests.providers.fakes import FakeProviders

    from cobro.providers import services as providers

    fake = FakeProviders()
    settings.COBRO_MERCADOPAGO_API_BASE = settings.COBRO_TRANSBANK_API_BASE = fake.base
    settings.COBRO_BASE_URL = live_server.url
    providers.set_credentials(demo.org, "mercadopago", access_token=fake.mp_token, webhook_secret=WHSEC)
    providers.set_credentials(demo.org, "transbank", commerce_code=fake.tbk_code, api_key=fake.tbk_key)
    fake.mp_webhook = (f"{live_server.url}/webhooks/mercadopago/{demo.org.slug}/", WHSEC)
    yield fake
    fake.close()


def _pay_with(page, provider: str, ref: str) -> None:
    pay_form = page.locator("form[action$='/pay/']")
    for box in pay_form.locator("input[name=invoice]").all():
        box.set_checked(box.get_attribute("value") == ref)
    pay_form.locator(f"input[name=provider][value={provider}]").check()
    with page.expect_navigation():
        pay_form.locator("button[type=submit]").click()


@pytest.mark.parametrize("provider", ["mercadopago", "transbank"])
def test_pay_one_invoice_with_mercadopago_or_webpay_after_abandoning_once(demo, local_providers, live_server,
                                                                          open_page, shot, provider):
    from cobro.providers.models import PaymentRequest

    customer, path, (paid, other, *_rest) = _linked_debtor(demo)
    page = open_page("phone")
    page.goto(path)
    # First the debtor goes to the provider's page and comes back without paying: nothing is recorded.
    _pay_with(page, provider, paid.ref)
    assert page.url.startswith(local_providers.base)
    assert page.inner_text("#amount") == f"{paid.amount} CLP"  # pesos, no decimals
    with page.expect_navigation():
        page.click("#cancel")
    assert page.url == f"{live_server.url}{path}" and paid.ref in page.inner_text("main")
    first = PaymentRequest.objects.get(customer=customer, provider=provider)
    assert not Payment.objects.filter(customer=customer, provider=provider).exists()
    if provider == "transbank":
        assert first.status == "cancelled"

    # Then pays: back on the thank-you page, the payment recorded once against that invoice only.
    _pay_with(page, provider, paid.ref)
    shot(page, f"67-portal-{provider}-page", "phone")
    with page.expect_navigation():
        page.click("#pay")
    assert page.url.split("?")[0] == f"{live_server.url}{path}thanks/"
    assert WORDS["es"]["thanks"] in page.inner_text("main")
    shot(page, f"68-portal-{provider}-thanks", "phone")
    if provider == "mercadopago":
        assert local_providers.webhook_answers == [(200, "recorded")]
    payment = Payment.objects.get(customer=customer, provider=provider)
    assert list(payment.allocations.values_list("invoice__ref", "amount")) == [(paid.ref, paid.amount)]
    assert Invoice.objects.get(pk=paid.pk).status == "paid"
    assert Invoice.objects.get(pk=other.pk).open_amount == other.amount
    assert PaymentRequest.objects.filter(customer=customer, provider=provider, status="paid").count() == 1
    page.click(f"text={WORDS['es']['back']}")
    assert paid.ref not in page.inner_text("main") and other.ref in page.inner_text("main")
