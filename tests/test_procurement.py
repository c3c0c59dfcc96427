"""The tender round (safsim.procurement): lots become tenders."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st
from model_fixtures import tiny

from safsim.procurement import make_tender


@settings(max_examples=30, deadline=None)
@given(
    st.floats(1e3, 5e5),
    st.floats(1e3, 5e5),
    st.floats(0.0, 0.4),
    st.booleans(),
    st.lists(st.tuples(st.integers(0, 19), st.floats(0.01, 1.0)), min_size=1, max_size=3),
)
def test_the_next_part_of_a_split_lot_is_the_same_tender_with_the_next_id(volume, ceiling, sv_weight, policy, portions):
    """The record of the next equal part of a split lot (its first part's record with the next id,
    as tender_round and _conclude make it) is exactly the tender make_tender gives for the same
    lot (in or out of the Act's scope, with or without a local SV policy)."""
    m = tiny()
    c = m.commissioners[0]
    c.sv_weight, c.has_sv_policy = sv_weight, policy
    lot = (tuple(portions), volume, ceiling)
    first = make_tender(m, c, 3, *lot)
    again = replace(first, tender_id=m.next_tender_id)
    m.next_tender_id += 1
    fresh = make_tender(m, c, 3, *lot)
    assert again.tender_id == first.tender_id + 1 and fresh.tender_id == again.tender_id + 1
    assert again == replace(fresh, tender_id=again.tender_id)
