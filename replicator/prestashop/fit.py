"""The shop's side of the strict writes: column facts from the live schema, and the check every writer runs.

PrestaShop's own sessions run with an empty sql_mode (so do ours: it is what PrestaShop writes, zero dates
included), where MySQL cuts a long text, clamps a big number and rounds a decimal with only a warning, or none.  So
every value is checked here against the live column (type, characters, bytes, range, decimal places) before it is
written; required fields (a login e-mail, a name) are never written empty.  See `replicator.rules.fit` for the
policies; a decimal with more places than its column keeps is rounded to them with a log line.
"""

from __future__ import annotations

import logging
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Mapping

from replicator.rules.fit import ColumnFacts, FitPolicy, fit_row as _fit_row, policy_for

from .connection import ShopConnection

log = logging.getLogger("replicator.rules.fit")

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
    "attribute_lang": "product",
    "stock_available": "stock",
    "orders": "order",
    "order_carrier": "shipment",
    "order_invoice": "invoice",
    "order_payment": "invoice",
    "order_history": "order",
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


def _as_decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return None
    return number if number.is_finite() else None


def fit_places(
    facts: Mapping[str, ColumnFacts], row: Mapping[str, Any], *, entity: str, key: Any, policy: FitPolicy, what: str
) -> dict[str, Any]:
    """Decimals with more places than their column keeps, rounded half up as the server (and PrestaShop's own
    Tools::ps_round) would, but with a log line naming the column, both values and the places kept.  Not refused
    under `fit: reject`: a price worked out from a price with VAT (60 / 1.21) has more places than any column, and
    the sixth place is the column's precision, not a change of meaning.  Rounding that changes nothing (1.500000000
    into six places) passes without a word."""
    out = dict(row)
    for column, value in row.items():
        f = facts.get(column)
        if f is None or f.kind != "decimal" or f.scale is None or isinstance(value, int):
            continue  # whole numbers always fit their places
        number = _as_decimal(value)
        if number is None:
            continue
        rounded = number.quantize(Decimal(1).scaleb(-f.scale), ROUND_HALF_UP)
        if rounded == number:
            continue
        log.warning(
            "%s: %s: %s rounded to %s, the %d decimal places it keeps (fit: %s)",
            what,
            f.name,
            number,
            rounded,
            f.scale,
            policy.fit,
        )
        out[column] = rounded
    return out


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
    facts, policy = column_facts(shop, table), policy or policy_for(entity)
    what = f"shop {table} {key}" if key is not None else f"shop {table}"
    row = _fit_row(facts, row, entity=entity, key=key, policy=policy, what=what)
    return fit_places(facts, row, entity=entity, key=key, policy=policy, what=what)


def fit_rows(shop: ShopConnection, table: str, rows: list[dict], key_column: str | None = None) -> list[dict]:
    """Every row of a bulk insert fitted; the first that can't be raises (the engine then goes key by key)."""
    facts = column_facts(shop, table)
    if not facts:
        return rows
    entity = TABLE_ENTITY.get(table, table)
    policy, what = policy_for(entity), f"shop {table}"
    out = []
    for r in rows:
        key = r.get(key_column) if key_column else None
        r = _fit_row(facts, r, entity=entity, key=key, policy=policy, what=what)
        out.append(fit_places(facts, r, entity=entity, key=key, policy=policy, what=what))
    return out
