"""FactuSOL writes that change a stock input: the articles they touched get their shop stock recomputed in the same
apply.

Our own FactuSOL writes are not captured again (echo suppression), so a pedido's pending units (F_LPC.PENLPC),
a cancellation releasing them, or any other stock input we write would otherwise reach the shop only when the
article changes next.  `factusol_writes` notes the article of every such row (as written and as it was
before, for a line whose article changed or that was deleted); the engine syncs the stock of those articles
after the batch's entity syncs (`take`).
"""

from __future__ import annotations

import json
from typing import Any

from replicator.sync.base import SyncContext

# table -> its article column: the FactuSOL rows a stock formula reads (F_PCL states reach it through F_LPC rows)
STOCK_INPUTS = {"F_STO": "ARTSTO", "F_STC": "ARTSTC", "F_LPC": "ARTLPC", "F_LPP": "ARTLPP"}
TOUCHED = "stock_inputs_touched"


def note_write(ctx: SyncContext, table: str, key: str, row: dict[str, Any] | None) -> None:
    """Remember the article(s) of a stock-input row just written (``row``: as read back, None when deleted)."""
    column = STOCK_INPUTS.get(table)
    if column is None:
        return
    articles = {row.get(column)} if row else set()
    before = ctx.store.snapshot_image("factusol", table, key)
    if isinstance(before, str):
        try:
            before = json.loads(before)
        except ValueError:
            before = None
    if isinstance(before, dict):
        articles.add(before.get(column))
    touched = ctx.cache.setdefault(TOUCHED, set())  # the engine takes it at the end of every batch
    touched.update(str(a).strip() for a in articles if a and str(a).strip())


def take(ctx: SyncContext) -> list[str]:
    """The articles noted since the last call (and forget them)."""
    touched = ctx.cache.pop(TOUCHED, None)
    return sorted(touched) if touched else []
