"""Echo suppression on the apply side: what every entity sync does with each write so its capture is known as ours.

Echo suppression is decided here, in one place:
- a shop write passes `shop_marker(ctx, change_note)` as the writer's `extra`, which inserts a row into
  `<prefix>replicator_ledger` inside the same MySQL transaction, so the binlog/poll watcher drops it;
- after a FactuSOL write, `record_factusol_write` re-reads the row exactly as the watcher will and records its
  hash in the applied ledger, so the next scan recognises that image as ours (and a person's later edit,
  a different image, is still captured).
"""

from __future__ import annotations

from typing import Any

from replicator.prestashop.binlog import ensure_ledger_table, ledger_insert_sql
from replicator.keys import DELETED_HASH, factusol_row_key, row_hash
from replicator.sync import generation
from replicator.sync.base import SyncContext
from replicator.sync.stock_inputs import note_write

FACTUSOL, PRESTASHOP = "factusol", "prestashop"


def shop_marker(ctx: SyncContext, note: str, change_id: int | None = None) -> list[tuple[str, tuple]]:
    """The `extra` statements for a shop writer: our echo marker, committed with the write."""
    if not ctx.shop.cached("replicator_ledger_ready"):
        ensure_ledger_table(ctx.shop.conn, ctx.shop.prefix)
        ctx.shop.remember("replicator_ledger_ready", True)
    tag = " " + generation.tag(ctx)  # which state store wrote it, in which apply: a replaced or older store is seen
    return [(ledger_insert_sql(ctx.shop.prefix), (change_id, note[: 255 - len(tag)] + tag))]


def record_factusol_write(
    ctx: SyncContext, entity: str, table: str, pk: dict[str, Any], change_id: int | None = None
) -> None:
    """Remember the image of a FactuSOL row we just wrote (or deleted) so its capture is known as our echo."""
    generation.mark_factusol_write(ctx)
    row = ctx.factusol.row(table, pk)
    key = factusol_row_key(pk)
    note_write(ctx, table, key, row)  # a stock input we wrote: its article's shop stock follows in this apply
    ctx.store.record_applied(
        FACTUSOL, entity, table, key, row_hash(row) if row is not None else DELETED_HASH, "write", change_id
    )
