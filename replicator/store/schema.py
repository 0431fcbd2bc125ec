"""The state store's tables, the statuses of changes, conflicts and quarantine entries, and the schema migrations."""

from __future__ import annotations

from datetime import datetime, timezone
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint, text
from sqlmodel import Field, Session, SQLModel

STORE_SCHEMA_VERSION = 1


class ChangeStatus(StrEnum):
    """A change moves pending -> applied | echo | conflict | quarantined | skipped."""

    PENDING = "pending"
    APPLIED = "applied"
    ECHO = "echo"
    CONFLICT = "conflict"
    QUARANTINED = "quarantined"
    SKIPPED = "skipped"


class ConflictStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class QuarantineStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    SKIPPED = "skipped"


# The change statuses by their short names (what callers compare a change's status with).
PENDING, APPLIED, ECHO, CONFLICT, QUARANTINED, SKIPPED = ChangeStatus


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class StoreMeta(SQLModel, table=True):
    __tablename__ = "store_meta"
    key: str = Field(primary_key=True)
    value: str


class Change(SQLModel, table=True):
    """One captured row change.  Rows of one source transaction share `txn`."""

    __tablename__ = "change_log"
    __table_args__ = (
        UniqueConstraint("side", "position", "source_table", "row_key", name="uq_change_position"),
        Index("ix_change_status", "status", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    side: str  # "factusol" | "prestashop"
    entity: str  # canonical entity this row feeds (customer, product, stock, order, ...)
    source_table: str
    row_key: str  # the source table's primary key, as JSON
    op: str  # insert | update | delete
    before: str | None = None  # JSON image
    after: str | None = None  # JSON image
    position: str  # source position: binlog file:pos[:row], or scan id
    txn: str = ""  # source transaction id (binlog xid / scan id)
    captured_at: datetime = Field(default_factory=utcnow)
    status: str = PENDING
    attempts: int = 0
    detail: str = ""  # last error / reason / note
    held_by: str = ""  # "entity:key" of the quarantine entry or conflict holding this change back


class Checkpoint(SQLModel, table=True):
    __tablename__ = "checkpoint"
    name: str = Field(primary_key=True)  # e.g. "prestashop.binlog", "factusol.scan"
    value: str  # JSON
    updated_at: datetime = Field(default_factory=utcnow)


class RowSnapshot(SQLModel, table=True):
    """Last seen image hash of one source row: the basis of snapshot diffs and keyset hash scans."""

    __tablename__ = "row_snapshot"
    side: str = Field(primary_key=True)
    source_table: str = Field(primary_key=True)
    row_key: str = Field(primary_key=True)
    row_hash: str
    # Kept so deletes and updates carry a before-image: a JSON image, a compact image (text starting with "~",
    # written by a FactuSOL baseline: see replicator.capture.snapshot), or NULL when no image was kept.
    image: str | None = None


class Baseline(SQLModel, table=True):
    """The last canonical image both sides agreed on, per entity key: the merge's common ancestor."""

    __tablename__ = "baseline"
    entity: str = Field(primary_key=True)
    key: str = Field(primary_key=True)
    fields: str  # JSON
    updated_at: datetime = Field(default_factory=utcnow)


class IdMap(SQLModel, table=True):
    __tablename__ = "id_map"
    __table_args__ = (
        UniqueConstraint("entity", "factusol_key", name="uq_idmap_fs"),
        UniqueConstraint("entity", "prestashop_id", name="uq_idmap_ps"),
    )
    id: int | None = Field(default=None, primary_key=True)
    entity: str
    factusol_key: str
    prestashop_id: str
    created_at: datetime = Field(default_factory=utcnow)


class Conflict(SQLModel, table=True):
    __tablename__ = "conflict"
    id: int | None = Field(default=None, primary_key=True)
    entity: str
    key: str
    field: str
    base: str | None = None  # JSON values
    factusol: str | None = None
    prestashop: str | None = None
    status: str = ConflictStatus.OPEN.value
    resolution: str | None = None  # JSON of the chosen value
    resolved_by: str = ""  # factusol | prestashop | base | custom
    change_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow)
    resolved_at: datetime | None = None


class Quarantine(SQLModel, table=True):
    __tablename__ = "quarantine"
    __table_args__ = (Index("ix_quarantine_status", "status"),)
    id: int | None = Field(default=None, primary_key=True)
    entity: str
    key: str
    side: str  # side the change came from
    change_id: int | None = None
    field: str = ""
    reason: str
    status: str = QuarantineStatus.OPEN.value
    attempts: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class AppliedLedger(SQLModel, table=True):
    """What the replicator wrote where: for idempotent retries and for echo suppression of FactuSOL writes."""

    __tablename__ = "applied_ledger"
    __table_args__ = (Index("ix_ledger_target", "target", "source_table", "row_key"),)
    id: int | None = Field(default=None, primary_key=True)
    change_id: int | None = None
    target: str  # side written: factusol | prestashop
    entity: str
    source_table: str = ""
    row_key: str = ""
    row_hash: str = ""  # hash of the image just written (FactuSOL echo suppression)
    op: str = ""
    applied_at: datetime = Field(default_factory=utcnow)


# Each entry upgrades the store from version N to N+1.  A new column or table goes here, never in place.
MIGRATIONS: dict[int, list[str]] = {}


def upgrade(s: Session) -> None:
    """Bring a store up to STORE_SCHEMA_VERSION, one MIGRATIONS step at a time; refuse a newer store."""
    meta = s.get(StoreMeta, "schema_version")
    version = int(meta.value) if meta else STORE_SCHEMA_VERSION
    if version > STORE_SCHEMA_VERSION:
        raise RuntimeError(
            f"state store schema version {version} is newer than this replicator ({STORE_SCHEMA_VERSION}); "
            "upgrade the replicator"
        )
    while version < STORE_SCHEMA_VERSION:
        for statement in MIGRATIONS.get(version, []):
            s.exec(text(statement))
        version += 1
    s.merge(StoreMeta(key="schema_version", value=str(version)))
    s.commit()
