"""The cycle's bulk path writes exactly what the ORM-object path wrote (#16), over six random books.

``data/cycle_golden.json`` was written by ``random_books.py`` with the cycle as it was before the bulk
inserts: every action, task, outbox row, late fee and its charge, timeline event, stage and daily total
of four cycle days per book. A difference in any decision or row fails here.
"""

import json

import pytest
from random_books import GOLDEN, SEEDS, build_and_run, dump


@pytest.mark.parametrize("seed", SEEDS)
def test_cycle_writes_what_the_orm_path_wrote(db, seed):
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))[str(seed)]
    got = json.loads(json.dumps(dump(build_and_run(seed)), ensure_ascii=False, sort_keys=True))
    for part in expected:
        assert got[part] == expected[part], part
