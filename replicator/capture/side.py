"""`Side`: what the capture core asks of each side's capture source (FactuSOL's watcher, the shop's binlog reader
or chunk poller), so that it runs them all the same way without knowing their SQL.

A source names its side (`factusol` or `prestashop`: "side" means only these two), shows its state (`status`, for
`replicator status` and the TUI), captures once up to now (`once`, for `run --once` and the first sight) and streams
until told to stop (`stream`, the service's watcher thread), saying after each commit how many changes it stored.
Every commit holds its captured rows with their checkpoint, so a source stopped at any point loses nothing.
The sources keep their code in their side packages and only declare these entry points there.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Protocol, runtime_checkable

SIDES = ("factusol", "prestashop")


class SourceStatus(Protocol):
    """A capture source's state as `replicator status` and the TUI show it."""

    state: str
    last_error: str  # one sentence, secrets redacted, no exception class name

    def as_dict(self) -> dict[str, Any]: ...


class PassReport(Protocol):
    """What one capture pass stored."""

    changes: int
    echoes: int
    counts: dict[str, int]


@runtime_checkable
class Side(Protocol):
    """One side's capture source, as the capture core (`capture/service.py`) drives it."""

    side: str  # "factusol" or "prestashop"
    status: SourceStatus

    def once(self) -> PassReport:
        """Capture what changed up to now, committed with the checkpoint."""
        ...

    def stream(self, stop: threading.Event, on_change: Callable[[int], None] | None = None) -> None:
        """Capture until `stop` is set (blocking: the service gives it a thread); `on_change(n)` after each commit
        of n changes (n may be 0)."""
        ...
