"""Drivers for `replicator run`: `capture_once` (for --once) and `CaptureService` (the daemon's watcher threads).

The PrestaShop mode is chosen here: `binlog`, `poll`, or `auto` = binlog when `check_binlog_access` finds
nothing missing, else poll, with one log line saying why.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from replicator.config import Config, redact
from replicator.prestashop.connection import connect
from replicator.sentences import exception_text
from replicator.store import Store

from .side import Side

from replicator.prestashop.binlog import BinlogCapture, check_binlog_access
from replicator.factusol.scanner import FactusolScanner, scan_with_retry
from replicator.factusol.watcher import FactusolWatcher
from replicator.prestashop.chunkpoll import ChunkPoller

log = logging.getLogger("replicator.capture")


@dataclass
class CaptureReport:
    factusol: dict[str, Any] = field(default_factory=dict)
    prestashop: dict[str, Any] = field(default_factory=dict)
    prestashop_mode: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def changes(self) -> int:
        return int(self.factusol.get("changes", 0)) + int(self.prestashop.get("changes", 0))

    def summary(self) -> str:
        """For a log line: 'FactuSOL 3 changes, 1 echo (scan 12); shop (binlog) 2 changes, 0 echoes'."""
        parts = []
        for label, side in (("FactuSOL", self.factusol), (f"shop ({self.prestashop_mode or 'off'})", self.prestashop)):
            if side:
                parts.append(f"{label} {side.get('changes', 0)} changes, {side.get('echoes', 0)} echoes")
        parts += [f"error: {e}" for e in self.errors]
        return "; ".join(parts) or "nothing to capture"


def choose_prestashop_mode(config: Config) -> tuple[str, str]:
    """('binlog' | 'poll', why)."""
    wanted = config.prestashop.capture
    if wanted in ("binlog", "poll"):
        return wanted, f"prestashop.capture is {wanted}"
    try:
        with connect(config.prestashop.url) as conn:
            problems = check_binlog_access(conn)
    except Exception as exc:
        return "poll", redact(f"cannot check binlog access ({exc})")
    if problems:
        return "poll", "binlog capture unavailable: " + "; ".join(problems)
    return "binlog", "binlog access checks passed (log_bin, ROW, FULL image, replication privileges)"


def _factusol_configured(config: Config) -> bool:
    fs = config.factusol
    return bool(fs.file or fs.data_dir)


# One scanner per (store, FactuSOL location) for the life of the process: a warm scanner keeps its per-row
# fingerprints, so the scan after `run --once`'s initial sync skips every unchanged row instead of re-hashing it.
_SCANNERS: "weakref.WeakKeyDictionary[Store, dict[tuple, FactusolScanner]]" = weakref.WeakKeyDictionary()


def _scanner(store: Store, config: Config, initial_load: bool) -> FactusolScanner:
    fs = config.factusol
    key = (str(fs.file), str(fs.data_dir), fs.company, initial_load)
    per_store = _SCANNERS.setdefault(store, {})
    if key not in per_store:
        per_store[key] = FactusolScanner(store, fs, initial_load=initial_load)
    return per_store[key]


def capture_once(
    config: Config,
    store: Store,
    initial_load: bool = False,
    full: bool = True,
    factusol_tables: Collection[str] | None = None,
    prestashop: bool = True,
) -> CaptureReport:
    """Capture everything pending on both sides once: a FactuSOL scan (full, or narrowed by the FUM* columns
    where the tables have them: `full=False`) and the shop up to now.

    `factusol_tables` limits the scan to those tables and `prestashop=False` leaves the shop out: the first run
    takes its first sight in two parts (`replicator.daemon.run_once`)."""
    report = CaptureReport()
    if _factusol_configured(config) and (factusol_tables is None or factusol_tables):
        try:
            r = scan_with_retry(
                _scanner(store, config, initial_load),
                config.factusol.lock_retry_seconds,
                full=full,
                only=factusol_tables,
            )
            report.factusol = {
                "changes": r.changes,
                "echoes": r.echoes,
                "counts": r.counts,
                "file": r.file,
                "scan": r.scan,
                "rollover": r.rollover,
                "seconds": r.seconds,
            }
        except Exception as exc:
            report.errors.append(redact(f"factusol: {type(exc).__name__}: {exc}"))
    if config.prestashop.url and prestashop:
        mode, why = choose_prestashop_mode(config)
        report.prestashop_mode = mode
        log.info("prestashop capture mode %s: %s", mode, redact(why))
        try:
            if mode == "binlog":
                r = BinlogCapture(store, config.prestashop).once()
                report.prestashop = {
                    "changes": r.changes,
                    "echoes": r.echoes,
                    "transactions": r.transactions,
                    "counts": r.counts,
                    "file": r.file,
                    "pos": r.pos,
                    "seconds": r.seconds,
                }
            else:
                poller = ChunkPoller(store, config.prestashop, initial_load=initial_load)
                try:
                    r = poller.once()
                finally:
                    poller.close()
                report.prestashop = {
                    "changes": r.changes,
                    "echoes": r.echoes,
                    "counts": r.counts,
                    "poll": r.poll,
                    "seconds": r.seconds,
                }
        except Exception as exc:
            report.errors.append(redact(f"prestashop: {type(exc).__name__}: {exc}"))
    return report


class CaptureService:
    """Each side's capture source (a `Side`: FactuSOL's watcher, the shop's binlog reader or chunk poller) streaming on
    a daemon thread; `start()`, `stop()`, `status()` (for `replicator status` / the TUI).

    `on_change(n)` is called from a source's thread right after it committed `n` changes (FactuSOL scan, binlog
    batch, poll; n may be 0): the service wakes its apply loop with it (`replicator.capture.wakeup`)."""

    def __init__(
        self, config: Config, store: Store, initial_load: bool = False, on_change: Callable[[int], None] | None = None
    ):
        self.config, self.store = config, store
        self.initial_load = initial_load
        self.on_change = on_change
        self._stop = threading.Event()
        self.factusol: FactusolWatcher | None = None
        self.binlog: BinlogCapture | None = None
        self.poller: ChunkPoller | None = None
        self.prestashop_mode = ""
        self.prestashop_mode_why = ""  # why that mode (auto: what the binlog check found), for `status`
        self.sources: list[Side] = []
        self._threads: list[threading.Thread] = []

    def start(self) -> "CaptureService":
        if _factusol_configured(self.config):
            self.factusol = FactusolWatcher(self.store, self.config.factusol, initial_load=self.initial_load)
            self._run(self.factusol, "factusol-capture")
        if self.config.prestashop.url:
            mode, why = choose_prestashop_mode(self.config)
            self.prestashop_mode, self.prestashop_mode_why = mode, redact(why)
            log.info("prestashop capture mode %s: %s", mode, redact(why))
            if mode == "binlog":
                self.binlog = BinlogCapture(self.store, self.config.prestashop)
                self._run(self.binlog, f"prestashop-{mode}")
            else:
                self.poller = ChunkPoller(self.store, self.config.prestashop, initial_load=self.initial_load)
                self._run(self.poller, f"prestashop-{mode}")
        return self

    def _run(self, source: Side, name: str) -> None:
        """`source.stream` on a daemon thread until `stop()`."""
        self.sources.append(source)
        t = threading.Thread(target=self._stream, args=(source,), name=name, daemon=True)
        t.start()
        self._threads.append(t)

    def _stream(self, source: Side) -> None:
        try:
            source.stream(self._stop, self.on_change)
        except Exception as exc:  # a source that cannot start: said once, kept in its status for `replicator status`
            source.status.state, source.status.last_error = "error", redact(exception_text(exc))
            log.error("%s capture stopped: %s", source.side, source.status.last_error)

    def stop(self, timeout: float = 15.0) -> None:
        """Stop every source, waiting at most `timeout` seconds in all (each commits its last batch first)."""
        deadline = time.monotonic() + timeout
        self._stop.set()
        for t in self._threads:
            t.join(max(0.1, deadline - time.monotonic()))

    def status(self) -> dict[str, Any]:
        out: dict[str, Any] = {"prestashop_mode": self.prestashop_mode, "prestashop_mode_why": self.prestashop_mode_why}
        for source in self.sources:
            out[source.side] = source.status.as_dict()
        return out


class FirstSightError(RuntimeError):
    """The first run could not take its first sight of a side: nothing is synced until it can."""


def take_first_sight(
    config: Config, store: Store, factusol_tables: list[str] | None = None, prestashop: bool = True
) -> None:
    """The first sight of these FactuSOL tables (all when None) and of the shop (its binlog position or poll
    baseline): row snapshots, no change logged.  Raises FirstSightError if it fails."""
    report = capture_once(config, store, factusol_tables=factusol_tables, prestashop=prestashop)
    if report.errors:
        raise FirstSightError(
            "first sight failed, nothing was synced (run again once it is fixed): " + "; ".join(report.errors)
        )
