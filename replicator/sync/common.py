"""Helpers every entity sync uses to write: the shop echo marker, FactuSOL write records, baselines.

Echo suppression is decided here, in one place:
- a shop write passes `shop_marker(ctx, change_note)` as the writer's `extra`, which inserts a row into
  `<prefix>replicator_ledger` inside the same MySQL transaction, so the binlog/poll watcher drops it;
- after a FactuSOL write, `record_factusol_write` re-reads the row exactly as the watcher will and records its
  hash in the applied ledger, so the next scan recognises that image as ours (and a person's later edit,
  a different image, is still captured).
"""

from __future__ import annotations

import json
from typing import Any

from replicator.prestashop.binlog import ensure_ledger_table, ledger_insert_sql
from replicator.capture.snapshot import DELETED_HASH, canon, row_hash
from replicator.sync.base import SyncContext

FACTUSOL, PRESTASHOP = "factusol", "prestashop"


def shop_marker(ctx: SyncContext, note: str, change_id: int | None = None) -> list[tuple[str, tuple]]:
    """The `extra` statements for a shop writer: our echo marker, committed with the write."""
    if not getattr(ctx.shop, "_replicator_ledger_ready", False):
        ensure_ledger_table(ctx.shop.conn, ctx.shop.prefix)
        ctx.shop._replicator_ledger_ready = True
    return [(ledger_insert_sql(ctx.shop.prefix), (change_id, note[:255]))]


def factusol_key(pk: dict[str, Any]) -> str:
    """A FactuSOL row key written the way the watcher writes it (sorted JSON of canonical values)."""
    return json.dumps({k: canon(v) for k, v in pk.items()}, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"))


def record_factusol_write(ctx: SyncContext, entity: str, table: str, pk: dict[str, Any],
                          change_id: int | None = None) -> None:
    """Remember the image of a FactuSOL row we just wrote (or deleted) so its capture is known as our echo."""
    where = " AND ".join(f"[{column}] = ?" for column in pk)
    row = ctx.factusol.query_one(f"SELECT * FROM [{table}] WHERE {where}", list(pk.values()))
    ctx.store.record_applied(FACTUSOL, entity, table, factusol_key(pk),
                             row_hash(row) if row is not None else DELETED_HASH, "write", change_id)


def baseline_of(fields: dict[str, Any]) -> dict[str, Any]:
    """A JSON-safe copy of canonical fields for the baseline (Decimal/datetime as their canonical form)."""
    return {k: canon(v) if not isinstance(v, (list, dict)) else v for k, v in fields.items()}
