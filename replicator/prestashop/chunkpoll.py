"""PrestaShop capture by polling, for hosts without binlog access: costs almost nothing while the shop is idle.

One long-lived connection (reopened after an error, the caller backs off); each poll is one consistent read
(`START TRANSACTION WITH CONSISTENT SNAPSHOT`), so an order written in one transaction is seen whole or not at all.
Per watched table:

- tables with `date_upd`: the rows past the watermark (shop local time, the database's own values, reopened by
  `poll_overlap_seconds` so a late commit with an older `date_upd` is not missed), plus a server-side checksum of
  their primary keys, which reveals deletes and rows inserted with an old date;
- tables without it (stock_available, product_lang, order_detail, ...): a server-side checksum of every row.

The checksums run every poll, or every `poll_checksum_seconds` when set (a big catalogue on a busy server: the
server hashes every row of those tables each time); the date_upd windows run every poll regardless.

Checksums come per chunk of keys (`replicator.prestashop.checksum`): an idle poll reads one short row per 1,024
ids; a chunk that differs is narrowed to its changed blocks of 16 ids, and only those blocks' rows are fetched.
Every fetched row is diffed against the RowSnapshot hashes (so the overlap and a re-read never duplicate), and the
blocks' checksums are kept as snapshots too (source table `#chunk:<table>`), written by the same
`Store.record_capture` as the changes and the checkpoint: a crash neither loses nor doubles a change.  A poll that
found nothing writes nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pymysql

from replicator.capture.snapshot import DELETE, INSERT, UPDATE, DiffResult, Differ, commit_diff
from replicator.capture.tables import PRESTASHOP, WatchedTable, prestashop_tables
from replicator.config import PrestashopConfig
from replicator.prestashop.binlog_values import clean_value
from replicator.prestashop.connection import connect
from replicator.store import Store, loads

from . import checksum as ck
from .pollrows import diff_fetched, fetch_keys, later, mark_text, read_keyset, row_key
from .shop_errors import explain

log = logging.getLogger("replicator.prestashop.poll")

CHECKPOINT = "prestashop.poll"
FETCH = 2000  # rows per keyset read of a full (first) read
BASELINE_FLUSH = 5000
CHUNK_STATE = "#chunk:"  # snapshot source-table prefix of the block checksums


@dataclass
class PollReport:
    poll: int = 0
    changes: int = 0
    echoes: int = 0
    rows_read: int = 0  # rows fetched (window rows, changed blocks, first reads)
    chunks_changed: int = 0
    blocks_changed: int = 0
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=lambda: {INSERT: 0, UPDATE: 0, DELETE: 0})
    tables: dict[str, str] = field(default_factory=dict)


@dataclass
class PollStatus:
    state: str = "starting"  # starting | polling | retrying | stopped
    last_error: str = ""
    polls: int = 0
    changes: int = 0
    reconnects: int = 0
    last_poll_at: datetime | None = None

    def as_dict(self) -> dict:
        return {
            "state": self.state,
            "last_error": self.last_error,
            "polls": self.polls,
            "changes": self.changes,
            "reconnects": self.reconnects,
            "last_poll_at": self.last_poll_at.isoformat(timespec="seconds") if self.last_poll_at else None,
        }


class ChunkPoller:
    """`poll()` = one consistent read of every watched table, narrowed by watermarks and chunk checksums."""

    def __init__(
        self,
        store: Store,
        cfg: PrestashopConfig,
        tables: dict[str, WatchedTable] | None = None,
        initial_load: bool = False,
        connect_kwargs: dict | None = None,
    ):
        self.store, self.cfg = store, cfg
        self.tables = tables or prestashop_tables()
        self.initial_load = initial_load
        self.connect_kwargs = connect_kwargs or {}
        self.status = PollStatus()
        self._conn: pymysql.Connection | None = None
        self._shapes: dict[str, ck.TableShape] | None = None
        self._prepared: dict[str, str] = {}  # statement text -> name of its prepared statement on this connection
        self._known: dict[str, dict[str, str]] = {}  # table (or #chunk:table) -> key -> hash, as committed
        self._by_block: dict[str, dict[int, set[str]]] = {}  # table -> block -> known row keys in it
        self._checksummed_at: float | None = None  # monotonic time of the last committed checksum pass
        # table -> key -> server CRC32 of the window rows the last committed poll fetched (memory only: after a
        # restart the first window is fetched whole)
        self._window_crcs: dict[str, dict[str, int]] = {}
        self._next_window_crcs: dict[str, dict[str, int]] = {}

    # -- a capture Side (replicator/capture/side.py) ---------------------------------------------------------------
    side = "prestashop"

    def once(self) -> PollReport:
        return self.poll()

    def stream(self, stop: threading.Event, on_change: Callable[[int], None] | None = None) -> None:
        run_chunk_poller(self, stop, self.cfg.poll_seconds, on_change)

    # -- connection ----------------------------------------------------------------------------------------------
    def _connection(self) -> pymysql.Connection:
        if self._conn is None:
            self._conn = connect(self.cfg.url, **self.connect_kwargs)
            with self._conn.cursor() as cur:
                cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            self._shapes = None
            self._prepared = {}
        return self._conn

    def _steady(self, cur, sql: str, arg=None) -> None:
        """Run one of the statements every poll sends (`?` for its one parameter) as a prepared statement of this
        connection: its text (which names every column) crosses the wire once per connection, not once per poll."""
        name = self._prepared.get(sql)
        if name is None:
            name = self._prepared[sql] = f"replicator_poll_{len(self._prepared)}"
            cur.execute(f"PREPARE {name} FROM %s", (sql,))
        if arg is None:
            cur.execute(f"EXECUTE {name}")
        else:  # MySQL takes only user variables in USING
            cur.execute("SET @replicator_poll_arg = %s", (arg,))
            cur.execute(f"EXECUTE {name} USING @replicator_poll_arg")

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # already gone
                pass

    # -- state ---------------------------------------------------------------------------------------------------
    def _hashes(self, name: str) -> dict[str, str]:
        if name not in self._known:
            self._known[name] = self.store.snapshot_hashes(PRESTASHOP, name)
            self._by_block.pop(name, None)
        return self._known[name]

    def _blocks(self, name: str) -> dict[int, tuple[int, int]]:
        """block -> (count, xor) as last committed."""
        raw = self._hashes(CHUNK_STATE + name)
        return {int(k): _pair(v) for k, v in raw.items()}

    def _index(self, table: WatchedTable) -> dict[int, set[str]]:
        if table.name not in self._by_block:
            index: dict[int, set[str]] = {}
            first = table.pk[0]
            for key in self._hashes(table.name):
                index.setdefault(int(loads(key)[first]) // ck.BLOCK, set()).add(key)
            self._by_block[table.name] = index
        return self._by_block[table.name]

    # -- one poll ------------------------------------------------------------------------------------------------
    def poll(self) -> PollReport:
        started = time.monotonic()
        cp = self.store.checkpoint(CHECKPOINT) or {}
        poll_no = int(cp.get("poll", 0)) + 1
        baselined, chunked = set(cp.get("baselined", [])), set(cp.get("chunked", []))
        since: dict[str, str] = dict(cp.get("since", {}))
        report = PollReport(poll=poll_no)
        position, txn = f"poll:{poll_no}", f"prestashop:poll:{poll_no}"
        total, blocks_out = DiffResult(), []
        self._next_window_crcs = {}
        every = float(self.cfg.poll_checksum_seconds or 0)
        checksums = every <= 0 or self._checksummed_at is None or started - self._checksummed_at >= every
        conn = self._connection()
        try:
            with conn.cursor() as cur:
                if self._shapes is None:
                    self._shapes = ck.shapes(
                        cur, {n: (t.physical(self.cfg.prefix), t.pk) for n, t in self.tables.items()}
                    )
                cur.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT")
                for name, table in self.tables.items():
                    shape = self._shapes.get(name)
                    if shape is None:
                        report.tables[name] = "missing"
                        continue
                    baseline = name not in baselined and not self.initial_load
                    differ = Differ(self.store, table, self._hashes(name), position, txn, baseline=baseline)
                    if baseline or name not in chunked:
                        mark, state = self._full(cur, table, shape, differ, report, flush_baseline=baseline)
                        report.tables[name] = "baseline" if baseline else "full"
                        blocks_out += _state_snapshots(name, self._blocks(name), state)
                    elif not checksums and not table.ts_column:
                        report.tables[name] = "waiting"  # its checksum pass comes every poll_checksum_seconds
                        continue
                    else:
                        mark, changed = self._incremental(cur, table, shape, differ, since.get(name), report, checksums)
                        report.tables[name] = (
                            ("window+chunks" if checksums else "window") if table.ts_column else "chunks"
                        )
                        blocks_out += _state_snapshots(name, self._blocks(name), changed, partial=True)
                    if mark is not None and (name not in since or mark > since[name]):
                        since[name] = mark
                    baselined.add(name)
                    chunked.add(name)
                    total.extend(differ.result)
                cur.execute("COMMIT")
        except BaseException:
            self.close()  # a half-read connection is never reused
            raise
        for snap in blocks_out:
            total.snapshots.append(snap)
            total.new_hashes.setdefault(snap[1], {})[snap[2]] = snap[3]
        state_moved = (
            sorted(baselined) != sorted(cp.get("baselined", []))
            or sorted(chunked) != sorted(cp.get("chunked", []))
            or since != cp.get("since", {})
        )
        if total.rows or total.snapshots or state_moved:
            checkpoint = {
                "poll": poll_no,
                "baselined": sorted(baselined),
                "chunked": sorted(chunked),
                "since": since,
                "at": datetime.now().isoformat(timespec="seconds"),
            }
            try:
                report.changes = commit_diff(self.store, total, (CHECKPOINT, checkpoint), self._known)
            except BaseException:
                self._by_block.clear()
                raise
            self._reindex(total)
        if checksums:
            self._checksummed_at = started
        self._window_crcs.update(self._next_window_crcs)
        report.echoes, report.counts = total.echoes, dict(total.counts)
        report.seconds = round(time.monotonic() - started, 3)
        return report

    def _reindex(self, diff: DiffResult) -> None:
        for name, updates in diff.new_hashes.items():
            index = self._by_block.get(name)
            table = self.tables.get(name)
            if index is None or table is None:
                continue
            first = table.pk[0]
            for key, h in updates.items():
                block = int(loads(key)[first]) // ck.BLOCK
                if h is None:
                    index.get(block, set()).discard(key)
                else:
                    index.setdefault(block, set()).add(key)

    # -- readers -------------------------------------------------------------------------------------------------
    def _read(self, cur, table: WatchedTable, differ: Differ, report: PollReport, skip: set[str] | None = None):
        """Diff the rows of an executed SELECT *; returns (max ts value, last pk tuple, row count)."""
        mark, last, n = diff_fetched(cur, table, differ, skip)
        report.rows_read += n
        return mark, last, n

    def _grouped(
        self, cur, shape: ck.TableShape, width: int, keys_only: bool, ranges: list[tuple[int, int]] | None = None
    ) -> dict[int, tuple[int, int]]:
        out: dict[int, tuple[int, int]] = {}
        for part in ck.batches(ranges) if ranges else [None]:
            sql = ck.grouped_sql(shape, width, keys_only, part)
            self._steady(cur, sql) if part is None else cur.execute(sql)  # the whole-table pass runs every poll
            for group, count, xor in cur.fetchall():
                out[int(group)] = (int(count), int(xor))
        return out

    def _full(
        self, cur, table: WatchedTable, shape: ck.TableShape, differ: Differ, report: PollReport, flush_baseline: bool
    ) -> tuple[str | None, dict[int, tuple[int, int]]]:
        """Every row (keyset order, chunks of FETCH) and every block's checksum, from the same snapshot."""
        state = self._grouped(cur, shape, ck.BLOCK, keys_only=bool(table.ts_column))

        def flush() -> None:
            if flush_baseline and len(differ.result.snapshots) >= BASELINE_FLUSH:
                # Baseline snapshots in parts (no checkpoint): a crash just redoes the baseline.
                self.store.record_capture([], None, differ.result.snapshots)
                known = self._hashes(table.name)
                for s in differ.result.snapshots:
                    known[s[2]] = s[3]
                self._by_block.pop(table.name, None)
                differ.result.snapshots, differ.result.new_hashes[table.name] = [], {}

        mark, rows = read_keyset(cur, table, shape.physical, differ, FETCH, flush)
        report.rows_read += rows
        differ.finish_full()
        return mark, state

    def _window(
        self, cur, table: WatchedTable, shape: ck.TableShape, differ: Differ, since: str, report: PollReport
    ) -> str | None:
        """The rows past the watermark (reopened by the overlap).  The server first gives each one's key and CRC32:
        rows whose CRC is what the last committed poll fetched are not fetched again, so rows that stay inside the
        overlap (many rows sharing the newest date_upd, after a bulk update) cost a few bytes each per idle poll."""
        start = datetime.fromisoformat(since) - timedelta(seconds=float(self.cfg.poll_overlap_seconds))
        pk = ", ".join(ck.q(c) for c in table.pk)
        self._steady(
            cur,
            f"SELECT {pk}, {ck.q(table.ts_column)}, {ck.row_crc(shape)} FROM {ck.q(shape.physical)}"
            f" WHERE {ck.q(table.ts_column)} >= ?",
            start,
        )
        n, mark = len(table.pk), None
        last = self._window_crcs.get(table.name, {})
        now: dict[str, int] = {}
        fetch: list[tuple] = []
        for row in cur.fetchall():
            key = row_key(table, [clean_value(v) for v in row[:n]])
            ts, crc = row[n], int(row[n + 1])
            if ts is not None and (mark is None or ts > mark):
                mark = ts
            now[key] = crc
            if last.get(key) == crc and key in differ.known:
                differ.seen.add(key)  # as fetched and diffed by the last committed poll
            else:
                fetch.append(tuple(row[:n]))
        self._next_window_crcs[table.name] = now
        where = f"({pk}) IN " if n > 1 else f"{pk} IN "
        for part in ck.batches(fetch, 500):
            marks = ", ".join(("(" + ", ".join(["%s"] * n) + ")") if n > 1 else "%s" for _ in part)
            cur.execute(
                f"SELECT * FROM {ck.q(shape.physical)} WHERE {where}({marks})",
                tuple(v for values in part for v in values),
            )
            self._read(cur, table, differ, report)
        return mark_text(mark)

    def _incremental(
        self,
        cur,
        table: WatchedTable,
        shape: ck.TableShape,
        differ: Differ,
        since: str | None,
        report: PollReport,
        checksums: bool = True,
    ) -> tuple[str | None, dict[int, tuple[int, int] | None]]:
        """Window (date_upd tables), then the chunks whose checksum moved; returns (watermark, changed blocks)."""
        mark = None
        if table.ts_column and since is not None:
            mark = self._window(cur, table, shape, differ, since, report)
        if not checksums:
            return mark, {}
        keys_only = bool(table.ts_column)
        blocks = self._blocks(table.name)
        expected: dict[int, tuple[int, int]] = {}
        for block, (count, xor) in blocks.items():
            c, x = expected.get(block // ck.BLOCKS_PER_CHUNK, (0, 0))
            expected[block // ck.BLOCKS_PER_CHUNK] = (c + count, x ^ xor)
        now = self._grouped(cur, shape, ck.CHUNK, keys_only)
        chunks = [c for c in set(now) | set(expected) if now.get(c, (0, 0)) != expected.get(c, (0, 0))]
        if not chunks:
            return mark, {}
        report.chunks_changed += len(chunks)
        fresh = self._grouped(cur, shape, ck.BLOCK, keys_only, ck.merge_ranges(chunks, ck.CHUNK))
        in_chunks = {b for b in blocks if b // ck.BLOCKS_PER_CHUNK in set(chunks)} | set(fresh)
        changed = {b: fresh.get(b) for b in in_chunks if fresh.get(b) != blocks.get(b)}
        report.blocks_changed += len(changed)
        ranges = ck.merge_ranges(list(changed), ck.BLOCK)
        index = self._index(table)
        present: set[str] = set()
        if keys_only:
            # Keys only: rows already read by the window are left alone; new keys are fetched whole.
            for part in ck.batches(ranges):
                cur.execute(ck.rows_sql(shape, part, keys_only=True))
                present.update(row_key(table, [clean_value(v) for v in r]) for r in cur.fetchall())
            new = [k for k in present if k not in differ.known and k not in differ.seen]
            m, rows = fetch_keys(cur, table, shape.physical, differ, new)
            report.rows_read += rows
            mark = later(mark, m)
        else:
            for part in ck.batches(ranges):
                cur.execute(ck.rows_sql(shape, part))
                self._read(cur, table, differ, report)
            present = set(differ.seen)
        for block in changed:
            for key in list(index.get(block, ())):
                if key not in present:
                    differ.gone(key)
        return mark, changed


def _pair(text: str) -> tuple[int, int]:
    count, xor = text.split(":")
    return int(count), int(xor)


def _state_snapshots(
    name: str, old: dict[int, tuple[int, int]], new: dict[int, tuple[int, int] | None], partial: bool = False
) -> list[tuple]:
    """Snapshot rows that bring the stored block checksums of `name` to `new` (all blocks, or only the changed ones
    when `partial`)."""
    table = CHUNK_STATE + name
    out = []
    for block, value in new.items():
        out.append((PRESTASHOP, table, str(block), None if value is None else f"{value[0]}:{value[1]}", None))
    if not partial:
        out += [(PRESTASHOP, table, str(block), None, None) for block in old if block not in new]
    return [s for s in out if (s[3] is not None) or int(s[2]) in old]


def run_chunk_poller(
    poller: ChunkPoller, stop: threading.Event, interval: float, on_poll: Callable[[int], None] | None = None
) -> None:
    """Service loop: poll every `interval` seconds; an error is said in one sentence and retried with backoff
    (nothing was committed, so the next poll reads the same changes again).  `on_poll(changes)` is called after
    each committed poll (the service wakes its apply loop with it)."""
    delay = interval
    poller.status.state = "polling"
    while not stop.is_set():
        try:
            report = poller.poll()
            if on_poll is not None:
                on_poll(report.changes)
            if report.changes:
                log.debug(
                    "shop poll %d: %d changes %s in %.3fs", report.poll, report.changes, report.counts, report.seconds
                )
            if poller.status.last_error:
                log.info("shop polling works again")
            poller.status.last_error, poller.status.state = "", "polling"
            poller.status.polls += 1
            poller.status.changes += report.changes
            poller.status.last_poll_at = datetime.now()
            delay = interval
            # polls start every `interval` seconds (a poll's own time is not added to the wait), but the server
            # rests at least a quarter of the interval between two polls, however long a poll takes
            rest = max(interval - report.seconds, interval / 4)
        except Exception as exc:  # the shop or the tunnel may be down: keep trying, nothing moved
            delay = min(max(delay * 2, 1.0), 60.0)
            poller.status.last_error, poller.status.state = explain(exc), "retrying"
            poller.status.reconnects += 1
            log.warning("shop poll failed: %s; retrying in %.0f s, no change is lost", poller.status.last_error, delay)
            rest = delay
        stop.wait(rest)
    poller.close()
    poller.status.state = "stopped"
