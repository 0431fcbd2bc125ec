"""The one door to a FactuSOL database: a pyodbc connection that only lets Access-valid SQL through.

Every statement passes ``check_access_sql`` (`sqlcheck.py`) before it reaches the driver and is recorded, so tests
can prove nothing Access would reject was ever sent; on the SQLite stand-in the few Access-only forms we use
(``SELECT TOP n``) are translated after the check.  Rows come back as dicts with Moneda as ``Decimal`` and
Fecha/Hora as ``datetime`` (`values.py`), or streamed as raw tuples (`stream.py`).  Also: opening a year file with
retries while it is locked, and its connection string.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyodbc

from .driver import ACCESS_DRIVER, check_driver_for, sqlite_driver_name
from .errors import (
    AccessSqlError,
    FactusolDriverError,
    FactusolDuplicateKeyError,  # noqa: F401  (re-exported)
    FactusolError,
    FactusolLockedError,
    FactusolNotWritableError,  # noqa: F401  (re-exported)
    is_lock_error,
    translate,
)
from .sqlcheck import (  # noqa: F401  (re-exported: check_access_sql, the statement record)
    STATEMENT_HOOKS,
    STATEMENT_LOG,
    StatementRecord,
    check_access_sql,
    last_statement_seq,
    record_statement,
    translate_for_sqlite,
)
from .stream import TupleStream
from .values import converter_for, to_datetime, to_decimal  # noqa: F401  (re-exported)

SQLITE_DRIVER = sqlite_driver_name()


# --------------------------------------------------------------------------------------------------------------------
# Connection


def dialect_of(conn_str: str) -> str:
    return "sqlite" if "sqlite" in conn_str.lower() else "access"


# How long a connect or one statement may wait on a file another program holds (FactuSOL exclusive, a compaction,
# a backup restore) before it fails as locked.  Without it the Access driver, and the stand-in's driver without a
# Timeout= in its string (its default is 100 s), wait on: the service looked idle while frozen.
TIMEOUT_SECONDS = 30.0
STAND_IN_TIMEOUT_MS = 2000  # the stand-in's busy timeout when its string gives none (as connection_string_for)


def set_timeout(seconds: float) -> None:
    """The connect and statement timeout of the connections opened from now on (factusol.timeout_seconds)."""
    global TIMEOUT_SECONDS
    TIMEOUT_SECONDS = float(seconds)


class FactusolConnection:
    """A pyodbc connection to one FactuSOL year file; every statement is Access-checked and recorded."""

    def __init__(self, conn_str: str, fast_executemany: bool = False):
        # pyodbc's fast_executemany binds whole parameter arrays, a mode built for SQL Server and unproven on
        # ACE: off for Access unless factusol.fast_executemany turns it on.
        self.fast_executemany = fast_executemany
        self.dialect = dialect_of(conn_str)
        if self.dialect == "sqlite" and not re.search(r"(?i)(^|;)\s*timeout\s*=", conn_str):
            conn_str = conn_str.rstrip(";") + f";Timeout={STAND_IN_TIMEOUT_MS};"
        self.conn_str = conn_str
        # The stand-in's SQLite ODBC driver copies a whole result set into memory on execute unless StepAPI is on
        # and the connection is in autocommit mode; then it steps through rows as they are fetched, as Access does.
        self._stream_in_autocommit = self.dialect == "sqlite"
        if self._stream_in_autocommit and "stepapi" not in conn_str.lower():
            conn_str = conn_str.rstrip(";") + ";StepAPI=1"
        self._driver_conn_str = conn_str
        self._cn = self._connect()
        self._tx_depth = 0
        self._no_lock_table = False  # the stand-in file has no F_CFG to take the write lock with
        self._open_streams: list[TupleStream] = []
        self.last_used = time.monotonic()

    def _connect(self):
        try:
            cn = pyodbc.connect(self._driver_conn_str, autocommit=False, timeout=max(1, int(TIMEOUT_SECONDS)))
        except pyodbc.Error as exc:
            missing = check_driver_for(self._driver_conn_str)
            if missing:  # one sentence saying what to install, rather than the driver manager's words
                raise FactusolDriverError(missing) from exc
            raise translate(exc, "<connect>", database_path(self._driver_conn_str)) from exc
        try:  # SQL_ATTR_QUERY_TIMEOUT: a statement blocked by a lock fails instead of waiting for ever
            cn.timeout = max(1, int(TIMEOUT_SECONDS))
        except pyodbc.Error:  # a driver without statement timeouts: the connect timeout and the lock probe remain
            pass
        return cn

    # -- giving the file back while idle --
    @property
    def is_open(self) -> bool:
        return self._cn is not None

    def idle_seconds(self) -> float:
        return time.monotonic() - self.last_used

    def release(self) -> bool:
        """Close the driver connection so FactuSOL can have the file alone (compact/repair, restore); the next
        statement opens it again.  Not while a transaction or a stream is open (returns False then)."""
        if self._cn is None:
            return True
        if self._tx_depth or self._open_streams:
            return False
        try:
            self._cn.close()
        except pyodbc.Error:
            pass
        self._cn = None
        return True

    def _ensure_open(self) -> None:
        self.last_used = time.monotonic()
        if self._cn is None:
            self._cn = self._connect()

    # -- plumbing --
    def _cursor_run(self, sql: str, params: Sequence[Any] | None, many: Iterable[Sequence[Any]] | None = None):
        try:
            check_access_sql(sql)
        except AccessSqlError as exc:
            record_statement(sql, False, str(exc))
            raise
        self._ensure_open()
        record_statement(sql, True)
        driver_sql = translate_for_sqlite(sql) if self.dialect == "sqlite" else sql
        cur = self._cn.cursor()
        try:
            if many is not None:
                self._batch_options(cur)
                cur.executemany(driver_sql, list(many))
            elif params:
                cur.execute(driver_sql, list(params))
            else:
                cur.execute(driver_sql)
        except pyodbc.Error as exc:
            cur.close()
            if self._tx_depth == 0:
                self._safe_rollback()
            raise translate(exc, sql) from exc
        return cur

    def _batch_options(self, cur) -> None:
        """How an executemany cursor binds its parameters: row by row unless factusol.fast_executemany is on
        (and never on the stand-in, whose driver does not support parameter arrays)."""
        cur.fast_executemany = self.fast_executemany and self.dialect == "access"

    def _safe_rollback(self) -> None:
        try:
            if self._cn is not None:
                self._cn.rollback()
        except pyodbc.Error:
            pass

    def _start_stream(self, sql: str, params: Sequence[Any] | None, batch: int) -> TupleStream:
        """Execute a SELECT whose rows are fetched bit by bit (see `_stream_in_autocommit`)."""
        self._ensure_open()
        if self._stream_in_autocommit and self._tx_depth == 0 and not self._cn.autocommit:
            self._cn.autocommit = True  # nothing is pending: outside a transaction every statement has committed
        try:
            stream = TupleStream(self, self._cursor_run(sql, params), sql, batch)
        except BaseException:
            self._stream_closed(None)
            raise
        self._open_streams.append(stream)
        return stream

    def _stream_closed(self, stream: TupleStream | None) -> None:
        if stream in self._open_streams:
            self._open_streams.remove(stream)
        if not self._open_streams and self._cn is not None and self._cn.autocommit:
            self._cn.autocommit = False

    def _end_statement(self) -> None:
        # Outside a transaction every statement is its own unit: commit so no lock is held on the shared file.
        if self._tx_depth == 0:
            try:
                self._cn.commit()
            except pyodbc.Error as exc:
                raise translate(exc, "<commit>") from exc

    @staticmethod
    def _row_maker(cur) -> Callable[[Sequence[Any]], dict[str, Any]]:
        names = [d[0] for d in cur.description]
        convs = [converter_for(n) for n in names]
        pairs = list(zip(names, convs))

        def make(row):
            return {n: (c(v) if c else v) for (n, c), v in zip(pairs, row)}

        return make

    # -- public API --
    def execute(self, sql: str, params: Sequence[Any] | None = None) -> int:
        """Run one non-query statement; returns the affected row count."""
        cur = self._cursor_run(sql, params)
        count = cur.rowcount
        cur.close()
        self._end_statement()
        return count

    def executemany(self, sql: str, seq_of_params: Iterable[Sequence[Any]]) -> None:
        cur = self._cursor_run(sql, None, many=seq_of_params)
        cur.close()
        self._end_statement()

    def query(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        """Run a SELECT and return every row as a dict (column name -> normalised value)."""
        cur = self._cursor_run(sql, params)
        make = self._row_maker(cur)
        rows = [make(r) for r in cur.fetchall()]
        cur.close()
        self._end_statement()
        return rows

    def query_one(self, sql: str, params: Sequence[Any] | None = None) -> dict[str, Any] | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def row(self, table: str, pk: dict[str, Any]) -> dict[str, Any] | None:
        """The whole row of ``table`` whose primary-key columns hold ``pk`` (None when there is none)."""
        where = " AND ".join(f"[{column}] = ?" for column in pk)
        return self.query_one(f"SELECT * FROM [{table}] WHERE {where}", list(pk.values()))

    def rows(self, table: str, where: dict[str, Any]) -> list[dict[str, Any]]:
        """Every whole row of ``table`` whose columns hold the values of ``where`` (a pedido's lines by its number)."""
        condition = " AND ".join(f"[{column}] = ?" for column in where)
        return self.query(f"SELECT * FROM [{table}] WHERE {condition}", list(where.values()))

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        row = self.query_one(sql, params)
        return None if row is None else next(iter(row.values()))

    def iter_rows(self, sql: str, params: Sequence[Any] | None = None, batch: int = 2000) -> Iterator[dict[str, Any]]:
        """Stream a SELECT in batches (Access has no OFFSET, so this is how large tables are read)."""
        with self.iter_tuples(sql, params, batch) as stream:
            names, convs = stream.columns, stream.converters
            for raw in stream:
                yield {n: (c(v) if c else v) for n, c, v in zip(names, convs, raw)}

    def iter_tuples(self, sql: str, params: Sequence[Any] | None = None, batch: int = 5000) -> TupleStream:
        """Run a SELECT (Access-checked and recorded like every statement) and stream its raw rows as tuples.

        No per-value conversion and no dicts: for scans of whole tables that only convert the rows they keep.
        Raises at once if the statement is refused or fails; read errors while streaming raise FactusolError
        (FactusolLockedError for a lock).  See `TupleStream`.
        """
        return self._start_stream(sql, params, batch)

    @contextmanager
    def transaction(self):
        """``with conn.transaction():`` commits on success and rolls back on any exception (nesting joins the outer)."""
        self._ensure_open()
        if self._tx_depth == 0 and self._cn.autocommit:
            # A stream is open on this connection.  The stand-in's driver ends a stepping statement, silently, when
            # the transaction begins: read what is left of it first.
            for stream in self._open_streams:
                stream.drain()
            self._cn.autocommit = False
        self._tx_depth += 1
        try:
            if self._tx_depth == 1 and self.dialect == "sqlite":
                self._take_write_lock()
            yield self
        except BaseException:
            self._tx_depth -= 1
            if self._tx_depth == 0:
                self._safe_rollback()
            raise
        self._tx_depth -= 1
        if self._tx_depth == 0:
            try:
                self._cn.commit()
            except pyodbc.Error as exc:
                self._safe_rollback()
                raise translate(exc, "<commit>") from exc

    # A write that changes no row: on the stand-in it takes SQLite's write lock (a write statement does, rows or
    # not), so a transaction that reads before it writes (a pedido's next number) sees the file as it will write it.
    _WRITE_LOCK_SQL = "UPDATE [F_CFG] SET [CODCFG] = [CODCFG] WHERE 1 = 0"

    def _take_write_lock(self) -> None:
        """The stand-in only: begin the transaction holding the write lock, as Access serialises two writers.  In
        SQLite's WAL mode a transaction that read first and then wants to write, after another connection committed
        meanwhile, can never write: its ODBC driver retries for its whole busy timeout (2 s) and then fails with
        "database is locked" (the writes of the load in bench_latency hit it).  Taken first, the lock makes the other
        writer wait for this transaction instead.  A file without F_CFG (a test's few tables) goes without."""
        if self._no_lock_table:
            return
        try:
            self.execute(self._WRITE_LOCK_SQL)
        except FactusolError as exc:
            if "no such table" not in str(exc):
                raise
            self._no_lock_table = True

    @property
    def in_transaction(self) -> bool:
        return self._tx_depth > 0

    def table_names(self) -> list[str]:
        """User tables (driver catalog call, not SQL)."""
        self._ensure_open()
        return [r.table_name for r in self._cn.cursor().tables(tableType="TABLE")]

    def columns(self, table: str) -> list[tuple[str, str, int | None]]:
        """(name, driver type name, size) of a table's columns from the driver catalog."""
        self._ensure_open()
        return [(r.column_name, r.type_name, r.column_size) for r in self._cn.cursor().columns(table=table)]

    def close(self) -> None:
        if self._cn is None:
            return
        try:
            self._cn.close()
        except pyodbc.Error:
            pass

    def __enter__(self) -> FactusolConnection:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_factusol(
    conn_str: str,
    retries: int = 6,
    backoff: float = 0.25,
    max_backoff: float = 4.0,
    probe_table: str = "F_CFG",
    sleep: Callable[[float], None] = time.sleep,
    fast_executemany: bool = False,
) -> FactusolConnection:
    """Connect and prove the file is readable, retrying with exponential backoff while it is locked.

    A lock shows up as "database is locked" on the stand-in and as Access error 3045 "file already in use" (or 3218/3260
    record locks) on Windows, either at connect or at the first read, so we probe with one read.
    """
    named = database_path(conn_str)
    if named and "{" not in named and not Path(named).is_file():  # the stand-in's driver would create it empty
        raise FactusolError(
            f"the FactuSOL file {named} does not exist{' (it is a folder)' if Path(named).is_dir() else ''}:"
            " check factusol.file / connection in replicator.yaml"
        )
    waited = 0.0
    last: Exception | None = None
    for attempt in range(retries + 1):
        conn = None
        try:
            conn = FactusolConnection(conn_str, fast_executemany=fast_executemany)
            conn.query(f"SELECT COUNT(*) AS [N] FROM [{probe_table}]")
            return conn
        except (FactusolError, pyodbc.Error) as exc:
            if conn is not None:
                conn.close()
            if not is_lock_error(exc):
                raise
            last = exc
            if attempt == retries:
                break
            delay = min(max_backoff, backoff * (2**attempt))
            sleep(delay)
            waited += delay
    raise FactusolLockedError(
        f"FactuSOL database still locked after {retries + 1} attempts over {waited:.1f}s "
        f"(is FactuSOL compacting, or an antivirus scanning the file?): {last}"
    )


def connection_string_for(path: str | os.PathLike, timeout_ms: int = 2000) -> str:
    """ODBC string: Access driver for .accdb/.mdb on Windows, the SQLite3 driver for the .sqlite stand-in."""
    p = Path(path)
    ext = p.suffix.lower()
    if ext in (".accdb", ".mdb"):
        if sys.platform != "win32":
            raise FactusolError(f"{p.name}: the Microsoft Access ODBC driver only exists on Windows")
        return f"DRIVER={{{ACCESS_DRIVER}}};DBQ={p};"
    # Timeout = SQLite busy timeout in ms: how long one statement waits for a lock before "database is locked".
    return f"DRIVER={{{SQLITE_DRIVER}}};Database={p};Timeout={timeout_ms};"


def reads_hold_off_writes(conn_str: str) -> bool:
    """Whether a long read on one connection keeps another connection from committing, for as long as it reads.

    Access locks pages, not the file: one connection may write while another reads.  So does the stand-in in SQLite's
    WAL mode.  In SQLite's rollback-journal mode (its default) a reader holds a whole-file lock and a writer waits
    for it, past the driver's busy timeout on a long scan.  The mode is read from the stand-in's file header (bytes
    18-19 are 2 in WAL mode), so no statement is sent; a file that can't be read counts as holding off writes."""
    if dialect_of(conn_str) != "sqlite":
        return False
    path = database_path(conn_str)
    if not path:
        return True
    try:
        with open(path, "rb") as f:
            header = f.read(20)
    except OSError:
        return True
    return len(header) < 20 or header[18:20] != b"\x02\x02"


def database_path(conn_str: str) -> str:
    """The file an ODBC connection string opens (its DBQ= or Database=), or "" when it names none."""
    match = re.search(r"(?i)(?:^|;)\s*(?:DBQ|Database)\s*=\s*([^;]+)", conn_str)
    return match.group(1).strip() if match else ""
