"""How `Store.record_capture` writes a batch: change rows in one statement, already-logged positions found in
chunks, row snapshots collapsed per key and upserted or deleted."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Iterable

import orjson
from sqlalchemy import bindparam
from sqlalchemy import select as sa_select

from .codec import encode_snapshot_image
from .dialect import IN_CHUNK, SQLITE_HAS_JSON, upsert
from .schema import PENDING, Change, RowSnapshot

if TYPE_CHECKING:
    from . import CapturedRow

CHANGE_COLUMNS = ("side", "entity", "source_table", "row_key", "op", "before", "after", "position", "txn")


def insert_changes(conn, values: list[tuple], now: datetime) -> None:
    """Insert new change rows (tuples of text in `CHANGE_COLUMNS` order) with the Change defaults.

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
        columns = ", ".join(CHANGE_COLUMNS + tuple(defaults))
        if SQLITE_HAS_JSON:
            unpacked = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(CHANGE_COLUMNS)))
            conn.exec_driver_sql(
                f"INSERT INTO {table.name} ({columns}) SELECT {unpacked}, ?, ?, ?, ?, ? FROM json_each(?) ORDER BY key",
                tail + (orjson.dumps(values).decode(),),
            )
        else:
            marks = ", ".join("?" * (len(CHANGE_COLUMNS) + len(tail)))
            conn.exec_driver_sql(f"INSERT INTO {table.name} ({columns}) VALUES ({marks})", [v + tail for v in values])
        return
    conn.execute(table.insert(), [{**dict(zip(CHANGE_COLUMNS, v)), **defaults} for v in values])


def collapse_snapshots(
    snapshots: Iterable[tuple[str, str, str, str | None, dict | str | None]],
) -> list[tuple[str, str, str, str | None, str | None]]:
    """(side, table, key, hash, image text) rows to write, hash None for a delete; the last item per key wins.

    A dict image is encoded as JSON, a str image (a compact image) is stored as it is, None stores NULL."""
    out: dict[tuple[str, str, str], tuple[str, str, str, str | None, str | None]] = {}
    encode = encode_snapshot_image
    for item in snapshots:
        side, table, key, row_hash, image = item
        if row_hash is None:
            out[(side, table, key)] = (side, table, key, None, None)
        elif image is None or type(image) is str:
            out[(side, table, key)] = item if type(item) is tuple else (side, table, key, row_hash, image)
        else:
            out[(side, table, key)] = (side, table, key, row_hash, encode(image))
    return list(out.values())


def logged_positions(conn, rows: list[CapturedRow]) -> set[tuple[str, str, str, str]]:
    """(side, position, table, key) of the rows' positions already in the change log: one query per chunk."""
    c = Change.__table__.c
    by_side: dict[str, set[str]] = {}
    for row in rows:
        by_side.setdefault(row.side, set()).add(row.position)
    found: set[tuple[str, str, str, str]] = set()
    sqlite = conn.dialect.name == "sqlite"
    for side, positions in by_side.items():
        ordered = sorted(positions)
        for i in range(0, len(ordered), IN_CHUNK):
            chunk = ordered[i : i + IN_CHUNK]
            if sqlite:  # plain driver SQL: SQLAlchemy re-renders an expanding IN list on every execution
                result = conn.exec_driver_sql(
                    f"SELECT side, position, source_table, row_key FROM {Change.__tablename__} "
                    f"WHERE side = ? AND position IN ({', '.join('?' * len(chunk))})",
                    (side, *chunk),
                )
            else:
                result = conn.execute(
                    sa_select(c.side, c.position, c.source_table, c.row_key).where(
                        c.side == side, c.position.in_(chunk)
                    )
                )
            found.update((s, p, t, k) for s, p, t, k in result)
    return found


def write_snapshots(conn, snaps: list[tuple[str, str, str, str | None, str | None]]) -> None:
    """Write `collapse_snapshots` rows: an upsert for each hash, a delete for each None."""
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
                "image = excluded.image",
                upserts,
            )
        return
    if deletes:
        conn.execute(
            t.delete().where(
                t.c.side == bindparam("d_side"),
                t.c.source_table == bindparam("d_table"),
                t.c.row_key == bindparam("d_key"),
            ),
            [{"d_side": side, "d_table": table, "d_key": key} for side, table, key in deletes],
        )
    if upserts:
        upsert(
            conn,
            t,
            ("side", "source_table", "row_key"),
            [
                {"side": side, "source_table": table, "row_key": key, "row_hash": row_hash, "image": image}
                for side, table, key, row_hash, image in upserts
            ],
        )
