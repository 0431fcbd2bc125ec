"""FactuSOL errors: the exceptions the side raises and the ONE mapping from driver messages to "the file is locked".

A lock shows up as "database is locked" on the SQLite stand-in and as Access error 3045 "file already in use" (or
3218/3260 record locks) on Windows; every caller asks `is_lock_error` and raises `FactusolLockedError`.
"""

from __future__ import annotations

import pyodbc


class FactusolError(Exception):
    """Any failure talking to the FactuSOL database."""


class AccessSqlError(FactusolError):
    """The statement uses SQL that Microsoft Access (ACE/Jet through ODBC) would reject; it was not sent."""


class FactusolLockedError(FactusolError):
    """The database file stayed locked (FactuSOL, compaction, antivirus) for the whole retry budget."""


class FactusolDuplicateKeyError(FactusolError):
    """An INSERT collided with an existing primary key (e.g. a document number taken concurrently)."""


_LOCK_MARKERS = ("database is locked", "database table is locked", "3045", "already in use", "could not lock",
                 "currently locked", "3218", "3260", "3050", "3006", "exclusively locked")


def is_lock_error(exc: BaseException) -> bool:
    """Whether an error means the file is locked (a FactusolLockedError, or a driver message saying so)."""
    if isinstance(exc, FactusolLockedError):
        return True
    text = str(exc).lower()
    return any(m in text for m in _LOCK_MARKERS)


def as_locked(exc: BaseException) -> BaseException:
    """`FactusolLockedError` for a lock, else the error itself (to `raise as_locked(exc) from exc`)."""
    return FactusolLockedError(str(exc)) if is_lock_error(exc) else exc


def is_transient(exc: BaseException) -> bool:
    """Whether a FactuSOL error says "try again later" (the file locked, the driver's link lost)."""
    if isinstance(exc, FactusolLockedError):
        return True
    return isinstance(exc, pyodbc.Error) and (is_lock_error(exc) or isinstance(exc, pyodbc.OperationalError))
