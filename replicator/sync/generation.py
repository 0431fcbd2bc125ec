"""The apply generation: how far this state store has applied, kept in the shop too, so that an older copy of the
store restored over the newer one is recognised before it pushes old data.

An apply takes the next generation number and commits it in the store before its first write; every shop write's
ledger note carries it (`[store <id> g<N>]`), and the first FactuSOL write of a generation adds a ledger row of its
own.  The shop's ledger therefore never shows a generation of this store higher than the store holds, whatever
the moment a crash lands; when it does, the store is an older copy (a backup restored) that does not know the
links, baselines and echo records of what was applied since: `restored_store` says so and the daemon stops
applying (replicator.halt) until `replicator accept-baseline`, after which `adopt` takes the shop's generation.
"""

from __future__ import annotations

import logging

from replicator.halt import ACCEPT_STORE
from replicator.prestashop.ledger import ensure_ledger_table, last_generation, ledger_insert_sql
from replicator.sync.base import SyncContext

CHECKPOINT = "apply.generation"
log = logging.getLogger("replicator.generation")


def stored(store) -> int:
    return int((store.checkpoint(CHECKPOINT) or {}).get("n", 0))


def _advance(store, at_least: int = 0) -> int:
    n = max(stored(store), at_least) + 1
    store.set_checkpoint(CHECKPOINT, {"n": n})  # committed before any write that carries it
    return n


def current(ctx: SyncContext) -> int:
    """This apply's generation: taken (and committed in the store) on its first write."""
    if "generation" not in ctx.cache:  # the engine clears the cache per batch: one generation per batch that writes
        ctx.cache["generation"] = _advance(ctx.store)
    return ctx.cache["generation"]


def tag(ctx: SyncContext) -> str:
    """The `[store <id> g<N>]` a ledger note ends with: which store wrote it, in which of its applies."""
    return f"[store {ctx.store.store_id} g{current(ctx)}]"


def _ledger_row(shop, note: str) -> None:
    if not shop.cached("replicator_ledger_ready"):
        ensure_ledger_table(shop.conn, shop.prefix)
        shop.remember("replicator_ledger_ready", True)
    with shop.transaction() as cur:
        shop.execute(ledger_insert_sql(shop.prefix), (None, note), cursor=cur)


def mark_factusol_write(ctx: SyncContext) -> None:
    """After the first FactuSOL write of a generation: a ledger row says this store applied that far."""
    if ctx.cache.get("generation_marked") != current(ctx):
        _ledger_row(ctx.shop, f"FactuSOL written {tag(ctx)}")
        ctx.cache["generation_marked"] = current(ctx)


def restored_store(store, shop) -> str:
    """Why this store is an older copy than the one the shop's ledger knows ("" when it is not)."""
    in_shop, here = last_generation(shop.conn, shop.prefix, store.store_id), stored(store)
    if in_shop <= here:
        return ""
    return (
        f"this state store ({store.store_id}) has applied up to generation {here}, and the shop's ledger shows its "
        f"writes up to generation {in_shop}: it is an older copy of the store (a backup restored), without the "
        "links, baselines and echo records of what was applied since, so applying it would push old data"
    )


def adopt(store, shop) -> int:
    """After `accept-baseline`: go on from the shop's generation (and mark this store as the shop's writer)."""
    n = _advance(store, last_generation(shop.conn, shop.prefix, store.store_id))
    _ledger_row(shop, f"baseline accepted [store {store.store_id} g{n}]")
    store.set_checkpoint(ACCEPT_STORE, {})
    log.info("baseline accepted: this state store goes on at generation %d", n)
    return n
