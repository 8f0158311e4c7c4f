"""Fuzzing the parsers that read a stranger's bytes: the CSV/XLSX importer and the provider webhooks.

Each test runs for a bounded time in CI (``max_examples`` and a per-example deadline; raise them with
COBRO_FUZZ_EXAMPLES for a longer local run). The only outcomes allowed are a result or the parser's
own clear error (ImportFailed with messages, BadPayload, LinkError); anything else is a bug.
"""

import datetime as dt
import io
import json
import os
import random

import pytest
from django.core import signing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.utils.exceptions import IllegalCharacterError

from cobro.ledger.importing import COLUMNS, ImportFailed, import_file
from cobro.ledger.models import Customer, Invoice, Organization, Payment
from cobro.ledger.tables import Limits
from cobro.messaging import links, webhooks

EXAMPLES = int(os.environ.get("COBRO_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=dt.timedelta(seconds=5), derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])

#: What spreadsheet cells people (and attackers) type: the real headers, dates and amounts in every
#: shape, numbers at the edges, formula starts, control characters, and stray delimiters and quotes.
HEADERS = sorted({h for cols in COLUMNS.values() for canon, names in cols.items() for h in (canon, *names[:2])})
CELL = st.one_of(
    st.sampled_from(HEADERS),
    st.sampled_from(["2026-01-05", "05/01/2026", "1/31/2026", "0001-01-01", "9999-12-31", "31/02/2026",
                     "450.000", "1.234,56", "1,234.56", "-250.00", "(12)", "9" * 40, "1e300", "nan", "inf",
                     "CLP", "COP", "usd", "XYZ", "CL", "co", "+56911111111", "a@b.cl", "=HYPERLINK(\"x\")",
                     "'=1+1", "@SUM(A1)", "\x1b[31m", "\u202e", "\x00", "\"", "\"\"", ";", ",", "\t", "\r\n"]),
    st.text(max_size=30),
    st.integers(-(10**25), 10**25).map(str),
)


def _csv(rows, delimiter):
    return "\n".join(delimiter.join(r) for r in rows)


@pytest.fixture
def org(db, settings):
    # Small ceilings, so that the examples explore them (the defaults are checked below).
    settings.COBRO_IMPORT_MAX_ROWS, settings.COBRO_IMPORT_MAX_COLUMNS = 5_000, 20
    settings.COBRO_IMPORT_MAX_CELL_CHARS, settings.COBRO_IMPORT_MAX_BYTES = 500, 200_000
    return Organization.objects.create(slug="fuzz", name="Fuzz SpA", country="CL", currency="CLP",
                                       timezone="America/Santiago")


def _import_only_fails_clearly(org, kind, data):
    counts = (Customer.objects.count(), Invoice.objects.count(), Payment.objects.count())
    try:
        import_file(org, kind, data, dry_run=True)
    except ImportFailed as exc:
        assert exc.problems and all(str(p).startswith("row ") for p in exc.problems)
    assert (Customer.objects.count(), Invoice.objects.count(), Payment.objects.count()) == counts


@FUZZ
@given(kind=st.sampled_from(sorted(COLUMNS)), delimiter=st.sampled_from([",", ";", "\t", "|"]),
       rows=st.lists(st.lists(CELL, min_size=1, max_size=12), min_size=1, max_size=8),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
def test_csv_import_never_raises_anything_but_import_failed(org, kind, delimiter, rows, encoding):
    header = list(COLUMNS[kind])
    data = _csv([header, *rows], delimiter).encode(encoding, errors="replace")
    _import_only_fails_clearly(org, kind, data)


@FUZZ
@given(kind=st.sampled_from(sorted(COLUMNS)), data=st.binary(max_size=2000))
def test_random_bytes_import(org, kind, data):
    _import_only_fails_clearly(org, kind, data)


def _xlsx(cells) -> bytes:
    book = Workbook()
    sheet = book.active
    for (row, col), value in cells.items():
        try:
            sheet.cell(row=row, column=col, value=value)
        except (ValueError, IllegalCharacterError):  # openpyxl refuses some characters: not what is tested
            sheet.cell(row=row, column=col, value="x")
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


XLSX_VALUE = st.one_of(CELL, st.floats(allow_nan=True, allow_infinity=True), st.integers(-(10**20), 10**20),
                       st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)), st.booleans())


@FUZZ
@given(kind=st.sampled_from(sorted(COLUMNS)),
       cells=st.dictionaries(st.tuples(st.integers(2, 40), st.integers(1, 14)), XLSX_VALUE, max_size=40),
       far=st.one_of(st.none(), st.tuples(st.integers(1, 1_048_576), st.integers(1, 16_384))))
def test_xlsx_import_never_raises_anything_but_import_failed(org, kind, cells, far):
    for i, title in enumerate(COLUMNS[kind], start=1):
        cells.setdefault((1, i), title)
    if far:
        cells[far] = "x"
    _import_only_fails_clearly(org, kind, _xlsx(cells))


@FUZZ
@given(seed=st.integers(0, 2**32), flips=st.integers(1, 30))
def test_corrupted_xlsx_bytes(org, seed, flips):
    good = bytearray(_xlsx({(1, 1): "invoice_ref", (1, 2): "customer_ref", (1, 3): "issue_date",
                            (1, 4): "due_date", (1, 5): "amount", (2, 1): "F-1", (2, 2): "C-1",
                            (2, 3): dt.date(2026, 1, 5), (2, 4): dt.date(2026, 2, 4), (2, 5): 1000}))
    rnd = random.Random(seed)
    for _ in range(flips):
        good[rnd.randrange(4, len(good))] = rnd.randrange(256)
    _import_only_fails_clearly(org, "invoices", bytes(good))


def test_default_limits_take_a_size_l_book():
    limits = Limits.from_settings()
    assert limits.rows >= 1_000_000 and limits.bytes >= 300 * 1024 * 1024 and limits.columns >= 20


# ---- webhooks --------------------------------------------------------------------------------------

JSON = st.recursive(st.none() | st.booleans() | st.integers(-(10**30), 10**30) | st.floats() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                                  max_size=4),
                    max_leaves=25)
FIELD = st.one_of(JSON, st.sampled_from(["wamid.X", "", " ", "delivered", "read", "failed", "sent", "1773140000",
                                         "-1", "99999999999999999999", "5511988887777", "+56911111111"]))


def _status():
    return st.fixed_dictionaries({}, optional={"id": FIELD, "status": FIELD, "timestamp": FIELD, "errors": FIELD,
                                               "recipient_id": FIELD})


def _message():
    return st.fixed_dictionaries({}, optional={"id": FIELD, "from": FIELD, "timestamp": FIELD, "type": FIELD,
                                               "text": st.one_of(FIELD, st.fixed_dictionaries({"body": FIELD})),
                                               "button": FIELD})


SHAPED = st.fixed_dictionaries({}, optional={"object": FIELD, "entry": st.one_of(FIELD, st.lists(
    st.fixed_dictionaries({}, optional={"id": FIELD, "changes": st.one_of(FIELD, st.lists(
        st.fixed_dictionaries({}, optional={"field": FIELD, "value": st.one_of(FIELD, st.fixed_dictionaries(
            {}, optional={"statuses": st.one_of(FIELD, st.lists(_status(), max_size=3)),
                          "messages": st.one_of(FIELD, st.lists(_message(), max_size=3))}))}),
        max_size=3))}), max_size=3))})


@FUZZ
@given(payload=st.one_of(SHAPED, JSON))
def test_whatsapp_parser_only_returns_or_refuses(payload):
    try:
        body = json.dumps(payload).encode()
    except ValueError:
        return
    try:
        receipts, replies = webhooks.whatsapp(body)
    except webhooks.BadPayload as exc:
        assert str(exc)
        return
    assert all(r.provider_id and r.status in webhooks.RECEIPT_STATUSES for r in receipts)
    assert all(m.provider_id and m.sender[1:].isdigit() for m in replies)


@FUZZ
@given(body=st.binary(max_size=500))
def test_whatsapp_parser_on_raw_bytes(body):
    try:
        webhooks.whatsapp(body)
    except webhooks.BadPayload:
        pass


TWILIO = st.dictionaries(st.sampled_from(["MessageSid", "MessageStatus", "ErrorCode", "From", "To", "Body"]),
                         st.one_of(st.text(max_size=40), st.sampled_from(["SM1", "delivered", "failed", "30005",
                                                                          "+56911111111", ""])))


@FUZZ
@given(form=TWILIO)
def test_twilio_parsers_only_return_or_refuse(form):
    for parse in (webhooks.twilio_status, webhooks.twilio_inbound):
        try:
            parse(form)
        except webhooks.BadPayload:
            pass


HEADER_LINE = st.one_of(
    st.sampled_from([b"From: Rosa <rosa@andes.cl>", b"From: =?utf-99?q?x?= <a@b.cl>", b"Subject: =?x-bad?b?AAA?=",
                     b"Content-Type: text/plain; charset=x-unknown", b"Content-Type: text/html; charset=utf-8",
                     b"Content-Type: multipart/alternative; boundary=zz", b"Content-Transfer-Encoding: base64",
                     b"Content-Transfer-Encoding: quoted-printable", b"Message-ID: <x@y>", b"--zz", b"--zz--",
                     b"Content-Type: application/octet-stream", b"From:", b"Content-Type: text/plain; charset="]),
    st.binary(max_size=40))


@FUZZ
@given(headers=st.lists(HEADER_LINE, max_size=8), body=st.binary(max_size=300))
def test_email_parser_only_returns_or_refuses(headers, body):
    raw = b"\r\n".join(headers) + b"\r\n\r\n" + body
    try:
        reply = webhooks.email(raw)
    except webhooks.BadPayload as exc:
        assert str(exc)
        return
    assert "@" in reply.sender and isinstance(reply.text, str) and reply.provider_id


@FUZZ
@given(payload=JSON)
def test_signed_tokens_with_any_payload_are_read_or_refused(db, payload):
    token = signing.dumps(payload, salt=links.SALT, compress=True)
    for purpose in ("pay", "optout"):
        try:
            links.read_token(token, purpose)
        except links.LinkError:
            pass
