"""Every app's catalogs are complete: the strings in its code and templates, extracted the way
`makemessages` does, each have a translation in en and pt_BR, none fuzzy. A gap anywhere fails."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

import cobro

SRC = Path(cobro.__file__).parent
APPS = sorted(p.parent.name for p in SRC.glob("*/locale"))
LANGS = ["en", "pt_BR"]

pytestmark = pytest.mark.skipif(shutil.which("xgettext") is None, reason="xgettext (gettext) is not installed")


def _gaps(po: Path) -> tuple[list[str], list[str]]:
    with po.open("rb") as f:
        catalog = read_po(f)
    untranslated = [m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id and (
        not m.string or (isinstance(m.string, tuple) and not all(m.string)))]
    fuzzy = [m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id and m.fuzzy]
    return untranslated, fuzzy


@pytest.mark.parametrize("app", APPS)
def test_every_string_of_the_app_is_translated(app, tmp_path):
    from django.core.management import call_command

    copy = tmp_path / app
    shutil.copytree(SRC / app, copy, ignore=shutil.ignore_patterns("*.mo", "__pycache__", "static"))
    cwd = os.getcwd()
    os.chdir(copy)
    try:
        call_command("makemessages", locale=LANGS, verbosity=0, no_obsolete=True)
    finally:
        os.chdir(cwd)
    problems = {}
    for lang in LANGS:
        untranslated, fuzzy = _gaps(copy / "locale" / lang / "LC_MESSAGES" / "django.po")
        if untranslated or fuzzy:
            problems[lang] = {"untranslated": untranslated, "fuzzy": fuzzy}
    assert not problems, f"{app}: run makemessages and translate: {problems}"
