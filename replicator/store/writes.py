"""The store's batch writes (ledger rows, id-map links, baselines) on one open transaction, so what one applied key
leaves in the store (its echo records, its link and its baseline) is committed together: `Store.writes()`."""

from __future__ import annotations

from collections import Counter
from typing import Iterable

from sqlalchemy import select

from .codec import dumps
from .dialect import IN_CHUNK, upsert
from .schema import AppliedLedger, Baseline, IdMap, utcnow


class StoreWrites:
    """Writes on one SQLAlchemy connection inside a transaction the caller opened (and commits)."""

    def __init__(self, conn):
        self.conn = conn
        self.links_made: Counter[str] = Counter()  # per entity

    def record_applied_many(
        self, target: str, entity: str, rows: Iterable[tuple[str, str, str]], op: str = "", change_id: int | None = None
    ) -> int:
        """Ledger rows (source_table, row_key, row_hash) of what we wrote; returns how many."""
        now = utcnow()
        values = [
            {
                "change_id": change_id,
                "target": target,
                "entity": entity,
                "source_table": table,
                "row_key": key,
                "row_hash": row_hash,
                "op": op,
                "applied_at": now,
            }
            for table, key, row_hash in rows
        ]
        for i in range(0, len(values), IN_CHUNK * 10):
            self.conn.execute(AppliedLedger.__table__.insert(), values[i : i + IN_CHUNK * 10])
        return len(values)

    def link_many(self, entity: str, pairs: Iterable[tuple[str, str]]) -> int:
        """(factusol_key, prestashop_id) links; keys already linked (or repeated) keep their first link.  Returns how
        many links were added."""
        wanted: dict[str, str] = {}
        for key, pid in pairs:
            wanted.setdefault(str(key), str(pid))
        if not wanted:
            return 0
        t = IdMap.__table__
        keys = list(wanted)
        for i in range(0, len(keys), IN_CHUNK):
            for (known,) in self.conn.execute(
                select(t.c.factusol_key).where(t.c.entity == entity, t.c.factusol_key.in_(keys[i : i + IN_CHUNK]))
            ):
                wanted.pop(known, None)
        if wanted:
            now = utcnow()
            self.conn.execute(
                t.insert(),
                [
                    {"entity": entity, "factusol_key": k, "prestashop_id": v, "created_at": now}
                    for k, v in wanted.items()
                ],
            )
        self.links_made[entity] += len(wanted)
        return len(wanted)

    def set_baselines(self, entity: str, items: dict[str, dict]) -> None:
        """Insert or replace each key's baseline fields."""
        if not items:
            return
        now = utcnow()
        upsert(
            self.conn,
            Baseline.__table__,
            ("entity", "key"),
            [{"entity": entity, "key": str(k), "fields": dumps(v), "updated_at": now} for k, v in items.items()],
        )
