"""`replicator run`: wire config, store, rules, connections, capture and the apply engine; once or as a service.

`--once` performs the initial sync on a fresh pair (linking before creating, resumable), captures what is
pending on both sides, applies it and exits.  As a service it captures continuously, applies every
`apply_interval_seconds`, reloads rule files when they change and stops cleanly on SIGTERM/SIGINT.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from replicator.config import Config, redact
from replicator.engine import Engine
from replicator.factusol.years import configured_file, connection_string, fiscal_year
from replicator.store import Store
from replicator.sync.base import SyncContext

log = logging.getLogger("replicator")
INITIAL_SYNC_CHECKPOINT = "initial_sync"


@dataclass
class Runtime:
    """The open parts of a running replicator; `close()` releases them."""

    config: Config
    store: Store
    ctx: SyncContext
    engine: Engine

    def reconnect(self) -> None:
        """Re-open what a restarted MySQL left dead, and follow FactuSOL to a new fiscal-year file."""
        self.ctx.shop.conn.ping(reconnect=True)
        if self.config.factusol.data_dir:
            from replicator.factusol.connection import open_factusol

            path = configured_file(self.config.factusol)
            year = fiscal_year(path)
            if year and year != self.ctx.factusol_year:
                log.info("FactuSOL fiscal year %s -> %s: now writing to %s", self.ctx.factusol_year, year, path)
                old = self.ctx.factusol
                self.ctx.factusol = open_factusol(connection_string(self.config.factusol, path))
                self.ctx.factusol_year = year
                self.ctx.cache.clear()
                old.close()

    def close(self) -> None:
        for conn in (self.ctx.factusol, self.ctx.shop):
            try:
                conn.close()
            except Exception:  # closing is best effort on shutdown
                pass


def open_runtime(config: Config) -> Runtime:
    from replicator.rules import load_rules
    from replicator.sync import default_syncs

    rules = load_rules(config.rules_dir)  # raises RulesError: the daemon refuses to start with invalid rules
    ctx = open_context(config, Store(config.store), rules)
    return Runtime(config, ctx.store, ctx, Engine(ctx, default_syncs(rules)))


def open_context(config: Config, store: Store, rules) -> SyncContext:
    """A sync context with its own connections to both sides (the caller closes them)."""
    from replicator.factusol.connection import open_factusol
    from replicator.prestashop.connection import ShopConnection

    path = configured_file(config.factusol)
    connection = connection_string(config.factusol, path)
    factusol = open_factusol(connection)
    ps = config.prestashop
    try:
        shop = ShopConnection.from_config({"url": ps.url, "prefix": ps.prefix, "id_shop": ps.id_shop,
                                           "id_lang": ps.id_lang})
    except BaseException:
        factusol.close()
        raise
    return SyncContext(config=config, store=store, rules=rules, factusol=factusol, shop=shop,
                       factusol_year=fiscal_year(path, connection))


class _Progress:
    """Initial-sync progress: a rich bar on a terminal, plain log lines otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.bar = None
        self.tasks: dict[str, int] = {}
        self.totals: dict[str, int] = {}
        self.done: dict[str, int] = {}
        self._lock = threading.Lock()  # the initial sync advances it from several threads

    def __enter__(self):
        if self.tty:
            from rich.progress import Progress

            self.bar = Progress(transient=False)
            self.bar.start()
        return self

    def __exit__(self, *exc):
        if self.bar:
            self.bar.stop()

    def start(self, entity: str, total: int) -> None:
        self.totals[entity], self.done[entity] = total, 0
        if self.bar:
            self.tasks[entity] = self.bar.add_task(f"initial sync: {entity}", total=total)
        else:
            log.info("initial sync: %s, %d keys", entity, total)

    def advance(self, entity: str, n: int) -> None:
        with self._lock:
            self.done[entity] += n
            done = self.done[entity]
        if self.bar:
            self.bar.advance(self.tasks[entity], n)
        else:
            log.info("initial sync: %s %d/%d", entity, done, self.totals[entity])


class SideWorkerError(RuntimeError):
    """The initial sync's child process died: the run stops, and the next one resumes."""


class FirstSightError(RuntimeError):
    """The first run could not take its first sight of a side: nothing is synced until it can."""


def run_once(runtime: Runtime) -> int:
    from replicator.capture.service import capture_once
    from replicator.engine import SIDE_INITIAL

    store = runtime.store
    first_run = not (store.checkpoint(INITIAL_SYNC_CHECKPOINT) or {}).get("done")
    if first_run:
        early, rest = _first_sight_parts(runtime)
        # Capture first, so that every change made while the initial sync reads is caught afterwards.  First sight
        # takes row snapshots and logs no change.  Without it (the file locked past the retry budget, the shop
        # unreachable) a table would only be baselined after the sync, and an edit made in between would be lost:
        # so nothing is synced until the first sight of what it reads succeeds.  It may come in parts (see
        # _first_sight_parts): the shop's position here; the customers' tables in the child process, just before
        # it syncs them; the other tables here meanwhile.
        side_first_sight = None
        before_main = None
        if early is None:
            take_first_sight(runtime.config, store)
        else:
            take_first_sight(runtime.config, store, factusol_tables=[])
            side_first_sight = {SIDE_INITIAL: early}

            def before_main() -> None:
                take_first_sight(runtime.config, store, factusol_tables=rest, prestashop=False)
        try:
            with _Progress() as progress, _side_worker(runtime, progress, side_first_sight) as side:
                report = runtime.engine.initial_sync(progress, side=side, before_main=before_main)
        except BrokenProcessPool as exc:
            raise SideWorkerError("the initial sync's child process ended unexpectedly (killed, out of memory, or "
                                  "it could not start: a Python script that runs the replicator must guard its entry "
                                  "point with `if __name__ == '__main__':`); what it committed is kept: run again to "
                                  "go on (initial_sync_workers: thread keeps the work in this process)") from exc
        store.set_checkpoint(INITIAL_SYNC_CHECKPOINT, {"done": True, "keys": report.keys})
        log.info("initial sync done: %d keys in %.1fs %s", report.keys, report.seconds, report.outcomes)
    # Right after an initial sync (whose first-sight scan read every row minutes ago) the tables with a
    # last-modified column (F_CLI, F_ART, ...) are scanned narrow: key list + rows modified since.  Edits that do
    # not stamp FUM* are caught by the next full scan (the next run's first, or the service's safety rescan).
    capture = capture_once(runtime.config, store, full=not first_run)
    report = runtime.engine.apply_pending()
    log.info("captured %s; applied %d changes (%d keys) in %.1fs %s", capture, report.changes, report.keys,
             report.seconds, report.outcomes)
    return 0


def _side_worker(runtime: Runtime, progress, first_sight: dict[str, list[str]] | None):
    """Where the initial sync's side work runs (`initial_sync_workers`, see replicator.workers); ``first_sight``:
    entity -> the FactuSOL tables the child takes the first sight of before it syncs that entity."""
    from replicator.workers import ProcessSide, ThreadSide

    if runtime.config.initial_sync_workers == "thread":
        ctx = runtime.ctx
        return ThreadSide(runtime.engine, lambda: open_context(runtime.config, ctx.store, ctx.rules), progress)
    return ProcessSide(runtime.config, runtime.ctx.rules, progress, first_sight)


def _first_sight_parts(runtime: Runtime) -> tuple[list[str] | None, list[str] | None]:
    """(FactuSOL tables of the first part, of the second part); (None, None) when the first sight is one part.

    In parts only when the side work runs in a child process and FactuSOL's reads do not hold off writes (Access,
    or the stand-in in WAL mode): the child scans the first part (the customers' tables) and then creates customers
    while this process scans the second.  The two scans share one checkpoint, which each merges on commit
    (`FactusolScanner.scan`).  Beside a thread of this process it would not pay: the scan fetches row by row, and
    each row waits for the GIL."""
    from replicator.capture.tables import factusol_tables
    from replicator.engine import SIDE_INITIAL
    from replicator.factusol.connection import reads_hold_off_writes

    fs = runtime.config.factusol
    if runtime.config.initial_sync_workers != "process" or not (fs.file or fs.data_dir) \
            or SIDE_INITIAL not in runtime.engine.syncs:
        return None, None
    if reads_hold_off_writes(runtime.ctx.factusol.conn_str):
        return None, None
    tables = factusol_tables()
    early = [name for name, t in tables.items() if t.entity == SIDE_INITIAL]
    return early, [name for name in tables if name not in early]


def take_first_sight(config: Config, store: Store, factusol_tables: list[str] | None = None,
                     prestashop: bool = True) -> None:
    """The first sight of these FactuSOL tables (all when None) and of the shop (its binlog position or poll
    baseline): row snapshots, no change logged.  Raises FirstSightError if it fails."""
    from replicator.capture.service import capture_once

    report = capture_once(config, store, factusol_tables=factusol_tables, prestashop=prestashop)
    if report.errors:
        raise FirstSightError("first sight failed, nothing was synced (run again once it is fixed): "
                              + "; ".join(report.errors))


SERVICE_CHECKPOINT = "service"


def publish_status(runtime: Runtime, capture, report, problem: str) -> None:
    """Put the watchers' state (scanning / locked / error ...) where `replicator status` and the TUI read it."""
    try:
        runtime.store.set_checkpoint(SERVICE_CHECKPOINT, {
            "pid": os.getpid(), "at": datetime.now().isoformat(timespec="seconds"),
            "capture": capture.status(), "last_apply": report.outcomes if report else None,
            "apply_error": problem or None, "factusol_year": runtime.ctx.factusol_year,
        })
    except Exception as exc:  # status is informative; never let it stop the service
        log.debug("could not publish the service status: %s", redact(exc))


def serve(runtime: Runtime, stop: threading.Event) -> int:
    from replicator.capture.service import CaptureService
    from replicator.rules import RulesWatcher

    if not (runtime.store.checkpoint(INITIAL_SYNC_CHECKPOINT) or {}).get("done"):
        run_once(runtime)

    def on_reload(rules, problems) -> None:
        if problems:
            for problem in problems:
                log.error("rule file error, previous rules stay in force: %s", problem)
            return
        runtime.ctx.rules = rules
        from replicator.sync import default_syncs

        runtime.engine.rules_changed(default_syncs(rules))
        log.info("rules reloaded from %s", runtime.config.rules_dir)

    capture = CaptureService(runtime.config, runtime.store)
    watcher = RulesWatcher(runtime.config.rules_dir, on_reload)
    capture.start()
    watcher.start()
    log.info("replicator running (store %s); Ctrl-C to stop", redact(runtime.config.store))
    try:
        while not stop.is_set():
            problem = ""
            try:
                runtime.reconnect()
                report = runtime.engine.apply_pending()
            except Exception as exc:  # a failing cycle is logged and retried, the service keeps running
                problem = redact(f"{type(exc).__name__}: {exc}")
                log.error("apply cycle failed, retrying in %.0fs: %s", runtime.config.apply_interval_seconds, problem)
                report = None
            publish_status(runtime, capture, report, problem)
            stop.wait(runtime.config.apply_interval_seconds)
    finally:
        watcher.stop()
        capture.stop()
    return 0


@contextmanager
def _signals(stop: threading.Event):
    previous = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            previous[sig] = signal.signal(sig, lambda *_: stop.set())
        except ValueError:  # not in the main thread (tests): the caller owns `stop`
            pass
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run(config: Config, once: bool = False, stop: threading.Event | None = None) -> int:
    runtime = open_runtime(config)
    try:
        if once:
            return run_once(runtime)
        stop = stop or threading.Event()
        with _signals(stop):
            return serve(runtime, stop)
    finally:
        runtime.close()
