"""Read-only queries the TUI needs beyond the Store's public methods.

They go through `Store.session()` and only read.  Each one is cheap enough to run every second against a
store a daemon is writing: they touch an id range or a handful of small tables.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import select

from replicator.store import Change, Checkpoint, Store, loads


def newest_changes(store: Store, limit: int, status: str | None = None, entity: str | None = None,
                   side: str | None = None) -> list[Change]:
    """The `limit` newest changes matching the filters, oldest first."""
    with store.session() as s:
        q = select(Change).order_by(Change.id.desc()).limit(limit)
        if status:
            q = q.where(Change.status == status)
        if entity:
            q = q.where(Change.entity == entity)
        if side:
            q = q.where(Change.side == side)
        return list(reversed(s.exec(q).all()))


def change_states(store: Store, from_id: int, to_id: int) -> dict[int, tuple[str, str]]:
    """id -> (status, detail) for the ids in [from_id, to_id]: to refresh rows already on screen."""
    with store.session() as s:
        rows = s.exec(select(Change.id, Change.status, Change.detail)
                      .where(Change.id >= from_id, Change.id <= to_id)).all()
        return {row_id: (status, detail) for row_id, status, detail in rows}


def checkpoints(store: Store) -> dict[str, tuple[Any, datetime]]:
    """name -> (value, updated_at) of every checkpoint."""
    with store.session() as s:
        return {c.name: (loads(c.value), c.updated_at) for c in s.exec(select(Checkpoint)).all()}
