"""Load the FactuSOL table layouts (``schema.json``) and turn them into stand-in DDL and width checks.

The stand-in must reject what Access rejects: a Texto corto(n) column gets ``CHECK(length(col) <= n)``, integer
columns get their Access range and numeric columns refuse text, so a too-long or mistyped write fails on the
stand-in as it would in FactuSOL's ``.accdb``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

SCHEMA_FILE = Path(__file__).with_name("schema.json")

# F_CFG keys holding the three VAT rates.  Surcharge (recargo de equivalencia) keys are NOT known from any source;
# these names are our own, unverified.
VAT_RATE_KEYS = ("ImpuestosIvasPrimerPeriodo1", "ImpuestosIvasPrimerPeriodo2", "ImpuestosIvasPrimerPeriodo3")
SURCHARGE_RATE_KEYS = (
    "ImpuestosRecargosPrimerPeriodo1",
    "ImpuestosRecargosPrimerPeriodo2",
    "ImpuestosRecargosPrimerPeriodo3",
)
CASH_CUSTOMER_CODE = 1  # the cash customer (cliente contado)

TEXT, MEMO, SMALLINT, LONG, MONEY, SINGLE, DOUBLE, DATE, OLE, BYTE = (
    "Texto corto",
    "Texto largo",
    "Entero",
    "Entero largo",
    "Moneda",
    "Simple",
    "Doble",
    "Fecha/Hora",
    "Objeto OLE",
    "Byte",
)
NUMERIC_TYPES = {SMALLINT, LONG, MONEY, SINGLE, DOUBLE, BYTE}
_SQL = {
    MEMO: "TEXT",
    SMALLINT: "SMALLINT",
    LONG: "INTEGER",
    MONEY: "DECIMAL(19,4)",
    SINGLE: "REAL",
    DOUBLE: "DOUBLE",
    DATE: "DATETIME",
    OLE: "BLOB",
    BYTE: "TINYINT",
}
_RANGES = {SMALLINT: (-32768, 32767), LONG: (-2147483648, 2147483647), BYTE: (0, 255)}
# Access Currency holds +-922,337,203,685,477.5807.
MONEY_LIMIT = 922337203685477


class FactusolWidthError(ValueError):
    """A value does not fit its FactuSOL column (too long for Texto corto(n) or outside an integer range)."""

    def __init__(self, table: str, key: Any, column: str, message: str):
        super().__init__(f"{table} key={key!r} column {column}: {message}")
        self.table, self.key, self.column = table, key, column


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    size: int | None = None
    default: str | None = None
    note: str = ""

    @property
    def sql_type(self) -> str:
        return f"VARCHAR({self.size})" if self.type == TEXT else _SQL[self.type]

    @property
    def is_text(self) -> bool:
        return self.type in (TEXT, MEMO)


@dataclass(frozen=True)
class Table:
    name: str
    pk: tuple[str, ...]
    columns: tuple[Column, ...]
    by_name: dict[str, Column] = field(default_factory=dict, compare=False, hash=False)

    def column(self, name: str) -> Column:
        return self.by_name[name]


@lru_cache(maxsize=1)
def load_schema() -> dict[str, Table]:
    """All tables of the fixture, by name (F_CLI, F_ART, ...)."""
    raw = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))["tables"]
    tables = {}
    for name, t in raw.items():
        cols = tuple(
            Column(c["name"], c["type"], c.get("size"), c.get("default"), c.get("note", "")) for c in t["columns"]
        )
        tables[name] = Table(name, tuple(t["pk"]), cols, {c.name: c for c in cols})
    return tables


@lru_cache(maxsize=1)
def column_index() -> dict[str, Column]:
    """Every column by name.  FactuSOL column names embed their table code (NOFCLI, ACTSTO), so they are unique."""
    return {c.name: c for t in load_schema().values() for c in t.columns}


def _default_sql(col: Column) -> str:
    if col.default is not None:
        return "'" + col.default.replace("'", "''") + "'" if (col.is_text or col.type == DATE) else col.default
    if col.is_text:
        return "''"
    if col.type in NUMERIC_TYPES:
        return "0"
    return "NULL"  # dates and OLE: Access leaves them empty


def column_ddl(col: Column, pk: bool = False) -> str:
    q = f"[{col.name}]"
    parts = [q, col.sql_type]
    if col.is_text:
        parts.append("COLLATE NOCASE")  # Access compares and indexes text case-insensitively
    if pk:
        parts.append("NOT NULL")
    parts.append(f"DEFAULT {_default_sql(col)}")
    checks = []
    if col.type == TEXT:
        checks.append(f"length({q}) <= {col.size}")
    if col.type in _RANGES:
        lo, hi = _RANGES[col.type]
        checks.append(f"typeof({q}) IN ('integer','null') AND ({q} IS NULL OR {q} BETWEEN {lo} AND {hi})")
    elif col.type == MONEY:
        checks.append(f"typeof({q}) IN ('integer','real','null') AND ({q} IS NULL OR abs({q}) <= {MONEY_LIMIT})")
    elif col.type in (SINGLE, DOUBLE):
        checks.append(f"typeof({q}) IN ('integer','real','null')")
    for c in checks:
        parts.append(f"CHECK ({c})")
    return " ".join(parts)


def table_ddl(table: Table) -> str:
    """CREATE TABLE for the stand-in (SQLite via the SQLite3 ODBC driver)."""
    lines = [column_ddl(c, c.name in table.pk) for c in table.columns]
    if table.pk:
        lines.append("PRIMARY KEY (" + ", ".join(f"[{k}]" for k in table.pk) + ")")
    return f"CREATE TABLE [{table.name}] (\n  " + ",\n  ".join(lines) + "\n)"


def all_ddl(tables: list[str] | None = None) -> list[str]:
    schema = load_schema()
    return [table_ddl(schema[n]) for n in (tables or list(schema))]


def validate_row(table: str, row: dict[str, Any], key: Any = None) -> None:
    """Raise FactusolWidthError when a value cannot be stored in its column (checked before writing)."""
    t = load_schema()[table]
    for name, value in row.items():
        col = t.by_name.get(name)
        if col is None:
            raise FactusolWidthError(table, key, name, "no such column in the FactuSOL schema")
        if value is None:
            continue
        if col.type == TEXT:
            if not isinstance(value, str):
                raise FactusolWidthError(table, key, name, f"expects text, got {type(value).__name__}")
            if len(value) > col.size:
                raise FactusolWidthError(
                    table, key, name, f"{len(value)} characters exceed Texto corto({col.size}): {value!r}"
                )
        elif col.type in _RANGES:
            lo, hi = _RANGES[col.type]
            if isinstance(value, bool) or not isinstance(value, int):
                raise FactusolWidthError(table, key, name, f"expects an integer ({col.type}), got {value!r}")
            if not lo <= value <= hi:
                raise FactusolWidthError(table, key, name, f"{value} outside {col.type} range {lo}..{hi}")
        elif col.type == MONEY and abs(value) > MONEY_LIMIT:
            raise FactusolWidthError(table, key, name, f"{value} outside the Moneda range")
