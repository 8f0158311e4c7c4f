"""Many rows into one table at once, without model instances: the daily cycle's hot path (#16).

``insert_rows`` writes plain tuples with one prepared statement per chunk and skips every row that
would break a unique constraint (``ON CONFLICT DO NOTHING``), so a repeated or concurrent write of
the same keys adds nothing; with ``returning`` it gives back the rows it actually inserted, which
is how the cycle knows which of its actions are its own to follow up (outbox, tasks, fees).

- SQLite runs in-process: ``executemany`` over one statement, or multi-row ``VALUES`` when the
  inserted rows are wanted back (``RETURNING`` needs SQLite 3.35).
- PostgreSQL: one statement per 10,000 rows, each column sent as one array and ``unnest``-ed, so
  the server parses one statement and the driver adapts arrays in C instead of a round trip per row.

JSON columns take text already encoded: callers encode each distinct payload once (``JsonOnce``).
Columns neither given nor constant get the field's default (``auto_now``/``auto_now_add``: now).
No model signal fires and no ``save()`` runs: only for tables whose writers need neither.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Iterable, Sequence
from json.encoder import encode_basestring_ascii

from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

PG_CHUNK = 10_000


class JsonOnce:
    """``json.dumps`` of each distinct payload once: the cycle writes the same few lists and reasons
    thousands of times. ``key`` is a hashable stand-in for an unhashable value (a tuple for a list)."""

    def __init__(self):
        self._done: dict = {}

    def __call__(self, value, key: Hashable | None = None) -> str:
        k = key if key is not None else value
        text = self._done.get(k)
        if text is None:
            text = self._done[k] = json.dumps(value)
        return text


def json_ints(values) -> str:
    """``json.dumps`` of a list of ints, without the encoder's machinery (same text)."""
    return "[" + ", ".join(map(str, values)) + "]"


def json_strs(values) -> str:
    """``json.dumps`` of a list of strings, each escaped by the encoder's own C function (same text)."""
    return "[" + ", ".join(map(encode_basestring_ascii, values)) + "]"


def insert_rows(model, columns: Sequence[str], rows: Iterable[Sequence], *, constants: dict | None = None,
                returning: Sequence[str] = (), using: str = DEFAULT_DB_ALIAS) -> list[tuple]:
    """Insert ``rows`` (tuples in the order of ``columns``, field attnames) into ``model``'s table.

    ``constants``: attname → value shared by every row (the organization, a timestamp). Rows that
    collide with an existing row on any unique constraint are skipped. Returns the ``returning``
    columns of the inserted rows (empty list when ``returning`` is empty).
    """
    rows = rows if isinstance(rows, list) else list(rows)
    if not rows:
        return []
    conn = connections[using]
    constants = dict(constants or {})
    fields = {f.attname: f for f in model._meta.concrete_fields}
    unknown = [c for c in (*columns, *constants, *returning) if c not in fields]
    if unknown:
        raise ValueError(f"{model.__name__} has no columns {unknown}")
    now = timezone.now()
    for name, f in fields.items():
        if name in constants or name in columns or f.primary_key:
            continue
        constants[name] = now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) \
            else f.get_default()
    qn = conn.ops.quote_name
    names = [*columns, *constants]
    head = (f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(fields[n].column) for n in names)}) ")
    tail = " ON CONFLICT DO NOTHING"
    if returning:
        tail += f" RETURNING {', '.join(qn(fields[n].column) for n in returning)}"
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            return _unnest(cursor, conn, fields, columns, constants, rows, head, tail, bool(returning))
        return _sqlite(cursor, conn, fields, columns, constants, rows, head, tail, bool(returning))


def _sqlite_adapter(conn, field):
    """What SQLite needs instead of a Python value of this field (None: the value as it is).

    Dates and datetimes go as Django writes them (aware datetimes as naive UTC text), each distinct
    value adapted once; many rows share the same scheduled time."""
    kind = field.get_internal_type()
    ops = conn.ops
    if kind == "DateTimeField":
        fn = ops.adapt_datetimefield_value
    elif kind == "DateField":
        fn = ops.adapt_datefield_value
    elif kind == "DecimalField":
        return lambda v: None if v is None else ops.adapt_decimalfield_value(v, field.max_digits,
                                                                           field.decimal_places)
    else:
        return None
    seen: dict = {}

    def adapt(value):
        if value is None:
            return None
        out = seen.get(value)
        if out is None:
            out = seen[value] = fn(value)
        return out
    return adapt


def _sqlite(cursor, conn, fields, columns, constants, rows, head, tail, want) -> list[tuple]:
    adapters = [(i, a) for i, c in enumerate(columns) if (a := _sqlite_adapter(conn, fields[c])) is not None]
    fixed = tuple(fields[n].get_db_prep_save(v, conn) for n, v in constants.items())
    if adapters:
        def params(row):
            row = list(row)
            for i, adapt in adapters:
                row[i] = adapt(row[i])
            return (*row, *fixed)
    else:
        def params(row):
            return (*row, *fixed)
    width = len(columns) + len(fixed)
    one = "(" + ", ".join(["%s"] * width) + ")"
    if not want:
        cursor.executemany(head + "VALUES " + one + tail, [params(r) for r in rows])
        return []
    limit = _sqlite_variable_limit(conn)
    per = max(1, limit // width)
    out: list[tuple] = []
    for start in range(0, len(rows), per):
        chunk = rows[start:start + per]
        flat = [v for r in chunk for v in params(r)]
        cursor.execute(head + "VALUES " + ", ".join([one] * len(chunk)) + tail, flat)
        out.extend(tuple(r) for r in cursor.fetchall())
    return out


def _sqlite_variable_limit(conn) -> int:
    import sqlite3

    try:
        return conn.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    except (AttributeError, sqlite3.Error):  # Python < 3.11 or an unusual build
        return 999


def _unnest(cursor, conn, fields, columns, constants, rows, head, tail, want) -> list[tuple]:
    selects, scalars = [], []
    for k, name in enumerate(columns):
        f = fields[name]
        if f.get_internal_type() == "JSONField":
            selects.append(f"u.v{k}::jsonb")
        else:
            selects.append(f"u.v{k}")
    for name, value in constants.items():
        f = fields[name]
        selects.append(f"%s::{_pg_type(conn, f)}")
        scalars.append(f.get_db_prep_save(value, conn))
    types = ["text[]" if fields[c].get_internal_type() == "JSONField" else _pg_type(conn, fields[c]) + "[]"
             for c in columns]
    sql = (f"{head}SELECT {', '.join(selects)} FROM unnest({', '.join(f'%s::{t}' for t in types)}) "
           f"AS u({', '.join(f'v{k}' for k in range(len(columns)))}){tail}")
    out: list[tuple] = []
    for start in range(0, len(rows), PG_CHUNK):
        chunk = rows[start:start + PG_CHUNK]
        arrays = [list(col) for col in zip(*chunk, strict=True)]
        cursor.execute(sql, scalars + arrays)
        if want:
            out.extend(tuple(r) for r in cursor.fetchall())
    return out


def _pg_type(conn, field) -> str:
    """The column's type without its modifiers' checks (``PositiveIntegerField``: integer)."""
    kind = field.get_internal_type()
    if kind in ("ForeignKey", "OneToOneField"):
        return field.target_field.rel_db_type(conn)
    return field.db_type(conn)
