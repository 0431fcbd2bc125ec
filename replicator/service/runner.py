"""The platform-neutral service runner: start, a stop request from anywhere, a clean drain within 10 seconds.

`replicator run` uses it on every system.  A stop request (SIGTERM or Ctrl-C on POSIX, Ctrl-C/Ctrl-Break on a
Windows console, the Service Control Manager's stop through the Windows glue) only sets an event: the apply cycle
in progress finishes, the watchers commit their last batch and checkpoint, the connections close, and `run`
returns.  The drain has a budget (10 s by default): a watcher that has not finished by then is left behind (its
work is uncommitted, so it is read again on the next start) and the process ends anyway, so the service manager
never has to kill it.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from contextlib import contextmanager

from replicator.config import Config

log = logging.getLogger("replicator.service")
DRAIN_SECONDS = 10.0


class ServiceRunner:
    """One replicator service: `run()` until `request_stop()` is called (from any thread or a signal handler)."""

    def __init__(self, config: Config, drain_seconds: float = DRAIN_SECONDS, stop: threading.Event | None = None):
        self.config = config
        self.drain_seconds = drain_seconds
        self.stop_event = stop or threading.Event()
        self.stopped = threading.Event()  # set once `run` has released everything
        self._requested_at: float | None = None
        self._lock = threading.Lock()

    def request_stop(self, reason: str = "stop requested") -> None:
        """Ask the service to stop: the current apply finishes, checkpoints are committed, `run` returns.

        Only sets an event and logs one line, so it is safe from a signal handler and from the Windows service
        control handler's thread."""
        with self._lock:
            first = self._requested_at is None
            if first:
                self._requested_at = time.monotonic()
        if first:
            log.info("%s: finishing the current apply, then stopping (at most %.0f s)", reason, self.drain_seconds)
        self.stop_event.set()

    def drain_left(self) -> float:
        """Seconds left of the drain budget (the whole budget until a stop is requested)."""
        if self._requested_at is None:
            return self.drain_seconds
        return max(0.5, self.drain_seconds - (time.monotonic() - self._requested_at))

    def run(self) -> int:
        """Open both sides, serve until a stop request, drain, close; the exit code (0 after a clean stop)."""
        from replicator.daemon import run

        try:
            code = run(self.config, stop=self.stop_event, drain_left=self.drain_left, signals=False)
            if self._requested_at is not None:
                log.info(
                    "replicator stopped cleanly, %.1f s after the stop request", time.monotonic() - self._requested_at
                )
            return code
        finally:
            self.stopped.set()

    def run_in_foreground(self) -> int:
        """`run` with the console's stop signals turned into stop requests (main thread only; elsewhere the
        caller owns `request_stop`)."""
        with self._stop_signals():
            return self.run()

    @contextmanager
    def _stop_signals(self):
        previous = {}
        for name in ("SIGTERM", "SIGINT", "SIGBREAK"):  # SIGBREAK: Ctrl-Break on a Windows console
            sig = getattr(signal, name, None)
            if sig is None:
                continue
            try:
                previous[sig] = signal.signal(
                    sig, lambda signum, _frame: self.request_stop(f"{signal.Signals(signum).name} received")
                )
            except (ValueError, OSError):  # not the main thread, or a signal this system does not deliver
                pass
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
