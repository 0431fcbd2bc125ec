"""Dialect helpers of the store: SQLite's connection pragmas and JSON support, upserts (ON CONFLICT on SQLite and
PostgreSQL, update-then-insert elsewhere) and the checkpoint read under the write lock."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select

from .codec import loads
from .schema import Checkpoint, utcnow

IN_CHUNK = 500  # values per IN list / per bulk statement (SQLite's old limit is 999 bound parameters)


def sqlite_has_json() -> bool:
    """SQLite's JSON functions are built in from 3.38; older builds may lack them."""
    with closing(sqlite3.connect(":memory:")) as conn:
        try:
            conn.execute("SELECT json_extract('[1]', '$[0]')")
            return True
        except sqlite3.OperationalError:
            return False


SQLITE_HAS_JSON = sqlite_has_json()


def upsert(conn, table, keys: tuple[str, ...], values: list[dict], dialect: str | None = None) -> None:
    """Insert or update rows by primary key: ON CONFLICT on SQLite/PostgreSQL, update-then-insert elsewhere.

    `dialect` overrides the connection's dialect name (tests run the portable path on SQLite with "generic").
    """
    name = dialect or conn.dialect.name
    if name in ("sqlite", "postgresql"):
        stmt = conflict_insert(name)(table)
        others = [c for c in values[0] if c not in keys]
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c[k] for k in keys], set_={c: stmt.excluded[c] for c in others}
        )
        for i in range(0, len(values), IN_CHUNK * 10):
            conn.execute(stmt, values[i : i + IN_CHUNK * 10])
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
        for i in range(0, len(wanted), IN_CHUNK):
            q = sa_select(table.c[last]).where(
                *(table.c[k] == p for k, p in zip(head, prefix)), table.c[last].in_(wanted[i : i + IN_CHUNK])
            )
            existing.update(prefix + (k,) for k in conn.execute(q).scalars())
    updates = [v for v in values if tuple(v[k] for k in keys) in existing]
    inserts = [v for v in values if tuple(v[k] for k in keys) not in existing]
    if updates:
        others = [c for c in values[0] if c not in keys]
        stmt = (
            table.update()
            .where(*(table.c[k] == bindparam(f"k_{k}") for k in keys))
            .values({c: bindparam(f"v_{c}") for c in others})
        )
        conn.execute(stmt, [{**{f"k_{k}": v[k] for k in keys}, **{f"v_{c}": v[c] for c in others}} for v in updates])
    if inserts:
        conn.execute(table.insert(), inserts)


def conflict_insert(dialect: str):
    """The INSERT construct with ON CONFLICT of a dialect that has one (sqlite, postgresql)."""
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert
    return insert


def locked_checkpoint(conn, name: str) -> Any:
    """A checkpoint's committed value, read inside the caller's write transaction: a no-op UPDATE first takes the
    write lock (SQLite begins the transaction on it) or the row lock, so no other writer commits between this read
    and the caller's write."""
    t = Checkpoint.__table__
    if conn.dialect.name in ("sqlite", "postgresql"):  # a first writer: create the row to lock (a second one waits)
        conn.execute(
            conflict_insert(conn.dialect.name)(t)
            .values(name=name, value="null", updated_at=utcnow())
            .on_conflict_do_nothing(index_elements=[t.c.name])
        )
    conn.execute(t.update().where(t.c.name == name).values(name=t.c.name))
    return loads(conn.execute(sa_select(t.c.value).where(t.c.name == name)).scalar())


def sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
