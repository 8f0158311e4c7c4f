"""Email over SMTP (or any Django email backend), HTML with a plain-text alternative.

``List-Unsubscribe`` with ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058) lets the
mail client offer its own unsubscribe button, which posts to our opt-out link. The Message-ID is
derived from the message's key, so a receiving server can tell a retry from a new message.
"""

from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection

from cobro.conf import env_int
from cobro.messaging.transports import SendResult, Transport, TransportError, stable_id


class EmailTransport(Transport):
    name = "email"
    channel = "email"
    #: SMTP connections used at once by the outbox: most of a send is waiting for the server's replies.
    parallel = env_int("COBRO_EMAIL_CONNECTIONS", 4)

    def __init__(self):
        self.connection = None

    def open(self) -> None:
        # Opened here, once per batch: an unopened backend would connect and quit for every message.
        self.connection = get_connection(fail_silently=False)
        try:
            self.connection.open()
        except (smtplib.SMTPException, OSError) as exc:
            self.connection = None
            raise TransportError(f"SMTP server unavailable: {exc}") from None

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()
            except Exception:  # noqa: BLE001 - closing a broken connection must not hide the real error
                pass
        self.connection = None

    def send(self, message, rendered) -> SendResult:
        if self.connection is None:
            self.open()
        domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "cobro.local"
        msgid = f"<{stable_id(message.key)}@{domain}>"
        opt_out = rendered.context.get("opt_out_link", "")
        headers = {"Message-ID": msgid, "X-Cobro-Message": str(message.pk)}
        if opt_out:
            headers["List-Unsubscribe"] = f"<{opt_out}>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        org = rendered.context.get("org_name", "")
        from_email = f"{org} <{settings.DEFAULT_FROM_EMAIL}>" if org else settings.DEFAULT_FROM_EMAIL
        reply_to = [rendered.context["org_email"]] if rendered.context.get("org_email") else None
        mail = EmailMultiAlternatives(subject=rendered.subject, body=rendered.text, from_email=from_email,
                                      to=[rendered.to], headers=headers, reply_to=reply_to,
                                      connection=self.connection)
        if rendered.html:
            mail.attach_alternative(rendered.html, "text/html")
        try:
            mail.send()
        except smtplib.SMTPRecipientsRefused as exc:
            raise TransportError(f"recipient refused: {exc.recipients}", permanent=True) from None
        except smtplib.SMTPResponseException as exc:
            self.close()
            permanent = 500 <= exc.smtp_code < 600
            raise TransportError(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", permanent=permanent) from None
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            self.close()  # the next attempt reconnects: the server may be back
            raise TransportError(f"SMTP server unavailable: {exc}") from None
        return SendResult(provider_id=msgid)
