"""The demo transport: records a message as sent without any network, for the demo organization.

The outbox pages say so next to every message it handled, so nobody mistakes it for a real send.
"""

from __future__ import annotations

from cobro.messaging.transports import SendResult, Transport, stable_id


class DemoTransport(Transport):
    name = "demo"

    def send(self, message, rendered) -> SendResult:
        return SendResult(provider_id=f"demo-{stable_id(message.key)}")
