"""Signs that the FactuSOL file was restored from a backup or replaced by another file, found by a scan."""

from __future__ import annotations

import json
from typing import Any

from replicator.capture.tables import WatchedTable


def _image(value: Any) -> dict:
    if isinstance(value, dict):
        return value
    try:
        return json.loads(value) if value else {}
    except (TypeError, ValueError):
        return {}


def _day(value: Any) -> str:
    return str(value).replace("T", " ")[:10] if value else ""


def went_back(tables: dict[str, WatchedTable], rows) -> list[str]:
    """Updated rows whose FUM* (last-modified) date is older than before: FactuSOL only ever moves it forward."""
    out = []
    for r in rows:
        table = tables.get(r.source_table)
        if r.op != "update" or table is None or not table.ts_column:
            continue
        before, after = _day(_image(r.before).get(table.ts_column)), _day(_image(r.after).get(table.ts_column))
        if before and after and after < before:
            out.append(f"{r.source_table} {r.row_key}: {table.ts_column} {before} -> {after}")
    return out
