"""The raw rows of one SELECT streamed as tuples in batches (`TupleStream`), ending the statement when done."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pyodbc

from .errors import translate
from .values import converter_for


class TupleStream:
    """The raw rows of one SELECT, as plain tuples, fetched in batches (`FactusolConnection.iter_tuples`).

    `columns` are the result's column names and `converters` the matching `converter_for` functions (None where
    the raw value is final).  Iterate it once; the cursor closes and the statement ends (commit outside a
    transaction, so no lock stays on the shared file) when the iteration finishes, fails or is abandoned.  Use it
    as a context manager, or call `close()`, when it may not be iterated to the end.
    """

    def __init__(self, conn, cur, sql: str, batch: int):  # conn: the FactusolConnection that ran `sql`
        self._conn, self._cur, self.sql, self.batch = conn, cur, sql, batch
        self.columns: list[str] = [d[0] for d in cur.description]
        self._closed = False
        self._rest: list | None = None  # the unread rows, once `drain` has fetched them

    @property
    def converters(self) -> list[Callable[[Any], Any] | None]:
        return [converter_for(n) for n in self.columns]

    def _fetch(self) -> list:
        if self._rest is not None:
            rest, self._rest = self._rest, []
            return rest
        try:
            return self._cur.fetchmany(self.batch)
        except pyodbc.Error as exc:
            raise translate(exc, self.sql) from exc

    def drain(self) -> None:
        """Fetch every unread row now (iteration then goes on from memory): the statement may be ended under us."""
        if not self._closed and self._rest is None:
            rest = []
            while chunk := self._fetch():
                rest.extend(chunk)
            self._rest = rest

    def __iter__(self) -> Iterator[tuple]:
        try:
            while chunk := self._fetch():
                yield from map(tuple, chunk)
        except BaseException:
            self.close(failed=True)
            raise
        self.close()

    def close(self, failed: bool = False) -> None:
        if self._closed:
            return
        self._closed = True
        self._rest = None
        try:
            self._cur.close()
        except pyodbc.Error:
            pass
        self._conn._stream_closed(self)
        if failed:
            if not self._conn.in_transaction:
                self._conn._safe_rollback()
        else:
            self._conn._end_statement()

    def __enter__(self) -> TupleStream:
        return self

    def __exit__(self, exc_type, *_exc) -> None:
        self.close(failed=exc_type is not None)
