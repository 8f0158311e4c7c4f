"""The ``cobro`` command: every management command of Cobro and Django under one entry point."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cobro.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv if argv is None else argv)
    argv[0] = "cobro"
    if len(argv) == 1 or argv[1] in {"-h", "--help"}:
        argv[1:] = ["help"]
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
