"""SMS through Twilio's Programmable Messaging REST API (2010-04-01), with the official client.

POST /2010-04-01/Accounts/{AccountSid}/Messages.json answers 201 with the message's ``sid`` and
``status``; Twilio then posts status callbacks (queued → sent → delivered/undelivered/failed) to our
webhook, signed with X-Twilio-Signature. COBRO_TWILIO_API_URL points the client elsewhere (tests run
a local server that speaks this API on 127.0.0.1).
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from cobro.messaging.transports import SendResult, Transport, TransportError

#: Twilio error codes that will not get better by retrying: invalid "To" number, number that cannot
#: receive SMS, recipient replied STOP (21610), message body too long.
PERMANENT_CODES = {21211, 21214, 21408, 21610, 21612, 21614, 21617, 30003, 30005, 30006}


def client():
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    c = Client(settings.COBRO_TWILIO_ACCOUNT_SID, settings.COBRO_TWILIO_AUTH_TOKEN,
               http_client=TwilioHttpClient(timeout=10))
    c.api.base_url = settings.COBRO_TWILIO_API_URL.rstrip("/")
    return c


class SmsTransport(Transport):
    name = "sms"
    channel = "sms"

    def __init__(self):
        self.client = None

    def open(self) -> None:
        self.client = client()

    def send(self, message, rendered) -> SendResult:
        from twilio.base.exceptions import TwilioException, TwilioRestException

        if self.client is None:
            self.open()
        callback = settings.COBRO_BASE_URL + reverse("messaging:twilio_status")
        try:
            sent = self.client.messages.create(to=rendered.to, from_=settings.COBRO_TWILIO_FROM,
                                               body=rendered.text, status_callback=callback)
        except TwilioRestException as exc:
            temporary = exc.status == 429 or exc.status >= 500
            permanent = not temporary and (exc.code in PERMANENT_CODES or 400 <= exc.status < 500)
            raise TransportError(f"Twilio {exc.status} (code {exc.code}): {exc.msg}", permanent=permanent) from None
        except (TwilioException, OSError) as exc:
            raise TransportError(f"Twilio unreachable: {exc}") from None
        except Exception as exc:  # requests' connection errors come through the client unwrapped
            if exc.__class__.__module__.startswith(("requests", "urllib3")):
                raise TransportError(f"Twilio unreachable: {exc}") from None
            raise
        return SendResult(provider_id=sent.sid, data={"status": sent.status})
