"""FactuSOL capture, one scan: read the year file, diff it against the row hashes in the store, and write changes +
snapshot updates + checkpoint in ONE `Store.record_capture` call (`FactusolScanner.scan`).  When to scan is
decided by `watcher.py`."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from itertools import islice, repeat
from typing import Any

import pyodbc

from replicator.capture.snapshot import DiffResult, Differ, commit_diff
from replicator.capture.tables import FACTUSOL, WatchedTable, factusol_tables
from replicator.config import FactusolConfig
from replicator.factusol import connection as fsconn
from replicator.halt import ACCEPT_FACTUSOL, halt
from replicator.store import Store

from . import pages as paging_
from . import stamped as stamped_
from .errors import FactusolLockedError, FactusolRestoredError, as_locked, is_lock_error
from .restored import file_identity, replaced, went_back
from .scanrows import FP, HASH, KEY, STAMP, KeyReader, ResultReader, fingerprints
from .years import connection_string, resolve_file

log = logging.getLogger("replicator.factusol.scanner")

CHECKPOINT = "factusol.scan"
FETCH = 5000
# Rows keyed and hashed together.  Small enough that a batch's raw rows die young (bigger batches got them
# promoted to the old GC generation, where they triggered full collections), big enough for column-wise work.
BATCH = 1000
BASELINE_CHUNK = 5000  # baseline snapshots are committed in chunks so 100k images never sit in memory at once


@dataclass
class ScanReport:
    scan: int
    file: str
    full: bool
    rollover: bool = False
    changes: int = 0
    echoes: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    # table -> "full" | "narrow" | "paged" | "baseline" | "missing"
    tables: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    # Pages whose page sums are still owed since the last file event (see FactusolScanner.rearm): the watcher runs
    # more scans, without a file event, until the rotation is through.
    owed: bool = False


def _select_all(table: WatchedTable, where: str = "") -> str:
    return f"SELECT * FROM [{table.name}]" + (f" WHERE {where}" if where else "")


# ------------------------------------------------------------------------------------------------ scanner


class FactusolScanner:
    """Diffs the watched FactuSOL tables against the store's row snapshots; one record_capture per scan."""

    def __init__(
        self,
        store: Store,
        cfg: FactusolConfig,
        tables: dict[str, WatchedTable] | None = None,
        initial_load: bool = False,
        paging: bool = True,
    ):
        self.store, self.cfg = store, cfg
        self.tables = tables or factusol_tables()
        self.initial_load = initial_load  # True: first sight of a table emits every row as an insert
        self._known: dict[str, dict[str, str]] = {}  # in-memory copy of committed snapshot hashes
        self._known_file: str | None = None
        # Per table: (column names, raw pk -> (key, fingerprint, hash, timestamp value)).  A row whose raw
        # fingerprint matches, and whose key still has that hash in `_known`, is unchanged: no conversion,
        # no JSON key, no canonical hash.  Any mismatch falls back to the full path, so this is only a cache.
        self._prints: dict[str, tuple[list[str], dict[Any, tuple]]] = {}
        # Per table, once a full read sized it: page sums for a big table (`pages.py`), or True for a small one, which
        # every scan reads whole.  Until then (and for a table whose sums the file refused) the narrow path is used.
        self.paging = paging  # False: quick scans take the narrow path only (the FUM* read and the key list)
        self._pages: dict[str, paging_.Pages] = {}
        self._small: dict[str, bool] = {}
        # The page sums' rotation: every page of every paged table, in table order, the next one to check, and how
        # many are still owed since the last file event (`rearm`).  Quick sums find stock, price, insert and delete
        # at once; the page sums (every column, the text fingerprints) cost ten times as much on a wide table, so
        # an event scan leaves them to the rotation (`scan`'s `rotation_seconds`).
        self._rotation: list[tuple[str, int]] = []
        self._cursor = 0
        self._owed = 0
        # Per FUM* table: the stamped rows' prints at the last scan (`stamped.py`), so a row stamped today is read
        # whole again only when it moved, not by every scan of the day.
        self._stamped: dict[str, stamped_.StampedRows] = {}
        self._prints_refused: set[str] = set()  # tables whose row prints the file refused, said once

    def _hashes(self, name: str) -> dict[str, str]:
        if name not in self._known:
            self._known[name] = self.store.snapshot_hashes(FACTUSOL, name)
        return self._known[name]

    @property
    def owed(self) -> bool:
        """Whether page sums are still owed since the last `rearm`."""
        return self._owed > 0

    def rearm(self) -> None:
        """The file changed (a file event): every page's sums are owed again, from where the rotation stands."""
        self._sync_rotation()
        self._owed = len(self._rotation)

    def scan(
        self,
        full: bool = True,
        only: Collection[str] | None = None,
        rotation_seconds: float | None = None,
        keep_going: Callable[[], bool] | None = None,
    ) -> ScanReport:
        """One scan (see `_scan`).  The sums a scan takes describe the rows it committed: if it fails before its
        commit (a locked file, the store), they go back to what they were, or its changes would look old next time."""
        return self._restoring_sums_on_failure(self._scan, full, only, rotation_seconds, keep_going)

    def rotate(self, seconds: float | None, keep_going: Callable[[], bool] | None = None) -> ScanReport:
        """The page sums still owed since the last file event (`rearm`), from where the rotation stands: for `seconds`
        (None: all of them), then while `keep_going()` answers True.  The pages whose sums moved are read and their
        changes committed as a scan of their own, so an event scan commits (and the apply starts) before its slice
        of the rotation is taken.  Nothing is done before a full scan paged the tables, while the file is not the one
        they were paged from, or while a restored file waits to be accepted: the next scan reads it."""
        return self._restoring_sums_on_failure(self._rotate_scan, seconds, keep_going)

    def _restoring_sums_on_failure(self, run: Callable[..., ScanReport], *args) -> ScanReport:
        saved = self._sums_state()
        try:
            return run(*args)
        except BaseException:
            (self._known_file, self._pages, self._small, self._rotation, self._cursor, self._owed, self._stamped) = (
                saved
            )
            raise

    def _rotate_scan(self, seconds: float | None, keep_going: Callable[[], bool] | None) -> ScanReport:
        started = time.monotonic()
        file = resolve_file(self.cfg)
        cp = self.store.checkpoint(CHECKPOINT) or {}
        report = ScanReport(scan=int(cp.get("scan", 0)), file=str(file), full=False)
        same_file = self._known_file == str(file) and cp.get("file") == str(file)
        if not self._pages or not same_file or self.store.checkpoint(ACCEPT_FACTUSOL):
            return report
        self._sync_rotation()
        if self._owed <= 0 and seconds is not None:
            return report
        scan_no = report.scan + 1
        position, txn = f"scan:{scan_no}", f"factusol:{file.name}:scan:{scan_no}"
        paged = {
            name: Differ(self.store, self.tables[name], self._hashes(name), position, txn)
            for name in self._pages
            if name in self.tables
        }
        recount: set[str] = set()
        total = DiffResult()
        try:
            conn = fsconn.FactusolConnection(connection_string(self.cfg, file))
        except fsconn.FactusolError as exc:
            raise as_locked(exc) from exc
        try:
            self._rotate_and_find_deletes(conn, paged, recount, seconds, keep_going, total)
        finally:
            conn.close()
        report.scan, report.owed = scan_no, self._owed > 0
        if total.rows or total.snapshots:
            self._refuse_going_back(file, total)

            def merged(committed: dict | None) -> dict:
                # Only the scan number moves: the watermarks are the event scans' (see `_rotate`).
                base = committed if committed and committed.get("file") == str(file) else cp
                return {**base, "scan": max(scan_no, int(base.get("scan", 0)))}

            report.changes = commit_diff(self.store, total, (CHECKPOINT, merged), self._known)
        report.echoes, report.counts = total.echoes, dict(total.counts)
        report.seconds = round(time.monotonic() - started, 3)
        if report.changes:
            log.info(
                "factusol rotation %s of %s: %s changes %s, %s echoes",
                scan_no,
                file.name,
                report.changes,
                report.counts,
                report.echoes,
            )
        return report

    def _sums_state(self) -> tuple:
        pages = {
            name: replace(
                p,
                sums=list(p.sums) if p.sums is not None else None,
                quick_sums=list(p.quick_sums) if p.quick_sums is not None else None,
                recent=list(p.recent),
                subs={i: replace(sub, sums=list(sub.sums)) for i, sub in p.subs.items()},
            )
            for name, p in self._pages.items()
        }
        return (
            self._known_file,
            pages,
            dict(self._small),
            list(self._rotation),
            self._cursor,
            self._owed,
            dict(self._stamped),
        )

    def _scan(
        self,
        full: bool,
        only: Collection[str] | None,
        rotation_seconds: float | None,
        keep_going: Callable[[], bool] | None,
    ) -> ScanReport:
        """One scan.  `full=False` lets FUM* tables use the narrow path (key list + rows with FUM >= watermark), or,
        once a full scan sized them, their quick sums and page sums (`pages.py`).

        `rotation_seconds`, for a quick scan: how long the owed page sums may take (None: every page's, now; 0: none,
        an event scan); past that, the rotation goes on while `keep_going()` answers True (no file event waits).
        `only`: scan these tables and leave the others as they are (the first run's first sight is taken in two
        parts, see `replicator.daemon.run_once`); ignored when the file rolled over, which every table must see."""
        started = time.monotonic()
        file = resolve_file(self.cfg)
        cp = self.store.checkpoint(CHECKPOINT) or {}
        scan_no = int(cp.get("scan", 0)) + 1
        prev_file = cp.get("file")
        rollover = bool(prev_file) and prev_file != str(file)
        if self._known_file != str(file):
            self._known.clear()
            self._pages.clear()
            self._small.clear()
            self._stamped.clear()
            self._known_file = str(file)
        baselined = set(cp.get("baselined", []))
        accepted = bool(self.store.checkpoint(ACCEPT_FACTUSOL))
        if accepted:  # a person took a restored file as it is: every table is baselined again, no change emitted
            baselined = set()
        watermarks: dict[str, str] = dict(cp.get("fum", {})) if not rollover else {}
        report = ScanReport(scan=scan_no, file=str(file), full=full or rollover, rollover=rollover)
        if rollover:
            only = None
        position, txn = f"scan:{scan_no}", f"factusol:{file.name}:scan:{scan_no}"
        total = DiffResult()
        paged: dict[str, Differ] = {}  # the paged tables' differs: the rotation may read more of their pages
        recount: set[str] = set()  # paged tables whose row count moved: their key list is read for deletes
        try:
            conn = fsconn.FactusolConnection(connection_string(self.cfg, file))
        except fsconn.FactusolError as exc:
            raise as_locked(exc) from exc
        try:
            present = self._present_tables(conn)
            identity = file_identity(file, conn, present)
            if not rollover and not accepted and prev_file == str(file):
                self._check_same_file(file, cp.get("identity"), identity)
            for name, table in self.tables.items():
                if only is not None and name not in only:
                    continue
                if name.upper() not in present:
                    report.tables[name] = "missing"
                    continue
                known = self._hashes(name)
                baseline = name not in baselined and not self.initial_load
                old_year_keys: set[str] = set()
                if rollover and table.per_year:
                    # Document numbers restart in each year file: last year's documents are not deleted, they
                    # stay in last year's file.  Drop their snapshots silently; this year's rows diff against none.
                    old_year_keys, known = set(known), {}
                differ = Differ(self.store, table, known, position, txn, baseline=baseline)
                quick = not full and not rollover and not baseline
                pages = self._pages.get(name) if quick else None
                narrow = (
                    quick and pages is None and not self._small.get(name) and table.ts_column and name in watermarks
                )
                try:
                    if pages is not None:
                        mark = self._paged(conn, table, differ, pages, watermarks.get(name), recount)
                        paged[name] = differ
                        report.tables[name] = "paged"
                    elif narrow:
                        mark = self._narrow(conn, table, differ, watermarks[name])
                        report.tables[name] = "narrow"
                    else:
                        self._plan_pages(conn, table)  # page sums first: an edit made during the read is seen next
                        mark = self._full(conn, table, differ, flush=baseline)
                        report.tables[name] = "baseline" if baseline else "full"
                except (pyodbc.Error, fsconn.FactusolError) as exc:
                    raise as_locked(exc) from exc
                if report.tables[name] in ("full", "baseline"):
                    differ.finish_full()
                if mark is not None:
                    watermarks[name] = mark
                for key in old_year_keys - differ.seen:  # (new_hashes lacks the keys a baseline flushed)
                    differ.result.snapshots.append((FACTUSOL, name, key, None, None))
                    differ.result.new_hashes[name][key] = None
                baselined.add(name)
                if name not in paged:
                    total.extend(differ.result)
            self._rotate_and_find_deletes(conn, paged, recount, rotation_seconds, keep_going, total)
        finally:
            conn.close()
        if report.full and only is None:
            self._sync_rotation()
            self._owed = 0  # every page's sums were just taken
        report.owed = not report.full and self._owed > 0
        checkpoint = {
            "scan": scan_no,
            "file": str(file),
            "baselined": sorted(baselined),
            "fum": watermarks,
            "identity": identity,
            "at": datetime.now().isoformat(timespec="seconds"),
        }
        if rollover:
            checkpoint["previous_file"] = prev_file
        scanned = set(report.tables)

        def merged(committed: dict | None) -> dict:
            # Another process may have scanned other tables meanwhile (the first run's first sight, in two parts):
            # keep what it recorded for its tables.  After a rollover this scan read every table: it alone counts.
            if rollover or not committed or committed.get("file") != str(file):
                return checkpoint
            fum = dict(committed.get("fum", {}))
            fum.update({name: mark for name, mark in watermarks.items() if name in scanned})
            return {
                **checkpoint,
                "scan": max(scan_no, int(committed.get("scan", 0))),
                "fum": fum,
                "baselined": sorted(set(committed.get("baselined", [])) | baselined),
            }

        if not rollover and not accepted:
            self._refuse_going_back(file, total)
        report.changes = commit_diff(self.store, total, (CHECKPOINT, merged), self._known)
        if accepted:
            self.store.set_checkpoint(ACCEPT_FACTUSOL, {})
            log.warning("FactuSOL file %s taken as the new baseline (accept-baseline): no change emitted", file.name)
        report.echoes, report.counts = total.echoes, dict(total.counts)
        report.seconds = round(time.monotonic() - started, 3)
        if report.changes or rollover:
            log.info(
                "factusol scan %s of %s: %s changes %s, %s echoes%s",
                scan_no,
                file.name,
                report.changes,
                report.counts,
                report.echoes,
                " (fiscal-year rollover from %s)" % prev_file if rollover else "",
            )
        else:
            log.debug(
                "factusol scan %s of %s: no changes (%s) in %.1fs",
                scan_no,
                file.name,
                ", ".join(f"{name} {how}" for name, how in report.tables.items()),
                report.seconds,
            )
        return report

    def _refuse_going_back(self, file, total: DiffResult) -> None:
        """Stop (halt) when rows read now carry an older FUM* date than already seen: a restored file."""
        back = went_back(self.tables, total.rows)
        if back:
            reason = (
                f"the FactuSOL file {file.name} went back in time: {len(back)} row(s) now carry an older "
                f"last-modified date than already seen ({back[0]}{', ...' if len(back) > 1 else ''}); "
                "was it restored from a backup, or the PC's clock set back?"
            )
            halt(self.store, "factusol_restored", reason)
            self._known.clear()  # nothing of this scan is kept: read the snapshots again next time
            raise FactusolRestoredError(reason)

    def _check_same_file(self, file, before: dict | None, now: dict) -> None:
        """Stop (halt.py) when the file is not the one the last scan read, moved on: restored or copied over."""
        reasons = replaced(before, now)
        if reasons:
            reason = (
                f"the FactuSOL file {file.name} was replaced by another file: {'; '.join(reasons)}; was it restored "
                "from a backup, copied over from another PC, or the PC's clock set back?"
            )
            halt(self.store, "factusol_restored", reason)
            self._known.clear()
            raise FactusolRestoredError(reason)

    def _present_tables(self, conn) -> set[str]:
        # The SQLite ODBC catalog answers an EMPTY list (no error) while the file is locked: never read that as
        # "no tables".  Probe with a real statement so the lock surfaces as an error.
        try:
            present = {n.upper() for n in conn.table_names()}
        except pyodbc.Error as exc:
            raise as_locked(exc) from exc
        if not present & {n.upper() for n in self.tables}:
            probe = next(iter(self.tables))
            try:
                conn.query(f"SELECT COUNT(*) AS [N] FROM [{probe}]")
            except fsconn.FactusolError as exc:
                raise as_locked(exc) from exc
            raise fsconn.FactusolError(f"no FactuSOL tables found in {conn.conn_str!r}")
        return present

    def _prints_for(self, table: WatchedTable, columns: list[str]) -> dict[Any, tuple]:
        cached = self._prints.get(table.name)
        if cached is None or cached[0] != columns:  # first read, or the table's columns changed
            cached = self._prints[table.name] = (list(columns), {})
        return cached[1]

    def _diff_rows(
        self,
        rows,
        reader: ResultReader,
        table: WatchedTable,
        differ: Differ,
        prints: dict,
        full: bool,
        flush: bool = False,
        mark: Any = None,
    ) -> Any:
        """Diff streamed raw rows; returns the max timestamp seen (or `mark`).

        Per batch of BATCH rows: rows whose raw fingerprint is cached and still current are unchanged; the others
        are keyed and hashed together (`ResultReader.read_many`).  flush=True (a baseline): snapshots keep the
        compact image and are committed every BASELINE_CHUNK rows.
        full=True: `rows` is the whole table, so fingerprints of keys not read are dropped (pop as we go, the
        survivors are thrown away at the end).
        """
        fresh: dict[Any, tuple] = {}
        take = prints.pop if full else prints.get
        keep = fresh.__setitem__ if full else prints.__setitem__
        keep_many = fresh.update if full else prints.update
        known_get, seen_add, seen_many = differ.known.get, differ.seen.add, differ.seen.update
        raw_pk, row, image, compact = reader.raw_pk, differ.row, reader.image, reader.hasher.compact
        differ.expand_image = reader.expand
        stream = iter(rows)
        while True:
            batch = list(islice(stream, BATCH))
            if not batch:
                break
            if not prints:  # nothing cached (a cold scan, a baseline, or only new rows left): read them all
                raws, fps, pks = batch, fingerprints(batch), list(map(raw_pk, batch))
            else:
                fps, pks = fingerprints(batch), list(map(raw_pk, batch))
                cached = list(map(take, pks, repeat(None)))  # (key, fingerprint, hash, timestamp) or None
                if None not in cached and list(map(FP, cached)) == fps:
                    keys = list(map(KEY, cached))
                    if list(map(known_get, keys)) == list(map(HASH, cached)):  # the whole batch is unchanged
                        keep_many(zip(pks, cached))
                        seen_many(keys)
                        stamps_set = [v for v in map(STAMP, cached) if v is not None]
                        if stamps_set:
                            top = max(stamps_set)
                            if mark is None or top > mark:
                                mark = top
                        continue
                rows_fps_pks = zip(batch, fps, pks)
                raws, fps, pks = [], [], []  # the rows that need keys and hashes
                for (raw, fp, pk), e in zip(rows_fps_pks, cached):
                    if e is not None and e[1] == fp and known_get(e[0]) == e[2]:
                        keep(pk, e)
                        seen_add(e[0])
                        v = e[3]
                        if v is not None and (mark is None or v > mark):
                            mark = v
                    else:
                        raws.append(raw)
                        fps.append(fp)
                        pks.append(pk)
                if not raws:
                    continue
            keys, hashes, texts = reader.read_many(raws)
            stamps = reader.ts_values(raws)
            if stamps is not None:
                stamps_set = [v for v in stamps if v is not None]
                if stamps_set:
                    top = max(stamps_set)
                    if mark is None or top > mark:
                        mark = top
            else:
                stamps = repeat(None)
            olds = list(map(known_get, keys))
            if olds == hashes:  # all unchanged (a cold rescan); keep the known strings, not new equal ones
                seen_many(keys)
                keep_many(zip(pks, zip(keys, fps, olds, stamps)))
            elif flush and not any(olds):  # a baseline's new rows
                differ.baseline_rows(keys, hashes, list(map(compact, texts)))
                keep_many(zip(pks, zip(keys, fps, hashes, stamps)))
            else:
                for raw, fp, pk, key, h, old, text, v in zip(raws, fps, pks, keys, hashes, olds, texts, stamps):
                    if old == h:
                        h = old  # share the string with the known-hash dict
                        seen_add(key)
                    elif flush:
                        row(key, h, compact(text))
                    else:
                        row(key, h, lambda raw=raw: image(raw), compact(text))
                    keep(pk, (key, fp, h, v))
            if flush and len(differ.result.snapshots) >= BASELINE_CHUNK:
                self._flush_baseline(table, differ)
        if full:
            prints.clear()
            prints.update(fresh)
        return mark

    def _flush_baseline(self, table: WatchedTable, differ: Differ) -> None:
        # Baseline: commit snapshots in chunks, without checkpoint; the table only counts as baselined when the
        # scan's final record_capture commits, so a crash here just redoes the baseline.
        self.store.record_capture([], None, differ.result.snapshots)
        self._hashes(table.name).update(differ.result.new_hashes[table.name])  # only new/changed rows, no deletes
        differ.result.snapshots = []
        differ.result.new_hashes[table.name] = {}

    def _full(self, conn, table: WatchedTable, differ: Differ, flush: bool) -> str | None:
        """Read every row; returns the max timestamp seen (the next narrow scan's watermark)."""
        with conn.iter_tuples(_select_all(table), batch=FETCH) as rows:
            reader = ResultReader(table, rows.columns, rows.converters)
            prints = self._prints_for(table, rows.columns)
            mark = self._diff_rows(rows, reader, table, differ, prints, full=True, flush=flush)
        self._prints_refused.discard(table.name)  # its columns are known again: the row prints are tried again
        return mark.isoformat() if isinstance(mark, datetime) else mark

    def _plan_pages(self, conn, table: WatchedTable) -> None:
        """Before a full read: is the table small (read whole by every scan), or paged, with its page sums now?"""
        name = table.name
        self._pages.pop(name, None)
        if not self.paging:
            return
        try:
            count = int(conn.scalar(f"SELECT COUNT(*) AS [N] FROM [{name}]") or 0)
            with conn.iter_tuples(f"SELECT TOP 1 * FROM [{name}]") as rows:
                columns = list(rows.columns)
                rows.drain()
            self._small[name] = paging_.is_small(count, len(columns))
            if self._small[name]:
                return
            pages = paging_.make_pages(conn, table, columns, count)
            pages.sums = paging_.page_sums(conn, table, pages)
            pages.quick_whole = paging_.whole_sums(conn, table, pages.quick)
            pages.quick_sums = paging_.page_sums(conn, table, pages, pages.quick)
        except (pyodbc.Error, fsconn.FactusolError) as exc:
            if is_lock_error(exc):
                raise
            # The file refused the sums (a column the schema does not know as it is): this table keeps the narrow
            # path and full rescans.
            self._small[name] = False
            log.warning(
                "FactuSOL table %s: cannot sum its pages (%s); edits that do not move its FUM date wait for "
                "the full rescan",
                name,
                exc,
            )
            return
        self._pages[name] = pages

    def _paged(
        self, conn, table: WatchedTable, differ: Differ, pages: paging_.Pages, watermark: str | None, recount: set[str]
    ) -> str | None:
        """Read the pages whose quick sums moved, and for a FUM* table its stamped rows; returns the watermark.  The
        page sums are the rotation's (`_rotate`)."""
        mark = None
        whole = paging_.whole_sums(conn, table, pages.quick)
        if whole != pages.quick_whole:
            if pages.quick_whole is None or whole[:1] != pages.quick_whole[:1]:
                recount.add(table.name)
            moved = paging_.moved_pages(conn, table, pages, whole)
            pages.quick_whole = whole
            for i in moved:
                mark = self._read_rows(conn, table, differ, paging_.moved_parts(conn, table, pages, i), mark)
        if table.ts_column and watermark:
            top = self._read_stamped(conn, table, differ, watermark)
            mark = top if mark is None or (top is not None and top > mark) else mark
        if mark is None:
            return watermark
        return mark.isoformat() if isinstance(mark, datetime) else mark

    def _read_stamped(self, conn, table: WatchedTable, differ: Differ, watermark: Any) -> Any:
        """Diff the rows stamped at or after `watermark` (FUM* >= it); returns the highest stamp seen (or the
        watermark).  Their prints first, then only the rows whose print is new or moved are read whole
        (`stamped.py`); without a print (the table's columns not known yet), all of them are."""
        since = datetime.fromisoformat(watermark) if isinstance(watermark, str) else watermark
        # One second early: the stand-in driver binds a datetime with milliseconds ('... 00:00:00.000'), which sorts
        # after the same instant stored without them, so a row stamped exactly at the watermark (FactuSOL stamps
        # whole days) was skipped.  The rows of that second are read again, and the prints skip them.
        start = since - timedelta(seconds=1) if isinstance(since, datetime) else since
        stamp_where = f"[{table.ts_column}] >= ?"
        cached = self._prints.get(table.name)
        columns = cached[0] if cached else []
        select = stamped_.print_list(table, columns)
        if not select:
            return self._read_rows(conn, table, differ, [(stamp_where, [start])], since)
        before = self._stamped.get(table.name)
        known = before.prints if before is not None and before.columns == tuple(columns) else {}
        width = len(table.pk)
        head = ", ".join(f"[{c}]" for c in (*table.pk, table.ts_column))
        now: dict[Any, int] = {}
        moved: list[Any] = []
        mark = since
        sql = f"SELECT {head}, {', '.join(select)} FROM [{table.name}] WHERE {stamp_where}"
        try:
            with conn.iter_tuples(sql, [start], batch=FETCH) as rows:
                to_stamp = rows.converters[width] or (lambda v: v)
                for raw in rows:
                    key = raw[0] if width == 1 else raw[:width]
                    now[key] = print_hash = hash(raw[width:])
                    if known.get(key) != print_hash:
                        moved.append(key)
                    stamp = to_stamp(raw[width])
                    if stamp is not None and (mark is None or stamp > mark):
                        mark = stamp
        except (pyodbc.Error, fsconn.FactusolError) as exc:
            if is_lock_error(exc):
                raise
            # A column the last full read saw is gone (a FactuSOL update): read the stamped rows whole, as before
            # the prints, until the next full read learns the table's columns again.
            self._stamped.pop(table.name, None)
            if table.name not in self._prints_refused:  # said once: every scan until the next full one meets it
                self._prints_refused.add(table.name)
                reason = str(exc).split(" in '", 1)[0]  # (not the statement: every column of the table)
                log.warning(
                    "FactuSOL table %s: cannot read its row prints (%s); its stamped rows are read whole until the "
                    "next full rescan",
                    table.name,
                    reason,
                )
            return self._read_rows(conn, table, differ, [(stamp_where, [start])], since)
        self._stamped[table.name] = stamped_.StampedRows(tuple(columns), now)
        if len(moved) > stamped_.BY_KEY_MAX:
            self._read_rows(conn, table, differ, [(stamp_where, [start])], since)
        elif moved:
            self._read_rows(conn, table, differ, stamped_.key_wheres(table, moved), since)
        return mark

    def _read_rows(self, conn, table: WatchedTable, differ: Differ, wheres: list[tuple[str, list]], mark: Any) -> Any:
        """Diff the rows of each WHERE clause; returns the highest stamp seen (or `mark`)."""
        for where, params in wheres:
            with conn.iter_tuples(_select_all(table, where), params, batch=FETCH) as rows:
                reader = ResultReader(table, rows.columns, rows.converters)
                prints = self._prints_for(table, rows.columns)
                mark = self._diff_rows(rows, reader, table, differ, prints, full=False, mark=mark)
        return mark

    def _read_page(self, conn, table: WatchedTable, differ: Differ, pages: paging_.Pages, i: int, mark: Any) -> Any:
        return self._read_rows(conn, table, differ, [pages.where(i)], mark)

    def _sync_rotation(self) -> None:
        layout = [(name, i) for name, pages in self._pages.items() for i in range(pages.count)]
        if layout != self._rotation:  # tables paged anew (a full scan): a new rotation, all of it owed
            self._rotation, self._cursor, self._owed = layout, 0, len(layout)

    def _rotate_and_find_deletes(
        self,
        conn,
        paged: dict[str, Differ],
        recount: set[str],
        seconds: float | None,
        keep_going: Callable[[], bool] | None,
        total: DiffResult,
    ) -> None:
        """Take the owed page sums, from where the rotation stands, for `seconds` (None: all of them) and then while
        `keep_going()`; read the pages whose sums moved.  Then each paged table's rows go into `total`, after a read
        of its key list for deletes when its row count moved or a new key appeared (a key edited in place keeps the
        count).  The watermark is left alone: a row read here may be stamped later than one the FUM read did not
        see yet."""
        try:
            if paged:
                self._rotate(conn, paged, recount, seconds, keep_going)
            for name, differ in paged.items():
                if name in recount or any(key not in differ.known for key in differ.seen):
                    self._find_deletes(conn, self.tables[name], differ)
                total.extend(differ.result)
        except (pyodbc.Error, fsconn.FactusolError) as exc:
            raise as_locked(exc) from exc

    def _rotate(self, conn, paged, recount, seconds, keep_going) -> None:  # (`_rotate_and_find_deletes`)
        self._sync_rotation()
        if seconds is None:
            self._owed = len(self._rotation)
        started = time.monotonic()
        while self._owed > 0:
            if seconds is not None and time.monotonic() - started >= seconds and not (keep_going and keep_going()):
                break
            name, i = self._rotation[self._cursor]
            self._cursor = (self._cursor + 1) % len(self._rotation)
            self._owed -= 1
            differ, pages = paged.get(name), self._pages.get(name)
            if differ is None or pages is None or pages.sums is None:
                continue  # a table this scan left alone
            table = self.tables[name]
            sums = paging_.page_sum(conn, table, pages, i)
            if sums == pages.sums[i]:
                continue
            if sums[:1] != pages.sums[i][:1]:
                recount.add(name)
            pages.sums[i] = sums
            self._read_page(conn, table, differ, pages, i, None)

    def _find_deletes(self, conn, table: WatchedTable, differ: Differ) -> None:
        cached = self._prints.get(table.name)
        prints = cached[1] if cached else {}
        keys: set[str] = set()
        pk_cols = ", ".join(f"[{c}]" for c in table.pk)
        with conn.iter_tuples(f"SELECT {pk_cols} FROM [{table.name}]", batch=FETCH) as rows:
            key_reader = KeyReader(table, rows.columns)
            single = len(table.pk) == 1
            for raw in rows:
                e = prints.get(raw[0] if single else raw)
                keys.add(e[0] if e is not None else key_reader.key(raw))
        for key in [k for k in differ.known if k not in keys]:
            differ.gone(key)

    def _narrow(self, conn, table: WatchedTable, differ: Differ, watermark: str) -> str | None:
        """Key list (catches inserts and deletes) + rows whose FUM* >= watermark (catches bumped edits).

        Edits that do not bump FUM* are caught by the next full scan (safety rescan): FUM is only a hint.
        """
        pk_cols = ", ".join(f"[{c}]" for c in table.pk)
        keys: set[str] = set()
        cached = self._prints.get(table.name)
        prints = cached[1] if cached else {}
        with conn.iter_tuples(f"SELECT {pk_cols} FROM [{table.name}]", batch=FETCH) as rows:
            key_reader = KeyReader(table, rows.columns)
            single = len(table.pk) == 1
            for raw in rows:
                e = prints.get(raw[0] if single else raw)
                keys.add(e[0] if e is not None else key_reader.key(raw))
        mark = self._read_stamped(conn, table, differ, watermark)
        # New keys whose FUM is older than the watermark (copied in, or FUM not set): read them one by one.
        where = " AND ".join(f"[{c}] = ?" for c in table.pk)
        for key in keys - differ.seen - set(differ.known):
            params = [json.loads(key)[c] for c in table.pk]
            with conn.iter_tuples(_select_all(table, where), params) as rows:
                reader = ResultReader(table, rows.columns, rows.converters)
                differ.expand_image = reader.expand
                for raw in rows:
                    k, h, _vals = reader.read(raw)
                    differ.row(k, h, lambda raw=raw, reader=reader: reader.image(raw))
        for key in [k for k in differ.known if k not in keys]:
            differ.gone(key)
        return mark.isoformat() if isinstance(mark, datetime) else mark


def scan_with_retry(
    scanner: FactusolScanner, budget_seconds: float, full: bool = True, only: Collection[str] | None = None
) -> ScanReport:
    """One scan, retried with backoff while the file is locked, for at most `budget_seconds`."""
    deadline = time.monotonic() + budget_seconds
    delay = 0.25
    while True:
        try:
            return scanner.scan(full=full, only=only)
        except FactusolLockedError:
            if time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 8.0)
