"""Logging helpers referenced from ``settings.LOGGING``."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied


class QuietForbidden(logging.Filter):
    """A refused request is an answer, not a fault: keep Django's one-line "Forbidden" warning and drop
    the traceback it attaches to every ``PermissionDenied``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], PermissionDenied):
            record.exc_info = None
            record.exc_text = None
        return True
