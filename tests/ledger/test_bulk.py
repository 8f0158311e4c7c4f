"""``ledger.bulk.insert_rows``: plain rows in, conflicts skipped, only the inserted rows back."""

import datetime as dt
import json

import pytest

from cobro.ledger.bulk import JsonOnce, insert_rows, json_ints, json_strs
from cobro.ledger.models import Organization, Task
from cobro.ledger.services import get_or_create_customer


@pytest.fixture
def org(db):
    return Organization.objects.create(slug="bulk", name="Bulk", country="CL", currency="USD",
                                       timezone="America/Santiago")


def test_inserts_skip_conflicts_and_return_only_what_they_inserted(org):
    customer, _ = get_or_create_customer(org, "K-1", "Uno")
    cols = ("customer_id", "kind", "title", "due_on", "source_key", "data")
    encode = JsonOnce()
    first = insert_rows(Task, cols, [(customer.pk, "call", "Llamar", dt.date(2026, 3, 4), "a",
                                      encode({"n": 1}, 1)),
                                     (customer.pk, "call", "Llamar", dt.date(2026, 3, 5), None, encode({"n": 1}, 1))],
                        constants={"organization_id": org.pk}, returning=("source_key", "id"))
    assert [k for k, _ in first] == ["a", None]
    # "a" exists: skipped (exactly once); a NULL source key is no conflict; "b" is new.
    again = insert_rows(Task, cols, [(customer.pk, "call", "Otra", dt.date(2026, 3, 6), "a", "{}"),
                                     (customer.pk, "reply", "Responder", dt.date(2026, 3, 6), "b", "{}"),
                                     (customer.pk, "call", "Sin clave", dt.date(2026, 3, 6), None, "{}")],
                        constants={"organization_id": org.pk}, returning=("source_key",))
    assert sorted(k or "" for (k,) in again) == ["", "b"]
    rows = {t.source_key: t for t in Task.objects.for_org(org).filter(source_key__isnull=False)}
    assert rows["a"].title == "Llamar" and rows["a"].due_on == dt.date(2026, 3, 4) and rows["a"].data == {"n": 1}
    assert rows["a"].status == Task.Status.OPEN and rows["a"].created_at is not None  # defaults filled in
    assert Task.objects.for_org(org).count() == 4
    assert insert_rows(Task, cols, [], constants={"organization_id": org.pk}) == []


def test_unknown_column_is_named():
    with pytest.raises(ValueError, match="nope"):
        insert_rows(Task, ("nope",), [(1,)])


def test_json_shortcuts_write_what_json_dumps_writes():
    for ids in ([], [7], [1, 20, 300]):
        assert json_ints(ids) == json.dumps(ids)
    for refs in ([], ["F-1"], ['comillas " y \\ barra', "ñandú\n", "日本"]):
        assert json_strs(refs) == json.dumps(refs)
