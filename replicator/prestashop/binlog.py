"""PrestaShop capture from the MySQL/MariaDB binlog (ROW format): one logical change per source transaction.

Rows of one transaction are collected until its XID (or COMMIT) event and written with ONE
`Store.record_capture` whose checkpoint is the binlog position *after* that XID, so a crash mid-transaction
re-reads the whole transaction and a crash after the commit re-reads nothing.  Several whole transactions may
share one record_capture call (throughput); a transaction is never split.  Transactions that also insert into
`<prefix>replicator_ledger` are the replicator's own writes: they are dropped (counted as echoes), not logged.

Rows are decoded only at the transaction's end, and only when it is not an echo.  python-mysql-replication parses a
RowsEvent's rows lazily, on the first access to `.rows`; `event.table` / `event.schema` come from the table map when
the event is built.  Each event owns its packet (its own bytes and read position; later events do not reuse it) and
keeps the table-map dict it was built with, looked up by its table id when the rows are parsed.  That entry cannot
change meaning inside a transaction: DDL commits implicitly, and the reader replaces (not clears) the dict on a
rotate, which falls between transactions.  So a transaction's RowsEvents are buffered undecoded and decoded right
after its XID/COMMIT (before the next event is read); the ledger row, which the shop writers insert last, then costs
an echo transaction only the receiving of its events.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pymysql
from pymysqlreplication import BinLogStreamReader
from pymysqlreplication.event import GtidEvent, HeartbeatLogEvent, MariadbGtidEvent, QueryEvent, RotateEvent, XidEvent
from pymysqlreplication.row_event import DeleteRowsEvent, UpdateRowsEvent, WriteRowsEvent

from replicator.config import PrestashopConfig, parse_mysql_url, redact
from replicator.capture.committer import BackgroundCommitter
from replicator.capture.snapshot import DELETE, INSERT, UPDATE
from replicator.capture.tables import PRESTASHOP, WatchedTable, prestashop_tables, row_key
from replicator.prestashop.connection import connect
from replicator.prestashop.shop_errors import explain
from replicator.store import CapturedRow, Store

from .binlog_server import binary_logs, binlog_notes, check_binlog_access, current_position, is_mariadb
from .catchup import catch_up, position_is_gone
from .binlog_values import clean_row, clean_value, unclean_columns
from .ledger import ensure_ledger_table, last_store_tag, ledger_ddl, ledger_insert_sql, ledger_table

# The server checks, the ledger and the value cleaning live in their own modules; callers may still take them from here.
__all__ = [
    "BinlogCapture",
    "BinlogReport",
    "BinlogStatus",
    "binlog_notes",
    "check_binlog_access",
    "clean_row",
    "clean_value",
    "current_position",
    "ensure_ledger_table",
    "is_mariadb",
    "last_store_tag",
    "ledger_ddl",
    "ledger_insert_sql",
    "ledger_table",
    "unclean_columns",
]

log = logging.getLogger("replicator.prestashop.binlog")

CHECKPOINT = "prestashop.binlog"
BATCH_ROWS = 2000  # hand accumulated whole transactions to the commit thread at this many rows
BATCH_ROWS_MAX = 20000  # ... or, while it is still writing the previous batch, at this many
BATCH_SECONDS = 0.5
# Client errors that mean "the server went away / restarts": reconnect with backoff and resume.
RECONNECT_ERRNOS = {2003, 2006, 2013, 2055, 1053, 1927, 1317}


@dataclass
class BinlogStatus:
    state: str = "starting"  # starting | streaming | reconnecting | error | stopped
    last_error: str = ""
    file: str = ""
    pos: int = 0
    transactions: int = 0
    changes: int = 0
    echoes: int = 0
    reconnects: int = 0
    last_event_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "last_error": self.last_error,
            "file": self.file,
            "pos": self.pos,
            "transactions": self.transactions,
            "changes": self.changes,
            "echoes": self.echoes,
            "reconnects": self.reconnects,
            "last_event_at": self.last_event_at.isoformat() if self.last_event_at else None,
        }


@dataclass
class BinlogReport:
    transactions: int = 0
    row_events: int = 0  # rows decoded (transactions that are not echoes, watched tables only)
    skipped_events: int = 0  # RowsEvents of echo transactions, dropped without decoding their rows
    changes: int = 0
    echoes: int = 0
    file: str = ""
    pos: int = 0
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=lambda: {INSERT: 0, UPDATE: 0, DELETE: 0})


class BinlogCapture:
    """Reads the shop binlog from the stored checkpoint and records one change group per transaction."""

    def __init__(self, store: Store, cfg: PrestashopConfig, tables: dict[str, WatchedTable] | None = None):
        self.store, self.cfg = store, cfg
        self.tables = tables or prestashop_tables()
        self.prefix = cfg.prefix
        self.by_physical = {t.physical(self.prefix): t for t in self.tables.values()}
        self.ledger = ledger_table(self.prefix)
        params = parse_mysql_url(cfg.url)
        self.schema = params.pop("database", None)
        if not self.schema:
            raise ValueError("prestashop.url: the database name is missing")
        params.pop("charset", None)
        self.settings = params
        self.status = BinlogStatus()
        self._mariadb: bool | None = None
        # Called on the commit thread after each stored batch with its number of changes (0 for echoes only): the
        # service wakes its apply loop with it.
        self.on_commit: Callable[[int], None] | None = None

    # -- position --
    def position(self) -> tuple[str, int]:
        cp = self.store.checkpoint(CHECKPOINT)
        if cp:
            file, pos = cp["file"], int(cp["pos"])
            if self._gone(file, pos):
                return self._catch_up(file, pos)
            return file, pos
        with connect(self.cfg.url) as conn:
            file, pos = current_position(conn)
        # Remember the start so changes made before our first read are not skipped after a restart.
        self.store.set_checkpoint(CHECKPOINT, {"file": file, "pos": pos, "txn": "", "at": _now()})
        return file, pos

    def _gone(self, file: str, pos: int) -> bool:
        """Whether the stored position is no longer on the server (its logs purged, or the log reset)."""
        try:
            with connect(self.cfg.url) as conn:
                return position_is_gone(binary_logs(conn), file, pos)
        except pymysql.MySQLError:  # SHOW BINARY LOGS refused or failed: the binlog dump itself will say
            return False

    def _catch_up(self, file: str, pos: int) -> tuple[str, int]:
        """The stored position is gone: the changes made since are read from the current data instead
        (replicator/prestashop/catchup.py), never skipped; then the binlog is followed from the server's position."""
        log.warning(
            "binlog: the stored position %s:%s is no longer on the shop's server (its binary logs were purged while"
            " the replicator was not reading them), so the changes made since are taken from the current data of"
            " every watched table instead; nothing is skipped, and rows deleted meanwhile are found by"
            " `replicator reconcile`",
            file,
            pos,
        )
        done = catch_up(self.store, self.cfg, self.tables, CHECKPOINT, _now())
        log.info(
            "binlog: catch-up done: %d rows read, %d changes logged in %.1fs; following the binlog from %s:%s",
            done.rows,
            done.changes,
            done.seconds,
            done.file,
            done.pos,
        )
        if done.changes and self.on_commit is not None:
            self.on_commit(done.changes)
        return done.file, done.pos

    def _stream(self, file: str, pos: int, blocking: bool, heartbeat: float | None) -> BinLogStreamReader:
        if self._mariadb is None:
            with connect(self.cfg.url) as conn:
                self._mariadb = is_mariadb(conn)
                for note in binlog_notes(conn):
                    log.info("binlog: %s", note)
        events = [
            WriteRowsEvent,
            UpdateRowsEvent,
            DeleteRowsEvent,
            XidEvent,
            QueryEvent,
            RotateEvent,
            GtidEvent,
            MariadbGtidEvent,
        ]
        return BinLogStreamReader(
            connection_settings=dict(self.settings),
            server_id=int(self.cfg.server_id),
            resume_stream=True,
            log_file=file,
            log_pos=pos,
            blocking=blocking,
            # A blocking stream asks the server for a heartbeat event whenever it has been idle this long: the
            # reader gets control back to commit what it holds and to see a stop request.
            slave_heartbeat=heartbeat,
            only_events=events + [HeartbeatLogEvent] if heartbeat else events,
            only_schemas=[self.schema],
            only_tables=[*self.by_physical, self.ledger],
            # The library's is_mariadb mode dumps by MariaDB GTID state and ignores log_file/log_pos; we resume
            # by file/position (what we checkpoint), which MariaDB serves through the classic dump command.
            is_mariadb=False,
            use_column_name_cache=True,
            enable_logging=False,
        )

    def _decode(self, pending: list, txn: str, batch: list[CapturedRow], counts: dict[str, int]) -> int:
        """Append the change rows of one transaction's buffered RowsEvents to `batch` (this is where
        python-mysql-replication parses their rows); the number of source rows."""
        i = 0  # row number within the transaction: the row's position is "<txn>#<i>"
        for event in pending:
            table = self.by_physical[event.table]
            entity, name = table.entity, table.name
            unclean = unclean_columns(event.columns)
            if isinstance(event, UpdateRowsEvent):
                for row in event.rows:
                    before = clean_row(row["before_values"], unclean)
                    after = clean_row(row["after_values"], unclean)
                    key, old_key = row_key(table, after), row_key(table, before)
                    if key == old_key:
                        batch.append(
                            CapturedRow(PRESTASHOP, entity, name, key, UPDATE, before, after, f"{txn}#{i}", txn)
                        )
                        counts[UPDATE] += 1
                    else:  # the primary key itself changed: a delete of the old key and an insert of the new one
                        batch.append(
                            CapturedRow(PRESTASHOP, entity, name, old_key, DELETE, before, None, f"{txn}#{i}d", txn)
                        )
                        batch.append(CapturedRow(PRESTASHOP, entity, name, key, INSERT, None, after, f"{txn}#{i}", txn))
                        counts[DELETE] += 1
                        counts[INSERT] += 1
                    i += 1
                continue
            inserted = isinstance(event, WriteRowsEvent)
            op = INSERT if inserted else DELETE
            first = i
            for row in event.rows:
                values = clean_row(row["values"], unclean)
                batch.append(
                    CapturedRow(
                        PRESTASHOP,
                        entity,
                        name,
                        row_key(table, values),
                        op,
                        None if inserted else values,
                        values if inserted else None,
                        f"{txn}#{i}",
                        txn,
                    )
                )
                i += 1
            counts[op] += i - first
        return i

    def read(
        self,
        stop: threading.Event | None = None,
        max_seconds: float | None = None,
        blocking: bool = False,
        heartbeat: float | None = None,
    ) -> BinlogReport:
        """Read from the checkpoint to the end of the binlog (or until stopped) and record every transaction.

        `blocking=True` keeps waiting for new events until `stop` is set, with a server heartbeat every `heartbeat`
        seconds of quiet (the daemon); otherwise the read ends at the end of the binlog.

        Raises pymysql errors on connection loss; `run`/`capture` handle reconnects.
        """
        started = time.monotonic()
        report = BinlogReport()
        file, pos = self.position()
        stream = self._stream(file, pos, blocking, heartbeat if blocking else None)
        pending: list = []  # RowsEvents of the open transaction on watched tables, rows NOT yet decoded
        echo = False
        batch: list[CapturedRow] = []  # rows of whole, finished transactions not yet stored
        batch_end: dict | None = None
        last_flush = time.monotonic()
        self.status.state = "streaming"

        # Whole transactions are stored in batches, each with the checkpoint after its last transaction, in ONE
        # store transaction, committed on a background thread while the next batch is parsed.  While a batch is
        # being written the next one keeps growing (up to BATCH_ROWS_MAX), so a slow store gets fewer, larger
        # commits instead of holding the reader up.
        def committed(end: dict, changes: int) -> None:  # on the commit thread
            report.changes += changes
            self.status.file, self.status.pos = end["file"], end["pos"]
            self.status.last_error = ""  # stored again: whatever went wrong before is over
            if self.on_commit is not None:
                self.on_commit(changes)

        committer = BackgroundCommitter(self.store, CHECKPOINT, committed)

        def flush(last: bool = False) -> None:
            nonlocal batch, batch_end, last_flush
            if batch_end is None or (not last and committer.busy and len(batch) < BATCH_ROWS_MAX):
                return
            committer.submit(batch, batch_end)
            batch, batch_end, last_flush = [], None, time.monotonic()

        try:
            for event in stream:
                if isinstance(event, (WriteRowsEvent, UpdateRowsEvent, DeleteRowsEvent)):
                    # Never touch event.rows here: it would parse the rows of what may be our own write.
                    if event.table == self.ledger:
                        echo = True
                    elif event.table in self.by_physical:
                        pending.append(event)
                elif isinstance(event, (GtidEvent, MariadbGtidEvent)):
                    pending, echo = [], False  # a transaction starts
                elif isinstance(event, QueryEvent):
                    query = (event.query or "").strip().upper()
                    if query == "BEGIN":
                        pending, echo = [], False
                    elif query == "COMMIT":  # non-XID commit (non-transactional engines)
                        batch_end = self._end_txn(stream, pending, echo, batch, report, batch_end)
                        pending, echo = [], False
                elif isinstance(event, XidEvent):
                    batch_end = self._end_txn(stream, pending, echo, batch, report, batch_end)
                    pending, echo = [], False
                # Changes go to the store at once while the commit thread is free (an idle shop's edit is logged,
                # and the apply woken, within milliseconds); while it writes, whole transactions pile up into the
                # next batch.  Echoes only move the checkpoint: those wait for BATCH_SECONDS or more rows.
                if batch_end is not None and (
                    len(batch) >= BATCH_ROWS
                    or time.monotonic() - last_flush >= BATCH_SECONDS
                    or (batch and not committer.busy)
                ):
                    flush()
                committer.raise_error()  # a batch the store refused ends the read now, not at the next batch
                if stop is not None and stop.is_set() and not pending:
                    break
                if max_seconds is not None and time.monotonic() - started > max_seconds and not pending:
                    break
            flush(last=True)  # rows of an unfinished transaction (pending) are dropped: re-read from the checkpoint
        finally:
            stream.close()
            committer.close()  # waits for the batch in flight; raises the commit thread's error
        report.file, report.pos = self.status.file, self.status.pos
        report.seconds = round(time.monotonic() - started, 3)
        return report

    def _end_txn(self, stream, pending, echo, batch, report, batch_end) -> dict:
        end = {
            "file": stream.log_file,
            "pos": int(stream.log_pos),
            "txn": f"{stream.log_file}:{stream.log_pos}",
            "at": _now(),
        }
        report.transactions += 1
        self.status.transactions += 1
        self.status.last_event_at = datetime.now()
        if echo:
            # Our own write (it carries a ledger row): the apply layer already knows it; don't log it again.
            # Its buffered events are dropped with their rows never parsed.
            report.echoes += 1
            report.skipped_events += len(pending)
            self.status.echoes += 1
            return end
        if not pending:  # a transaction on tables we don't watch: only the position moves
            return end
        decoded = self._decode(pending, end["txn"], batch, report.counts)
        report.row_events += decoded
        self.status.changes += decoded
        return end

    # -- a capture Side (replicator/capture/side.py) --
    side = "prestashop"

    def once(self) -> BinlogReport:
        return self.capture()

    def stream(self, stop: threading.Event, on_change: Callable[[int], None] | None = None) -> None:
        if on_change is not None:
            self.on_commit = on_change
        self.run(stop)

    # -- resilient loops --
    def capture(self, retries: int = 8, max_seconds: float | None = None) -> BinlogReport:
        """Read to the end of the binlog, reconnecting with backoff if the server goes away meanwhile."""
        total = BinlogReport()
        delay = 0.5
        for attempt in range(retries + 1):
            try:
                r = self.read(max_seconds=max_seconds)
            except (pymysql.MySQLError, OSError, EOFError) as exc:
                if attempt == retries or not _retryable(exc):
                    self.status.state, self.status.last_error = "error", explain(exc)
                    raise
                self._reconnect_wait(exc, delay)
                delay = min(delay * 2, 10.0)
                continue
            _add(total, r)
            return total
        return total

    def run(self, stop: threading.Event, idle_seconds: float = 0.5) -> None:
        """Daemon loop: one blocking stream that follows the binlog as it grows (a heartbeat every `idle_seconds`
        of quiet lets it commit and see `stop`), reconnecting with backoff on server loss.

        One stream for the life of the daemon: a new one per poll would cost two connections (with their TLS
        set-up) every half second of an idle shop."""
        delay = 0.5
        while not stop.is_set():
            try:
                self.read(stop=stop, blocking=True, heartbeat=idle_seconds)
                delay = 0.5
                self.status.state, self.status.last_error = "streaming", ""
            except (pymysql.MySQLError, OSError, EOFError) as exc:
                if not _retryable(exc):
                    self.status.state, self.status.last_error = "error", explain(exc)
                    log.error("binlog capture: %s", self.status.last_error)
                    stop.wait(min(delay * 4, 30.0))
                    continue
                self._reconnect_wait(exc, delay, stop)
                delay = min(delay * 2, 30.0)
                continue
            except Exception as exc:
                # The store refused a batch (locked past its busy timeout, a full disk, ...): the checkpoint did not
                # move past the last committed batch, so the next read takes the rest up again.  Keep going.
                self.status.state, self.status.last_error = "error", _store_sentence(exc)
                log.error(
                    "binlog capture: the changes read could not be stored (%s); reading them again from the "
                    "checkpoint in %.1fs",
                    self.status.last_error,
                    delay,
                )
                stop.wait(delay)
                delay = min(delay * 2, 30.0)
                continue
            stop.wait(idle_seconds)  # the server ended the stream (it shuts down): read again from the checkpoint
        self.status.state = "stopped"

    def _reconnect_wait(self, exc: BaseException, delay: float, stop: threading.Event | None = None) -> None:
        self.status.state, self.status.last_error = "reconnecting", explain(exc)
        self.status.reconnects += 1
        log.warning("binlog connection lost: %s; resuming from the checkpoint in %.1fs", self.status.last_error, delay)
        if stop is not None:
            stop.wait(delay)
        else:
            time.sleep(delay)


def _store_sentence(exc: BaseException) -> str:
    """What the state store said when it refused a batch, without the driver's class names: SQLAlchemy wraps the
    database's own message (``exc.orig``) in "(sqlite3.IntegrityError) ..."."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip().rstrip(".")
    return redact(text) or "the state store refused the batch without saying why"


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, (OSError, EOFError, pymysql.err.InterfaceError)):
        return True
    code = exc.args[0] if getattr(exc, "args", None) else None
    return isinstance(exc, pymysql.err.OperationalError) and (code in RECONNECT_ERRNOS or code is None)


def _add(total: BinlogReport, r: BinlogReport) -> None:
    total.transactions += r.transactions
    total.row_events += r.row_events
    total.skipped_events += r.skipped_events
    total.changes += r.changes
    total.echoes += r.echoes
    total.file, total.pos, total.seconds = r.file, r.pos, total.seconds + r.seconds
    for k, v in r.counts.items():
        total.counts[k] += v


def _now() -> str:
    return datetime.now().isoformat(timespec="seconds")
