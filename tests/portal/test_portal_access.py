"""Who can open a portal: signed links (tenancy, expiry, revocation), the commands, and a new link by
e-mail asked with the tax id (real SMTP on loopback, no enumeration, rate limit)."""

import datetime as dt
import re
from email import message_from_bytes, policy
from io import StringIO

import pytest
from aiosmtpd.controller import Controller
from django.core.cache import cache
from django.core.management import CommandError, call_command

from cobro.messaging import links


def test_statement_shows_the_customers_open_invoices_and_nothing_of_others(book, client):
    html = client.get(book.path(book.es)).content.decode()
    for ref in ("F-101", "F-102", "F-103"):
        assert ref in html
    assert "Acme SpA" in html and "Banco Estado, cuenta 123-456" in html and "10 días de atraso" in html
    assert "S-999" not in html and "Cliente Secreto" not in html and "INV-7" not in html
    other = client.get(book.path(book.secret)).content.decode()
    assert "S-999" in other and "F-101" not in other and "Acme" not in other


def test_a_token_naming_another_organizations_customer_is_refused(book, client):
    # Even a genuinely signed token cannot pair organization A with a customer of B.
    token = links.make_token(book.org.pk, book.secret.pk, "pay", 1)
    resp = client.get(f"/portal/{token}/")
    assert resp.status_code == 410 and "S-999" not in resp.content.decode()


def test_tampered_expired_and_revoked_links_answer_410_without_data(book, client, clock):
    path = book.path(book.es, days=2)
    assert client.get(path).status_code == 200
    forged = client.get(path[:-4] + "abc/")
    assert forged.status_code == 410 and "F-101" not in forged.content.decode()
    assert "no es correcto" in forged.content.decode()
    clock.shift(dt.timedelta(days=3))
    expired = client.get(path)
    assert expired.status_code == 410 and "venció" in expired.content.decode()
    assert "F-101" not in expired.content.decode()


def test_commands_print_an_absolute_link_and_revoke_every_link(book, client, settings):
    settings.COBRO_BASE_URL = "https://cobro.example"
    out = StringIO()
    call_command("portal", "link", "C1", "--org", "acme", stdout=out)
    url = out.getvalue().strip()
    assert url.startswith("https://cobro.example/portal/") and url.endswith("/")
    path = url.removeprefix("https://cobro.example")
    assert "F-101" in client.get(path).content.decode()
    call_command("portal", "revoke", "C1", "--org", "acme", stdout=StringIO())
    gone = client.get(path)
    assert gone.status_code == 410 and "reemplazado" in gone.content.decode()
    out = StringIO()
    call_command("portal", "link", "C1", "--org", "acme", stdout=out)
    assert out.getvalue().strip() != url
    assert client.get(out.getvalue().strip().removeprefix("https://cobro.example")).status_code == 200
    with pytest.raises(CommandError, match="no customer 'C9'"):
        call_command("portal", "link", "C9", "--org", "acme")
    with pytest.raises(CommandError, match="no organization"):
        call_command("portal", "revoke", "C1", "--org", "nadie")


def test_old_statement_links_redirect_to_the_portal(book, client):
    token = links.make_token(book.org.pk, book.es.pk, "pay", 1)
    resp = client.get(f"/messages/s/{token}/")
    assert resp.status_code == 302 and resp["Location"] == f"/portal/{token}/"


def test_the_portal_speaks_the_debtors_language(book, client):
    html = client.get(book.path(book.en)).content.decode()
    assert "Open invoices" in html and "Pay by bank transfer" in html and "Facturas" not in html
    # The shipped dispute reasons too, while the organization has not reworded them.
    assert "Wrong amount" in html and "Monto incorrecto" not in html


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content))
        return "250 OK"


@pytest.fixture
def inbox(settings, free_port):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port
    settings.EMAIL_USE_TLS, settings.EMAIL_TIMEOUT = False, 5
    cache.clear()
    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port)
    controller.start()
    yield box
    controller.stop()
    cache.clear()


def test_a_lost_link_is_mailed_to_the_contact_on_file_only(book, client, inbox):
    page = client.get("/portal/").content.decode()
    assert "csrfmiddlewaretoken" in page and "RUT" in page
    known = client.post("/portal/", {"country": "CL", "tax_id": "76086428-5", "email": "thief@evil.test"})
    unknown = client.post("/portal/", {"country": "CL", "tax_id": "11.111.111-1"})
    assert known.status_code == unknown.status_code == 200
    # The same answer whether the tax id exists or not.
    def unmasked(resp):  # CSRF tokens are masked afresh on every page
        return re.sub(r"[A-Za-z0-9]{64}", "", resp.content.decode())

    assert unmasked(known) == unmasked(unknown) and "correos que tenemos registrados" in unmasked(known)
    [(rcpt, raw)] = inbox.messages
    assert rcpt == ["rosa@andes.cl"]
    body = message_from_bytes(raw, policy=policy.default).get_body(preferencelist=("plain",)).get_content()
    link = next(w for w in body.split() if "/portal/" in w)
    assert "F-101" in client.get(link.removeprefix("http://127.0.0.1:8000")).content.decode()


def test_an_invalid_tax_id_is_named_and_sends_nothing(book, client, inbox):
    resp = client.post("/portal/", {"country": "CL", "tax_id": "76086428-0"})
    assert resp.status_code == 400 and "no es válido" in resp.content.decode()
    resp = client.post("/portal/", {"country": "MX", "tax_id": "GODE561231GR8"})
    assert resp.status_code == 200
    assert inbox.messages == []


def test_requests_for_links_are_rate_limited(book, client, inbox):
    codes = [client.post("/portal/", {"country": "CL", "tax_id": "76086428-5"}).status_code for _ in range(7)]
    assert codes == [200] * 5 + [429, 429]
    assert len(inbox.messages) == 5


def test_the_statement_splits_credit_notes_from_payments_and_shows_the_credit_balance(book, client):
    """F-101 (1.200.000) has a credit note of 200.000 and a payment of 300.000; a payment of 50.000
    is not applied to any invoice yet: the debtor's credit."""
    import datetime as dt

    from cobro.ledger.models import Payment
    from cobro.ledger.services import add_credit_note, apply_payment

    day = dt.date(2026, 3, 9)
    add_credit_note(book.org, book.inv["a"], "NC-1", day, 200_000, "descuento")
    apply_payment(book.org, book.es, "P-1", day, 300_000, "CLP", invoice=book.inv["a"])
    html = client.get(book.path(book.es)).content.decode()
    row = html[html.index("<strong>F-101</strong>"):]
    row = row[:row.index("</tr>")]
    assert ('data-label="Notas de crédito">$200.000</td><td class="num" data-label="Pagado">$300.000</td>'
            '<td class="num" data-label="Saldo"><strong>$700.000</strong>') in row
    assert "Saldo a favor" not in html
    Payment.objects.create(organization=book.org, customer=book.es, ref="P-2", date=day, currency="CLP",
                           amount=50_000, unallocated=50_000)
    html = client.get(book.path(book.es)).content.decode()
    assert "Saldo a favor: $50.000 (pagos recibidos que aún no se aplican a una factura)." in html
    assert "Saldo a favor" not in client.get(book.path(book.en)).content.decode()  # another customer's credit
