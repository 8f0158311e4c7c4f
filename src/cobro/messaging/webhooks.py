"""What the providers' webhooks may say, checked before anything is used.

A valid signature proves who sent a body, not that the body is well formed: a provider's bug, a
replayed test event or a stolen secret can all sign ``[]``. Every body is read here into plain
values (pydantic models for WhatsApp's JSON, explicit checks for Twilio's form and the raw e-mail);
anything else raises ``BadPayload``, which the views answer with 400 and a log line, never 500.

An empty provider id is not an id: a status without one is dropped here, so it can never match the
outgoing messages that have no provider id yet (in any organization).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.errors import MessageError
from email.utils import parseaddr
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, ValidationError

#: Earliest and latest moments a provider's timestamp may name (seconds since 1970, UTC).
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)
MAX_ID = 256  # provider ids are short (wamid.… ~ 60, Twilio SIDs 34); longer is not an id


class BadPayload(ValueError):
    """A signed body that is not what the provider's documented API sends; the message says why."""


def parse_timestamp(value) -> dt.datetime:
    """Seconds since 1970 as a string or int ("1773140000"), within 2000–2200."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError("timestamp must be a number of seconds")
    text = str(value).strip()
    if not text.isdigit() or len(text) > 12:
        raise ValueError(f"timestamp {text[:40]!r} is not a number of seconds")
    at = dt.datetime.fromtimestamp(int(text), dt.UTC)
    if not EARLIEST <= at < LATEST:
        raise ValueError(f"timestamp {text} is outside 2000–2200")
    return at


Timestamp = Annotated[dt.datetime | None, BeforeValidator(lambda v: None if v is None else parse_timestamp(v))]
ProviderId = Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_ID)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Error(_Model):
    title: str = ""
    code: int | str | None = None


class _Status(_Model):
    id: ProviderId = ""
    status: str = ""
    timestamp: Timestamp = None
    errors: list[_Error] = Field(default_factory=list, max_length=50)


class _Text(_Model):
    body: str = Field("", max_length=10_000)


class _Button(_Model):
    text: str = Field("", max_length=1_000)


class _Inbound(_Model):
    id: ProviderId = ""
    from_: str = Field("", alias="from", max_length=32)
    timestamp: Timestamp = None
    text: _Text | None = None
    button: _Button | None = None


class _Value(_Model):
    statuses: list[_Status] = Field(default_factory=list, max_length=1000)
    messages: list[_Inbound] = Field(default_factory=list, max_length=1000)


class _Change(_Model):
    value: _Value = Field(default_factory=_Value)


class _Entry(_Model):
    changes: list[_Change] = Field(default_factory=list, max_length=100)


class _Notification(_Model):
    entry: list[_Entry] = Field(default_factory=list, max_length=100)


@dataclass(frozen=True)
class Receipt:
    provider_id: str
    status: str  # sent, delivered, read, failed
    at: dt.datetime | None
    error: str = ""


@dataclass(frozen=True)
class Reply:
    provider_id: str
    sender: str  # E.164 for phones, the address for e-mail
    text: str
    at: dt.datetime | None = None
    subject: str = ""


RECEIPT_STATUSES = ("sent", "delivered", "read", "failed")


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "body"
    return f"{where}: {err['msg']}"


def whatsapp(body: bytes) -> tuple[list[Receipt], list[Reply]]:
    """A WhatsApp Cloud API notification: its delivery receipts and the replies in it."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        raise BadPayload("the body is not JSON") from None
    if not isinstance(payload, dict):
        raise BadPayload(f"the body is a JSON {type(payload).__name__}, not an object")
    try:
        note = _Notification.model_validate(payload)
    except ValidationError as exc:
        raise BadPayload(_first_error(exc)) from None
    receipts, replies = [], []
    for entry in note.entry:
        for change in entry.changes:
            for st in change.value.statuses:
                if st.id and st.status in RECEIPT_STATUSES:
                    receipts.append(Receipt(st.id, st.status, st.timestamp,
                                            "; ".join(e.title for e in st.errors if e.title)))
            for m in change.value.messages:
                digits = m.from_.lstrip("+")
                if not m.id or not digits.isdigit():
                    continue
                text = (m.text.body if m.text else "") or (m.button.text if m.button else "")
                replies.append(Reply(m.id, "+" + digits, text, m.timestamp))
    return receipts, replies


TWILIO_STATUS = {"sent": "sent", "delivered": "delivered", "read": "read", "undelivered": "failed",
                 "failed": "failed"}


def _twilio_sid(form) -> str:
    sid = (form.get("MessageSid") or "").strip()
    if not sid:
        raise BadPayload("MessageSid is missing")
    if len(sid) > MAX_ID or not sid.isascii() or not sid.isalnum():
        raise BadPayload("MessageSid is not a Twilio id")
    return sid


def twilio_status(form) -> Receipt | None:
    """A Twilio status callback (form fields); None when it is a status Cobro does not track."""
    status = TWILIO_STATUS.get(form.get("MessageStatus", ""))
    sid = _twilio_sid(form)
    if status is None:
        return None
    code = (form.get("ErrorCode") or "").strip()
    if code and not code.isdigit():
        raise BadPayload("ErrorCode is not a number")
    return Receipt(sid, status, None, f"Twilio error {code}" if code else "")


def twilio_inbound(form) -> Reply:
    """An SMS a debtor sent (Twilio's incoming-message webhook)."""
    sid = _twilio_sid(form)
    sender = (form.get("From") or "").strip()
    digits = sender.lstrip("+")
    if not digits.isdigit() or len(digits) > 20:
        raise BadPayload("From is not a phone number")
    text = form.get("Body") or ""
    if len(text) > 10_000:
        raise BadPayload("Body is longer than an SMS conversation")
    return Reply(sid, "+" + digits, text)


_QUOTE_LEADS = ("wrote:", "escribió:", "escreveu:")


def email(raw: bytes) -> Reply:
    """A raw RFC 5322 e-mail: who wrote, what they wrote above the quoted message, and its id."""
    import hashlib

    try:
        mail = message_from_bytes(raw, policy=policy.default)
        sender = parseaddr(str(mail.get("From", "")))[1]
        subject = str(mail.get("Subject", ""))
        message_id = str(mail.get("Message-ID", "")).strip()
        part = mail.get_body(preferencelist=("plain", "html"))
        text = part.get_content() if part else ""
    except LookupError as exc:  # a charset Python does not know ("x-unknown", "utf-99")
        raise BadPayload(f"the e-mail uses an unknown charset ({exc})") from None
    except (ValueError, TypeError, AttributeError, UnicodeError, MessageError) as exc:
        raise BadPayload(f"the e-mail cannot be read ({exc.__class__.__name__})") from None
    if not isinstance(text, str):  # an attachment-like body part
        raise BadPayload("the e-mail has no text part")
    if "@" not in sender:
        raise BadPayload("the e-mail has no sender address")
    lines = []
    for line in text.splitlines():
        if line.startswith(">") or (line.strip().endswith(_QUOTE_LEADS) and lines):
            break
        lines.append(line)
    return Reply(message_id[:MAX_ID] or hashlib.sha256(raw).hexdigest(), sender, "\n".join(lines).strip(),
                 subject=subject[:250])
