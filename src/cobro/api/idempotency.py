"""``Idempotency-Key`` on the API's POSTs: the same key and body get the first answer again, the same
key with another body is refused (422). Answers are kept per API key; server errors are not kept, so a
retry after one runs again."""

from __future__ import annotations

import hashlib

from django.db import IntegrityError, transaction
from django.http import HttpResponse

from cobro.api.keys import authenticate
from cobro.api.models import IdempotentAnswer
from cobro.api.problems import problem_response

PREFIX = "/api/v1/"
HEADER = "Idempotency-Key"


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method != "POST" or not request.path.startswith(PREFIX):
            return self.get_response(request)
        idem = request.headers.get(HEADER)
        if idem is None:
            return self.get_response(request)
        if not 1 <= len(idem) <= 200 or not idem.isprintable():
            return problem_response(422, "Idempotency-Key must be 1 to 200 printable characters",
                                    [{"field": "header.Idempotency-Key", "message": "1 to 200 printable characters"}])
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        key = authenticate(token.strip()) if scheme.lower() == "bearer" else None
        if key is None:
            return self.get_response(request)  # the API answers 401
        fingerprint = hashlib.sha256(b"%s %s\n%s" % (request.method.encode(), request.get_full_path().encode(),
                                                    request.body)).hexdigest()
        kept = IdempotentAnswer.objects.filter(organization_id=key.organization_id, api_key=key, key=idem).first()
        if kept is not None:
            if kept.fingerprint != fingerprint:
                return problem_response(422, "this Idempotency-Key was used with another request",
                                        [{"field": "header.Idempotency-Key",
                                          "message": "already used with another body or path"}])
            replay = HttpResponse(bytes(kept.body), status=kept.status, content_type=kept.content_type)
            replay["Idempotent-Replayed"] = "true"
            return replay
        response = self.get_response(request)
        if response.status_code < 500 and not getattr(response, "streaming", False):
            try:
                with transaction.atomic():
                    IdempotentAnswer.objects.create(
                        organization_id=key.organization_id, api_key=key, key=idem, fingerprint=fingerprint,
                        status=response.status_code, content_type=response.get("Content-Type", ""),
                        body=response.content)
            except IntegrityError:
                pass  # a concurrent request with the same key stored its answer first
        return response
