"""The former shop poller (full re-reads of each date_upd window), kept only as the "before" of
`bench/bench_poll_idle.py`; the service polls with `replicator.prestashop.chunkpoll`.

Each poll reads, inside one consistent-snapshot transaction: `date_upd` windows (shop local time, the
database's own values, reopened by `poll_overlap_seconds` so a late commit with an older `date_upd` is not
missed) plus a key list for deletes on tables that have `date_upd`, and keyset hash scans (PK order, chunks)
of the tables without it (stock_available, order_detail, ...).  Everything is diffed against the RowSnapshot
hashes, so the overlap never duplicates, and one `Store.record_capture` per poll stores the changes, the
snapshots and the checkpoint.  Rows of one poll share a txn id (poll mode cannot see source transactions).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from replicator.capture.snapshot import DELETE, INSERT, UPDATE, DiffResult, Differ, commit_diff
from replicator.capture.tables import PRESTASHOP, WatchedTable, prestashop_tables
from replicator.config import PrestashopConfig
from replicator.prestashop.connection import connect
from replicator.store import Store

from .binlog_values import clean_value
from .checksum import q
from .pollrows import diff_fetched, fetch_keys, mark_text, read_keyset, row_key

CHECKPOINT = "prestashop.poll"
CHUNK = 2000
BASELINE_CHUNK = 5000


@dataclass
class PollReport:
    poll: int = 0
    changes: int = 0
    echoes: int = 0
    rows_read: int = 0
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=lambda: {INSERT: 0, UPDATE: 0, DELETE: 0})
    tables: dict[str, str] = field(default_factory=dict)


class PollCapture:
    """One poll = one diff of every watched shop table against the stored snapshots."""

    def __init__(
        self,
        store: Store,
        cfg: PrestashopConfig,
        tables: dict[str, WatchedTable] | None = None,
        initial_load: bool = False,
        chunk: int = CHUNK,
    ):
        self.store, self.cfg = store, cfg
        self.tables = tables or prestashop_tables()
        self.initial_load = initial_load
        self.chunk = chunk
        self._known: dict[str, dict[str, str]] = {}
        self.last_error = ""

    def _hashes(self, name: str) -> dict[str, str]:
        if name not in self._known:
            self._known[name] = self.store.snapshot_hashes(PRESTASHOP, name)
        return self._known[name]

    def poll(self) -> PollReport:
        started = time.monotonic()
        cp = self.store.checkpoint(CHECKPOINT) or {}
        poll_no = int(cp.get("poll", 0)) + 1
        baselined = set(cp.get("baselined", []))
        since: dict[str, str] = dict(cp.get("since", {}))
        report = PollReport(poll=poll_no)
        position, txn = f"poll:{poll_no}", f"prestashop:poll:{poll_no}"
        total = DiffResult()
        conn = connect(self.cfg.url)
        try:
            with conn.cursor() as cur:
                # One consistent view of all tables: an order written in one transaction is seen whole or not at all.
                cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                cur.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT")
                cur.execute("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()")
                present = {r[0] for r in cur.fetchall()}
                for name, table in self.tables.items():
                    physical = table.physical(self.cfg.prefix)
                    if physical not in present:
                        report.tables[name] = "missing"
                        continue
                    baseline = name not in baselined and not self.initial_load
                    differ = Differ(self.store, table, self._hashes(name), position, txn, baseline=baseline)
                    if table.ts_column and not baseline and name in since:
                        mark = self._window(cur, table, physical, differ, since[name], report)
                        report.tables[name] = "window"
                    else:
                        mark = self._keyset(cur, table, physical, differ, report, flush=baseline)
                        differ.finish_full()
                        report.tables[name] = "baseline" if baseline else "keyset"
                    if mark is not None:
                        since[name] = mark
                    baselined.add(name)
                    total.extend(differ.result)
                cur.execute("COMMIT")
        finally:
            conn.close()
        checkpoint = {
            "poll": poll_no,
            "baselined": sorted(baselined),
            "since": since,
            "at": datetime.now().isoformat(timespec="seconds"),
        }
        report.changes = commit_diff(self.store, total, (CHECKPOINT, checkpoint), self._known)
        report.echoes, report.counts = total.echoes, dict(total.counts)
        report.seconds = round(time.monotonic() - started, 3)
        return report

    # -- readers (shared with the chunk poller: replicator/prestashop/pollrows.py) --
    def _keyset(
        self, cur, table: WatchedTable, physical: str, differ: Differ, report: PollReport, flush: bool
    ) -> str | None:
        def flush_baseline() -> None:
            if flush and len(differ.result.snapshots) >= BASELINE_CHUNK:
                # Baseline snapshots in chunks (no checkpoint): a crash just redoes the baseline.
                self.store.record_capture([], None, differ.result.snapshots)
                known = self._hashes(table.name)
                for s in differ.result.snapshots:
                    known[s[2]] = s[3]
                differ.result.snapshots, differ.result.new_hashes[table.name] = [], {}

        mark, rows = read_keyset(cur, table, physical, differ, self.chunk, flush_baseline)
        report.rows_read += rows
        return mark

    def _window(
        self, cur, table: WatchedTable, physical: str, differ: Differ, since: str, report: PollReport
    ) -> str | None:
        """Every row of the date_upd window, fetched whole (what the chunk poller avoids), then the key list."""
        start = datetime.fromisoformat(since) - timedelta(seconds=float(self.cfg.poll_overlap_seconds))
        cur.execute(f"SELECT * FROM {q(physical)} WHERE {q(table.ts_column)} >= %s", (start,))
        mark, _, n = diff_fetched(cur, table, differ)
        report.rows_read += n
        # Deletes and rows whose date_upd lies before the window (written by SQL without touching it):
        # compare the key list with the snapshot.
        cur.execute(f"SELECT {', '.join(q(c) for c in table.pk)} FROM {q(physical)}")
        keys = {row_key(table, [clean_value(v) for v in r]) for r in cur.fetchall()}
        _, n = fetch_keys(
            cur, table, physical, differ, [k for k in keys if k not in differ.known and k not in differ.seen]
        )
        report.rows_read += n
        for key in [k for k in differ.known if k not in keys]:
            differ.gone(key)
        new_mark = mark_text(mark)
        return new_mark if new_mark and new_mark > since else since
