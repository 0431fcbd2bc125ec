"""FactuSOL checks for `replicator doctor`: driver and bitness, the file opens, the columns the rules use, the folder
is writable, and a write in a rolled-back transaction goes through.

Each check returns a `Finding`: ok, or one sentence naming the file and saying what to do.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .driver import check_driver_for, find_access_driver
from .errors import FactusolError, FactusolLockedError, FactusolNotWritableError, classify
from .schema import DATE, DOUBLE, MONEY, SINGLE, load_schema

OK, WARN, FAIL = "ok", "warn", "fail"


@dataclass
class Finding:
    check: str
    status: str  # ok | warn | fail
    detail: str
    data: dict[str, Any] = field(default_factory=dict)


# Driver type names (ACE's SQLColumns names and the stand-in's declared types) accepted for each FactuSOL type.
_TYPES = {
    "Texto corto": ("VARCHAR", "CHAR", "TEXT", "NVARCHAR", "WCHAR"),
    "Texto largo": ("LONGCHAR", "TEXT", "MEMO", "LONGTEXT"),
    "Entero largo": ("INTEGER", "COUNTER", "LONG", "INT"),
    "Entero": ("SMALLINT", "SHORT", "INTEGER"),
    MONEY: ("CURRENCY", "DECIMAL", "NUMERIC", "MONEY"),
    DATE: ("DATETIME", "DATE", "TIMESTAMP"),
    SINGLE: ("REAL", "SINGLE", "FLOAT"),
    DOUBLE: ("DOUBLE", "FLOAT"),
    "Objeto OLE": ("LONGBINARY", "BLOB", "VARBINARY", "IMAGE"),
}


def driver_finding(conn_str: str) -> Finding:
    missing = check_driver_for(conn_str)
    if missing:
        return Finding("driver", FAIL, missing)
    found = find_access_driver()
    if "sqlite" in conn_str.lower():
        return Finding(
            "driver",
            OK,
            f"SQLite3 ODBC driver (the FactuSOL stand-in), {found.bits}-bit Python",
            {"bits": found.bits, "driver": "sqlite"},
        )
    return Finding(
        "driver",
        OK,
        f"{found.name or 'Microsoft Access driver'}, {found.bits}-bit (as this Python)",
        {"bits": found.bits, "driver": found.name},
    )


def explain_open_error(exc: BaseException, path: str) -> str:
    """One sentence naming the file and what to do, for a failure to open it."""
    where = path or "the FactuSOL file"
    if isinstance(exc, FactusolLockedError) or classify(exc).kind == "lock":
        return (
            f"{where} is held exclusively (FactuSOL compacting or restoring it, a backup, or an antivirus): "
            "finish that, or pause the replicator with `replicator pause` while it runs, then try again"
        )
    if isinstance(exc, FactusolNotWritableError):
        return (
            f"{where} cannot be written: give the replicator's account Modify rights on the file and its "
            "folder (Access creates a .laccdb lock file there)"
        )
    kind = classify(exc).kind
    if kind == "no_file" or (path and not Path(path).exists()):
        return (
            f"{where} was not found: check factusol.file / data_dir in replicator.yaml (a UNC path such as "
            r"\\SERVER\FACTUSOL\Datos\FS rather than a mapped drive letter, which a service does not see)"
        )
    return f"{where} could not be opened: {exc}"


def folder_finding(path: str) -> Finding:
    """The folder takes a new file (as the driver's .laccdb lock file needs), which is removed at once."""
    folder = Path(path).parent
    probe = folder / f".replicator-doctor-{uuid.uuid4().hex[:8]}.tmp"
    try:
        with open(probe, "x", encoding="ascii") as f:
            f.write("lock file check\n")
        os.remove(probe)
    except OSError as exc:
        return Finding(
            "folder writable",
            FAIL,
            f"{folder} does not let this account create files ({exc.strerror}):"
            f" give it Modify rights on the folder (Access keeps its .laccdb lock file beside "
            f"{Path(path).name})",
        )
    return Finding("folder writable", OK, f"{folder} (lock files can be created)")


def used_columns(rules) -> dict[str, set[str]]:
    """table -> the FactuSOL columns the rules map, plus the keys and change columns the watchers read."""
    from replicator.capture.tables import factusol_tables

    used: dict[str, set[str]] = {}
    for name, table in factusol_tables().items():
        used.setdefault(name, set()).update(table.pk)
        if table.ts_column:
            used[name].add(table.ts_column)
    for entity in rules.entities.values():
        for source in (entity, entity.lines()):  # an order file's line fields too
            for rule in source.fields.values():
                side = rule.side("factusol")
                for ref in side.columns if side else ():
                    table, _, column = ref.partition(".")
                    if column:
                        used.setdefault(table.upper(), set()).add(column.upper())
    return used


def schema_finding(conn, wanted: dict[str, set[str]]) -> Finding:
    """Every wanted column exists with the reference schema's type, and text columns are at least as wide."""
    reference = load_schema()
    problems: list[str] = []
    tables = {t.upper() for t in conn.table_names()}
    checked = 0
    for table in sorted(wanted):
        if table not in tables:
            problems.append(f"table {table} is missing")
            continue
        live = {name.upper(): (type_name or "", size) for name, type_name, size in conn.columns(table)}
        ref = reference.get(table)
        for column in sorted(wanted[table]):
            checked += 1
            if column not in live:
                problems.append(f"{table}.{column} is missing")
                continue
            if ref is None or column not in ref.by_name:
                continue
            expected = ref.by_name[column]
            type_name, size = live[column]
            base = type_name.upper().split("(")[0].strip()
            if base not in _TYPES.get(expected.type, (base,)):
                problems.append(f"{table}.{column} is {type_name}, expected {expected.type}")
            elif expected.type == "Texto corto" and expected.size and size and int(size) < expected.size:
                problems.append(f"{table}.{column} holds {size} characters, FactuSOL's is {expected.size}")
    if problems:
        return Finding(
            "tables and columns",
            FAIL,
            "; ".join(problems) + ": this file is not the FactuSOL layout "
            "the rules expect (check the file, or the FactuSOL version)",
            {"problems": problems},
        )
    return Finding(
        "tables and columns",
        OK,
        f"{checked} columns in {len(wanted)} tables as the rules expect",
        {"columns": checked, "tables": len(wanted)},
    )


class _RollBack(Exception):
    """Raised inside the test transaction so that it is rolled back."""


def rolled_back_write_finding(conn) -> Finding:
    """UPDATE one stock row to its own value inside a transaction that is then rolled back: proves the driver lets
    this account write (Access: the lock file, the file's read-only flag, the share's rights) without changing a
    thing."""
    row = conn.query_one("SELECT TOP 1 [ARTSTO], [ALMSTO], [ACTSTO] FROM [F_STO] ORDER BY [ARTSTO], [ALMSTO]")
    if row is None:
        return Finding("write (rolled back)", WARN, "F_STO has no row to try a write on; nothing was written")
    key = [row["ARTSTO"], row["ALMSTO"]]
    try:
        with conn.transaction():
            touched = conn.execute("UPDATE [F_STO] SET [ACTSTO] = [ACTSTO] WHERE [ARTSTO] = ? AND [ALMSTO] = ?", key)
            raise _RollBack(touched)
    except _RollBack as done:
        touched = done.args[0]
    except FactusolError as exc:
        return Finding("write (rolled back)", FAIL, explain_open_error(exc, _path_of(conn)))
    after = conn.scalar("SELECT [ACTSTO] FROM [F_STO] WHERE [ARTSTO] = ? AND [ALMSTO] = ?", key)
    if after != row["ACTSTO"]:
        return Finding(
            "write (rolled back)",
            FAIL,
            f"the rolled-back write changed F_STO {key} from "
            f"{row['ACTSTO']} to {after}: the driver does not honour transactions here",
        )
    return Finding(
        "write (rolled back)",
        OK,
        f"an UPDATE of F_STO {key[0]}/{key[1]} went through and was rolled back ({touched} row)",
    )


def _path_of(conn) -> str:
    from .connection import database_path

    return database_path(conn.conn_str)


def summarize(findings: Iterable[Finding]) -> str:
    worst = max((f.status for f in findings), key=(OK, WARN, FAIL).index, default=OK)
    return worst
