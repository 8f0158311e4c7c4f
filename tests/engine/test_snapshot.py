import datetime as dt

from cobro.engine.snapshot import Debtor, LazyMap, Snapshot


def test_lazy_map_builds_each_value_once_and_only_when_asked():
    built = []

    def make(key, raw):
        built.append(key)
        return Debtor(id=key, ref=raw, country="CL", timezone="America/Santiago")

    debtors = LazyMap({1: "K-1", 2: "K-2"}, make)
    assert len(debtors) == 2 and 2 in debtors and 3 not in debtors and sorted(debtors) == [1, 2]
    assert built == []
    assert debtors[2].ref == "K-2" and debtors.get(2) is debtors[2]
    assert debtors.get(3) is None
    assert built == [2]


def test_snapshot_defaults_are_empty():
    snap = Snapshot(organization_id=1, as_of=dt.date(2026, 3, 4), invoices=(), debtors={}, policies={},
                    default_policy="x", rules={})
    assert snap.holds == () and snap.items == () and dict(snap.contacts) == {} and snap.last_run is None
