"""Three-way merge: properties (idempotence, one-sided changes kept, independent changes both kept) and each policy."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from replicator.rules.merge import FieldConflict, merge, resolve

FIELDS = ["a", "b", "c", "d"]
values = st.one_of(st.integers(-5, 5), st.sampled_from(["x", "y", "z"]))
records = st.fixed_dictionaries({f: values for f in FIELDS})
policies = st.fixed_dictionaries(
    {f: st.sampled_from(["factusol_wins", "prestashop_wins", "newest_wins", "manual"]) for f in FIELDS}
)
times = st.tuples(st.none() | st.datetimes(), st.none() | st.datetimes())


def apply(side: dict, writes: dict) -> dict:
    return {**side, **writes}


@given(records, records, records, policies, times)
def test_merge_is_idempotent(base, fs, ps, pol, ts):
    first = merge(base, fs, ps, pol, ts)
    fs2, ps2 = apply(fs, first.to_factusol), apply(ps, first.to_prestashop)
    second = merge(first.merged, fs2, ps2, pol, ts)
    assert second.to_factusol == {} and second.to_prestashop == {}
    assert second.merged == first.merged
    # conflicts stay parked, not resolved by themselves
    assert {c.field for c in second.conflicts} == {c.field for c in first.conflicts}


@given(records, records, policies, times)
def test_one_sided_change_is_never_lost(base, changed, pol, ts):
    for fs, ps, target in ((changed, base, "to_prestashop"), (base, changed, "to_factusol")):
        result = merge(base, fs, ps, pol, ts)
        assert result.conflicts == []
        for f in FIELDS:
            assert result.merged[f] == changed[f]
            if changed[f] != base[f]:
                assert getattr(result, target)[f] == changed[f]


@given(records, st.data())
def test_independent_changes_on_both_sides_both_survive(base, data):
    fs_fields = data.draw(st.sets(st.sampled_from(FIELDS)))
    ps_fields = set(FIELDS) - fs_fields
    fs = {**base, **{f: f"fs-{f}" for f in fs_fields}}
    ps = {**base, **{f: f"ps-{f}" for f in ps_fields}}
    result = merge(base, fs, ps, {f: "manual" for f in FIELDS})
    assert result.conflicts == []
    for f in fs_fields:
        assert result.merged[f] == f"fs-{f}" and result.to_prestashop[f] == f"fs-{f}"
    for f in ps_fields:
        assert result.merged[f] == f"ps-{f}" and result.to_factusol[f] == f"ps-{f}"


@given(records, records, records)
def test_delta_is_idempotent_too(base, fs, ps):
    nums = lambda d: {k: v for k, v in d.items() if isinstance(v, int)}  # noqa: E731
    b, f, p = nums(base), nums(fs), nums(ps)
    keys = set(b) & set(f) & set(p)
    b, f, p = ({k: d[k] for k in keys} for d in (b, f, p))
    first = merge(b, f, p, {k: "delta" for k in keys})
    second = merge(first.merged, apply(f, first.to_factusol), apply(p, first.to_prestashop), {k: "delta" for k in keys})
    assert (second.to_factusol, second.to_prestashop) == ({}, {})


def test_equal_changes_agree():
    r = merge({"a": 1}, {"a": 2}, {"a": 2}, {"a": "manual"})
    assert r.merged == {"a": 2} and not r.to_factusol and not r.to_prestashop and not r.conflicts


def test_factusol_wins():
    r = merge({"a": "old"}, {"a": "fs"}, {"a": "ps"}, {"a": "factusol_wins"})
    assert r.merged == {"a": "fs"} and r.to_prestashop == {"a": "fs"} and r.to_factusol == {}


def test_prestashop_wins():
    r = merge({"a": "old"}, {"a": "fs"}, {"a": "ps"}, {"a": "prestashop_wins"})
    assert r.merged == {"a": "ps"} and r.to_factusol == {"a": "ps"} and r.to_prestashop == {}


def test_newest_wins_by_timestamp_and_parks_without_times():
    early, late = datetime(2025, 1, 1, 10), datetime(2025, 1, 1, 11)
    r = merge({"a": "old"}, {"a": "fs"}, {"a": "ps"}, {"a": "newest_wins"}, (late, early))
    assert r.merged == {"a": "fs"} and r.to_prestashop == {"a": "fs"}
    r = merge({"a": "old"}, {"a": "fs"}, {"a": "ps"}, {"a": "newest_wins"}, (early, late))
    assert r.merged == {"a": "ps"} and r.to_factusol == {"a": "ps"}
    for ts in ((None, late), (late, late)):
        r = merge({"a": "old"}, {"a": "fs"}, {"a": "ps"}, {"a": "newest_wins"}, ts)
        assert r.conflicts == [FieldConflict("a", "old", "fs", "ps")] and r.merged == {"a": "old"}


def test_manual_parks_and_keeps_base_on_both_sides():
    r = merge({"a": "old", "b": 1}, {"a": "fs", "b": 2}, {"a": "ps", "b": 1}, {"a": "manual", "b": "manual"})
    assert r.conflicts == [FieldConflict("a", "old", "fs", "ps")]
    assert r.merged == {"a": "old", "b": 2}
    assert "a" not in r.to_factusol and "a" not in r.to_prestashop
    assert r.to_prestashop == {"b": 2}


def test_delta_adds_both_changes():
    r = merge({"q": Decimal("10")}, {"q": Decimal("15")}, {"q": Decimal("8")}, {"q": "delta"})
    assert r.merged == {"q": Decimal("13")}
    assert r.to_factusol == {"q": Decimal("13")} and r.to_prestashop == {"q": Decimal("13")}
    r = merge({"q": 10}, {"q": 12}, {"q": 9}, {"q": "delta"})
    assert r.merged == {"q": 11} and isinstance(r.merged["q"], int)


def test_delta_without_base_takes_the_owner_or_parks():
    r = merge({}, {"q": 5}, {"q": 7}, {"q": "delta"}, directions={"q": "to_prestashop"})
    assert r.merged == {"q": 5} and r.to_prestashop == {"q": 5}
    r = merge({}, {"q": 5}, {"q": 7}, {"q": "delta"})
    assert r.conflicts == [FieldConflict("q", None, 5, 7)]


def test_none_means_no_opinion():
    r = merge({"a": "old"}, {"a": None}, {"a": "ps"}, {"a": "manual"})
    assert r.merged == {"a": "ps"} and r.to_factusol == {"a": "ps"} and r.to_prestashop == {}
    r = merge({"a": "old"}, {}, {}, {"a": "manual"})
    assert r.merged == {"a": "old"} and not r.to_factusol and not r.to_prestashop


def test_direction_restricts_writes_and_keeps_base_for_blocked_changes():
    # FactuSOL owns the price: its change travels, a shop-only edit stays in the shop and the baseline keeps base.
    d = {"price": "to_prestashop"}
    r = merge({"price": 10}, {"price": 12}, {"price": 10}, {"price": "factusol_wins"}, directions=d)
    assert r.to_prestashop == {"price": 12} and r.merged == {"price": 12}
    r = merge({"price": 10}, {"price": 10}, {"price": 11}, {"price": "factusol_wins"}, directions=d)
    assert r.to_factusol == {} and r.to_prestashop == {} and r.merged == {"price": 10}
    # ... and the next FactuSOL change overwrites the shop edit.
    r = merge({"price": 10}, {"price": 13}, {"price": 11}, {"price": "factusol_wins"}, directions=d)
    assert r.to_prestashop == {"price": 13} and r.merged == {"price": 13}
    r = merge({"x": 1}, {"x": 2}, {"x": 3}, {"x": "factusol_wins"}, directions={"x": "none"})
    assert r.to_factusol == {} and r.to_prestashop == {} and r.merged == {"x": 1}


def test_resolve_takes_a_side_base_or_a_value():
    c = FieldConflict("email", "a@x", "b@x", "c@x")
    r = resolve(c, "factusol")
    assert r.merged == {"email": "b@x"} and r.to_prestashop == {"email": "b@x"} and r.to_factusol == {}
    r = resolve(c, "prestashop")
    assert r.to_factusol == {"email": "c@x"} and r.to_prestashop == {}
    r = resolve(c, "base")
    assert r.to_factusol == {"email": "a@x"} and r.to_prestashop == {"email": "a@x"}
    r = resolve(c, "d@x")
    assert r.merged == {"email": "d@x"} and r.to_factusol == r.to_prestashop == {"email": "d@x"}
    r = resolve(c, "c@x", direction="to_prestashop")
    assert r.to_factusol == {} and r.merged == {"email": "a@x"}  # FactuSOL can't be written: nothing agreed yet
