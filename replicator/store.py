"""The state store: change log, checkpoints, row snapshots, baselines, id map, conflicts, quarantine, ledger.

SQLModel over SQLite by default (one file beside the config) or any SQLAlchemy URL.  The daemon, the CLI
and the TUI all open the same store; SQLite runs in WAL mode with a busy timeout so they can share it.

Crash safety rests on one rule: captured changes and the checkpoint (and the row snapshots they were diffed
against) are written in ONE transaction (`Store.record_capture`).  A crash before the commit loses nothing
(the source is re-read from the old checkpoint); a crash after it duplicates nothing (the checkpoint moved).
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Iterable, Iterator

import orjson
from sqlalchemy import Index, UniqueConstraint, bindparam, event, func, text
from sqlalchemy import select as sa_select
from sqlmodel import Field, Session, SQLModel, create_engine, select

STORE_SCHEMA_VERSION = 1

# Change statuses: a change moves pending -> applied | echo | conflict | quarantined | skipped.
PENDING, APPLIED, ECHO, CONFLICT, QUARANTINED, SKIPPED = "pending", "applied", "echo", "conflict", "quarantined", "skipped"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(value: Any) -> str:
    """Stable JSON for images and hashes (sorted keys; Decimal and dates as strings)."""
    return json.dumps(value, default=_json_default, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def loads(value: str | None) -> Any:
    return None if value is None else json.loads(value)


# --------------------------------------------------------------------------------------------- tables


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
    status: str = "open"  # open | resolved
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
    status: str = "open"  # open | resolved | skipped
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


# --------------------------------------------------------------------------------------------- migrations

# Each entry upgrades the store from version N to N+1.  A new column or table goes here, never in place.
MIGRATIONS: dict[int, list[str]] = {}


@dataclass(slots=True)
class CapturedRow:
    """What a watcher hands to `record_capture`."""

    side: str
    entity: str
    source_table: str
    row_key: str
    op: str
    before: dict | None
    after: dict | None
    position: str
    txn: str = ""


class Store:
    """Typed access to the state store.  Every method opens and commits its own transaction."""

    def __init__(self, url: str):
        self.url = url
        connect_args = {"timeout": 30, "check_same_thread": False} if url.startswith("sqlite") else {}
        self.engine = create_engine(url, connect_args=connect_args)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        SQLModel.metadata.create_all(self.engine)
        self._upgrade()

    # -- schema version -------------------------------------------------------------------------------
    def _upgrade(self) -> None:
        with self._session() as s:
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

    def schema_version(self) -> int:
        with self._session() as s:
            return int(s.get(StoreMeta, "schema_version").value)

    def _session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._session() as s:
            yield s

    # -- capture --------------------------------------------------------------------------------------
    def record_capture(
        self,
        rows: Iterable[CapturedRow],
        checkpoint: tuple[str, Any] | None = None,
        snapshots: Iterable[tuple[str, str, str, str | None, dict | None]] = (),
        positions_are_new: bool = False,
    ) -> int:
        """Append changes, move the checkpoint and update row snapshots atomically.

        `snapshots` items are (side, table, row_key, row_hash or None to delete, image); when one key appears
        twice the last item wins.  Rows whose (side, position, table, key) is already logged (or repeated in
        this call) are dropped: that is how a re-read after a crash is recognised.  Returns the number of new
        changes.

        Batched: one query per chunk of positions finds what is already logged, changes go in with one
        executemany, snapshots with one bulk upsert and one bulk delete, and all of it plus the checkpoint is
        ONE transaction (a failure anywhere rolls back everything).

        `checkpoint` is (name, value), or (name, function of the committed value returning the new one): the
        function sees the value as it is inside this transaction, after the store's write lock is taken, so two
        writers that each change part of one checkpoint (two scans of different tables) both keep their part.

        `positions_are_new=True` skips the already-logged lookup and the in-call check: for a source that resumes
        strictly after its committed checkpoint and gives every row its own position (the binlog), nothing it hands
        over can be logged yet (the unique key on positions would still refuse a duplicate).
        """
        rows = rows if isinstance(rows, list) else list(rows)
        snaps = _collapse_snapshots(snapshots)
        now = utcnow()
        encode = _IMAGE_ENCODE
        with self.engine.begin() as conn:
            if positions_are_new:  # every position is new and distinct: nothing to look up or drop
                values = [(row.side, row.entity, row.source_table, row.row_key, row.op,
                           None if row.before is None else encode(row.before),
                           None if row.after is None else encode(row.after),
                           row.position, row.txn) for row in rows]
            else:
                seen = _logged_positions(conn, rows) if rows else set()
                values = []
                for row in rows:
                    ident = (row.side, row.position, row.source_table, row.row_key)
                    if ident in seen:
                        continue
                    seen.add(ident)
                    values.append((
                        row.side, row.entity, row.source_table, row.row_key, row.op,
                        None if row.before is None else encode(row.before),
                        None if row.after is None else encode(row.after),
                        row.position, row.txn,
                    ))
            if values:
                _insert_changes(conn, values, now)
            if snaps:
                _write_snapshots(conn, snaps)
            if checkpoint:
                name, value = checkpoint
                if callable(value):
                    value = value(_locked_checkpoint(conn, name))
                _upsert(conn, Checkpoint.__table__, ("name",), [{"name": name, "value": dumps(value), "updated_at": now}])
        return len(values)

    def checkpoint(self, name: str) -> Any:
        with self._session() as s:
            row = s.get(Checkpoint, name)
            return loads(row.value) if row else None

    def set_checkpoint(self, name: str, value: Any) -> None:
        with self._session() as s:
            s.merge(Checkpoint(name=name, value=dumps(value), updated_at=utcnow()))
            s.commit()

    def snapshot_hashes(self, side: str, table: str) -> dict[str, str]:
        t = RowSnapshot.__table__
        with self.engine.connect() as conn:
            if conn.dialect.name == "sqlite":  # 100k+ rows: the driver's own tuples, no Row objects
                cur = conn.connection.cursor()
                try:
                    cur.execute(f"SELECT row_key, row_hash FROM {t.name} WHERE side = ? AND source_table = ?",
                                (side, table))
                    return dict(cur.fetchall())
                finally:
                    cur.close()
            result = conn.execute(sa_select(t.c.row_key, t.c.row_hash)
                                  .where(t.c.side == side, t.c.source_table == table))
            return {key: h for key, h in result}

    def snapshot_image(self, side: str, table: str, key: str) -> dict | str | None:
        """The kept image of a row: a dict, a compact image as stored (str), or None (none kept / no row)."""
        t = RowSnapshot.__table__
        with self.engine.connect() as conn:
            image = conn.execute(sa_select(t.c.image).where(
                t.c.side == side, t.c.source_table == table, t.c.row_key == key)).scalar()
            return _load_image(image)

    def snapshot_images(self, side: str, table: str, keys: list[str]) -> dict[str, dict | str | None]:
        """snapshot_image for many keys at once (the before-images of a scan's changed rows)."""
        t = RowSnapshot.__table__
        out: dict[str, dict | str | None] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(keys), 500):
                chunk = keys[i:i + 500]
                for key, image in conn.execute(sa_select(t.c.row_key, t.c.image).where(
                        t.c.side == side, t.c.source_table == table, t.c.row_key.in_(chunk))):
                    out[key] = _load_image(image)
        return out

    # -- change log -----------------------------------------------------------------------------------
    def changes(self, status: str | None = None, entity: str | None = None, side: str | None = None,
                limit: int | None = None, after_id: int = 0) -> list[Change]:
        with self._session() as s:
            q = select(Change).where(Change.id > after_id).order_by(Change.id)
            if status:
                q = q.where(Change.status == status)
            if entity:
                q = q.where(Change.entity == entity)
            if side:
                q = q.where(Change.side == side)
            if limit:
                q = q.limit(limit)
            return list(s.exec(q).all())

    def set_change_status(self, change_ids: Iterable[int], status: str, detail: str = "",
                          held_by: str = "") -> None:
        ids = list(change_ids)
        if not ids:
            return
        with self._session() as s:
            for change in s.exec(select(Change).where(Change.id.in_(ids))).all():
                change.status, change.detail, change.held_by = status, detail[:2000], held_by
                change.attempts += 1
                s.add(change)
            s.commit()

    def counts(self) -> dict[str, int]:
        with self._session() as s:
            rows = s.exec(select(Change.status, func.count()).group_by(Change.status)).all()
            return {status: n for status, n in rows}

    # -- baselines and id map --------------------------------------------------------------------------
    def baseline(self, entity: str, key: str) -> dict | None:
        with self._session() as s:
            row = s.get(Baseline, (entity, key))
            return loads(row.fields) if row else None

    def set_baseline(self, entity: str, key: str, fields: dict, session: Session | None = None) -> None:
        def _write(s: Session) -> None:
            s.merge(Baseline(entity=entity, key=key, fields=dumps(fields), updated_at=utcnow()))

        if session is not None:
            _write(session)
            return
        with self._session() as s:
            _write(s)
            s.commit()

    def map_id(self, entity: str, factusol_key: str | None = None, prestashop_id: str | None = None) -> IdMap | None:
        with self._session() as s:
            q = select(IdMap).where(IdMap.entity == entity)
            if factusol_key is not None:
                q = q.where(IdMap.factusol_key == str(factusol_key))
            if prestashop_id is not None:
                q = q.where(IdMap.prestashop_id == str(prestashop_id))
            return s.exec(q).first()

    def link(self, entity: str, factusol_key: str, prestashop_id: str) -> None:
        with self._session() as s:
            if not s.exec(select(IdMap).where(IdMap.entity == entity, IdMap.factusol_key == str(factusol_key))).first():
                s.add(IdMap(entity=entity, factusol_key=str(factusol_key), prestashop_id=str(prestashop_id)))
                s.commit()

    def id_map(self, entity: str) -> dict[str, str]:
        """factusol_key -> prestashop_id for one entity (all of it: for listings; syncs look up their keys)."""
        with self._session() as s:
            rows = s.exec(select(IdMap.factusol_key, IdMap.prestashop_id).where(IdMap.entity == entity))
            return dict(rows.all())

    def id_map_for(self, entity: str, factusol_keys: Iterable[Any]) -> dict[str, str]:
        """factusol_key -> prestashop_id for just these keys (a batch costs its own size, not the map's)."""
        return self._id_lookup(entity, IdMap.__table__.c.factusol_key, IdMap.__table__.c.prestashop_id,
                               factusol_keys)

    def id_map_by_prestashop(self, entity: str, prestashop_ids: Iterable[Any]) -> dict[str, str]:
        """prestashop_id -> factusol_key for just these shop ids."""
        return self._id_lookup(entity, IdMap.__table__.c.prestashop_id, IdMap.__table__.c.factusol_key,
                               prestashop_ids)

    def _id_lookup(self, entity: str, by, out, values: Iterable[Any]) -> dict[str, str]:
        wanted = sorted({str(v) for v in values})
        t = IdMap.__table__
        found: dict[str, str] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(wanted), _IN_CHUNK):
                chunk = wanted[i:i + _IN_CHUNK]
                found.update(conn.execute(sa_select(by, out).where(t.c.entity == entity, by.in_(chunk))).all())
        return found

    # -- conflicts ------------------------------------------------------------------------------------
    def open_conflict(self, entity: str, key: str, field: str, base: Any, factusol: Any, prestashop: Any,
                      change_id: int | None = None) -> int:
        with self._session() as s:
            existing = s.exec(select(Conflict).where(
                Conflict.entity == entity, Conflict.key == key, Conflict.field == field, Conflict.status == "open"
            )).first()
            if existing:  # a newer disagreement on the same field replaces the values, keeps one open conflict
                existing.base, existing.factusol, existing.prestashop = dumps(base), dumps(factusol), dumps(prestashop)
                s.add(existing)
                s.commit()
                return existing.id
            conflict = Conflict(entity=entity, key=key, field=field, base=dumps(base), factusol=dumps(factusol),
                                prestashop=dumps(prestashop), change_id=change_id)
            s.add(conflict)
            s.commit()
            return conflict.id

    def conflicts(self, status: str | None = "open") -> list[Conflict]:
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
            if conflict.status != "open":
                raise ValueError(f"conflict {conflict_id} is already {conflict.status}")
            values = {"factusol": conflict.factusol, "prestashop": conflict.prestashop, "base": conflict.base}
            if take == "custom":
                conflict.resolution = dumps(custom_value)
            elif take in values:
                conflict.resolution = values[take]
            else:
                raise ValueError("take must be factusol, prestashop, base or custom")
            conflict.status, conflict.resolved_by, conflict.resolved_at = "resolved", take, utcnow()
            s.add(conflict)
            s.commit()
            return conflict

    def resolved_conflicts(self, entity: str | None = None) -> list[Conflict]:
        """Conflicts a person resolved that the engine has not written yet."""
        with self._session() as s:
            q = select(Conflict).where(Conflict.status == "resolved").order_by(Conflict.id)
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
            still_open = s.exec(select(Conflict.id).where(
                Conflict.entity == entity, Conflict.key == key, Conflict.status == "open")).first()
            if still_open:
                return 0
            rows = s.exec(select(Change).where(Change.status == CONFLICT, Change.held_by == f"{entity}:{key}")).all()
            for change in rows:
                change.status, change.detail = APPLIED, "applied after the conflict was resolved"
                s.add(change)
            s.commit()
            return len(rows)

    # -- quarantine -----------------------------------------------------------------------------------
    def quarantine(self, entity: str, key: str, side: str, reason: str, field: str = "",
                   change_id: int | None = None) -> int:
        with self._session() as s:
            existing = s.exec(select(Quarantine).where(
                Quarantine.entity == entity, Quarantine.key == key, Quarantine.side == side,
                Quarantine.status == "open",
            )).first()
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

    def quarantined(self, status: str | None = "open") -> list[Quarantine]:
        with self._session() as s:
            q = select(Quarantine).order_by(Quarantine.id)
            if status:
                q = q.where(Quarantine.status == status)
            return list(s.exec(q).all())

    def release_quarantine(self, entity: str, key: str, status: str = "resolved") -> int:
        """Close the open quarantine rows of one key (its cause is fixed); their changes become applied."""
        released = 0
        with self._session() as s:
            for row in s.exec(select(Quarantine).where(
                Quarantine.entity == entity, Quarantine.key == key, Quarantine.status == "open",
            )).all():
                row.status, row.updated_at = status, utcnow()
                s.add(row)
                released += 1
            for change in s.exec(select(Change).where(
                Change.status == QUARANTINED, Change.held_by == f"{entity}:{key}",
            )).all():
                change.status, change.detail = APPLIED, "applied after quarantine"
                s.add(change)
            s.commit()
        return released

    def skip_quarantine(self, quarantine_id: int) -> None:
        with self._session() as s:
            row = s.get(Quarantine, quarantine_id)
            if row is None:
                raise KeyError(f"no quarantined change with id {quarantine_id}")
            row.status, row.updated_at = "skipped", utcnow()
            s.add(row)
            if row.change_id:
                change = s.get(Change, row.change_id)
                if change:
                    change.status = SKIPPED
                    s.add(change)
            s.commit()

    # -- ledger ---------------------------------------------------------------------------------------
    def record_applied(self, target: str, entity: str, source_table: str, row_key: str, row_hash: str = "",
                       op: str = "", change_id: int | None = None) -> None:
        with self._session() as s:
            s.add(AppliedLedger(target=target, entity=entity, source_table=source_table, row_key=row_key,
                                row_hash=row_hash, op=op, change_id=change_id))
            s.commit()

    def last_written_hash(self, target: str, source_table: str, row_key: str) -> str | None:
        with self._session() as s:
            row = s.exec(select(AppliedLedger.row_hash).where(
                AppliedLedger.target == target, AppliedLedger.source_table == source_table,
                AppliedLedger.row_key == row_key,
            ).order_by(AppliedLedger.id.desc())).first()
            return row

    def last_written_hashes(self, target: str, source_table: str, keys: list[str]) -> dict[str, str]:
        """last_written_hash for many keys at once: key -> hash of the newest ledger row."""
        t = AppliedLedger.__table__
        out: dict[str, str] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(keys), 500):
                chunk = keys[i:i + 500]
                for key, row_hash in conn.execute(sa_select(t.c.row_key, t.c.row_hash).where(
                        t.c.target == target, t.c.source_table == source_table, t.c.row_key.in_(chunk),
                ).order_by(t.c.id)):
                    out[key] = row_hash  # ordered by id: the newest write wins
        return out

    # -- summary --------------------------------------------------------------------------------------
    def status_summary(self) -> dict[str, Any]:
        with self._session() as s:
            checkpoints = {c.name: loads(c.value) for c in s.exec(select(Checkpoint)).all()}
            open_conflicts = s.exec(select(func.count()).select_from(Conflict).where(Conflict.status == "open")).one()
            open_quarantine = s.exec(
                select(func.count()).select_from(Quarantine).where(Quarantine.status == "open")).one()
        return {
            "changes": self.counts(),
            "open_conflicts": open_conflicts,
            "open_quarantine": open_quarantine,
            "checkpoints": checkpoints,
            "store_schema_version": self.schema_version(),
        }

    # -- batch writes (initial sync, large batches) ----------------------------------------------------
    def link_many(self, entity: str, pairs: Iterable[tuple[str, str]]) -> int:
        """`link` for many (factusol_key, prestashop_id) pairs in ONE transaction; keys already linked (or
        repeated in `pairs`) keep their first link.  Returns how many links were added."""
        wanted: dict[str, str] = {}
        for key, pid in pairs:
            wanted.setdefault(str(key), str(pid))
        if not wanted:
            return 0
        t = IdMap.__table__
        now = utcnow()
        with self.engine.begin() as conn:
            keys = list(wanted)
            for i in range(0, len(keys), _IN_CHUNK):
                chunk = keys[i:i + _IN_CHUNK]
                for (known,) in conn.execute(sa_select(t.c.factusol_key).where(
                        t.c.entity == entity, t.c.factusol_key.in_(chunk))):
                    wanted.pop(known, None)
            if wanted:
                conn.execute(t.insert(), [{"entity": entity, "factusol_key": k, "prestashop_id": v, "created_at": now}
                                          for k, v in wanted.items()])
        return len(wanted)

    def set_baselines(self, entity: str, items: dict[str, dict]) -> None:
        """`set_baseline` for many keys in ONE transaction (insert or replace each key's fields)."""
        if not items:
            return
        now = utcnow()
        with self.engine.begin() as conn:
            _upsert(conn, Baseline.__table__, ("entity", "key"),
                    [{"entity": entity, "key": str(k), "fields": dumps(v), "updated_at": now} for k, v in items.items()])

    def record_applied_many(self, target: str, entity: str, rows: Iterable[tuple[str, str, str]], op: str = "",
                            change_id: int | None = None) -> int:
        """`record_applied` for many (source_table, row_key, row_hash) in ONE transaction; returns how many."""
        now = utcnow()
        values = [{"change_id": change_id, "target": target, "entity": entity, "source_table": table,
                   "row_key": key, "row_hash": row_hash, "op": op, "applied_at": now} for table, key, row_hash in rows]
        if values:
            with self.engine.begin() as conn:
                for i in range(0, len(values), _IN_CHUNK * 10):
                    conn.execute(AppliedLedger.__table__.insert(), values[i:i + _IN_CHUNK * 10])
        return len(values)


# --------------------------------------------------------------------------------------------- capture helpers

_IN_CHUNK = 500  # values per IN list / per bulk statement (SQLite's old limit is 999 bound parameters)


def _image_encoder(sort_keys: bool):
    """A JSON encoder for stored images: orjson where it can (ten times the standard encoder's speed, which was a
    third of the binlog capture's own cost), the standard encoder where orjson refuses (an integer beyond 64 bits,
    a dict key that is not text).  Both write compact UTF-8 JSON that `loads` reads back to the same values; dates
    go through `_json_default` in both, so they read the same too."""
    options = orjson.OPT_PASSTHROUGH_DATETIME | (orjson.OPT_SORT_KEYS if sort_keys else 0)
    fallback = json.JSONEncoder(default=_json_default, sort_keys=sort_keys, ensure_ascii=False,
                                separators=(",", ":")).encode
    fast, error = orjson.dumps, orjson.JSONEncodeError

    def encode(value: Any) -> str:
        try:
            return fast(value, _json_default, options).decode()
        except error:
            return fallback(value)

    return encode


# Row snapshot images (sorted keys, as `dumps` writes them).
_ENCODE = _image_encoder(sort_keys=True)
# Change-log images keep the source's column order (nothing compares their text; hashes come from the values):
# skipping the key sort is a few per cent of the binlog capture.
_IMAGE_ENCODE = _image_encoder(sort_keys=False)


def _sqlite_has_json() -> bool:
    """SQLite's JSON functions are built in from 3.38; older builds may lack them."""
    with closing(sqlite3.connect(":memory:")) as conn:
        try:
            conn.execute("SELECT json_extract('[1]', '$[0]')")
            return True
        except sqlite3.OperationalError:
            return False


_SQLITE_HAS_JSON = _sqlite_has_json()
_CHANGE_COLUMNS = ("side", "entity", "source_table", "row_key", "op", "before", "after", "position", "txn")


def _insert_changes(conn, values: list[tuple], now: datetime) -> None:
    """Insert new change rows (tuples of text in `_CHANGE_COLUMNS` order) with the Change defaults.

    On SQLite the whole batch is ONE statement: the rows go in as one JSON array of arrays that SQLite unpacks
    itself (`json_each`).  That is one call into SQLite, which runs without Python's GIL, where an executemany
    binds every row in Python holding it: a capture that commits on a background thread (the binlog) parses on
    while its batch is written.  An SQLite without JSON functions takes the executemany; every other dialect goes
    through Core.
    """
    table = Change.__table__
    defaults = {"captured_at": now, "status": PENDING, "attempts": 0, "detail": "", "held_by": ""}
    if conn.dialect.name == "sqlite":
        # dialect_impl: the SQLite DATETIME text format the ORM and Core write, not the driver's own adapter.
        process = table.c.captured_at.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        tail = (process(now) if process else now, PENDING, 0, "", "")
        columns = ", ".join(_CHANGE_COLUMNS + tuple(defaults))
        if _SQLITE_HAS_JSON:
            unpacked = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(_CHANGE_COLUMNS)))
            conn.exec_driver_sql(f"INSERT INTO {table.name} ({columns}) SELECT {unpacked}, ?, ?, ?, ?, ? "
                                 "FROM json_each(?) ORDER BY key", tail + (orjson.dumps(values).decode(),))
        else:
            marks = ", ".join("?" * (len(_CHANGE_COLUMNS) + len(tail)))
            conn.exec_driver_sql(f"INSERT INTO {table.name} ({columns}) VALUES ({marks})", [v + tail for v in values])
        return
    conn.execute(table.insert(), [{**dict(zip(_CHANGE_COLUMNS, v)), **defaults} for v in values])


def _collapse_snapshots(snapshots: Iterable[tuple[str, str, str, str | None, dict | str | None]]
                        ) -> list[tuple[str, str, str, str | None, str | None]]:
    """(side, table, key, hash, image text) rows to write, hash None for a delete; the last item per key wins.

    A dict image is encoded as JSON, a str image (a compact image) is stored as it is, None stores NULL."""
    out: dict[tuple[str, str, str], tuple[str, str, str, str | None, str | None]] = {}
    encode = _ENCODE
    for item in snapshots:
        side, table, key, row_hash, image = item
        if row_hash is None:
            out[(side, table, key)] = (side, table, key, None, None)
        elif image is None or type(image) is str:
            out[(side, table, key)] = item if type(item) is tuple else (side, table, key, row_hash, image)
        else:
            out[(side, table, key)] = (side, table, key, row_hash, encode(image))
    return list(out.values())


def _load_image(text: str | None) -> dict | str | None:
    """A stored snapshot image: JSON decoded; a compact image ("~...") handed back as text."""
    if text is None or text.startswith("~"):
        return text
    return json.loads(text)


def _logged_positions(conn, rows: list[CapturedRow]) -> set[tuple[str, str, str, str]]:
    """(side, position, table, key) of the rows' positions already in the change log: one query per chunk."""
    c = Change.__table__.c
    by_side: dict[str, set[str]] = {}
    for row in rows:
        by_side.setdefault(row.side, set()).add(row.position)
    found: set[tuple[str, str, str, str]] = set()
    sqlite = conn.dialect.name == "sqlite"
    for side, positions in by_side.items():
        ordered = sorted(positions)
        for i in range(0, len(ordered), _IN_CHUNK):
            chunk = ordered[i:i + _IN_CHUNK]
            if sqlite:  # plain driver SQL: SQLAlchemy re-renders an expanding IN list on every execution
                result = conn.exec_driver_sql(
                    f"SELECT side, position, source_table, row_key FROM {Change.__tablename__} "
                    f"WHERE side = ? AND position IN ({', '.join('?' * len(chunk))})", (side, *chunk))
            else:
                result = conn.execute(sa_select(c.side, c.position, c.source_table, c.row_key)
                                      .where(c.side == side, c.position.in_(chunk)))
            found.update((s, p, t, k) for s, p, t, k in result)
    return found


def _write_snapshots(conn, snaps: list[tuple[str, str, str, str | None, str | None]]) -> None:
    """Write `_collapse_snapshots` rows: an upsert for each hash, a delete for each None."""
    t = RowSnapshot.__table__
    deletes = [s[:3] for s in snaps if s[3] is None]
    upserts = [s for s in snaps if s[3] is not None] if deletes else snaps
    if conn.dialect.name == "sqlite":
        # Straight to the driver (a baseline writes 100k+ snapshots; SQLAlchemy's per-row parameter handling
        # cost more than SQLite): one executemany DELETE and one executemany upsert.
        if deletes:
            conn.exec_driver_sql(f"DELETE FROM {t.name} WHERE side = ? AND source_table = ? AND row_key = ?", deletes)
        if upserts:
            conn.exec_driver_sql(
                f"INSERT INTO {t.name} (side, source_table, row_key, row_hash, image) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (side, source_table, row_key) DO UPDATE SET row_hash = excluded.row_hash, "
                "image = excluded.image", upserts)
        return
    if deletes:
        conn.execute(t.delete().where(t.c.side == bindparam("d_side"), t.c.source_table == bindparam("d_table"),
                                      t.c.row_key == bindparam("d_key")),
                     [{"d_side": side, "d_table": table, "d_key": key} for side, table, key in deletes])
    if upserts:
        _upsert(conn, t, ("side", "source_table", "row_key"),
                [{"side": side, "source_table": table, "row_key": key, "row_hash": row_hash, "image": image}
                 for side, table, key, row_hash, image in upserts])


def _upsert(conn, table, keys: tuple[str, ...], values: list[dict], dialect: str | None = None) -> None:
    """Insert or update rows by primary key: ON CONFLICT on SQLite/PostgreSQL, update-then-insert elsewhere.

    `dialect` overrides the connection's dialect name (tests run the portable path on SQLite with "generic").
    """
    name = dialect or conn.dialect.name
    if name in ("sqlite", "postgresql"):
        stmt = _conflict_insert(name)(table)
        others = [c for c in values[0] if c not in keys]
        stmt = stmt.on_conflict_do_update(index_elements=[table.c[k] for k in keys],
                                          set_={c: stmt.excluded[c] for c in others})
        for i in range(0, len(values), _IN_CHUNK * 10):
            conn.execute(stmt, values[i:i + _IN_CHUNK * 10])
        return
    # Portable: find which keys exist (chunked IN on the last key column, grouped by the others), then one
    # executemany UPDATE for those and one executemany INSERT for the rest.
    head, last = keys[:-1], keys[-1]
    groups: dict[tuple, list[dict]] = {}
    for v in values:
        groups.setdefault(tuple(v[k] for k in head), []).append(v)
    existing: set[tuple] = set()
    for prefix, group in groups.items():
        wanted = [v[last] for v in group]
        for i in range(0, len(wanted), _IN_CHUNK):
            q = sa_select(table.c[last]).where(*(table.c[k] == p for k, p in zip(head, prefix)),
                                            table.c[last].in_(wanted[i:i + _IN_CHUNK]))
            existing.update(prefix + (k,) for k in conn.execute(q).scalars())
    updates = [v for v in values if tuple(v[k] for k in keys) in existing]
    inserts = [v for v in values if tuple(v[k] for k in keys) not in existing]
    if updates:
        others = [c for c in values[0] if c not in keys]
        stmt = (table.update().where(*(table.c[k] == bindparam(f"k_{k}") for k in keys))
                .values({c: bindparam(f"v_{c}") for c in others}))
        conn.execute(stmt, [{**{f"k_{k}": v[k] for k in keys}, **{f"v_{c}": v[c] for c in others}}
                            for v in updates])
    if inserts:
        conn.execute(table.insert(), inserts)


def _conflict_insert(dialect: str):
    """The INSERT construct with ON CONFLICT of a dialect that has one (sqlite, postgresql)."""
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert
    return insert


def _locked_checkpoint(conn, name: str) -> Any:
    """A checkpoint's committed value, read inside the caller's write transaction: a no-op UPDATE first takes the
    write lock (SQLite begins the transaction on it) or the row lock, so no other writer commits between this read
    and the caller's write."""
    t = Checkpoint.__table__
    if conn.dialect.name in ("sqlite", "postgresql"):  # a first writer: create the row to lock (a second one waits)
        conn.execute(_conflict_insert(conn.dialect.name)(t).values(name=name, value="null", updated_at=utcnow())
                     .on_conflict_do_nothing(index_elements=[t.c.name]))
    conn.execute(t.update().where(t.c.name == name).values(name=t.c.name))
    return loads(conn.execute(sa_select(t.c.value).where(t.c.name == name)).scalar())


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
