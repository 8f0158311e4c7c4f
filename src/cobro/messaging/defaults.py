"""The default templates shipped with Cobro, read from ``data/templates/<language>.yaml``."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

DATA = Path(__file__).resolve().parent / "data" / "templates"
LANGUAGES = ("es", "en", "pt-BR")
#: Which YAML text each channel uses: the long one for email and letters, the short one for phones.
BODY_FOR_CHANNEL = {"email": "email", "letter": "email", "sms": "short", "whatsapp": "short"}
#: The dunning stage a template speaks for, so the tone check allows that stage's lawful notices.
STAGE_OF = {"mediation_notice": "mediacion", "legal_review": "legal"}
#: Parts each kind of message must contain (the tone check reports what is missing).
_COLLECTION = ("amount", "due_date", "how_to_pay", "contact")
REQUIRED = {"thank_you": (), "dispute_resolved": ("amount", "how_to_pay"),
            "promise_reminder": ("amount", "due_date", "how_to_pay"),
            "instalment_reminder": ("amount", "due_date", "how_to_pay")}


def language_of(code: str) -> str:
    """A customer's language ('pt_BR', 'pt', 'es-CL', 'EN') → one of LANGUAGES (Spanish if unknown)."""
    low = (code or "es").replace("_", "-").lower()
    if low.startswith("pt"):
        return "pt-BR"
    return "en" if low.startswith("en") else "es"


def required_parts(code: str, channel: str) -> tuple[str, ...]:
    parts = REQUIRED.get(code, _COLLECTION)
    # Emails get the opt-out from the layout's footer; letters need none; texts must say it themselves.
    return parts + ("opt_out",) if channel in ("sms", "whatsapp") else parts


@cache
def load(language: str) -> dict:
    return yaml.safe_load((DATA / f"{language}.yaml").read_text(encoding="utf-8"))


def labels(language: str) -> dict:
    return load(language_of(language))["_labels"]


def codes() -> list[str]:
    return [c for c in load("es") if not c.startswith("_")]


def default_rows(language: str) -> list[dict]:
    """Every (code, channel) default for one language, as the fields of a MessageTemplate."""
    rows = []
    for code, spec in load(language).items():
        if code.startswith("_"):
            continue
        for channel, which in BODY_FOR_CHANNEL.items():
            rows.append({"code": code, "language": language, "channel": channel, "tone": spec["tone"],
                         "subject": spec["subject"] if channel in ("email", "letter") else "",
                         "body": spec[which].strip() + "\n" if which == "email" else spec[which].strip(),
                         "whatsapp_name": f"cobro_{code}" if channel == "whatsapp" else ""})
    return rows
