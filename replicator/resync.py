"""`replicator resync [ENTITY] [--keys K…] [--dry-run]`: bring keys in step under the rules in force now.

A rule change (warehouses, formula, tariff, VAT map, categories) only reaches the keys that change afterwards;
a resync re-evaluates keys, all of an entity or the ones named, and writes what differs through the normal apply
path: the entity syncs, whose shop writes carry the echo marker (ledger), and the engine, which quarantines a key
that fails and releases one that goes through.  Products are re-evaluated field by field: every field FactuSOL owns
is written where the shop holds something else (a back-office edit of such a field is replaced), as the dry run
shows beforehand.  ``--dry-run`` writes nothing and lists what would change per key.

After a rule reload the service logs how many keys the new rules would change (`summary`) and suggests this.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Iterable

log = logging.getLogger("replicator.resync")

ENTITIES = ("category", "product", "stock")  # FactuSOL -> shop entities a rule change can leave behind
CHUNK = 2000


@dataclass
class EntityResync:
    checked: int = 0
    changes: dict[str, list[str]] = field(default_factory=dict)  # key -> what differs (the dry run's answer)
    outcomes: dict[str, int] = field(default_factory=dict)  # status -> keys (after writing)

    def as_dict(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "would_change": len(self.changes),
            "changes": self.changes,
            "outcomes": self.outcomes,
        }


def _keys(engine, entity: str, keys: Iterable[str] | None) -> list[str]:
    if keys:
        return list(dict.fromkeys(keys))
    return list(engine.syncs[entity].all_keys(engine.ctx))


def plan(engine, entities: Iterable[str] = ENTITIES, keys: Iterable[str] | None = None) -> dict[str, EntityResync]:
    """What the current rules would change, per entity and key; nothing is written."""
    out: dict[str, EntityResync] = {}
    for entity in entities:
        sync = engine.syncs.get(entity)
        if sync is None or not hasattr(sync, "plan"):
            continue
        wanted = _keys(engine, entity, keys)
        report = out[entity] = EntityResync(checked=len(wanted))
        for i in range(0, len(wanted), CHUNK):
            report.changes.update(sync.plan(engine.ctx, wanted[i : i + CHUNK]))
    return out


def resync(
    engine, entities: Iterable[str] = ENTITIES, keys: Iterable[str] | None = None, dry_run: bool = False
) -> dict[str, EntityResync]:
    """Plan, then (unless ``dry_run``) sync the keys that differ, entity by entity in dependency order."""
    reports = plan(engine, entities, keys)
    if dry_run:
        return reports
    for entity, report in reports.items():
        if not report.changes:
            continue
        sync = engine.syncs[entity]
        forced = hasattr(sync, "force")
        if forced:
            sync.force = True
        try:
            todo = list(report.changes)
            for i in range(0, len(todo), CHUNK):
                for outcome in engine.sync_keys(entity, todo[i : i + CHUNK]).values():
                    report.outcomes[outcome.status] = report.outcomes.get(outcome.status, 0) + 1
        finally:
            if forced:
                sync.force = False
    engine.sync_stock_inputs()
    return reports


def summary(reports: dict[str, EntityResync]) -> str:
    """One line: how many keys of each entity would change ("" when none)."""
    parts = [
        f"{len(r.changes)} {entity} key{'s' if len(r.changes) != 1 else ''}"
        for entity, r in reports.items()
        if r.changes
    ]
    return ", ".join(parts)


def render(reports: dict[str, EntityResync], dry_run: bool) -> list[str]:
    """The readable report: per entity a count, then each key with what differs."""
    lines: list[str] = []
    for entity, report in reports.items():
        verb = "would change" if dry_run else "changed"
        lines.append(f"{entity}: {len(report.changes)} of {report.checked} keys {verb}")
        for key, changes in report.changes.items():
            lines.append(f"  {key}: {'; '.join(changes)}")
        if not dry_run and report.outcomes:
            lines.append("  outcomes: " + ", ".join(f"{n} {s}" for s, n in sorted(report.outcomes.items())))
    if dry_run and any(r.changes for r in reports.values()):
        lines.append("nothing was written; run the same command without --dry-run to write these")
    return lines
