"""Login rate limiting (issue #10), in the database so every process of an installation shares it.

At most ``COBRO_LOGIN_MAX_PER_ACCOUNT`` failed sign-ins per account name and ``COBRO_LOGIN_MAX_PER_IP``
per client address within ``COBRO_LOGIN_WINDOW_MINUTES``; beyond that, sign-in is refused (even with
the right password) until the window has passed. A successful sign-in clears the account's failures.
The account name need not exist: the limit says nothing about which accounts do.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from cobro.workspace.models import LoginFailure


def _window() -> dt.timedelta:
    return dt.timedelta(minutes=settings.COBRO_LOGIN_WINDOW_MINUTES)


def client_ip(request) -> str:
    # Behind a proxy, SecurityMiddleware's proxy header setting says the proxy is trusted.
    if settings.SECURE_PROXY_SSL_HEADER and request.META.get("HTTP_X_FORWARDED_FOR"):
        return request.META["HTTP_X_FORWARDED_FOR"].split(",")[-1].strip()[:45]
    return (request.META.get("REMOTE_ADDR") or "")[:45]


def blocked(username: str, ip: str, now: dt.datetime | None = None) -> bool:
    since = (now or timezone.now()) - _window()
    recent = LoginFailure.objects.filter(at__gte=since)
    return (recent.filter(username=username.strip().lower()).count() >= settings.COBRO_LOGIN_MAX_PER_ACCOUNT
            or recent.filter(ip=ip).count() >= settings.COBRO_LOGIN_MAX_PER_IP)


def record_failure(username: str, ip: str, now: dt.datetime | None = None) -> None:
    now = now or timezone.now()
    LoginFailure.objects.filter(at__lt=now - _window()).delete()
    LoginFailure.objects.create(username=username.strip().lower()[:150], ip=ip, at=now)


def clear(username: str) -> None:
    LoginFailure.objects.filter(username=username.strip().lower()).delete()


def window_minutes() -> int:
    return settings.COBRO_LOGIN_WINDOW_MINUTES
