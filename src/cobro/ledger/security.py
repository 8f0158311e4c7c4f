"""Security headers for every answer (issue #10): a Content-Security-Policy without inline script.

Pages load their JavaScript from static files only (``workspace/static/workspace/*.js``, the vendored
htmx, SortableJS and Chart.js); ``<script type="application/json">`` data blocks are not scripts and are
allowed. Inline ``style`` attributes stay allowed (the e-mail previews are HTML with inline styles).
``COBRO_CSP`` replaces the whole policy when an installation needs another one.
"""

from __future__ import annotations

from django.conf import settings

DEFAULT_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                  "font-src 'self'; connect-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'self'; "
                  "frame-ancestors 'none'")


def policy() -> str:
    return getattr(settings, "COBRO_CSP", "") or DEFAULT_POLICY


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy()
        return response
