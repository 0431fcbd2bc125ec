"""The shop's side of the strict writes: column facts from the live schema, and the check every writer runs.

PrestaShop's own sessions run with an empty sql_mode (so do ours: it is what PrestaShop writes, zero dates
included), where MySQL cuts a long text and clamps a big number with only a warning.  So every value is checked
here against the live column (type, characters, bytes, range) before it is written; required fields (a login
e-mail, a name) are never written empty.  See `replicator.rules.fit` for the policies.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping

from replicator.rules.fit import ColumnFacts, FitPolicy, fit_row as _fit_row

from .connection import ShopConnection

INT_BITS = {"tinyint": 8, "smallint": 16, "mediumint": 24, "int": 32, "integer": 32, "bigint": 64}
TEXT_TYPES = {"char", "varchar", "tinytext", "text", "mediumtext", "longtext"}
DATE_TYPES = {"date", "datetime", "timestamp"}
# Fields PrestaShop's back office and front office require: never overwritten with nothing.
REQUIRED = {
    ("customer", "email"),
    ("customer", "firstname"),
    ("customer", "lastname"),
    ("customer", "passwd"),
    ("address", "firstname"),
    ("address", "lastname"),
    ("address", "address1"),
    ("address", "city"),
    ("address", "alias"),
    ("product_lang", "name"),
    ("product_lang", "link_rewrite"),
}
# Prices that are never negative (a combination's price is an impact and may be).
NON_NEGATIVE = {
    ("product", "price"),
    ("product_shop", "price"),
    ("product", "wholesale_price"),
    ("product_shop", "wholesale_price"),
    ("product_attribute", "wholesale_price"),
    ("product_attribute_shop", "wholesale_price"),
}
TABLE_ENTITY = {
    "customer": "customer",
    "address": "address",
    "product": "product",
    "product_shop": "product",
    "product_lang": "product",
    "product_attribute": "product",
    "product_attribute_shop": "product",
    "stock_available": "stock",
    "orders": "order",
    "order_carrier": "shipment",
    "order_invoice": "invoice",
}


def _facts_of(table: str, r: Mapping[str, Any]) -> ColumnFacts | None:
    name = str(r["name"])
    data_type = str(r["data_type"]).lower()
    extra = {"required": (table, name) in REQUIRED, "non_negative": (table, name) in NON_NEGATIVE}
    if data_type in TEXT_TYPES:
        width = int(r["chars"]) if r["chars"] is not None and data_type in ("char", "varchar") else None
        octets = int(r["octets"]) if r["octets"] is not None and data_type not in ("char", "varchar") else None
        return ColumnFacts(table, name, "text", width=width, max_bytes=octets, **extra)
    if data_type in INT_BITS:
        bits = INT_BITS[data_type]
        if "unsigned" in str(r["column_type"]).lower():
            low, high = 0, 2**bits - 1
        else:
            low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
        return ColumnFacts(table, name, "int", low=Decimal(low), high=Decimal(high), **extra)
    if data_type in ("decimal", "numeric"):
        precision, scale = int(r["precision"] or 10), int(r["scale"] or 0)
        top = Decimal(10) ** (precision - scale) - Decimal(1).scaleb(-scale)
        low = Decimal(0) if "unsigned" in str(r["column_type"]).lower() else -top
        return ColumnFacts(table, name, "decimal", low=low, high=top, scale=scale, **extra)
    if data_type in ("float", "double"):
        return ColumnFacts(table, name, "float", **extra)
    if data_type in DATE_TYPES:
        return ColumnFacts(table, name, "date", **extra)
    return None


def column_facts(shop: ShopConnection, table: str) -> dict[str, ColumnFacts]:
    """The live schema's facts for `table` (without prefix), read once per connection."""
    return shop.cached(("fit_columns", table), lambda: _read_facts(shop, table))


def _read_facts(shop: ShopConnection, table: str) -> dict[str, ColumnFacts]:
    rows = shop.query(
        "SELECT COLUMN_NAME AS name, DATA_TYPE AS data_type, COLUMN_TYPE AS column_type,"
        " CHARACTER_MAXIMUM_LENGTH AS chars, CHARACTER_OCTET_LENGTH AS octets,"
        " NUMERIC_PRECISION AS `precision`, NUMERIC_SCALE AS scale"
        " FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
        (shop.prefix + table,),
    )
    facts = {}
    for r in rows:
        r = {k: (v.decode() if isinstance(v, (bytes, bytearray)) else v) for k, v in r.items()}
        f = _facts_of(table, r)
        if f is not None:
            facts[f.column] = f
    return facts


def fit_row(
    shop: ShopConnection,
    table: str,
    row: Mapping[str, Any],
    key: Any = None,
    *,
    entity: str | None = None,
    policy: FitPolicy | None = None,
) -> dict[str, Any]:
    """`row` fitted to the shop's `table` under the entity's rule; ValueRejected for a value that can't be."""
    entity = entity or TABLE_ENTITY.get(table, table)
    return _fit_row(
        column_facts(shop, table),
        row,
        entity=entity,
        key=key,
        policy=policy,
        what=f"shop {table} {key}" if key is not None else f"shop {table}",
    )


def fit_rows(shop: ShopConnection, table: str, rows: list[dict], key_column: str | None = None) -> list[dict]:
    """Every row of a bulk insert fitted; the first that can't be raises (the engine then goes key by key)."""
    facts = column_facts(shop, table)
    if not facts:
        return rows
    entity = TABLE_ENTITY.get(table, table)
    return [
        _fit_row(facts, r, entity=entity, key=r.get(key_column) if key_column else None, what=f"shop {table}")
        for r in rows
    ]
