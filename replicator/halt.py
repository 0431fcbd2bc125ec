"""Stopping the apply on purpose: a restored FactuSOL file or a state store that is not the one the shop was
replicated with must not push old data to the other side.

The detector writes the `apply.halt` checkpoint (what was found, since when, the command to run); the engine
applies nothing while it is set, and says so once; `replicator status` prints it; `replicator accept-baseline`
clears it (and, for a restored FactuSOL file, has the next scan take the file as it is as the new baseline).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

HALT = "apply.halt"
ACCEPT_FACTUSOL = "factusol.accept_baseline"
ACCEPT_STORE = "store.accept_baseline"  # the next start takes this store as the shop's writer (sync/generation.py)
COMMAND = (
    "`replicator reconcile --config FILE` to see what differs, then `replicator accept-baseline --config "
    "FILE` to go on from the data as it is now (and `replicator reconcile --repair` to bring the sides in "
    "step by the rules)"
)


def halt(store, cause: str, reason: str) -> None:
    """Stop applying (idempotent: the first reason stays until it is accepted)."""
    if store.checkpoint(HALT):
        return
    store.set_checkpoint(
        HALT,
        {"cause": cause, "reason": reason, "since": datetime.now().isoformat(timespec="seconds"), "command": COMMAND},
    )


def halted(store) -> dict[str, Any] | None:
    return store.checkpoint(HALT) or None


def accept(store) -> dict[str, Any] | None:
    """Clear the halt; a restored FactuSOL file is re-baselined by the next scan (no change emitted); a replaced or
    older store is taken as the shop's writer at the next start."""
    current = halted(store)
    if current and current.get("cause") == "factusol_restored":
        store.set_checkpoint(ACCEPT_FACTUSOL, {"at": datetime.now().isoformat(timespec="seconds")})
    if current and current.get("cause") in ("store_replaced", "store_restored"):
        store.set_checkpoint(ACCEPT_STORE, {"at": datetime.now().isoformat(timespec="seconds")})
    store.set_checkpoint(HALT, {})
    return current
