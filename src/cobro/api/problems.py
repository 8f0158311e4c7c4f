"""Errors as RFC 9457 problem details (``application/problem+json``), naming the field that is wrong."""

from __future__ import annotations

import json

from django.http import HttpResponse
from ninja import Schema

CONTENT_TYPE = "application/problem+json"

TITLES = {400: "Bad request", 401: "Not authenticated", 403: "Forbidden", 404: "Not found",
          405: "Method not allowed", 409: "Conflict", 413: "Payload too large",
          422: "Unprocessable content", 429: "Too many requests", 500: "Server error"}


class FieldError(Schema):
    field: str
    message: str


class Problem(Schema):
    type: str = "about:blank"
    title: str
    status: int
    detail: str = ""
    errors: list[FieldError] = []


class ApiProblem(Exception):
    """Raised anywhere under /api/: becomes a problem-details answer."""

    def __init__(self, status: int, detail: str = "", *, errors: list[dict] | None = None,
                 headers: dict | None = None):
        super().__init__(detail)
        self.status, self.detail, self.errors, self.headers = status, detail, errors or [], headers or {}


def problem_response(status: int, detail: str = "", errors: list[dict] | None = None,
                     headers: dict | None = None) -> HttpResponse:
    body = {"type": "about:blank", "title": TITLES.get(status, "Error"), "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    response = HttpResponse(json.dumps(body), status=status, content_type=CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def field_name(loc) -> str:
    """``["body", "payload", "amount"]`` → ``"amount"``; query and path parameters keep their place."""
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[1:]
        if len(parts) > 1 and parts[0] == "payload":
            parts = parts[1:]
        elif len(parts) == 1 and parts[0] == "payload":
            parts = ["body"]
    elif parts and parts[0] in ("query", "path", "header"):
        parts = parts[1:] or parts
    return ".".join(parts) or "body"


def validation_errors(errors) -> list[dict]:
    out = []
    for e in errors:
        message = e.get("msg", "invalid")
        if message.startswith("Value error, "):
            message = message[len("Value error, "):]
        out.append({"field": field_name(e.get("loc", ())), "message": message})
    return out


#: Added to every operation's documented answers, so clients (and schemathesis) know them.
ERRORS = {400: Problem, 401: Problem, 403: Problem, 404: Problem, 422: Problem, 429: Problem}
