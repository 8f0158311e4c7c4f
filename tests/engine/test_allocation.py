import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from cobro.engine.allocation import OpenItem, allocate

D = dt.date(2026, 1, 1)

items_st = st.lists(
    st.builds(OpenItem, invoice_id=st.integers(1, 10_000), due_date=st.dates(D, D + dt.timedelta(days=400)),
              open_amount=st.integers(1, 10**9)),
    max_size=20, unique_by=lambda i: i.invoice_id)


@given(st.integers(0, 10**10), items_st)
def test_allocation_never_exceeds_and_adds_up(amount, items):
    applied, rest = allocate(amount, items)
    by_id = {i.invoice_id: i for i in items}
    assert rest >= 0
    assert sum(a for _, a in applied) + rest == amount
    assert all(0 < a <= by_id[i].open_amount for i, a in applied)
    assert len({i for i, _ in applied}) == len(applied)
    # Something is left over only when every open invoice was paid in full.
    if rest:
        assert sum(a for _, a in applied) == sum(i.open_amount for i in items)


@given(st.integers(1, 10**10), items_st)
def test_oldest_due_is_paid_first(amount, items):
    applied, _ = allocate(amount, items)
    order = sorted(items, key=lambda i: (i.due_date, i.ref, i.invoice_id))
    assert [i for i, _ in applied] == [i.invoice_id for i in order[:len(applied)]]
    # Every invoice before the last one touched is paid in full.
    by_id = {i.invoice_id: i for i in items}
    assert all(a == by_id[i].open_amount for i, a in applied[:-1])


@given(st.integers(0, 10**10), items_st.filter(bool), st.data())
def test_explicit_invoice_only(amount, items, data):
    target = data.draw(st.sampled_from(items))
    applied, rest = allocate(amount, items, explicit=target.invoice_id)
    assert all(i == target.invoice_id for i, _ in applied)
    assert rest == amount - min(amount, target.open_amount)
