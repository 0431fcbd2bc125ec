"""The applied ledger: what the replicator wrote to each side, one row per written row with its hash.

Echo suppression on FactuSOL reads it back (`last_written_hash`): a scan that finds exactly the image written is
the replicator's own change.  A mixin of `Store` (it uses the store's `_session()` and `engine`).
"""

from __future__ import annotations

from typing import Iterable

from sqlalchemy import select as sa_select
from sqlmodel import select

from .schema import AppliedLedger


class AppliedLedgerOps:
    """Record writes, one or many in a transaction, and find the newest hash written per row."""

    # -- ledger ---------------------------------------------------------------------------------------
    def record_applied(
        self,
        target: str,
        entity: str,
        source_table: str,
        row_key: str,
        row_hash: str = "",
        op: str = "",
        change_id: int | None = None,
    ) -> None:
        with self._session() as s:
            s.add(
                AppliedLedger(
                    target=target,
                    entity=entity,
                    source_table=source_table,
                    row_key=row_key,
                    row_hash=row_hash,
                    op=op,
                    change_id=change_id,
                )
            )
            s.commit()

    def last_written_hash(self, target: str, source_table: str, row_key: str) -> str | None:
        with self._session() as s:
            row = s.exec(
                select(AppliedLedger.row_hash)
                .where(
                    AppliedLedger.target == target,
                    AppliedLedger.source_table == source_table,
                    AppliedLedger.row_key == row_key,
                )
                .order_by(AppliedLedger.id.desc())
            ).first()
            return row

    def last_written_hashes(self, target: str, source_table: str, keys: list[str]) -> dict[str, str]:
        """last_written_hash for many keys at once: key -> hash of the newest ledger row."""
        t = AppliedLedger.__table__
        out: dict[str, str] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(keys), 500):
                chunk = keys[i : i + 500]
                for key, row_hash in conn.execute(
                    sa_select(t.c.row_key, t.c.row_hash)
                    .where(
                        t.c.target == target,
                        t.c.source_table == source_table,
                        t.c.row_key.in_(chunk),
                    )
                    .order_by(t.c.id)
                ):
                    out[key] = row_hash  # ordered by id: the newest write wins
        return out

    def record_applied_many(
        self, target: str, entity: str, rows: Iterable[tuple[str, str, str]], op: str = "", change_id: int | None = None
    ) -> int:
        """`record_applied` for many (source_table, row_key, row_hash) in ONE transaction; returns how many."""
        rows = list(rows)
        if not rows:
            return 0
        with self.writes() as w:
            return w.record_applied_many(target, entity, rows, op, change_id)
