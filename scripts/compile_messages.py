"""Compile the translation catalogs (every app's locale/*/LC_MESSAGES/django.po) into .mo files.

The .mo files are build products, not sources: they are not in git (two branches that both add
strings would otherwise conflict on a binary file). Babel, already a dependency, compiles them, so a
fresh machine needs no GNU gettext. Usage: python scripts/compile_messages.py [PO_FILE...]
(all catalogs when none is given). Fuzzy entries are left out, as msgfmt does.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent / "src" / "cobro"


def compile_catalog(po_path: Path) -> Path:
    with po_path.open("rb") as source:
        catalog = read_po(source, locale=po_path.parent.parent.name)
    mo_path = po_path.with_suffix(".mo")
    with mo_path.open("wb") as target:
        write_mo(target, catalog, use_fuzzy=False)
    return mo_path


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or sorted(ROOT.glob("*/locale/*/LC_MESSAGES/django.po"))
    for path in paths:
        compile_catalog(path)
    print(f"compiled {len(paths)} catalog(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
