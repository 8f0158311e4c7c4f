"""Segments choose the policy: each condition, priority order, and every customer gets one policy."""

from hypothesis import given, settings
from hypothesis import strategies as st

from cobro.engine.segments import BANDS, Facts, Segment, choose, count, first_match, matches, ordered, parse_tags


def test_each_condition_on_its_own():
    f = Facts(country="CL", tags=frozenset({"pyme"}), band="high", open_amounts={"CLP": 150_000},
              days_since_first=40)
    assert matches(Segment(1, "todos", "p"), f)
    assert matches(Segment(1, "alto", "p", bands=frozenset({"high"})), f)
    assert not matches(Segment(1, "bajo", "p", bands=frozenset({"low"})), f)
    assert matches(Segment(1, "cl", "p", countries=frozenset({"CL", "PE"})), f)
    assert not matches(Segment(1, "mx", "p", countries=frozenset({"MX"})), f)
    assert matches(Segment(1, "t", "p", tags=frozenset({"pyme", "vip"})), f)
    assert not matches(Segment(1, "t", "p", tags=frozenset({"vip"})), f)
    # Amounts: at least the minimum, less than the maximum, in exact minor units of that currency.
    assert matches(Segment(1, "a", "p", currency="CLP", amount_min=150_000), f)
    assert not matches(Segment(1, "a", "p", currency="CLP", amount_min=150_001), f)
    assert not matches(Segment(1, "a", "p", currency="CLP", amount_max=150_000), f)
    assert matches(Segment(1, "a", "p", currency="CLP", amount_max=150_001), f)
    assert not matches(Segment(1, "a", "p", currency="USD", amount_max=10**12), f)  # owes in CLP only
    # Days since the first invoice, both ends included.
    assert matches(Segment(1, "d", "p", days_min=40, days_max=40), f)
    assert not matches(Segment(1, "d", "p", days_min=41), f)
    assert not matches(Segment(1, "d", "p", days_max=39), f)


def test_unknowns_do_not_meet_a_condition_about_them():
    nothing = Facts(country="CL")
    assert not matches(Segment(1, "b", "p", bands=frozenset({"low"})), nothing)
    assert not matches(Segment(1, "d", "p", days_min=0), nothing)
    # Someone who owes nothing owes 0 in every currency.
    assert matches(Segment(1, "a", "p", currency="USD", amount_max=100), nothing)
    assert not matches(Segment(1, "a", "p", currency="USD", amount_min=1), nothing)


def test_tags_come_from_the_segment_field():
    assert parse_tags(" Pyme, exportador ,,") == frozenset({"pyme", "exportador"})
    assert parse_tags("") == frozenset()


def test_customer_then_segment_then_tag_then_default():
    rules = ordered([Segment(2, "altos", "firme", priority=1, bands=frozenset({"high"})),
                     Segment(1, "chile", "suave", priority=2, countries=frozenset({"CL"}))])
    high_cl = Facts(country="CL", band="high", tags=frozenset({"vip"}))
    own = choose(rules, high_cl, "std", assigned="propia")
    assert (own.policy, own.source, own.segment) == ("propia", "customer", None)
    chosen = choose(rules, high_cl, "std")
    assert (chosen.policy, chosen.source, chosen.segment.name) == ("firme", "segment", "altos")
    low_mx = Facts(country="MX", band="low", tags=frozenset({"vip"}))
    assert choose(rules, low_mx, "std", by_tag={"vip": "vip"}).source == "tag"
    assert choose(rules, low_mx, "std").policy == "std"
    # A segment or assignment pointing at a policy that does not exist is passed over.
    assert choose(rules, high_cl, "std", assigned="borrada", known={"std", "suave"}).policy == "suave"


def test_counts_each_customer_once_and_own_policies_apart():
    rules = [Segment(1, "altos", "firme", priority=0, bands=frozenset({"high"})),
             Segment(2, "todos", "suave", priority=1)]
    people = [(Facts(band="high"), False), (Facts(band="high"), True), (Facts(band="low"), False),
              (Facts(), False)]
    held, own, rest = count(rules, people)
    assert (held[1], held[2], own, rest) == (1, 2, 1, 0)


bands = st.one_of(st.none(), st.sampled_from(BANDS))
countries = st.sampled_from(["CL", "MX", "CO", "PE"])
tags = st.frozensets(st.sampled_from(["pyme", "vip", "retail"]), max_size=2)
facts = st.builds(Facts, country=countries, tags=tags, band=bands,
                  open_amounts=st.dictionaries(st.sampled_from(["CLP", "USD"]), st.integers(0, 10**7), max_size=2),
                  days_since_first=st.one_of(st.none(), st.integers(0, 2000)))


@st.composite
def segment_lists(draw):
    n = draw(st.integers(0, 6))
    out = []
    for i in range(n):
        lo = draw(st.one_of(st.none(), st.integers(0, 10**7)))
        out.append(Segment(
            id=i + 1, name=f"s{i}", policy=draw(st.sampled_from(["a", "b", "c"])),
            priority=draw(st.integers(0, 5)), bands=draw(st.frozensets(st.sampled_from(BANDS), max_size=2)),
            currency=draw(st.sampled_from(["CLP", "USD"])), amount_min=lo,
            amount_max=draw(st.one_of(st.none(), st.integers(0, 10**7))),
            countries=draw(st.frozensets(countries, max_size=2)), tags=draw(st.frozensets(
                st.sampled_from(["pyme", "vip", "retail"]), max_size=2)),
            days_min=draw(st.one_of(st.none(), st.integers(0, 1000))),
            days_max=draw(st.one_of(st.none(), st.integers(0, 2000)))))
    return out


@settings(max_examples=300, deadline=None)
@given(segment_lists(), facts, st.one_of(st.none(), st.sampled_from(["a", "b", "own"])))
def test_the_first_holding_segment_by_priority_wins_and_every_customer_gets_one_policy(segs, f, assigned):
    rules = ordered(segs)
    chosen = choose(rules, f, "default", assigned=assigned)
    assert chosen.policy in {"a", "b", "c", "own", "default"}
    if assigned:
        assert (chosen.policy, chosen.source) == (assigned, "customer")  # the customer's own policy wins
        return
    holding = [s for s in segs if matches(s, f)]
    if not holding:
        assert (chosen.policy, chosen.source) == ("default", "default")
        return
    best = min(holding, key=lambda s: (s.priority, s.id))
    assert chosen.segment == best and chosen.policy == best.policy
    # No segment ahead of the winner holds the customer, whatever order they were given in.
    assert all(not matches(s, f) for s in rules[:rules.index(best)])
    assert first_match(list(reversed(segs)), f) == best


@settings(max_examples=150, deadline=None)
@given(segment_lists(), st.lists(st.tuples(facts, st.booleans()), max_size=20))
def test_counts_add_up_to_every_customer(segs, people):
    held, own, rest = count(segs, people)
    assert sum(held.values()) + own + rest == len(people)
    assert own == sum(1 for _f, has in people if has)
