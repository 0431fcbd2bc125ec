"""Echo suppression on the apply side: what every entity sync does with each write so its capture is known as ours.

Echo suppression is decided here, in one place:
- a shop write passes `shop_marker(ctx, change_note)` as the writer's `extra`, which inserts a row into
  `<prefix>replicator_ledger` inside the same MySQL transaction, so the binlog watcher drops it; where the shop is
  polled, a bulk writer also gets `shop_read_back(ctx, entity)`, which records the hashes of the rows it wrote, so
  the poll knows them by their images (as FactuSOL's writes below);
- a FactuSOL write goes inside `factusol_writes`, which re-reads the rows written exactly as the watcher will, in
  the same FactuSOL transaction as the write, and records their hashes in the applied ledger, so the next scan
  recognises those images as ours (and a person's later edit, a different image, is still captured).  Write and
  read-back are one transaction so that a file locked between them (FactuSOL saving, a backup) rolls the write
  back too: a row is never changed without the image that tells its capture is ours.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from replicator.prestashop.binlog import ensure_ledger_table, ledger_insert_sql
from replicator.prestashop.chunkpoll import CHECKPOINT as POLL_CHECKPOINT
from replicator.prestashop.write.readback import ReadBack
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


def shop_read_back(ctx: SyncContext, entity: str) -> ReadBack | None:
    """For a bulk shop writer where the shop is captured by polling (this store has a poll checkpoint): the rows it
    writes are read back in its transaction and recorded as ours, so the next poll knows them (the ledger row of
    `shop_marker` is what tells the binlog watcher, which needs nothing more)."""
    if not ctx.shop.cached("polled", lambda: bool(ctx.store.checkpoint(POLL_CHECKPOINT))):
        return None
    return ReadBack(
        ctx.shop.prefix, lambda records: ctx.store.record_applied_many(PRESTASHOP, entity, records, "write")
    )


@contextmanager
def factusol_writes(ctx: SyncContext, entity: str) -> Iterator[Callable[[str, dict], None]]:
    """``with factusol_writes(ctx, entity) as wrote:`` write FactuSOL rows, calling ``wrote(table, pk)`` for each;
    the rows are read back before the FactuSOL transaction commits (`factusol_echo_records`), and their images
    recorded as ours after it."""
    generation.mark_factusol_write(ctx)
    written: list[tuple[str, dict[str, Any]]] = []
    with ctx.factusol.transaction():
        yield lambda table, pk: written.append((table, dict(pk)))
        records = factusol_echo_records(ctx, [(table, pk, [pk]) for table, pk in written])
    ctx.store.record_applied_many(FACTUSOL, entity, records, "write")


def factusol_echo_records(
    ctx: SyncContext, groups: list[tuple[str, dict[str, Any], list[dict[str, Any]]]]
) -> list[tuple[str, str, str]]:
    """The ledger rows (table, row key, row hash) of FactuSOL rows we just wrote, for the caller to record: per
    ``(table, where, pks)`` group, the rows matching ``where`` (the columns the pks share: a pedido's header, its
    lines) are read once.  A pk with no row (a line removed) is recorded as deleted, as `factusol_writes` does."""
    records = []
    for table, where, pks in groups:
        if not pks:
            continue
        rows = ctx.factusol.rows(table, where)
        columns = list(pks[0])
        found = {factusol_row_key({c: r.get(c) for c in columns}): r for r in rows}
        for pk in pks:
            key = factusol_row_key(pk)
            row = found.get(key)
            note_write(ctx, table, key, row)
            records.append((table, key, row_hash(row) if row is not None else DELETED_HASH))
    return records
