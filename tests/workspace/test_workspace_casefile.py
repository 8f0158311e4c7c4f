"""Issue #13: the case file reads like a document: names, words and dates, inside its margins."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.template.loader import render_to_string
from django.utils import translation
from tests.workspace.conftest import make_user

from cobro.agreements import services as agreements
from cobro.ledger.services import apply_payment, record_event
from cobro.workspace.casefile import case_file_context

ISO = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def _overflow(html: str) -> list:
    """Boxes of the laid-out PDF that end past the page's right margin."""
    from weasyprint import HTML

    found = []

    def walk(box, right):
        for child in getattr(box, "children", None) or []:
            if getattr(child, "width", None) is not None and hasattr(child, "margin_width"):
                end = child.position_x + child.margin_width()
                if end > right + 0.5:
                    found.append((type(child).__name__, round(end - right)))
            walk(child, right)

    for page in HTML(string=html).render().pages:
        walk(page._page_box, page._page_box.content_box_x() + page._page_box.width)
    return found


@pytest.fixture
def account(book, today):
    customer = book.customers[0]
    clerk = make_user("pedro.soto@acme.example", book.org, "agent")  # a login that is an e-mail, no name
    agreements.create_promise(book.org, customer, today + dt.timedelta(days=5), 400_000, "CLP", taken_by=clerk)
    apply_payment(book.org, customer, "TR-9", today, 100_000, "CLP", actor=book.agent)
    record_event(book.org, customer, "note.added", "Nota", actor=clerk,
                 data={"text": "Ver https://portal.example.cl/" + "a" * 160 + " y el comprobante F-1."})
    return customer


@pytest.mark.parametrize(("lang", "words", "country"), [
    ("es", ["Promesa de pago por", "Pago TR-9 recibido", "Promesa de pago"], "Chile"),
    ("en", ["Promise to pay", "Payment TR-9 received", "Payment received"], "Chile"),
])
def test_case_file_names_people_and_events_in_words_within_its_margins(book, today, account, lang, words, country):
    with translation.override(lang):
        html = render_to_string("workspace/casefile.html", case_file_context(book.org, account, today, book.agent))
    record = html.split("<colgroup>")[-1]  # the record of actions
    for word in words:
        assert word in record, word
    for code in ("promise.made", "payment.received", "note.added", "pedro.soto@acme.example", ">agustina<"):
        assert code not in html, code
    assert ">pedro.soto<" in record and ">Agustina<" in record
    assert not ISO.search(re.sub(r"<[^>]+>", " ", html)), ISO.search(html)
    assert f"<td>{country}</td>" in html
    assert _overflow(html) == []
