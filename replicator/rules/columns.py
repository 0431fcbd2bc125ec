"""Column catalogs of both sides, used to check the columns named in rule files and to find FactuSOL widths.

The catalogs come from files other modules own (``replicator/factusol/schema.json`` and
``replicator/prestashop/schema_8.sql``).  Either may be missing or in a shape we don't know yet: then that side
is simply not checked (``None``), never an error, so the rules keep working while those modules evolve.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent
FACTUSOL_SCHEMA = PACKAGE_DIR / "factusol" / "schema.json"
PRESTASHOP_SCHEMA = PACKAGE_DIR / "prestashop" / "schema_8.sql"

# table -> column -> text width (None when not a text column or unknown)
Tables = dict[str, dict[str, int | None]]


@dataclass
class ColumnCatalog:
    """Known columns per side; a side is None when its catalog file is absent or unreadable."""

    factusol: Tables | None = None
    prestashop: Tables | None = None

    def check(self, side: str, ref: str) -> str | None:
        """Why `ref` ("TABLE.COLUMN") is not a known column of `side`, or None when fine or uncheckable."""
        tables = self.factusol if side == "factusol" else self.prestashop
        if tables is None:
            return None
        label = "FactuSOL" if side == "factusol" else "PrestaShop"
        table, _, column = ref.partition(".")
        if side == "factusol":
            table, column = table.upper(), column.upper()
        if table not in tables:
            return f"unknown {label} table {table!r} in {ref!r}"
        if column not in tables[table]:
            return f"unknown {label} column {ref!r}"
        return None

    def width(self, ref: str) -> int | None:
        """FactuSOL text width of "TABLE.COLUMN" when the catalog knows it."""
        if not self.factusol:
            return None
        table, _, column = ref.upper().partition(".")
        return self.factusol.get(table, {}).get(column)


_VARCHAR = re.compile(r"(?:VAR)?CHAR\s*\(\s*(\d+)\s*\)", re.I)


def _column_width(col: dict) -> int | None:
    for key in ("width", "length", "max_length"):
        if isinstance(col.get(key), int):
            return col[key]
    for key in ("type", "sql", "sql_type"):
        m = _VARCHAR.search(str(col.get(key) or ""))
        if m:
            return int(m.group(1))
    if str(col.get("access_type", "")).lower().startswith("texto corto") and str(col.get("size", "")).isdigit():
        return int(col["size"])
    return None


def _columns_of(spec) -> dict[str, int | None] | None:
    cols = spec.get("columns") if isinstance(spec, dict) else spec
    if isinstance(cols, dict):
        return {name.upper(): (_column_width(c) if isinstance(c, dict) else None) for name, c in cols.items()}
    if isinstance(cols, list):
        out = {}
        for c in cols:
            if isinstance(c, str):
                out[c.upper()] = None
            elif isinstance(c, dict) and c.get("name"):
                out[str(c["name"]).upper()] = _column_width(c)
        return out
    return None


def parse_factusol_schema(data) -> Tables | None:
    """Accept the shapes a FactuSOL schema JSON plausibly has; None when the shape is unknown."""
    tables = data.get("tables", data) if isinstance(data, dict) else data
    out: Tables = {}
    if isinstance(tables, list):
        for t in tables:
            name = isinstance(t, dict) and (t.get("table") or t.get("name"))
            cols = _columns_of(t) if name else None
            if cols is not None:
                out[str(name).upper()] = cols
    elif isinstance(tables, dict):
        for name, t in tables.items():
            cols = _columns_of(t)
            if cols is not None and re.match(r"^F_\w+$", name, re.I):
                out[name.upper()] = cols
    return out or None


# The body ends at the first ")" in column 0 followed by the table options: a multi-line ENUM closes indented.
_CREATE = re.compile(
    r"CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?`?(\w+)`?\s*\((.*?)\n\)\s*(?:ENGINE|DEFAULT|COMMENT|;|$)", re.I | re.S
)
_COLUMN = re.compile(r"^\s*`?(\w+)`?\s+(\w+(?:\s*\(\s*\d+(?:\s*,\s*\d+)?\s*\))?)", re.M)
_NOT_COLUMNS = {"PRIMARY", "KEY", "UNIQUE", "INDEX", "CONSTRAINT", "FULLTEXT", "SPATIAL", "FOREIGN", "CHECK"}


def parse_prestashop_schema(sql: str) -> Tables | None:
    """Tables and columns from PrestaShop DDL; the PREFIX_/ps_ prefix is dropped so rules say `customer.email`."""
    out: Tables = {}
    for name, body in _CREATE.findall(sql):
        table = re.sub(r"^(PREFIX_|ps_)", "", name)
        cols = {}
        for col, typ in _COLUMN.findall(body):
            if col.upper() in _NOT_COLUMNS:
                continue
            m = _VARCHAR.match(typ)
            cols[col] = int(m.group(1)) if m else None
        out[table] = cols
    return out or None


def load_column_catalog(
    factusol_json: Path | str | None = None, prestashop_sql: Path | str | None = None
) -> ColumnCatalog:
    """Read both catalogs (default locations unless given); absent or unreadable files give None for that side."""
    fs_path = Path(factusol_json) if factusol_json else FACTUSOL_SCHEMA
    ps_path = Path(prestashop_sql) if prestashop_sql else PRESTASHOP_SCHEMA
    catalog = ColumnCatalog()
    try:
        catalog.factusol = parse_factusol_schema(json.loads(fs_path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        pass
    try:
        catalog.prestashop = parse_prestashop_schema(ps_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        pass
    return catalog
