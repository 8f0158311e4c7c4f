"""The workspace's catalogs are complete, and the pages speak the reader's language."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

import cobro.workspace

LOCALE = Path(cobro.workspace.__file__).parent / "locale"


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_catalog_is_complete_and_compiled(lang):
    po = LOCALE / lang / "LC_MESSAGES" / "django.po"
    with po.open("rb") as f:
        catalog = read_po(f)
    untranslated = [m.id for m in catalog if m.id and (not m.string or (isinstance(m.string, tuple)
                                                                        and not all(m.string)))]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not untranslated and not fuzzy, (untranslated, fuzzy)
    mo = po.with_suffix(".mo")
    assert mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime - 1, "run make messages"


@pytest.mark.parametrize(("lang", "words"), [("en", ["Today", "Board", "Suggested script"]),
                                             ("pt-br", ["Hoje", "Quadro", "Roteiro sugerido"]),
                                             ("es", ["Hoy", "Tablero", "Guion sugerido"])])
def test_today_in_each_language(login, book, lang, words):
    client = login(book.agent)
    client.post("/language/", {"language": lang})
    body = client.get("/today/").content.decode()
    for word in words:
        assert word in body
