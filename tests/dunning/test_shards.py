"""The daily cycle split into shards by customer (#16, ``dunning.shards``).

The union of the shards writes exactly what one process writes: the random books of the cycle's
differential test, run as shards, must reproduce ``data/cycle_golden.json`` (written by one process)
row for row, on SQLite and on PostgreSQL; and a shard whose worker died midway is redone by another
worker without writing anything twice.
"""

import datetime as dt
import json

import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st
from random_books import DAYS, GOLDEN, START, build, dump

from cobro.dunning import shards
from cobro.dunning.models import Action, CycleRun, CycleShard
from cobro.dunning.tasks import due_cycles


@given(st.sets(st.integers(min_value=1, max_value=10**12), max_size=200), st.integers(min_value=1, max_value=16))
def test_every_customer_is_in_exactly_one_shard(ids, count):
    parts = [shards.Shard(i, count) for i in range(count)]
    for cid in ids:
        assert sum(cid in part for part in parts) == 1
    assert parts[0].lo == 0 and parts[-1].hi == shards.HASH_SPACE
    assert all(a.hi == b.lo for a, b in zip(parts, parts[1:], strict=False))


def test_the_hash_is_stable_across_processes():
    # sha256, not Python's salted hash(): these values are the same on every machine and run.
    assert shards.customer_hash(1) == 0x6B86B273FF34FCE1
    assert 1 in shards.Shard(0, 2) and 2 in shards.Shard(1, 2)


def _book(seed):
    with time_machine.travel(dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC), tick=False):
        return build(seed)


def _days():
    for day in DAYS:
        as_of = START + dt.timedelta(days=day)
        with time_machine.travel(dt.datetime.combine(as_of, dt.time(8), tzinfo=dt.UTC), tick=False):
            yield as_of


def _same_as_one_process(org, seed):
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))[str(seed)]
    got = json.loads(json.dumps(dump(org), ensure_ascii=False, sort_keys=True))
    for part in expected:
        assert got[part] == expected[part], part
    keys = list(Action.objects.for_org(org).values_list("key", flat=True))
    assert len(keys) == len(set(keys)) and keys


@pytest.mark.parametrize(("seed", "count"), [(1, 1), (2, 3), (3, 4), (4, 7), (5, 2), (6, 5)])
def test_the_union_of_the_shards_is_the_single_process_run(db, seed, count):
    org = _book(seed)
    for as_of in _days():
        rows = shards.begin(org, as_of, count)  # the test settings' immediate backend runs each task now
        assert len(rows) == count
        assert not CycleShard.objects.for_org(org).filter(as_of=as_of, finished_at__isnull=True).exists()
        run = CycleRun.objects.for_org(org).get(as_of=as_of)
        assert run.finished_at is not None and run.fingerprint
        assert run.created == Action.objects.for_org(org).filter(as_of=as_of).count()
    _same_as_one_process(org, seed)


def test_a_shard_left_by_a_dead_worker_is_redone_by_another(db, settings):
    settings.COBRO_SHARD_LEASE = 60
    seed, count = 3, 3
    org = _book(seed)
    for n, as_of in enumerate(_days()):
        if n != 1:
            shards.begin(org, as_of, count)
            continue
        with time_machine.travel(dt.datetime.combine(as_of, dt.time(8), tzinfo=dt.UTC), tick=False):
            immediate = settings.TASKS
            settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
            shards.begin(org, as_of, count)  # enqueued, nothing run yet
            settings.TASKS = immediate
            # A worker takes shard 1 and dies after its first batch of two customers.

            def die(done):
                raise KeyboardInterrupt("killed")

            with pytest.raises(KeyboardInterrupt):
                shards.run_shard(org, as_of, 1, count, worker="host-a:1", batch_customers=2, on_batch=die)
            written = Action.objects.for_org(org).filter(as_of=as_of).count()
            assert written > 0
            # The other shards run; shard 1 is held: another worker may not take it within the lease.
            assert shards.run_shard(org, as_of, 0, count, worker="host-b:2") is not None
            assert shards.run_shard(org, as_of, 2, count, worker="host-b:2") is not None
            assert shards.run_shard(org, as_of, 1, count, worker="host-b:2") is None
            assert shards.requeue_stale() == []
            assert CycleRun.objects.for_org(org).get(as_of=as_of).finished_at is None
            assert (org.pk, as_of) not in due_cycles(dt.datetime.combine(as_of, dt.time(20), tzinfo=dt.UTC))
        with time_machine.travel(dt.datetime.combine(as_of, dt.time(8, 2), tzinfo=dt.UTC), tick=False):
            # Past the lease: a worker's pass puts it back on the queue and it is run to the end.
            assert shards.requeue_stale() == [(org.pk, as_of, 1, count)]
            row = CycleShard.objects.for_org(org).get(as_of=as_of, index=1)
            assert row.finished_at is not None and row.attempts == 2
            assert CycleRun.objects.for_org(org).get(as_of=as_of).finished_at is not None
    _same_as_one_process(org, seed)


def test_cycle_command_enqueues_shards_and_keeps_its_old_form(db, capsys):
    from django.core.management import CommandError, call_command

    org = _book(2)
    as_of = START + dt.timedelta(days=DAYS[0])
    with time_machine.travel(dt.datetime.combine(as_of, dt.time(8), tzinfo=dt.UTC), tick=False):
        call_command("cycle", org=org.slug, as_of=as_of.isoformat(), shards=4)
        assert "enqueued 4 shards" in capsys.readouterr().out
        assert CycleShard.objects.for_org(org).filter(as_of=as_of, finished_at__isnull=False).count() == 4
        written = Action.objects.for_org(org).count()
        assert written
        # Again, split or whole: every key is there already, nothing is written twice.
        call_command("cycle", org=org.slug, as_of=as_of.isoformat(), shards=3)
        capsys.readouterr()
        call_command("cycle", org=org.slug, as_of=as_of.isoformat(), json=True)
        assert capsys.readouterr().out == ""
        assert Action.objects.for_org(org).count() == written
        with pytest.raises(CommandError):
            call_command("cycle", org=org.slug, as_of=as_of.isoformat(), shards=2, dry_run=True)
