"""``cobro tone check [--lang es|en|pt] PATH|-``: one message per line in, one JSON object per line out."""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from cobro.messaging import tone


class Command(BaseCommand):
    help = "Check the tone of messages: one message per line, one JSON result per line."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="sub", required=True)
        check = sub.add_parser("check", help="check messages read from a file or standard input (-)")
        check.add_argument("path", help="a text file with one message per line, or - for standard input")
        check.add_argument("--lang", default="es", choices=tone.LANGS)
        check.add_argument("--stage", default=None, help="the dunning stage (allows lawful notices of it)")

    def handle(self, *args, sub, path, lang, stage, **options):
        if path == "-":
            lines = sys.stdin.read().splitlines()
        else:
            try:
                with open(path, encoding="utf-8") as fh:
                    lines = fh.read().splitlines()
            except OSError as exc:
                raise CommandError(f"cannot read {path}: {exc.strerror}") from None
        out = self.stdout
        for line in lines:
            if not line.strip():
                continue
            result = tone.check(line, lang, stage=stage)
            out.write(json.dumps(result.as_dict(), ensure_ascii=False))
