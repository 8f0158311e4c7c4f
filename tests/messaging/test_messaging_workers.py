"""Several workers at once never send a message twice; system checks per channel; tone-check properties."""

import threading

import pytest
from django.core.management import call_command
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from cobro.messaging import outbox, tone
from cobro.messaging.checks import channel_settings
from cobro.messaging.transports import SendResult, Transport


class SharedRecorder(Transport):
    name = "shared"

    def __init__(self):
        self.keys, self.lock = [], threading.Lock()

    def send(self, message, rendered):
        with self.lock:
            self.keys.append(message.key)
        return SendResult(provider_id=f"s-{message.key}")


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_send_each_message_once(book, queue):
    if connection.vendor != "postgresql":
        # The in-memory SQLite test database locks whole tables across threads (shared cache); a
        # file database serialises writers with IMMEDIATE transactions instead. Run under PostgreSQL.
        pytest.skip("concurrent workers are tested on PostgreSQL (make test-postgres)")
    for i in range(60):
        queue(book.org, book.es, "overdue_friendly", "email", [book.inv["es1"]], key=f"w{i}")
    shared = SharedRecorder()
    errors = []

    def worker():
        try:
            outbox.deliver(book.org, batch=7, transport="shared", transports={"shared": shared},
                           limiter=outbox.RateLimiter({}))
        except Exception as exc:  # noqa: BLE001 - reported below with the test's own message
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert sorted(shared.keys) == sorted(f"w{i}" for i in range(60))  # each exactly once


def test_system_check_names_missing_settings(settings):
    settings.COBRO_SMS_ENABLED, settings.COBRO_TWILIO_ACCOUNT_SID = True, ""
    settings.COBRO_WHATSAPP_ENABLED = False
    errors = channel_settings()
    assert [e.id for e in errors] == ["cobro.messaging.E001"]
    assert "COBRO_TWILIO_ACCOUNT_SID" in errors[0].msg
    settings.COBRO_SMS_ENABLED = False
    assert channel_settings() == []
    call_command("check")  # the project's own configuration passes


KIND = ["Queremos recordarle que el pago de su factura vence el 15 de marzo.",
        "Puede pagar por transferencia o respondernos si necesita un plazo.",
        "Según las condiciones del contrato, se aplicará un cargo por mora.",
        "Gracias por su confianza.", "Si ya pagó, disculpe este mensaje."]
HARSH = ["lo demandamos hoy mismo", "sinvergüenza", "lista de morosos", "última oportunidad", "PAGUE AHORA", "¡¡pague!!"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(KIND), min_size=1, max_size=6), st.sampled_from(HARSH), st.integers(0, 6))
def test_kind_sentences_stay_clean_and_one_harsh_phrase_anywhere_flags(kind, harsh, where):
    assert not tone.check(" ".join(kind), "es", require=()).flagged
    mixed = kind[:where] + [harsh] + kind[where:]
    assert tone.check(" ".join(mixed), "es", require=()).flagged
