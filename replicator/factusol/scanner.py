"""FactuSOL capture, one scan: read the year file, diff it against the row hashes in the store, and write changes +
snapshot updates + checkpoint in ONE `Store.record_capture` call (`FactusolScanner.scan`).  When to scan is
decided by `watcher.py`."""

from __future__ import annotations

import json
import logging
import operator
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from itertools import islice, repeat
from pickle import dumps as _pickle
from typing import Any

import pyodbc

from replicator.config import FactusolConfig
from replicator.factusol import connection as fsconn
from replicator.memo import memoised
from replicator.halt import ACCEPT_FACTUSOL, halt
from replicator.store import Store

from replicator.capture.snapshot import DiffResult, Differ, RowHasher, canon_column, canon_repr_column, commit_diff
from replicator.keys import canon
from replicator.store.codec import encode_key, encode_key_str, json_column, json_ready
from replicator.capture.tables import FACTUSOL, WatchedTable, factusol_tables

from . import pages as paging_
from .errors import FactusolLockedError, FactusolRestoredError, as_locked, is_lock_error
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
    # A paged FUM* table whose page sums this scan left for later (see FactusolScanner.fum_check_seconds): the watcher
    # owes a scan within that time so that an edit which did not move FUM* is still seen.
    owed: bool = False


# ------------------------------------------------------------------------------------------------ reading


class ResultReader:
    """Turns raw row tuples into keys and row hashes with FactuSOL value types (Decimal, datetime).

    Rows are read in batches, column by column (`read_many`): each column's canonical values are turned into their
    reprs in a few C-level passes (`canon_repr_column`, cached per raw value) instead of value by value, then a row's
    text is those reprs joined and its hash one blake2b: the same as `row_hash` of its converted image.  The text is
    also the row's compact image (`RowHasher.compact`), which a baseline stores instead of a JSON image.
    """

    def __init__(self, table: WatchedTable, columns: list[str], converters: list | None = None):
        self.table, self.columns = table, columns
        self.hasher = RowHasher(columns)
        if converters is None:
            converters = [fsconn.converter_for(n) for n in columns]
        # Moneda/Fecha converters from the FactuSOL schema: the stand-in driver returns DECIMAL as text.
        self.converters = list(converters)
        self.convs = [(i, memoised(c)) for i, c in enumerate(converters) if c]
        self._caches: list[dict] = [{} for _ in columns]  # per key column: raw value -> canonical value
        self._reprs: list[dict] = [{} for _ in columns]  # per column: raw value -> repr of its canonical value
        self._repr_state = [[True] for _ in columns]  # per column: still worth caching (see canon_repr_column)
        self.pk_idx = [columns.index(c) for c in table.pk]
        self.pk_names = table.pk
        ts = table.ts_column
        self.ts_idx = columns.index(ts) if ts and ts in columns else None
        self._ts_conv = (
            memoised(converters[self.ts_idx]) if self.ts_idx is not None and converters[self.ts_idx] else None
        )
        # The raw primary key of a row tuple (a value for one column, a tuple for several): the fingerprint
        # cache's key, so unchanged rows never build their JSON key.
        self.raw_pk = operator.itemgetter(*self.pk_idx)
        # The JSON key ({"A":..,"B":..}, sorted names, as encode_key writes it) from the canonical pk columns.
        key_names = sorted(table.pk)
        self._key_idx = [columns.index(n) for n in key_names]
        heads = ["{" if i == 0 else "," for i in range(len(key_names))]
        if len(key_names) == 1:
            self._key_head = "{" + encode_key_str(key_names[0]) + ":"
        self._key_fmt = (
            "".join(h + encode_key_str(n).replace("%", "%%") + ":%s" for h, n in zip(heads, key_names)) + "}"
        )
        # Before-images from compact images: canonical values back to the JSON image's form (Moneda "1.5000",
        # dates "2026-01-01T00:00:00") for the columns that have a converter.
        self._restore = [(n, c) for n, c in zip(columns, converters) if c]

    def read_many(self, raws: list[tuple]) -> tuple[list[str], list[str], list[str]]:
        """(keys, hashes, texts) of a batch of raw rows; `texts[i]` is what `hashes[i]` was computed from."""
        if not raws:
            return [], [], []
        cols = list(zip(*raws))
        convs, reprs, states = self.converters, self._reprs, self._repr_state
        # texts[r] == repr(tuple of row r's canonical values in sorted column order), built from per-column reprs
        # (cached for the columns that repeat values) instead of one repr per row.
        parts = [canon_repr_column(cols[i], convs[i], reprs[i], states[i]) for i in self.hasher.order]
        if len(parts) == 1:
            texts = ["(" + t + ",)" for t in parts[0]]
        else:
            texts = ["(" + t + ")" for t in map(", ".join, zip(*parts))]
        hashes = self.hasher.of_texts(texts)
        enc = [json_column(canon_column(cols[i], convs[i], self._caches[i])) for i in self._key_idx]
        if len(enc) == 1:
            head = self._key_head
            keys = [head + e + "}" for e in enc[0]]
        else:
            keys = list(map(self._key_fmt.__mod__, zip(*enc)))
        return keys, hashes, texts

    def ts_values(self, raws: list[tuple]) -> list | None:
        """The converted timestamp column of a batch (None when the table has none)."""
        if self.ts_idx is None:
            return None
        i, conv = self.ts_idx, self._ts_conv
        values = [raw[i] for raw in raws]
        return list(map(conv, values)) if conv else values

    def read(self, raw) -> tuple[str, str, list]:
        """One row: (key, hash, converted values)."""
        keys, hashes, _ = self.read_many([raw])
        return keys[0], hashes[0], self.values(raw)

    def values(self, raw) -> list:
        vals = list(raw)
        for i, conv in self.convs:
            vals[i] = conv(vals[i])
        return vals

    def image(self, raw) -> dict:
        return dict(zip(self.columns, self.values(raw)))

    def expand(self, stored: str) -> dict | None:
        """The before-image kept as a compact image: canonical values, converted columns in their image form.

        Exact for text, integers, NULLs, Moneda, Fecha and float columns; a Yes/No column reads back as 1/0."""
        image = self.hasher.expand(stored)
        if image is None:
            return None
        for name, conv in self._restore:
            value = image.get(name)
            if value is not None:
                try:
                    image[name] = json_ready(conv(value))
                except Exception:  # noqa: BLE001 - the canonical value is still a faithful image
                    pass
        return image


def _fingerprint(raw: tuple) -> int:
    """A cheap exact-enough fingerprint of a raw driver row: the 64-bit hash of its pickle.

    A pickle tells every driver value apart (1 vs 1.0 vs '1', -1 vs -2: `hash()` of the tuple itself would not,
    hash(-1) == hash(-2)), and bytes hash with SipHash, so two different rows of one key collide with probability
    ~2^-64.  Equal rows may pickle differently (shared objects are memoised), which only sends them down the
    full path.  About half the cost of repr on 90-column rows.  Only compared within one process: never stored.
    """
    try:
        return hash(_pickle(raw, 5))
    except Exception:  # a value pickle does not know: repr still tells values apart
        return hash(repr(raw))


_dumps5 = partial(_pickle, protocol=5)
_KEY, _FP, _HASH, _STAMP = (operator.itemgetter(i) for i in range(4))  # of a fingerprint cache entry


def _fingerprints(raws: list[tuple]) -> list[int]:
    """`_fingerprint` of many rows (C-level map; per row only when a value does not pickle)."""
    try:
        return list(map(hash, map(_dumps5, raws)))
    except Exception:
        return [_fingerprint(raw) for raw in raws]


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
        # Page sums of a table with FUM* (stamped edits are found by the FUM read of every scan) are taken at most
        # this often: on a wide table (F_ART, 91 columns) they cost more than the rest of an event scan.
        self.fum_check_seconds = 1.0
        self._fum_checked: dict[str, float] = {}

    def _hashes(self, name: str) -> dict[str, str]:
        if name not in self._known:
            self._known[name] = self.store.snapshot_hashes(FACTUSOL, name)
        return self._known[name]

    def scan(self, full: bool = True, only: Collection[str] | None = None) -> ScanReport:
        """One scan.  `full=False` lets FUM* tables use the narrow path (key list + rows with FUM >= watermark).

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
        try:
            conn = fsconn.FactusolConnection(connection_string(self.cfg, file))
        except fsconn.FactusolError as exc:
            raise as_locked(exc) from exc
        try:
            present = self._present_tables(conn)
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
                        mark, owed = self._paged(conn, table, differ, pages, watermarks.get(name))
                        report.owed |= owed
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
                total.extend(differ.result)
        finally:
            conn.close()
        checkpoint = {
            "scan": scan_no,
            "file": str(file),
            "baselined": sorted(baselined),
            "fum": watermarks,
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
                raws, fps, pks = batch, _fingerprints(batch), list(map(raw_pk, batch))
            else:
                fps, pks = _fingerprints(batch), list(map(raw_pk, batch))
                cached = list(map(take, pks, repeat(None)))  # (key, fingerprint, hash, timestamp) or None
                if None not in cached and list(map(_FP, cached)) == fps:
                    keys = list(map(_KEY, cached))
                    if list(map(known_get, keys)) == list(map(_HASH, cached)):  # the whole batch is unchanged
                        keep_many(zip(pks, cached))
                        seen_many(keys)
                        stamps_set = [v for v in map(_STAMP, cached) if v is not None]
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
        self._fum_checked[name] = time.monotonic()

    def _paged(
        self, conn, table: WatchedTable, differ: Differ, pages: paging_.Pages, watermark: str | None
    ) -> tuple[str | None, bool]:
        """Read the pages whose sums moved (+ for a FUM* table, its stamped rows); (watermark, page sums owed)."""
        name, owed, mark = table.name, False, None
        cached = self._prints.get(name)
        prints = cached[1] if cached else {}
        now = time.monotonic()
        if table.ts_column and now - self._fum_checked.get(name, 0.0) < self.fum_check_seconds:
            owed = True  # sums taken a moment ago: the FUM read below finds stamped edits, the sums come next scan
        else:
            sums = paging_.page_sums(conn, table, pages)
            self._fum_checked[name] = now
            moved = paging_.changed_pages(pages.sums, sums)
            for i in moved:
                where, params = pages.where(i)
                with conn.iter_tuples(_select_all(table, where), params, batch=FETCH) as rows:
                    reader = ResultReader(table, rows.columns, rows.converters)
                    prints = self._prints_for(table, rows.columns)
                    mark = self._diff_rows(rows, reader, table, differ, prints, full=False, mark=mark)
            # A page's row count moved, or a new key appeared (a key edited in place keeps the count): which keys
            # are gone?
            known = differ.known
            if any(key not in known for key in differ.seen) or any(
                pages.sums is None or pages.sums[i][:1] != sums[i][:1] for i in moved
            ):
                self._find_deletes(conn, table, differ, prints)
            pages.sums = sums
        if table.ts_column and watermark:
            since = datetime.fromisoformat(watermark) if isinstance(watermark, str) else watermark
            start = since - timedelta(seconds=1) if isinstance(since, datetime) else since
            with conn.iter_tuples(_select_all(table, f"[{table.ts_column}] >= ?"), [start], batch=FETCH) as rows:
                reader = ResultReader(table, rows.columns, rows.converters)
                prints = self._prints_for(table, rows.columns)
                top = self._diff_rows(rows, reader, table, differ, prints, full=False, mark=since)
            mark = top if mark is None or (top is not None and top > mark) else mark
        if mark is None:
            return watermark, owed
        return (mark.isoformat() if isinstance(mark, datetime) else mark), owed

    def _find_deletes(self, conn, table: WatchedTable, differ: Differ, prints: dict) -> None:
        keys: set[str] = set()
        pk_cols = ", ".join(f"[{c}]" for c in table.pk)
        with conn.iter_tuples(f"SELECT {pk_cols} FROM [{table.name}]", batch=FETCH) as rows:
            key_reader = _KeyReader(table, rows.columns)
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
            key_reader = _KeyReader(table, rows.columns)
            single = len(table.pk) == 1
            for raw in rows:
                e = prints.get(raw[0] if single else raw)
                keys.add(e[0] if e is not None else key_reader.key(raw))
        since = datetime.fromisoformat(watermark) if isinstance(watermark, str) else watermark
        # One second early: the stand-in driver binds a datetime with milliseconds ('... 00:00:00.000'), which sorts
        # after the same instant stored without them, so a row stamped exactly at the watermark (FactuSOL stamps
        # whole days) was skipped.  The rows of that second are read again, and the fingerprints skip them.
        start = since - timedelta(seconds=1) if isinstance(since, datetime) else since
        with conn.iter_tuples(_select_all(table, f"[{table.ts_column}] >= ?"), [start], batch=FETCH) as rows:
            reader = ResultReader(table, rows.columns, rows.converters)
            prints = self._prints_for(table, rows.columns)
            mark = self._diff_rows(rows, reader, table, differ, prints, full=False, mark=since)
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


class _KeyReader:
    def __init__(self, table: WatchedTable, columns: list[str]):
        self.names = table.pk
        self.idx = [columns.index(c) for c in table.pk]
        self.convs = {i: fsconn.converter_for(columns[i]) for i in self.idx}

    def key(self, raw) -> str:
        out = {}
        for n, i in zip(self.names, self.idx):
            v, c = raw[i], self.convs[i]
            out[n] = canon(c(v) if c else v)
        return encode_key(out)


def _image(value: Any) -> dict:
    if isinstance(value, dict):
        return value
    try:
        return json.loads(value) if value else {}
    except (TypeError, ValueError):
        return {}


def _day(value: Any) -> str:
    return str(value).replace("T", " ")[:10] if value else ""


def went_back(tables: dict[str, WatchedTable], rows) -> list[str]:
    """Updated rows whose FUM* (last-modified) date is older than before: FactuSOL only ever moves it forward."""
    out = []
    for r in rows:
        table = tables.get(r.source_table)
        if r.op != "update" or table is None or not table.ts_column:
            continue
        before, after = _day(_image(r.before).get(table.ts_column)), _day(_image(r.after).get(table.ts_column))
        if before and after and after < before:
            out.append(f"{r.source_table} {r.row_key}: {table.ts_column} {before} -> {after}")
    return out


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
