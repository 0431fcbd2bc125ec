"""The state store: change log, checkpoints, row snapshots, baselines, id map, conflicts, quarantine, ledger.

SQLModel over SQLite by default (one file beside the config) or any SQLAlchemy URL.  The daemon, the CLI
and the TUI all open the same store; SQLite runs in WAL mode with a busy timeout so they can share it.

Crash safety rests on one rule: captured changes and the checkpoint (and the row snapshots they were diffed
against) are written in ONE transaction (`Store.record_capture`).  A crash before the commit loses nothing
(the source is re-read from the old checkpoint); a crash after it duplicates nothing (the checkpoint moved).
"""

from __future__ import annotations

import re
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Iterator

from sqlalchemy import event, func, or_, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel, create_engine, select

from .capture import collapse_snapshots, insert_changes, logged_positions, write_snapshots
from .claims import CheckpointClaims
from .codec import dumps, encode_change_image, load_image, loads
from .writes import StoreWrites
from .dialect import IN_CHUNK, locked_checkpoint, sqlite_pragmas, upsert
from .ledger import AppliedLedgerOps
from .review import ReviewQueue
from .schema import (
    APPLIED,
    CONFLICT,
    ECHO,
    PENDING,
    QUARANTINED,
    SKIPPED,
    STORE_SCHEMA_VERSION,
    AppliedLedger,
    Baseline,
    Change,
    ChangeStatus,
    Checkpoint,
    Conflict,
    ConflictStatus,
    IdMap,
    Quarantine,
    QuarantineStatus,
    RowSnapshot,
    StoreMeta,
    upgrade,
    utcnow,
)

NAMESPACE_RE = re.compile(r"[a-z][a-z0-9_]{0,40}")  # a store_namespace: a PostgreSQL schema of this instance

__all__ = [
    "APPLIED",
    "CONFLICT",
    "ECHO",
    "PENDING",
    "QUARANTINED",
    "SKIPPED",
    "STORE_SCHEMA_VERSION",
    "AppliedLedger",
    "Baseline",
    "CapturedRow",
    "Change",
    "ChangeStatus",
    "Checkpoint",
    "Conflict",
    "ConflictStatus",
    "IdMap",
    "Quarantine",
    "QuarantineStatus",
    "RowSnapshot",
    "Store",
    "StoreMeta",
    "dumps",
    "is_busy",
    "loads",
    "utcnow",
]


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


_CREATE_TRIES = 10


def _made_meanwhile(exc: DBAPIError) -> bool:
    """Whether a CREATE or INSERT failed because another process made the same table, column or row just before, or
    (SQLite) is making it now: a reader that turns writer while another writes gets "database is locked" at once,
    without waiting out the busy timeout, since waiting could deadlock."""
    text = str(getattr(exc, "orig", exc)).lower()
    return isinstance(exc, IntegrityError) or any(
        words in text for words in ("already exists", "duplicate column", "duplicate key", "database is locked")
    )


def is_busy(exc: BaseException) -> bool:
    """Whether a store call failed because the store stayed locked by another writer (try again later)."""
    return isinstance(exc, OperationalError)


class Store(ReviewQueue, AppliedLedgerOps, CheckpointClaims):
    """Typed access to the state store.  Every method opens and commits its own transaction.  Conflicts and
    quarantine (`review.py`), the applied ledger (`ledger.py`) and the atomic checkpoint rows (`claims.py`) are
    mixed in from their own modules."""

    def __init__(self, url: str, namespace: str = ""):
        self.url = url
        self.namespace = namespace
        # Links this process made, per entity (`link`): something now exists that quarantined keys may need.
        self.links_made: Counter[str] = Counter()
        sqlite = url.startswith("sqlite")
        connect_args = {"timeout": 30, "check_same_thread": False} if sqlite else {}
        if namespace:  # one instance of many sharing a server: its own schema, first on the search path
            if sqlite or not NAMESPACE_RE.fullmatch(namespace):
                raise ValueError(f"store_namespace {namespace!r}: a plain lower-case name, for a PostgreSQL store")
            connect_args["options"] = f"-csearch_path={namespace}"
        # pre_ping: a connection the server dropped (restart, network) is replaced before use, not failed on
        self.engine = create_engine(url, connect_args=connect_args, pool_pre_ping=not sqlite)
        if sqlite:
            event.listen(self.engine, "connect", sqlite_pragmas)
        self._create_schema()

    @staticmethod
    def namespaces(url: str) -> list[str]:
        """The instances that keep their state in this (PostgreSQL) store: the schemas holding a store."""
        if url.startswith("sqlite"):
            return []
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(
                    sa_select(text("table_schema"))
                    .select_from(text("information_schema.tables"))
                    .where(text("table_name = :name")),
                    {"name": StoreMeta.__tablename__},
                ).all()
        finally:
            engine.dispose()
        return sorted(r[0] for r in rows)

    # -- schema version -------------------------------------------------------------------------------
    def _create_schema(self) -> None:
        """The schema, the tables and the schema version, made by whichever process comes first: several may open a
        store that does not exist yet at once (service, CLI, TUI), and each table's "exists?" check and its CREATE
        are two statements, so a process that loses the race to another's CREATE (or row) finds it made and goes
        on."""
        for attempt in range(_CREATE_TRIES):
            try:
                if self.namespace:
                    with self.engine.begin() as conn:
                        conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{self.namespace}"')
                SQLModel.metadata.create_all(self.engine)
                self._upgrade()
                return
            except DBAPIError as exc:
                if attempt == _CREATE_TRIES - 1 or not _made_meanwhile(exc):
                    raise
                time.sleep(0.02 * (attempt + 1))

    def _upgrade(self) -> None:
        with self._session() as s:
            upgrade(s)

    @property
    def store_id(self) -> str:
        """This store's identity, made once when the store is created: the shop ledger notes carry it, so a store
        that was lost or replaced is recognised (see `replicator.halt`).  Two processes making it at once keep the
        one committed first."""
        for attempt in range(_CREATE_TRIES):
            if getattr(self, "_store_id", None) is not None:
                break
            with self._session() as s:
                row = s.get(StoreMeta, "store_id")
                if row is None:
                    try:
                        s.add(StoreMeta(key="store_id", value=uuid.uuid4().hex[:12]))
                        s.commit()
                    except DBAPIError as exc:  # another process made it first: that one is the store's identity
                        s.rollback()
                        if attempt == _CREATE_TRIES - 1 or not _made_meanwhile(exc):
                            raise
                        time.sleep(0.02 * (attempt + 1))
                        continue
                    row = s.get(StoreMeta, "store_id", populate_existing=True)
                self._store_id = row.value
        return self._store_id

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
        snaps = collapse_snapshots(snapshots)
        now = utcnow()
        encode = encode_change_image
        with self.engine.begin() as conn:
            if positions_are_new:  # every position is new and distinct: nothing to look up or drop
                values = [
                    (
                        row.side,
                        row.entity,
                        row.source_table,
                        row.row_key,
                        row.op,
                        None if row.before is None else encode(row.before),
                        None if row.after is None else encode(row.after),
                        row.position,
                        row.txn,
                    )
                    for row in rows
                ]
            else:
                seen = logged_positions(conn, rows) if rows else set()
                values = []
                for row in rows:
                    ident = (row.side, row.position, row.source_table, row.row_key)
                    if ident in seen:
                        continue
                    seen.add(ident)
                    values.append(
                        (
                            row.side,
                            row.entity,
                            row.source_table,
                            row.row_key,
                            row.op,
                            None if row.before is None else encode(row.before),
                            None if row.after is None else encode(row.after),
                            row.position,
                            row.txn,
                        )
                    )
            if values:
                insert_changes(conn, values, now)
            if snaps:
                write_snapshots(conn, snaps)
            if checkpoint:
                name, value = checkpoint
                if callable(value):
                    value = value(locked_checkpoint(conn, name))
                upsert(
                    conn, Checkpoint.__table__, ("name",), [{"name": name, "value": dumps(value), "updated_at": now}]
                )
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
                    cur.execute(
                        f"SELECT row_key, row_hash FROM {t.name} WHERE side = ? AND source_table = ?", (side, table)
                    )
                    return dict(cur.fetchall())
                finally:
                    cur.close()
            result = conn.execute(
                sa_select(t.c.row_key, t.c.row_hash).where(t.c.side == side, t.c.source_table == table)
            )
            return {key: h for key, h in result}

    def snapshot_image(self, side: str, table: str, key: str) -> dict | str | None:
        """The kept image of a row: a dict, a compact image as stored (str), or None (none kept / no row)."""
        t = RowSnapshot.__table__
        with self.engine.connect() as conn:
            image = conn.execute(
                sa_select(t.c.image).where(t.c.side == side, t.c.source_table == table, t.c.row_key == key)
            ).scalar()
            return load_image(image)

    def snapshot_images(self, side: str, table: str, keys: list[str]) -> dict[str, dict | str | None]:
        """snapshot_image for many keys at once (the before-images of a scan's changed rows)."""
        t = RowSnapshot.__table__
        out: dict[str, dict | str | None] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(keys), 500):
                chunk = keys[i : i + 500]
                for key, image in conn.execute(
                    sa_select(t.c.row_key, t.c.image).where(
                        t.c.side == side, t.c.source_table == table, t.c.row_key.in_(chunk)
                    )
                ):
                    out[key] = load_image(image)
        return out

    # -- change log -----------------------------------------------------------------------------------
    def changes(
        self,
        status: str | None = None,
        entity: str | None = None,
        side: str | None = None,
        limit: int | None = None,
        after_id: int = 0,
    ) -> list[Change]:
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

    def newest_changes(
        self,
        limit: int,
        status: str | None = None,
        entity: str | None = None,
        side: str | None = None,
        key: str | None = None,
        words: Iterable[str] = (),
    ) -> list[Change]:
        """The `limit` newest changes matching the filters, oldest first (cheap: an id range from the top).

        `key`: part of the row key.  `words`: each one somewhere in the key, entity, table, row images or detail
        (LIKE: an article code, a customer's name or e-mail; case-insensitive for ASCII on SQLite)."""
        with self._session() as s:
            q = select(Change).order_by(Change.id.desc()).limit(limit)
            if status:
                q = q.where(Change.status == status)
            if entity:
                q = q.where(Change.entity == entity)
            if side:
                q = q.where(Change.side == side)
            if key:
                q = q.where(Change.row_key.like(f"%{key}%"))
            for word in words:
                pattern = f"%{word}%"
                q = q.where(
                    or_(
                        Change.row_key.like(pattern),
                        Change.entity.like(pattern),
                        Change.source_table.like(pattern),
                        Change.before.like(pattern),
                        Change.after.like(pattern),
                        Change.detail.like(pattern),
                    )
                )
            return list(reversed(s.exec(q).all()))

    def change_states(self, from_id: int, to_id: int) -> dict[int, tuple[str, str]]:
        """id -> (status, detail) for the ids in [from_id, to_id]: to refresh rows already on screen."""
        with self._session() as s:
            rows = s.exec(
                select(Change.id, Change.status, Change.detail).where(Change.id >= from_id, Change.id <= to_id)
            ).all()
            return {row_id: (status, detail) for row_id, status, detail in rows}

    def set_change_status(self, change_ids: Iterable[int], status: str, detail: str = "", held_by: str = "") -> None:
        self.set_change_statuses([(change_ids, status, detail, held_by)])

    def set_change_statuses(self, groups: Iterable[tuple[Iterable[int], str, str, str]]) -> None:
        """`set_change_status` for many (change ids, status, detail, held_by) groups in ONE transaction (an apply
        cycle's outcomes: one commit, not one per key)."""
        t = Change.__table__
        todo = [(list(ids), status, detail, held_by) for ids, status, detail, held_by in groups]
        if not any(ids for ids, *_ in todo):
            return
        with self.engine.begin() as conn:
            for ids, status, detail, held_by in todo:
                for i in range(0, len(ids), IN_CHUNK):
                    conn.execute(
                        t.update()
                        .where(t.c.id.in_(ids[i : i + IN_CHUNK]))
                        .values(status=status, detail=detail[:2000], held_by=held_by, attempts=t.c.attempts + 1)
                    )

    def counts(self) -> dict[str, int]:
        with self._session() as s:
            rows = s.exec(select(Change.status, func.count()).group_by(Change.status)).all()
            return {status: n for status, n in rows}

    # -- baselines and id map --------------------------------------------------------------------------
    def baseline(self, entity: str, key: str) -> dict | None:
        with self._session() as s:
            row = s.get(Baseline, (entity, key))
            return loads(row.fields) if row else None

    def baselines(self, entity: str, keys: Iterable[str]) -> dict[str, dict]:
        """`baseline` for many keys of one entity in one read: key -> fields (keys without one are left out)."""
        wanted = sorted({str(k) for k in keys})
        t = Baseline.__table__
        found: dict[str, dict] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(wanted), IN_CHUNK):
                rows = conn.execute(
                    sa_select(t.c.key, t.c.fields).where(t.c.entity == entity, t.c.key.in_(wanted[i : i + IN_CHUNK]))
                )
                found.update((key, loads(fields)) for key, fields in rows)
        return found

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
                self.links_made[entity] += 1

    def id_map(self, entity: str) -> dict[str, str]:
        """factusol_key -> prestashop_id for one entity (all of it: for listings; syncs look up their keys)."""
        with self._session() as s:
            rows = s.exec(select(IdMap.factusol_key, IdMap.prestashop_id).where(IdMap.entity == entity))
            return dict(rows.all())

    def id_map_for(self, entity: str, factusol_keys: Iterable[Any]) -> dict[str, str]:
        """factusol_key -> prestashop_id for just these keys (a batch costs its own size, not the map's)."""
        return self._id_lookup(entity, IdMap.__table__.c.factusol_key, IdMap.__table__.c.prestashop_id, factusol_keys)

    def id_map_by_prestashop(self, entity: str, prestashop_ids: Iterable[Any]) -> dict[str, str]:
        """prestashop_id -> factusol_key for just these shop ids."""
        return self._id_lookup(entity, IdMap.__table__.c.prestashop_id, IdMap.__table__.c.factusol_key, prestashop_ids)

    def _id_lookup(self, entity: str, by, out, values: Iterable[Any]) -> dict[str, str]:
        wanted = sorted({str(v) for v in values})
        t = IdMap.__table__
        found: dict[str, str] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(wanted), IN_CHUNK):
                chunk = wanted[i : i + IN_CHUNK]
                found.update(conn.execute(sa_select(by, out).where(t.c.entity == entity, by.in_(chunk))).all())
        return found

    # -- summary --------------------------------------------------------------------------------------
    def checkpoint_times(self) -> dict[str, tuple[Any, datetime]]:
        """name -> (value, updated_at) of every checkpoint."""
        with self._session() as s:
            return {c.name: (loads(c.value), c.updated_at) for c in s.exec(select(Checkpoint)).all()}

    def status_summary(self) -> dict[str, Any]:
        with self._session() as s:
            checkpoints = {c.name: loads(c.value) for c in s.exec(select(Checkpoint)).all()}
            open_conflicts = s.exec(
                select(func.count()).select_from(Conflict).where(Conflict.status == ConflictStatus.OPEN)
            ).one()
            open_quarantine = s.exec(
                select(func.count()).select_from(Quarantine).where(Quarantine.status == QuarantineStatus.OPEN)
            ).one()
        return {
            "changes": self.counts(),
            "open_conflicts": open_conflicts,
            "open_quarantine": open_quarantine,
            "checkpoints": checkpoints,
            "store_schema_version": self.schema_version(),
        }

    # -- batch writes (initial sync, large batches) ----------------------------------------------------
    @contextmanager
    def writes(self) -> Iterator[StoreWrites]:
        """Several batch writes (ledger rows, links, baselines) in ONE transaction: what one applied key leaves in
        the store is committed together (store/writes.py)."""
        with self.engine.begin() as conn:
            w = StoreWrites(conn)
            yield w
        self.links_made.update(w.links_made)

    def link_many(self, entity: str, pairs: Iterable[tuple[str, str]]) -> int:
        """`link` for many (factusol_key, prestashop_id) pairs in ONE transaction; keys already linked (or
        repeated in `pairs`) keep their first link.  Returns how many links were added."""
        pairs = list(pairs)
        if not pairs:
            return 0
        with self.writes() as w:
            return w.link_many(entity, pairs)

    def set_baselines(self, entity: str, items: dict[str, dict]) -> None:
        """`set_baseline` for many keys in ONE transaction (insert or replace each key's fields)."""
        if items:
            with self.writes() as w:
                w.set_baselines(entity, items)
