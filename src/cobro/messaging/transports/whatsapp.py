"""WhatsApp through the WhatsApp Business Cloud API (Graph API v21.0): approved template messages.

Outside a 24-hour conversation window a business may only send templates that Meta approved, so
Cobro sends the template's name, language and body parameters, never free text. The approved text
at Meta is the template's short text with each ``{{ variable }}`` replaced by ``{{1}}``, ``{{2}}``...
in order (docs/channels.md). POST {COBRO_WHATSAPP_API_URL}/{phone-number-id}/messages answers 200
with ``messages[0].id`` (a "wamid"); delivery and read receipts come to the webhook signed with
X-Hub-Signature-256.
"""

from __future__ import annotations

import requests
from django.conf import settings

from cobro.messaging.transports import SendResult, Transport, TransportError

#: Cloud API error codes worth retrying: rate limits (4, 80007, 130429, 131056) and temporary
#: service errors (1, 2, 131000, 133004). Any other 4xx is a problem retrying will not fix.
TEMPORARY_CODES = {1, 2, 4, 80007, 130429, 131000, 131056, 133004}


class WhatsAppTransport(Transport):
    name = "whatsapp"
    channel = "whatsapp"

    def __init__(self):
        self.session = None

    def open(self) -> None:
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {settings.COBRO_WHATSAPP_TOKEN}"

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
        self.session = None

    def send(self, message, rendered) -> SendResult:
        if self.session is None:
            self.open()
        wa = rendered.whatsapp
        payload = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": rendered.to.lstrip("+"),
            "type": "template",
            "template": {
                "name": wa["name"],
                "language": {"code": wa["language"]},
                "components": [{"type": "body",
                                "parameters": [{"type": "text", "text": p} for p in wa["params"]]}],
            },
            "biz_opaque_callback_data": message.key[:512],
        }
        url = f"{settings.COBRO_WHATSAPP_API_URL.rstrip('/')}/{settings.COBRO_WHATSAPP_PHONE_NUMBER_ID}/messages"
        try:
            resp = self.session.post(url, json=payload, timeout=10)
        except requests.RequestException as exc:
            raise TransportError(f"WhatsApp Cloud API unreachable: {exc}") from None
        if resp.status_code == 200:
            body = resp.json()
            return SendResult(provider_id=body["messages"][0]["id"],
                              data={"wa_id": (body.get("contacts") or [{}])[0].get("wa_id", "")})
        try:
            err = resp.json().get("error", {})
        except ValueError:
            err = {}
        code = err.get("code")
        temporary = resp.status_code == 429 or resp.status_code >= 500 or code in TEMPORARY_CODES
        retry_after = float(resp.headers["Retry-After"]) if resp.headers.get("Retry-After", "").isdigit() else None
        raise TransportError(f"WhatsApp {resp.status_code} (code {code}): {err.get('message', resp.text[:200])}",
                             permanent=not temporary, retry_after=retry_after)
