"""Checkpoint rows compared and set atomically: the primitives of the instance lock (`replicator.instance_lock`).

A mixin of `Store` (it uses the store's `engine`); each call is one statement, atomic on every database.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError

from .schema import Checkpoint, utcnow


class CheckpointClaims:
    """Claim, swap and drop one checkpoint row by its value."""

    # -- the instance lock (replicator.instance_lock): one checkpoint row, compared and set atomically ----------
    def checkpoint_row(self, name: str) -> tuple[str, datetime] | None:
        """(raw JSON value, updated_at) of one checkpoint, or None."""
        t = Checkpoint.__table__
        with self.engine.connect() as conn:
            row = conn.execute(sa_select(t.c.value, t.c.updated_at).where(t.c.name == name)).first()
        return (row.value, row.updated_at) if row else None

    def claim_checkpoint(self, name: str, value: str) -> bool:
        """Insert a checkpoint row unless one exists (atomic on every database: the name is the primary key)."""
        try:
            with self.engine.begin() as conn:
                conn.execute(Checkpoint.__table__.insert().values(name=name, value=value, updated_at=utcnow()))
        except IntegrityError:
            return False
        return True

    def swap_checkpoint(self, name: str, old: str, new: str) -> bool:
        """Replace a checkpoint's value only if it is still `old` (compare-and-set); also moves updated_at."""
        t = Checkpoint.__table__
        with self.engine.begin() as conn:
            return (
                conn.execute(
                    t.update().where(t.c.name == name, t.c.value == old).values(value=new, updated_at=utcnow())
                ).rowcount
                == 1
            )

    def drop_checkpoint(self, name: str, value: str) -> bool:
        """Delete a checkpoint only if its value is still `value`."""
        t = Checkpoint.__table__
        with self.engine.begin() as conn:
            return conn.execute(t.delete().where(t.c.name == name, t.c.value == value)).rowcount == 1
