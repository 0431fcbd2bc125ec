"""SQL helpers every PrestaShop write uses: run the caller's `extra` statements in the same transaction, the
stock scope, INSERTs that leave columns at their live DEFAULT, bulk INSERT ... SELECT copies, and the live schema's
columns (type and constant DEFAULT) read once per connection."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from operator import itemgetter
from typing import Callable, Iterable

import pymysql

from replicator.prestashop.connection import ShopConnection
from replicator.prestashop.fit import fit_rows


Extra = Callable | Iterable[tuple] | None


class WriteError(RuntimeError):
    """A write was refused (unknown row, invalid value); nothing was changed."""


def run_extra(shop: ShopConnection, cur, extra: Extra) -> None:
    if extra is None:
        return
    if callable(extra):
        extra(cur)
        return
    for item in extra:
        sql, args = (item, None) if isinstance(item, str) else item
        shop.execute(sql, args, cursor=cur)


def scope_sql(shop: ShopConnection, alias: str = "") -> tuple[str, tuple]:
    id_shop, id_group = shop.stock_scope()
    a = f"{alias}." if alias else ""
    return f"{a}id_shop = %s AND {a}id_shop_group = %s", (id_shop, id_group)


def insert_sql(shop: ShopConnection, table: str, columns: Iterable[str], tail: str = "") -> str:
    columns = list(columns)
    return shop.sql(
        f"INSERT INTO {{p}}{table} ({', '.join(f'`{c}`' for c in columns)})"
        f" VALUES ({', '.join(['%s'] * len(columns))}){tail}"
    )


def insert_many(
    shop: ShopConnection, cur, table: str, rows: list[dict], tail: str = "", *, skip_defaults: bool = False
) -> None:
    """Rows (dicts with the same keys) in multi-row INSERTs: PyMySQL's executemany packs them into as few
    ``INSERT ... VALUES (...), (...)`` statements as its statement-size limit allows.

    ``skip_defaults``: a column whose value is its DEFAULT in the live schema in every row is left out (the
    server writes that default: the same row, fewer values to escape and send)."""
    if not rows:
        return
    rows = fit_rows(shop, table, rows)  # every value checked against the live column before the INSERT
    columns = list(rows[0])
    if skip_defaults:
        info = live_columns(shop, table)
        kept = []
        for c in columns:
            values = [r[c] for r in rows]
            if not (c in info and equals_default(info[c], values[0]) and values.count(values[0]) == len(values)):
                kept.append(c)
        columns = kept or columns[:1]
    sql = insert_sql(shop, table, columns, tail)
    try:
        if len(columns) == 1:
            cur.executemany(sql, [(r[columns[0]],) for r in rows])
        else:
            cur.executemany(sql, list(map(itemgetter(*columns), rows)))
    except pymysql.MySQLError as exc:
        raise shop.driver_error(exc) from exc


@dataclass(frozen=True)
class Column:
    type: str  # COLUMN_TYPE, e.g. "decimal(20,6)", "int unsigned" (no display width)
    has_default: bool  # a constant DEFAULT (NULL included), not an expression and not "no default"
    default: object = None  # that DEFAULT: None (NULL), a Decimal for numeric columns, else a str


_INTEGER_TYPES = {"tinyint", "smallint", "mediumint", "int", "integer", "bigint"}
_NUMERIC_TYPES = {
    "tinyint",
    "smallint",
    "mediumint",
    "int",
    "integer",
    "bigint",
    "decimal",
    "numeric",
    "float",
    "double",
}


def text_of(value) -> str | None:
    return value.decode() if isinstance(value, (bytes, bytearray)) else value


def default_of(raw, nullable: bool, data_type: str, extra: str, mariadb: bool) -> tuple[bool, object]:
    """(has a constant default, its value) from information_schema.COLUMNS.  MariaDB (10.2.7+) writes the default
    as an SQL literal ('text', 12, NULL; no default = SQL NULL); MySQL writes the bare value (NULL default and no
    default are both SQL NULL, expressions are flagged DEFAULT_GENERATED).  Anything unclear counts as "no
    default": the column is then always sent."""
    if "generated" in extra or data_type not in _NUMERIC_TYPES | {
        "char",
        "varchar",
        "enum",
        "set",
        "date",
        "datetime",
        "timestamp",
        "time",
        "tinytext",
        "text",
        "mediumtext",
        "longtext",
    }:
        return False, None
    numeric = data_type in _NUMERIC_TYPES
    if mariadb:
        if raw is None:
            return False, None
        if raw == "NULL":
            return True, None
        if len(raw) >= 2 and raw[0] == raw[-1] == "'":
            inner = raw[1:-1]
            if "'" in inner or "\\" in inner:
                return False, None
            if numeric:
                try:
                    return True, Decimal(inner)
                except ArithmeticError:
                    return False, None
            return True, inner
        if numeric:
            try:
                return True, Decimal(raw)
            except ArithmeticError:
                return False, None
        return False, None  # an expression (current_timestamp(), ...)
    if raw is None:
        return (True, None) if nullable else (False, None)
    if raw.upper().startswith("CURRENT_TIMESTAMP") and data_type in ("datetime", "timestamp"):
        return False, None  # MySQL 5.7 does not flag it DEFAULT_GENERATED
    if numeric:
        try:
            return True, Decimal(raw)
        except ArithmeticError:
            return False, None
    return True, raw


def live_columns(shop: ShopConnection, table: str) -> dict[str, Column]:
    """The live schema's columns of a table (type and constant DEFAULT), read once per connection."""
    return shop.cached(("writer_columns", table), lambda: _read_columns(shop, table))


def _read_columns(shop: ShopConnection, table: str) -> dict[str, Column]:
    mariadb = shop.cached(
        "server_is_mariadb", lambda: "mariadb" in str(text_of(shop.query_one("SELECT VERSION() AS v")["v"])).lower()
    )
    out = {}
    for r in shop.query(
        "SELECT COLUMN_NAME AS name, COLUMN_DEFAULT AS d, IS_NULLABLE AS nullable,"
        " DATA_TYPE AS data_type, COLUMN_TYPE AS column_type, EXTRA AS extra"
        " FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
        (shop.prefix + table,),
    ):
        has, default = default_of(
            text_of(r["d"]),
            text_of(r["nullable"]) == "YES",
            str(text_of(r["data_type"])).lower(),
            str(text_of(r["extra"]) or "").lower(),
            mariadb,
        )
        column_type = str(text_of(r["column_type"])).lower()
        if str(text_of(r["data_type"])).lower() in _INTEGER_TYPES:  # int(10) and int(11) hold the same values
            column_type = re.sub(r"\(\d+\)", "", column_type)
        out[text_of(r["name"])] = Column(column_type, has, default)
    return out


def equals_default(column: Column, value) -> bool:
    """True only when writing ``value`` stores exactly the column's DEFAULT (exact comparison; unsure = False)."""
    if not column.has_default:
        return False
    default = column.default
    if default is None or value is None:
        return default is None and value is None
    if isinstance(default, Decimal):
        if isinstance(value, bool):
            value = int(value)
        return isinstance(value, (int, Decimal)) and Decimal(value) == default
    return isinstance(value, str) and value == default


def insert_copies(
    shop: ShopConnection,
    cur,
    table: str,
    rows: list[dict],
    source: str,
    key: str,
    sources: dict,
    where: str = "",
    where_args: tuple = (),
) -> None:
    """Insert ``rows`` of ``table``, one per row of ``source`` whose ``key`` is ``row[key]``, with ONE
    ``INSERT ... SELECT ... FROM source``: nothing per row crosses the wire.

    ``sources`` maps each key to the values that row of ``source`` was written with (in this transaction).  A
    column whose value is that source row's value of the same column in every row (and which has the same type in
    both tables) is copied from it; a column with the same value in every row is sent once.  When a column is
    neither, the rows are sent as they are (``insert_many``).  ``where`` narrows the source rows (e.g. one
    language).  The rows go in in key order; their count is checked.
    """
    if not rows:
        return
    rows = fit_rows(shop, table, rows)
    target, origin = live_columns(shop, table), live_columns(shop, source)
    exprs, args = [], []
    missing = object()
    origins = [sources[r[key]] for r in rows]
    for column in rows[0]:
        values = [r[column] for r in rows]
        if column == key or (
            column in origin
            and column in target
            and origin[column].type == target[column].type
            and [o.get(column, missing) for o in origins] == values
        ):
            exprs.append(f"s.`{column}`")
        elif values.count(values[0]) == len(values):
            exprs.append("%s")
            args.append(values[0])
        else:
            insert_many(shop, cur, table, rows)
            return
    ids = [r[key] for r in rows]
    if len(set(ids)) != len(ids):
        insert_many(shop, cur, table, rows)
        return
    ids.sort()
    if ids[-1] - ids[0] + 1 == len(ids):  # consecutive ids (the usual case): no other row can be in between
        match, keys = f"s.`{key}` BETWEEN %s AND %s", (ids[0], ids[-1])
    else:
        match, keys = f"s.`{key}` IN ({', '.join(['%s'] * len(ids))})", tuple(ids)
    sql = (
        f"INSERT INTO {{p}}{table} ({', '.join(f'`{c}`' for c in rows[0])}) SELECT {', '.join(exprs)}"
        f" FROM {{p}}{source} s WHERE {match}{where} ORDER BY s.`{key}`"
    )
    shop.execute(sql, (*args, *keys, *where_args), cursor=cur)
    if cur.rowcount != len(rows):
        raise WriteError(f"bulk insert into {table}: {len(rows)} rows expected from {source}, {cur.rowcount} made")
