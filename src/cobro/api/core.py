"""The API instance: key authentication, a rate limit per key, problem details for every error."""

from __future__ import annotations

import functools
import json
import logging
import re
import time

from django.conf import settings
from django.core.cache import cache
from django.db import DataError
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer

from cobro.api.keys import authenticate
from cobro.api.models import ApiKey
from cobro.api.problems import CONTENT_TYPE, ApiProblem, problem_response, validation_errors

log = logging.getLogger("cobro.api")


class RateLimited(Exception):
    def __init__(self, retry_after: int):
        self.retry_after = retry_after


def rate_limit() -> tuple[int, int]:
    """(requests, seconds) from COBRO_API_RATE_LIMIT, e.g. "600/60"."""
    count, _, window = settings.COBRO_API_RATE_LIMIT.partition("/")
    return int(count), int(window or 60)


def check_rate(key: ApiKey, now: float | None = None) -> None:
    """A fixed window per key in the cache (shared by every process when the cache is Redis)."""
    limit, window = rate_limit()
    now = time.time() if now is None else now
    slot = int(now // window)
    name = f"cobro:api:rate:{key.pk}:{slot}"
    if cache.add(name, 1, timeout=window + 1):
        used = 1
    else:
        try:
            used = cache.incr(name)
        except ValueError:  # expired between add and incr
            cache.add(name, 1, timeout=window + 1)
            used = 1
    if used > limit:
        raise RateLimited(retry_after=max(1, int((slot + 1) * window - now)))


_ROUTE_PARAM = re.compile(r"<(?:\w+:)?(\w+)>")


@functools.cache
def _query_parameters() -> dict[tuple[str, str], frozenset[str]]:
    """The query parameters each operation documents, from the published schema."""
    out = {}
    for path, item in api.get_openapi_schema()["paths"].items():
        for method, operation in item.items():
            out[(method.upper(), path)] = frozenset(
                p["name"] for p in operation.get("parameters", []) if p.get("in") == "query")
    return out


def check_query(request) -> None:
    """An unknown or repeated query parameter is an error: a typo in a filter must not list everything."""
    match = getattr(request, "resolver_match", None)
    if match is None or not request.GET:
        return
    path = "/" + _ROUTE_PARAM.sub(r"{\1}", match.route)
    allowed = _query_parameters().get((request.method, path))
    if allowed is None:
        return
    errors = [{"field": name, "message": "unknown parameter" if name not in allowed else "give it once"}
              for name in request.GET if name not in allowed or len(request.GET.getlist(name)) > 1]
    errors += [{"field": name, "message": "control characters are not allowed"}
               for name, value in request.GET.items() if any(ord(c) < 32 or ord(c) == 127 for c in value)]
    if errors:
        raise ApiProblem(422, "the query has unknown or repeated parameters", errors=errors)


def _unstorable_text(value: str) -> str | None:
    """Why a string cannot be stored as text (PostgreSQL refuses NUL and lone surrogates), or None."""
    if any((ord(c) < 32 and c not in "\t\n\r") or ord(c) == 127 for c in value):
        return "control characters are not allowed"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "not valid Unicode text (a lone surrogate)"
    return None


def _walk_strings(value, where: str):
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _walk_strings(key, where)
            yield from _walk_strings(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk_strings(item, f"{where}[{i}]")


def check_body(request) -> None:
    """Every text in a JSON body must be storable: refused here, by field, before any write."""
    if request.method not in ("POST", "PUT", "PATCH") or not request.body:
        return
    if "json" not in request.content_type:
        return
    try:
        body = json.loads(request.body)
    except ValueError:
        return  # the schema's own validation names the error
    errors = [{"field": where or "body", "message": why} for where, text in _walk_strings(body, "")
              if (why := _unstorable_text(text))]
    if errors:
        raise ApiProblem(422, "the body holds text that cannot be stored", errors=errors[:20])


class KeyAuth(HttpBearer):
    openapi_scheme = "bearer"

    def authenticate(self, request, token):
        key = authenticate(token)
        if key is None:
            return None
        check_rate(key)
        request.api_key = key
        request.api_org = key.organization
        check_query(request)
        check_body(request)
        return key


class CobroAPI(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        """Error answers are documented as ``application/problem+json``, which is what they are."""
        schema = super().get_openapi_schema(*args, **kwargs)
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                for code, answer in operation.get("responses", {}).items():
                    content = answer.get("content", {})
                    if int(code) >= 400 and "application/json" in content:
                        answer["content"] = {CONTENT_TYPE: content["application/json"]}
        return schema


api = CobroAPI(
    title="Cobro API",
    version="1",
    description=("Customers, invoices, payments and agreements of one organization, for the ERP beside "
                 "Cobro. Authenticate with `Authorization: Bearer <key>` (`cobro apikey create`). "
                 "See docs/api.md."),
    auth=KeyAuth(),
    urls_namespace="api-1",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


@api.exception_handler(ValidationError)
def _validation(request, exc):
    return problem_response(422, "the request is not valid", validation_errors(exc.errors))


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return problem_response(401, "send a valid API key as 'Authorization: Bearer <key>'",
                            headers={"WWW-Authenticate": "Bearer"})


@api.exception_handler(RateLimited)
def _rate_limited(request, exc):
    return problem_response(429, "too many requests for this key; try again later",
                            headers={"Retry-After": str(exc.retry_after)})


@api.exception_handler(Http404)
def _not_found(request, exc):
    return problem_response(404, str(exc) or "not found")


@api.exception_handler(HttpError)
def _http_error(request, exc):
    return problem_response(exc.status_code, str(exc))


@api.exception_handler(ApiProblem)
def _problem(request, exc):
    return problem_response(exc.status, exc.detail, exc.errors, exc.headers)


@api.exception_handler(DataError)
def _unstorable(request, exc):
    """A value the database refuses (a NUL byte, a time it cannot hold): the client's input, not ours."""
    log.warning("API refused unstorable input on %s %s: %s", request.method, request.path, exc)
    return problem_response(422, "the request holds a value that cannot be stored (for example a NUL "
                                 "character or a time outside what the database holds)")


@api.exception_handler(Exception)
def _server_error(request, exc):
    log.exception("API error on %s %s", request.method, request.path)
    return problem_response(500, "an unexpected error; it was logged")
