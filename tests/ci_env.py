"""Whether the tests run under CI, where a missing service fails the run instead of skipping tests."""

from __future__ import annotations

import os

#: Values of CI that mean "not CI" (any other non-empty value means CI: "true", "1", "yes", "github"...).
NOT_CI = frozenset({"", "0", "false"})


def in_ci(environ=None) -> bool:
    """True when the environment variable CI is set to anything but "", "0" or "false" (any case)."""
    value = (os.environ if environ is None else environ).get("CI", "")
    return value.strip().lower() not in NOT_CI
