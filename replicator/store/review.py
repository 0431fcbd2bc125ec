"""The store's review queue: conflicts waiting for a person and quarantined keys, with their held changes.

A mixin of `Store` (it uses the store's `_session()`); every method is one transaction.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from .codec import dumps
from .schema import (
    APPLIED,
    CONFLICT,
    QUARANTINED,
    SKIPPED,
    Change,
    Conflict,
    ConflictStatus,
    Quarantine,
    QuarantineStatus,
    utcnow,
)


class ReviewQueue:
    """Conflicts and quarantine rows: opened by the engine, resolved, skipped or released."""

    # -- conflicts ------------------------------------------------------------------------------------
    def open_conflict(
        self, entity: str, key: str, field: str, base: Any, factusol: Any, prestashop: Any, change_id: int | None = None
    ) -> int:
        with self._session() as s:
            existing = s.exec(
                select(Conflict).where(
                    Conflict.entity == entity,
                    Conflict.key == key,
                    Conflict.field == field,
                    Conflict.status == ConflictStatus.OPEN,
                )
            ).first()
            if existing:  # a newer disagreement on the same field replaces the values, keeps one open conflict
                existing.base, existing.factusol, existing.prestashop = dumps(base), dumps(factusol), dumps(prestashop)
                s.add(existing)
                s.commit()
                return existing.id
            conflict = Conflict(
                entity=entity,
                key=key,
                field=field,
                base=dumps(base),
                factusol=dumps(factusol),
                prestashop=dumps(prestashop),
                change_id=change_id,
            )
            s.add(conflict)
            s.commit()
            return conflict.id

    def conflicts(self, status: str | None = ConflictStatus.OPEN) -> list[Conflict]:
        with self._session() as s:
            q = select(Conflict).order_by(Conflict.id)
            if status:
                q = q.where(Conflict.status == status)
            return list(s.exec(q).all())

    def conflict(self, conflict_id: int) -> Conflict | None:
        with self._session() as s:
            return s.get(Conflict, conflict_id)

    def resolve_conflict(self, conflict_id: int, take: str, custom_value: Any = None) -> Conflict:
        """Record a person's decision.  `take` is factusol | prestashop | base | custom."""
        with self._session() as s:
            conflict = s.get(Conflict, conflict_id)
            if conflict is None:
                raise KeyError(f"no conflict with id {conflict_id}")
            if conflict.status != ConflictStatus.OPEN:
                raise ValueError(f"conflict {conflict_id} is already {conflict.status}")
            values = {"factusol": conflict.factusol, "prestashop": conflict.prestashop, "base": conflict.base}
            if take == "custom":
                conflict.resolution = dumps(custom_value)
            elif take in values:
                conflict.resolution = values[take]
            else:
                raise ValueError("take must be factusol, prestashop, base or custom")
            conflict.status, conflict.resolved_by, conflict.resolved_at = ConflictStatus.RESOLVED, take, utcnow()
            s.add(conflict)
            s.commit()
            return conflict

    def resolved_conflicts(self, entity: str | None = None) -> list[Conflict]:
        """Conflicts a person resolved that the engine has not written yet."""
        with self._session() as s:
            q = select(Conflict).where(Conflict.status == ConflictStatus.RESOLVED).order_by(Conflict.id)
            if entity:
                q = q.where(Conflict.entity == entity)
            return list(s.exec(q).all())

    def mark_conflict_applied(self, conflict_id: int) -> None:
        with self._session() as s:
            conflict = s.get(Conflict, conflict_id)
            if conflict is not None:
                conflict.status = "applied"
                s.add(conflict)
                s.commit()

    def release_held_changes(self, entity: str, key: str) -> int:
        """Changes parked behind conflicts of one key become applied once no conflict of that key is open."""
        with self._session() as s:
            still_open = s.exec(
                select(Conflict.id).where(
                    Conflict.entity == entity, Conflict.key == key, Conflict.status == ConflictStatus.OPEN
                )
            ).first()
            if still_open:
                return 0
            rows = s.exec(select(Change).where(Change.status == CONFLICT, Change.held_by == f"{entity}:{key}")).all()
            for change in rows:
                change.status, change.detail = APPLIED, "applied after the conflict was resolved"
                s.add(change)
            s.commit()
            return len(rows)

    # -- quarantine -----------------------------------------------------------------------------------
    def quarantine(
        self, entity: str, key: str, side: str, reason: str, field: str = "", change_id: int | None = None
    ) -> int:
        with self._session() as s:
            existing = s.exec(
                select(Quarantine).where(
                    Quarantine.entity == entity,
                    Quarantine.key == key,
                    Quarantine.side == side,
                    Quarantine.status == QuarantineStatus.OPEN,
                )
            ).first()
            if existing:
                existing.reason, existing.field, existing.updated_at = reason, field, utcnow()
                existing.attempts += 1
                if change_id is not None:
                    existing.change_id = change_id
                s.add(existing)
                s.commit()
                return existing.id
            row = Quarantine(entity=entity, key=key, side=side, reason=reason, field=field, change_id=change_id)
            s.add(row)
            s.commit()
            return row.id

    def quarantined(self, status: str | None = QuarantineStatus.OPEN) -> list[Quarantine]:
        with self._session() as s:
            q = select(Quarantine).order_by(Quarantine.id)
            if status:
                q = q.where(Quarantine.status == status)
            return list(s.exec(q).all())

    def release_quarantine(self, entity: str, key: str, status: str = QuarantineStatus.RESOLVED) -> int:
        """Close the open quarantine rows of one key (its cause is fixed); their changes become applied."""
        released = 0
        with self._session() as s:
            for row in s.exec(
                select(Quarantine).where(
                    Quarantine.entity == entity,
                    Quarantine.key == key,
                    Quarantine.status == QuarantineStatus.OPEN,
                )
            ).all():
                row.status, row.updated_at = status, utcnow()
                s.add(row)
                released += 1
            for change in s.exec(
                select(Change).where(
                    Change.status == QUARANTINED,
                    Change.held_by == f"{entity}:{key}",
                )
            ).all():
                change.status, change.detail = APPLIED, "applied after quarantine"
                s.add(change)
            s.commit()
        return released

    def quarantine_row(self, quarantine_id: int) -> Quarantine | None:
        with self._session() as s:
            return s.get(Quarantine, quarantine_id)

    def skip_quarantine(self, quarantine_id: int) -> None:
        """A person gives up on a quarantined change: it is never applied.  Only an open row can be skipped."""
        self._move_quarantine(
            quarantine_id,
            QuarantineStatus.OPEN,
            QuarantineStatus.SKIPPED,
            SKIPPED,
            "is already {status}; nothing to do",
        )

    def unskip_quarantine(self, quarantine_id: int) -> Quarantine:
        """Undo a skip: the row is open again and its change quarantined again, so it is retried."""
        return self._move_quarantine(
            quarantine_id,
            QuarantineStatus.SKIPPED,
            QuarantineStatus.OPEN,
            QUARANTINED,
            "is {status}, not skipped: nothing to undo",
        )

    def _move_quarantine(self, quarantine_id: int, expected, new, change_status: str, refusal: str) -> Quarantine:
        """Move one quarantine row from `expected` to `new`, and its change with it, in one transaction."""
        with self._session() as s:
            row = s.get(Quarantine, quarantine_id)
            if row is None:
                raise KeyError(f"no quarantined change with id {quarantine_id}")
            if row.status != expected:
                raise ValueError(f"quarantined change #{quarantine_id} " + refusal.format(status=row.status))
            row.status, row.updated_at = new, utcnow()
            s.add(row)
            if row.change_id:
                change = s.get(Change, row.change_id)
                if change:
                    change.status = change_status
                    s.add(change)
            s.commit()
            s.refresh(row)
            return row
