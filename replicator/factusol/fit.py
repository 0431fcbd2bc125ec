"""FactuSOL's side of the strict writes: the column facts of the reference schema, and the check every writer runs.

Widths and ranges come from the project's FactuSOL schema fixture (`schema.json`, the widths FactuSOL's own
screens enforce); a few columns also carry a domain rule (an order total, a tariff price or a quantity ordered is
never negative).  `fit_row` applies the entity's rule (see `replicator.rules.fit`) and then the width check the
stand-in and Access enforce anyway, so what is written is either the value, the value fitted with a log line,
or nothing (`FactusolWidthError` naming table, key, column, value and limit: the key is quarantined).
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Any, Mapping

from replicator.rules.fit import ColumnFacts, FitPolicy, ValueRejected, fit_row as _fit_row

from .schema import (
    _RANGES,
    DATE,
    DOUBLE,
    MEMO,
    MONEY,
    MONEY_LIMIT,
    SINGLE,
    TEXT,
    FactusolWidthError,
    load_schema,
    validate_row,
)

# The entity whose rule (fit, control_chars) governs a table's columns.
TABLE_ENTITY = {
    "F_CLI": "customer",
    "F_OBR": "address",
    "F_ART": "product",
    "F_LTA": "product",
    "F_STO": "stock",
    "F_STC": "stock",
    "F_PCL": "order",
    "F_LPC": "order",
    "F_ALB": "shipment",
    "F_FAC": "invoice",
}
# Values below zero that FactuSOL would accept but that are always a mistake when they come from the shop.
NON_NEGATIVE = {"F_PCL.TOTPCL", "F_PCL.BAS1PCL", "F_LTA.PRELTA", "F_LPC.CANLPC", "F_LPC.PENLPC"}


@lru_cache(maxsize=None)
def column_facts(table: str) -> dict[str, ColumnFacts]:
    """The facts of every column of `table` in the reference schema."""
    facts = {}
    for col in load_schema()[table].columns:
        name = f"{table}.{col.name}"
        extra = {"non_negative": name in NON_NEGATIVE}
        if col.type == TEXT:
            facts[col.name] = ColumnFacts(table, col.name, "text", width=col.size, utf16=True)
        elif col.type == MEMO:
            facts[col.name] = ColumnFacts(table, col.name, "text")
        elif col.type in _RANGES:
            lo, hi = _RANGES[col.type]
            facts[col.name] = ColumnFacts(table, col.name, "int", low=Decimal(lo), high=Decimal(hi), **extra)
        elif col.type == MONEY:
            facts[col.name] = ColumnFacts(
                table, col.name, "decimal", low=Decimal(-MONEY_LIMIT), high=Decimal(MONEY_LIMIT), scale=4, **extra
            )
        elif col.type in (SINGLE, DOUBLE):
            facts[col.name] = ColumnFacts(table, col.name, "float", **extra)
        elif col.type == DATE:
            facts[col.name] = ColumnFacts(table, col.name, "date")
    return facts


def fit_row(
    table: str, row: Mapping[str, Any], key: Any = None, *, entity: str | None = None, policy: FitPolicy | None = None
) -> dict[str, Any]:
    """`row` fitted to `table`'s columns under the entity's rule; ValueRejected for a value that can't be."""
    entity = entity or TABLE_ENTITY.get(table, table)
    try:
        out = _fit_row(
            column_facts(table),
            row,
            entity=entity,
            key=key,
            policy=policy,
            what=f"FactuSOL {table} {key}" if key is not None else f"FactuSOL {table}",
        )
    except ValueRejected as exc:  # the error FactuSOL's writers and syncs already quarantine by
        raise FactusolWidthError(table, key, exc.field.rpartition(".")[2], exc.reason) from None
    validate_row(table, out, key)  # what the file itself enforces (types, unknown columns): never reached silently
    return out
