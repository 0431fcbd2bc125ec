"""The row reading both shop pollers share: a row's key, the watermark text, the diff of fetched rows against the
snapshots, a whole table read in key order, and rows fetched by key."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from replicator.capture.snapshot import Differ, RowHasher, canon
from replicator.capture.tables import WatchedTable
from replicator.store import dumps, loads

from .binlog_values import clean_value
from .checksum import q


def row_key(table: WatchedTable, values) -> str:
    return dumps({c: canon(v) for c, v in zip(table.pk, values)})


def mark_text(value) -> str | None:
    """A date_upd watermark as stored in the checkpoint."""
    return value.isoformat(sep=" ") if isinstance(value, datetime) else (str(value) if value is not None else None)


def later(a, b):
    """The later of two watermarks, either of which may be None."""
    return b if a is None or (b is not None and b > a) else a


def _reading(cur, table: WatchedTable) -> tuple[list[str], RowHasher, list[int]]:
    """The columns of an executed SELECT *, their row hasher, and where the key's columns are."""
    columns = [d[0] for d in cur.description]
    return columns, RowHasher(columns), [columns.index(c) for c in table.pk]


def row_hashes(cur, table: WatchedTable) -> list[tuple[str, str]]:
    """(row key, row hash) of each row of an executed SELECT *, computed as `diff_fetched` computes them: a row the
    replicator wrote and read back so (`write/readback.py`) is known as its own when a poll reads it."""
    _columns, hasher, pk_idx = _reading(cur, table)
    out = []
    for raw in cur.fetchall():
        vals = [clean_value(v) for v in raw]
        out.append((row_key(table, [vals[i] for i in pk_idx]), hasher(vals)))
    return out


def diff_fetched(cur, table: WatchedTable, differ: Differ, skip: set[str] | None = None) -> tuple:
    """Diff the rows of an executed SELECT *; returns (max ts value, last pk tuple, row count).  Keys in `skip`
    are read (for the watermark) but not diffed.  (A row's key and hash as in `row_hashes`.)"""
    columns, hasher, pk_idx = _reading(cur, table)
    ts_idx = columns.index(table.ts_column) if table.ts_column in columns else None
    mark, last, n = None, None, 0
    for raw in cur.fetchall():
        vals = [clean_value(v) for v in raw]
        key = row_key(table, [vals[i] for i in pk_idx])
        if skip is None or key not in skip:
            differ.row(key, hasher(vals), lambda vals=vals: dict(zip(columns, vals)))
        if ts_idx is not None and vals[ts_idx] is not None and (mark is None or vals[ts_idx] > mark):
            mark = vals[ts_idx]
        last = tuple(raw[i] for i in pk_idx)
        n += 1
    return mark, last, n


def read_keyset(
    cur, table: WatchedTable, physical: str, differ: Differ, fetch: int, after_part: Callable[[], None] | None = None
) -> tuple[str | None, int]:
    """Every row of `physical` in key order, `fetch` rows per read, diffed; `after_part` runs after each read (the
    callers flush baseline snapshots there).  Returns (watermark, rows read)."""
    pk = ", ".join(q(c) for c in table.pk)
    base = f"SELECT * FROM {q(physical)}"
    last, mark, total = None, None, 0
    while True:
        if last is None:
            cur.execute(f"{base} ORDER BY {pk} LIMIT %s", (fetch,))
        else:
            marks = ", ".join(["%s"] * len(last))
            cur.execute(f"{base} WHERE ({pk}) > ({marks}) ORDER BY {pk} LIMIT %s", (*last, fetch))
        m, last_in_part, n = diff_fetched(cur, table, differ)
        mark, total = later(mark, m), total + n
        if after_part is not None:
            after_part()
        if n < fetch:
            break
        last = last_in_part
    return mark_text(mark), total


def fetch_keys(cur, table: WatchedTable, physical: str, differ: Differ, keys: Iterable[str]) -> tuple[str | None, int]:
    """The rows of `keys` (row keys as `row_key` makes them) fetched one by one and diffed; (watermark, rows)."""
    where = " AND ".join(f"{q(c)} = %s" for c in table.pk)
    mark, total = None, 0
    for key in keys:
        values = loads(key)
        cur.execute(f"SELECT * FROM {q(physical)} WHERE {where}", tuple(values[c] for c in table.pk))
        m, _, n = diff_fetched(cur, table, differ)
        mark, total = later(mark, m), total + n
    return mark_text(mark), total
