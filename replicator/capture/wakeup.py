"""What wakes the service's apply loop: a capture that committed changes, or the safety tick.

The watchers (FactuSOL scan, binlog batch, poll) run on their own threads and call `Wakeup.notify(changes)` right
after a commit that logged changes; the apply loop (`run_loop`) sleeps in `Wakeup.wait` until then, or until the
interval passes.  The flag is cleared *before* each apply, so a change committed while an apply runs sets it again and
is taken by the next apply at once.  A commit that logged nothing (an echo of our own write, an empty scan) does not
notify, so an apply never brings on another by itself: no busy loop.

Only watchers in the same process can notify; the TUI and the CLI, which share the store, never wait on it."""

from __future__ import annotations

import threading
from collections.abc import Callable


class Wakeup:
    """A flag set by capture commits; `wait` returns as soon as it is set (or the stop event is)."""

    def __init__(self, stop: threading.Event | None = None):
        self._flag = threading.Event()
        self.notified = 0  # commits that woke the loop (status and tests)
        if stop is not None:
            # A stop request must end the wait too: one idle thread that forwards it (it costs nothing while waiting).
            threading.Thread(target=self._forward_stop, args=(stop,), name="apply-wakeup-stop", daemon=True).start()

    def _forward_stop(self, stop: threading.Event) -> None:
        stop.wait()
        self._flag.set()

    def notify(self, changes: int = 1) -> None:
        """A capture committed `changes` changes: wake the apply loop (nothing to do when it logged none)."""
        if changes:
            self.notified += 1
            self._flag.set()

    def clear(self) -> None:
        self._flag.clear()

    def wait(self, timeout: float) -> bool:
        """Sleep until notified or `timeout` seconds passed; whether it was notified."""
        return self._flag.wait(timeout)


def run_loop(cycle: Callable[[], None], wakeup: Wakeup, stop: threading.Event, interval: float) -> int:
    """Run `cycle` (one apply) whenever `wakeup` is notified, and at least every `interval` seconds, until `stop`.

    Returns the number of cycles run."""
    cycles = 0
    while not stop.is_set():
        wakeup.clear()  # what is committed from now on is taken by the next cycle
        cycle()
        cycles += 1
        if stop.is_set():
            break
        wakeup.wait(interval)
    return cycles
