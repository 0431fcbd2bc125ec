"""What a FactuSOL driver error means: classified by SQLSTATE and native error number, not by English text.

pyodbc raises ``Error(sqlstate, "[sqlstate] [vendor][driver] message (native) (ODBC call)")``.  The Access
(ACE) driver speaks the language of the Windows install ("[Microsoft][ODBC Microsoft Access Driver]" in English,
"[Microsoft][Controlador ODBC Microsoft Access]" in Spanish), so the message text is a last resort: the
SQLSTATE and the native number (Access's negative Jet error code, the same in every language) decide.  The
stand-in's SQLite ODBC driver gives no such numbers; its English messages are matched instead.

Where the numbers come from (see tests/test_factusol_errors.py for the table of real messages):
verified in public driver output: 23000/-1605 duplicate key, HY000/-1032 file opened exclusively or no
permission, -1811 file not found, -1028 not an Access database, IM002 no such driver, IM014 architecture
(bitness) mismatch; from public reports but not seen in full driver output here (so text is matched too):
-3035 "operation must use an updateable query", -1809 read-only, -1102/-1302/-1304 record/table locked,
22001 string data right truncation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .schema import FactusolWidthError

__all__ = [
    "FactusolError",
    "AccessSqlError",
    "FactusolLockedError",
    "FactusolDuplicateKeyError",
    "FactusolNotWritableError",
    "FactusolDriverError",
    "FactusolFileError",
    "DriverError",
    "classify",
    "is_lock_error",
    "as_locked",
    "is_transient",
    "translate",
    "FactusolWidthError",
]


class FactusolError(Exception):
    """Any failure talking to the FactuSOL database."""


class AccessSqlError(FactusolError):
    """The statement uses SQL that Microsoft Access (ACE/Jet through ODBC) would reject; it was not sent."""


class FactusolLockedError(FactusolError):
    """The database file stayed locked (FactuSOL, compaction, antivirus) for the whole retry budget."""


class FactusolRestoredError(FactusolError):
    """The file went back in time (rows whose FUM* date is older than what was seen) or is another file than the one
    scanned last (`restored.replaced`): restored from a backup or copied over.  Nothing of that scan is stored and
    applying stops until a person accepts the file (`replicator.halt`)."""


class FactusolDuplicateKeyError(FactusolError):
    """An INSERT collided with an existing primary key (e.g. a document number taken concurrently)."""


class FactusolNotWritableError(FactusolError):
    """The file or its folder cannot be written (Access needs to create the .laccdb lock file beside it)."""

    @property
    def sentence(self) -> str:  # already the user's sentence: printed as it is (cli_output.error_sentence)
        return str(self)


class FactusolDriverError(FactusolError):
    """The ODBC driver is missing or of the other bitness; the message says what to install."""

    @property
    def sentence(self) -> str:  # already the user's sentence: printed as it is (cli_output.error_sentence)
        return str(self)


class FactusolFileError(FactusolError):
    """The file does not exist or is not an Access database."""

    @property
    def sentence(self) -> str:  # already the user's sentence: printed as it is (cli_output.error_sentence)
        return str(self)


# Kinds of driver error
LOCK, DUPLICATE, TOO_SMALL, NOT_WRITABLE, NO_DRIVER, BITNESS, NO_FILE, NOT_ACCESS, OTHER = (
    "lock",
    "duplicate",
    "too_small",
    "not_writable",
    "no_driver",
    "bitness",
    "no_file",
    "not_access",
    "other",
)


@dataclass(frozen=True)
class _Rule:
    kind: str
    sqlstates: frozenset[str] = frozenset()  # SQLSTATEs that mean this kind on their own
    natives: frozenset[int] = frozenset()  # Access (Jet) native error numbers
    texts: tuple[str, ...] = ()  # lower-case fragments: English and Spanish ACE messages, the stand-in's


def _rule(kind: str, sqlstates=(), natives=(), texts=()) -> _Rule:
    return _Rule(kind, frozenset(sqlstates), frozenset(natives), tuple(t.lower() for t in texts))


# First match wins: the order matters where one SQLSTATE covers several kinds (HY000 covers almost everything).
RULES: tuple[_Rule, ...] = (
    _rule(BITNESS, sqlstates=["IM014"], texts=["architecture mismatch", "no coinciden las arquitecturas"]),
    _rule(
        NO_DRIVER,
        sqlstates=["IM002"],
        texts=[
            "data source name not found and no default driver specified",
            "no se encuentra el nombre del origen de datos",
            "can't open lib",  # unixODBC: the driver named in DRIVER={...} is not installed
        ],
    ),
    _rule(
        TOO_SMALL,
        sqlstates=["22001"],
        texts=[
            "field is too small to accept the amount of data",
            "el campo es demasiado pequeño para aceptar la cantidad de datos",
            "string data, right truncat",
            "check constraint failed: length(",  # the stand-in declares FactuSOL's widths as CHECKs
        ],
    ),
    _rule(
        DUPLICATE,
        natives=[-1605],
        texts=[
            "would create duplicate values in the index, primary key, or relationship",
            "crearían valores duplicados en el índice, clave principal o relación",
            "unique constraint failed",
            "primary key must be unique",
        ],
    ),
    _rule(
        NOT_WRITABLE,
        natives=[-3035, -1809],
        texts=[
            "operation must use an updateable query",
            "operation must use an updatable query",
            "la operación debe usar una consulta actualizable",
            "cannot update. database or object is read-only",
            "database or object is read-only",
            "no se puede actualizar. la base de datos o el objeto son de sólo lectura",
            "attempt to write a readonly database",  # the stand-in
        ],
    ),
    _rule(
        LOCK,
        natives=[-1032, -1102, -1302, -1304, -1024],
        texts=[
            "already opened exclusively",
            "ya lo tiene abierto en modo exclusivo",
            "could not update; currently locked",
            "no se pudo actualizar; bloqueado",
            "could not lock table",
            "could not lock file",
            "file already in use",
            "ya está en uso",
            "database is locked",
            "database table is locked",  # the stand-in
        ],
    ),
    _rule(
        NO_FILE,
        natives=[-1811],
        texts=["could not find file", "no se pudo encontrar el archivo", "unable to open database file"],
    ),
    _rule(
        NOT_ACCESS,
        natives=[-1028],
        texts=["unrecognized database format", "formato de base de datos no reconocido", "file is not a database"],
    ),
)

_NATIVE_CALL = re.compile(r"\((-?\d+)\)\s*\(SQL\w+\)")  # "... (-1605) (SQLExecDirectW)"
_NATIVE_END = re.compile(r"\((-?\d+)\)$")
_STATE = re.compile(r"^\[?([0-9A-Z]{5})\]?")


@dataclass(frozen=True)
class DriverError:
    """One driver error, understood: its kind, SQLSTATE, native number and the driver's own message."""

    kind: str
    sqlstate: str
    native: int | None
    message: str


def parse(exc: BaseException) -> tuple[str, int | None, str]:
    """(SQLSTATE, native error number or None, message) of a pyodbc error (or anything that looks like one)."""
    args = getattr(exc, "args", ()) or ()
    if len(args) >= 2 and isinstance(args[0], str) and _STATE.fullmatch(args[0]):
        state, text = args[0], str(args[1])
    else:
        text = str(exc)
        match = _STATE.match(text.lstrip("('\""))
        state = match.group(1) if match else ""
    match = _NATIVE_CALL.search(text) or _NATIVE_END.search(text.rstrip(" '\""))
    native = int(match.group(1)) if match else None
    return state, native, text


def classify(exc: BaseException) -> DriverError:
    state, native, text = parse(exc)
    low = text.lower()
    for rule in RULES:
        if (
            state in rule.sqlstates
            or (native is not None and native in rule.natives)
            or any(t in low for t in rule.texts)
        ):
            return DriverError(rule.kind, state, native, text)
    return DriverError(OTHER, state, native, text)


def is_lock_error(exc: BaseException) -> bool:
    """Whether an error means the file is locked (a FactusolLockedError, or a driver error saying so)."""
    if isinstance(exc, FactusolLockedError):
        return True
    return classify(exc).kind == LOCK


def as_locked(exc: BaseException) -> BaseException:
    """`FactusolLockedError` for a lock, else the error itself (to `raise as_locked(exc) from exc`)."""
    return FactusolLockedError(str(exc)) if is_lock_error(exc) else exc


def is_transient(exc: BaseException) -> bool:
    """Whether a FactuSOL error says "try again later" (the file locked, the driver's link lost)."""
    import pyodbc

    if isinstance(exc, FactusolLockedError):
        return True
    return isinstance(exc, pyodbc.Error) and (is_lock_error(exc) or isinstance(exc, pyodbc.OperationalError))


_CHECK_LEN = re.compile(r"CHECK constraint failed: length\(\[?(\w+)\]?\)", re.IGNORECASE)
_TABLE_OF = re.compile(r"^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\[?(\w+)\]?", re.IGNORECASE)


def translate(exc: BaseException, sql: str, database: str = "") -> Exception:
    """The FactusolError a driver error stands for (`sql` is the statement, `database` the file it opens)."""
    error = classify(exc)
    text = error.message
    where = f" ({database})" if database else ""
    if error.kind == LOCK:
        return FactusolLockedError(f"FactuSOL database is locked{where}: {text}")
    if error.kind == DUPLICATE:
        return FactusolDuplicateKeyError(f"duplicate key: {text} in {sql!r}")
    if error.kind == TOO_SMALL:
        table = _TABLE_OF.match(sql)
        column = _CHECK_LEN.search(text)
        return FactusolWidthError(
            table.group(1) if table else "?", None, column.group(1) if column else "?", f"value too long ({text})"
        )
    if error.kind == NOT_WRITABLE:
        return FactusolNotWritableError(
            f"the FactuSOL file{where} cannot be written: give the replicator's account Modify rights on the file "
            f"and its folder (Access creates a .laccdb lock file beside it) and check the file is not read-only "
            f"({text})"
        )
    if error.kind in (NO_DRIVER, BITNESS):
        from .driver import driver_advice

        return FactusolDriverError(driver_advice(error.kind))
    if error.kind == NO_FILE:
        return FactusolFileError(
            f"the FactuSOL file{where} was not found: check factusol.file / data_dir in "
            f"replicator.yaml (a UNC path, not a mapped drive letter, for a service) ({text})"
        )
    if error.kind == NOT_ACCESS:
        return FactusolFileError(
            f"the file{where} is not an Access database FactuSOL wrote: point factusol.file "
            f"at the company's <CCC><YYYY>.accdb ({text})"
        )
    return FactusolError(f"{text} in {sql!r}")
