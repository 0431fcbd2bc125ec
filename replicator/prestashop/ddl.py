"""Parse PrestaShop-style CREATE TABLE text into comparable column descriptions (name, type, null, default).

Used to check our schema fixtures against the reference schemas, and to list the columns a table really has.
Types are normalised the way MariaDB would report them (``int(10) unsigned``, ``decimal(20,6)``, lower case),
so a fixture written as ``INT(10) UNSIGNED`` and a reference written as ``int(10) unsigned`` compare equal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CREATE_RE = re.compile(r"CREATE TABLE\s+(?:IF NOT EXISTS\s+)?`([^`]+)`\s*\((.*?)\)\s*(?:ENGINE|;)", re.S | re.I)
COLUMN_RE = re.compile(r"^`?(\w+)`?\s+(.*)$", re.S)
KEY_WORDS = {"primary", "key", "unique", "index", "constraint", "fulltext", "foreign", "check", "spatial"}
TYPE_RE = re.compile(
    r"^((?:tiny|small|medium|big)?int(?:eger)?(?:\s*\(\d+\))?(?:\s+unsigned)?|decimal\s*\(\d+\s*,\s*\d+\)(?:\s+unsigned)?"
    r"|boolean|bool|float|double|(?:var)?binary\s*\(\d+\)|(?:var)?char\s*\(\d+\)|(?:tiny|medium|long)?text|(?:tiny|medium|long)?blob|datetime|date|timestamp"
    r"|time|json|enum\s*\([^)]*\)|set\s*\([^)]*\))",
    re.I,
)
DEFAULT_RE = re.compile(r"\bDEFAULT\s+('(?:[^']|'')*'|[^\s,]+)", re.I)

# Display widths MariaDB gives when none is written, so `INT UNSIGNED` == `int(10) unsigned`.
DEFAULT_WIDTH = {"tinyint": 4, "smallint": 6, "mediumint": 9, "int": 11, "bigint": 20}
DEFAULT_WIDTH_UNSIGNED = {"tinyint": 3, "smallint": 5, "mediumint": 8, "int": 10, "bigint": 20}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool
    default: str | None  # as SQL literal text without quotes; None = no default / DEFAULT NULL
    auto_increment: bool = False


def normalise_type(raw: str) -> str:
    t = re.sub(r"\s+", " ", raw.strip().lower())
    t = re.sub(r"\s*\(\s*", "(", t)
    t = re.sub(r"\s*,\s*", ",", t)
    t = re.sub(r"\s*\)", ")", t)
    t = t.replace("integer", "int")
    if t in ("boolean", "bool"):
        return "tinyint(1)"
    m = re.match(r"^(tinyint|smallint|mediumint|int|bigint)(\(\d+\))?( unsigned)?$", t)
    if m:
        base, width, unsigned = m.group(1), m.group(2), bool(m.group(3))
        if not width:
            width = "(%d)" % (DEFAULT_WIDTH_UNSIGNED if unsigned else DEFAULT_WIDTH)[base]
        return base + width + (" unsigned" if unsigned else "")
    if t.startswith("enum(") or t.startswith("set("):
        return t.replace('"', "'")
    return t


def _normalise_default(raw: str | None, col_type: str) -> str | None:
    if raw is None:
        return None
    value = raw[1:-1].replace("''", "'") if raw.startswith("'") else raw
    if value.upper() == "NULL":
        return None
    if value.lower() in ("current_timestamp", "current_timestamp()"):
        return "CURRENT_TIMESTAMP"
    if col_type.startswith("decimal") or col_type.startswith(("int", "tinyint", "smallint", "mediumint", "bigint")):
        try:  # '0.000000' and 0 are the same default
            from decimal import Decimal

            return str(Decimal(value).normalize()) if "." in value else str(int(Decimal(value)))
        except Exception:
            return value
    return value


def _split_top_level(body: str) -> list[str]:
    parts, depth, current, quote = [], 0, [], False
    for ch in body:
        if ch == "'":
            quote = not quote
        elif not quote and ch == "(":
            depth += 1
        elif not quote and ch == ")":
            depth -= 1
        if ch == "," and depth == 0 and not quote:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    if "".join(current).strip():
        parts.append("".join(current).strip())
    return parts


def parse_columns(definition: str) -> dict[str, Column]:
    """The body of one CREATE TABLE (between the outer parentheses) -> columns by name, in order."""
    columns: dict[str, Column] = {}
    for part in _split_top_level(definition):
        part = re.sub(r"/\*.*?\*/", "", part, flags=re.S).strip()
        m = COLUMN_RE.match(part)
        if not m or (not part.startswith("`") and m.group(1).lower() in KEY_WORDS):
            continue  # keys, constraints
        name, rest = m.group(1), m.group(2)
        tm = TYPE_RE.match(rest.strip())
        if not tm:
            raise ValueError(f"cannot read the type of column {name}: {rest[:60]!r}")
        col_type = normalise_type(tm.group(1))
        tail = rest[tm.end() :]
        tail_no_strings = re.sub(r"'(?:[^']|'')*'", "''", tail)
        nullable = not re.search(r"\bNOT\s+NULL\b", tail_no_strings, re.I)
        if re.search(r"\bAUTO_INCREMENT\b", tail_no_strings, re.I) or re.search(
            r"\bPRIMARY\s+KEY\b", tail_no_strings, re.I
        ):
            nullable = False
        dm = DEFAULT_RE.search(tail)
        columns[name] = Column(
            name=name,
            type=col_type,
            nullable=nullable,
            default=_normalise_default(dm.group(1) if dm else None, col_type),
            auto_increment=bool(re.search(r"\bAUTO_INCREMENT\b", tail_no_strings, re.I)),
        )
    return columns


def parse_tables(sql: str, prefix: str = "PREFIX_") -> dict[str, dict[str, Column]]:
    """All CREATE TABLE statements of a script -> {table name without prefix: {column: Column}}."""
    sql = re.sub(r"(^|\s)--\s.*$", "", sql, flags=re.M)
    tables: dict[str, dict[str, Column]] = {}
    for m in CREATE_RE.finditer(sql):
        name = m.group(1)
        if prefix and name.startswith(prefix):
            name = name[len(prefix) :]
        tables[name] = parse_columns(m.group(2))
    return tables
