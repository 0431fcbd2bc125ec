"""Three-way, per-field merge of one record against its baseline; pure functions, no I/O.

For each field: a change on one side wins; equal changes agree; different changes go to the field's policy
(factusol_wins | prestashop_wins | newest_wins | manual | delta).  ``None`` on a side means "no opinion" (the
side didn't provide the field), never "erase".  The field's direction says which sides may be written: a change
that may not travel stays on its own side and the baseline keeps its old value, so nothing flaps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from .ruleset import writes

_MISSING = object()


@dataclass(frozen=True)
class FieldConflict:
    """Both sides changed a field differently and its policy (manual, or newest_wins without usable times) parks it."""

    field: str
    base: Any
    factusol: Any
    prestashop: Any


@dataclass
class MergeResult:
    merged: dict = field(default_factory=dict)  # the new baseline
    to_factusol: dict = field(default_factory=dict)  # fields to write on FactuSOL
    to_prestashop: dict = field(default_factory=dict)  # fields to write on PrestaShop
    conflicts: list[FieldConflict] = field(default_factory=list)


def _num(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _delta(base: Any, fs: Any, ps: Any) -> Any:
    """base + (fs - base) + (ps - base), keeping an int when every input is an int."""
    total = _num(fs) + _num(ps) - _num(base)
    if all(isinstance(v, int) and not isinstance(v, bool) for v in (base, fs, ps)):
        return int(total)
    return total


def _decide(
    policy: str, base: Any, fs: Any, ps: Any, direction: str, times: tuple[datetime | None, datetime | None]
) -> Any:
    """The winning value for a true conflict, or _MISSING to park it."""
    if policy == "factusol_wins":
        return fs
    if policy == "prestashop_wins":
        return ps
    if policy == "newest_wins":
        fs_time, ps_time = times
        if fs_time is None or ps_time is None or fs_time == ps_time:
            return _MISSING  # no way to tell which is newer: a person decides
        return fs if fs_time > ps_time else ps
    if policy == "delta":
        if base is None:
            # Nothing to take deltas from (first sight): the owning side's value, else a person decides.
            return {"to_prestashop": fs, "to_factusol": ps}.get(direction, _MISSING)
        return _delta(base, fs, ps)
    return _MISSING  # manual and anything unknown


def merge_field(
    name: str,
    base: Any,
    fs: Any,
    ps: Any,
    policy: str = "manual",
    direction: str = "both",
    times: tuple[datetime | None, datetime | None] = (None, None),
    result: MergeResult | None = None,
) -> MergeResult:
    """Merge one field into `result` (a new MergeResult when not given)."""
    result = result if result is not None else MergeResult()
    fs_eff = base if fs is None else fs
    ps_eff = base if ps is None else ps
    fs_changed, ps_changed = fs_eff != base, ps_eff != base
    if not fs_changed and not ps_changed:
        value = base
    elif fs_changed and ps_changed and fs_eff == ps_eff:
        value = fs_eff
    elif fs_changed and not ps_changed:
        value = fs_eff if writes(direction, "prestashop") else _MISSING
    elif ps_changed and not fs_changed:
        value = ps_eff if writes(direction, "factusol") else _MISSING
    else:
        value = _decide(policy, base, fs_eff, ps_eff, direction, times)
        if value is _MISSING:
            result.conflicts.append(FieldConflict(name, base, fs, ps))
            if base is not None or name in result.merged:
                result.merged[name] = base
            return result
    if value is _MISSING:
        # A one-sided change that may not travel (direction): it stays where it is, the baseline keeps base.
        result.merged[name] = base
        return result
    # Write wherever the side differs; a side that may not be written keeps its value and the baseline keeps base.
    blocked = False
    for side, current, target in (
        ("factusol", fs_eff, result.to_factusol),
        ("prestashop", ps_eff, result.to_prestashop),
    ):
        if current != value:
            if writes(direction, side):
                target[name] = value
            else:
                blocked = True
    result.merged[name] = base if blocked else value
    return result


def merge(
    base: dict,
    factusol: dict,
    prestashop: dict,
    policies: dict[str, str],
    timestamps: tuple[datetime | None, datetime | None] = (None, None),
    directions: dict[str, str] | None = None,
    default_policy: str = "manual",
) -> MergeResult:
    """Three-way merge of a record; fields are the union of the three dicts' keys.

    `policies` gives each field's conflict policy (fields not listed use `default_policy`); `directions`
    (default 'both' for every field) restricts which sides a field may be written on.
    """
    directions = directions or {}
    result = MergeResult()
    names = list(dict.fromkeys([*base, *factusol, *prestashop]))
    for name in names:
        merge_field(
            name,
            base.get(name),
            factusol.get(name),
            prestashop.get(name),
            policies.get(name, default_policy),
            directions.get(name, "both"),
            timestamps,
            result,
        )
    return result


def merge_entity(
    entity_rules,
    base: dict,
    factusol: dict,
    prestashop: dict,
    timestamps: tuple[datetime | None, datetime | None] = (None, None),
) -> MergeResult:
    """merge() with the policies and directions of an EntityRules; fields the rules don't know are left out."""
    known = entity_rules.fields
    pick = lambda d: {k: v for k, v in d.items() if k in known}  # noqa: E731
    return merge(
        pick(base), pick(factusol), pick(prestashop), entity_rules.policies(), timestamps, entity_rules.directions()
    )


def resolve(conflict: FieldConflict, take: Any = "factusol", direction: str = "both") -> MergeResult:
    """Settle a parked conflict: take 'factusol', 'prestashop', 'base', or any other value given literally.

    Returns the writes needed on each side and the new baseline for the field.
    """
    if isinstance(take, str) and take in ("factusol", "prestashop", "base"):
        value = getattr(conflict, take)
    else:
        value = take
    result = MergeResult()
    if value is None:  # None is "no opinion": nothing to write, the baseline stays
        result.merged[conflict.field] = conflict.base
        return result
    fs = conflict.base if conflict.factusol is None else conflict.factusol
    ps = conflict.base if conflict.prestashop is None else conflict.prestashop
    blocked = False
    for side, current, target in (("factusol", fs, result.to_factusol), ("prestashop", ps, result.to_prestashop)):
        if current != value:
            if writes(direction, side):
                target[conflict.field] = value
            else:
                blocked = True
    result.merged[conflict.field] = conflict.base if blocked else value
    return result
