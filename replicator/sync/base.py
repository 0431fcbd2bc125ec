"""What every entity sync shares: the context it runs in, the outcome it reports, the interface it implements.

An entity sync treats captured changes as *triggers*: it turns each change into the entity keys it touches,
then re-reads the current image of those keys on both sides, merges against the baseline and writes the
difference.  Applying the same key twice therefore writes nothing the second time (idempotence), and a
burst of changes to one key costs one sync.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, Iterable, Protocol

from replicator.config import Config
from replicator.store import APPLIED, CONFLICT, ECHO, QUARANTINED, Change, Store

log = logging.getLogger("replicator.sync")

NOOP = "noop"  # nothing to write: the other side already agrees


class SyncError(Exception):
    """A row that cannot be mapped or applied: names entity, key and field; the row is quarantined."""

    def __init__(self, entity: str, key: str, reason: str, field: str = ""):
        self.entity, self.key, self.reason, self.field = entity, key, reason, field
        where = f"{entity} {key}" + (f" field {field}" if field else "")
        super().__init__(f"{where}: {reason}")


@dataclass
class Outcome:
    status: str  # applied | noop | conflict | quarantined | echo
    detail: str = ""
    needs_person: bool = False  # applied in part, but a conflict was parked for a person (logged as a warning)

    @property
    def change_status(self) -> str:
        return {NOOP: APPLIED}.get(self.status, self.status)


@dataclass
class SyncContext:
    """Everything a sync needs: config, store, rules and open connections to both sides."""

    config: Config
    store: Store
    rules: Any  # replicator.rules.RuleSet
    factusol: Any  # replicator.factusol.connection.FactusolConnection
    shop: Any  # replicator.prestashop.connection.ShopConnection
    stats: dict[str, int] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)  # per-cycle lookups (e.g. FactuSOL customers by NIF)
    factusol_year: str = ""  # fiscal year of the open FactuSOL file: document numbers restart every year

    def count(self, what: str, n: int = 1) -> None:
        self.stats[what] = self.stats.get(what, 0) + n


class EntitySync(Protocol):
    entity: str

    def keys_for_change(self, ctx: SyncContext, change: Change) -> list[str]:
        """Entity keys a captured change touches (may be empty: a change this entity ignores)."""

    def sync(self, ctx: SyncContext, keys: list[str]) -> dict[str, Outcome]:
        """Bring the given keys in step; one Outcome per key.  Raise nothing for a bad row: quarantine it."""

    def all_keys(self, ctx: SyncContext) -> Iterable[str]:
        """Every key on both sides, for the initial sync."""


def sync_each(ctx: SyncContext, keys: list[str], sync_one, side: str) -> dict[str, Outcome]:
    """Run `sync_one(ctx, key)` per key; a SyncError quarantines that key only (the others go on)."""
    out: dict[str, Outcome] = {}
    for key in keys:
        try:
            out[key] = sync_one(ctx, key)
        except SyncError as exc:
            ctx.store.quarantine(exc.entity, exc.key, side, exc.reason, exc.field)
            out[key] = Outcome(QUARANTINED, str(exc))
    return out


def source_value(change: Change, column: str) -> Any:
    """A column of the changed row: from its key, else from its image (after-image, or before for a delete)."""
    return row_key(change).get(column) or image(change).get(column)


def row_key(change: Change) -> dict[str, Any]:
    """The source primary key of a change, decoded: {column: value} (see replicator.capture.tables)."""
    value = json.loads(change.row_key)
    return value if isinstance(value, dict) else {"key": value}


def image(change: Change) -> dict:
    """The after-image of a change, or its before-image for a delete."""
    return json.loads(change.after or change.before or "{}")


__all__ = [
    "APPLIED",
    "CONFLICT",
    "ECHO",
    "QUARANTINED",
    "NOOP",
    "Outcome",
    "SyncContext",
    "SyncError",
    "EntitySync",
    "sync_each",
    "source_value",
    "row_key",
    "image",
    "log",
]
