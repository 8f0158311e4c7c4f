"""One module per channel, one interface: ``Transport.send(message, rendered) -> SendResult``.

A transport raises ``TransportError`` when the provider refuses or cannot be reached, saying whether
trying again could help (``permanent=False``: server down, rate limited) or not (``permanent=True``:
an invalid number, a recipient who unsubscribed at the provider). Adding a channel is adding a module
and a line in ``REGISTRY``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import import_module

REGISTRY = {
    "email": "cobro.messaging.transports.email.EmailTransport",
    "sms": "cobro.messaging.transports.sms.SmsTransport",
    "whatsapp": "cobro.messaging.transports.whatsapp.WhatsAppTransport",
    "letter": "cobro.messaging.transports.letter.LetterTransport",
    "demo": "cobro.messaging.transports.demo.DemoTransport",
}


class TransportError(Exception):
    def __init__(self, message: str, *, permanent: bool = False, retry_after: float | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


@dataclass
class SendResult:
    provider_id: str
    data: dict | None = None


class Transport:
    name = ""
    channel = ""

    def open(self) -> None:
        """Prepare for a batch (an SMTP connection is opened once, not per message)."""

    def close(self) -> None:
        pass

    def send(self, message, rendered) -> SendResult:  # pragma: no cover - interface
        raise NotImplementedError


def get_transport(name: str) -> Transport:
    path = REGISTRY.get(name)
    if path is None:
        raise KeyError(f"no transport named {name!r}")
    module, cls = path.rsplit(".", 1)
    return getattr(import_module(module), cls)()


def stable_id(key: str) -> str:
    """A short, stable identifier derived from the message's idempotency key."""
    return hashlib.sha256(key.encode()).hexdigest()[:24]
