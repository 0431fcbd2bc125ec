"""The first run: the first sight of both sides, then the initial sync of every entity with its progress bar,
some of it on a helper (a child process or threads, `replicator.workers`)."""

from __future__ import annotations

import logging
import sys
import threading
from concurrent.futures.process import BrokenProcessPool

from replicator.capture.service import take_first_sight
from replicator.capture.tables import factusol_tables
from replicator.engine import outcome_text
from replicator.factusol.connection import reads_hold_off_writes
from replicator.runtime import Runtime, open_context
from replicator.sync.registry import HELPER_ENTITY
from replicator.workers import ProcessHelper, ThreadHelper

log = logging.getLogger("replicator")
INITIAL_SYNC_CHECKPOINT = "initial_sync"


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


class HelperDiedError(RuntimeError):
    """The initial sync's child process died: the run stops, and the next one resumes."""


def run_initial_sync(runtime: Runtime) -> None:
    """The first run's initial sync: the first sight of both sides, then every key of every entity (resumable)."""
    store = runtime.store
    early, rest = _first_sight_parts(runtime)
    # Capture first, so that every change made while the initial sync reads is caught afterwards.  First sight
    # takes row snapshots and logs no change.  Without it (the file locked past the retry budget, the shop
    # unreachable) a table would only be baselined after the sync, and an edit made in between would be lost:
    # so nothing is synced until the first sight of what it reads succeeds.  It may come in parts (see
    # _first_sight_parts): the shop's position here; the customers' tables in the helper's child process, just before
    # it syncs them; the other tables here meanwhile.
    helper_first_sight = None
    before_main = None
    if early is None:
        take_first_sight(runtime.config, store)
    else:
        take_first_sight(runtime.config, store, factusol_tables=[])
        helper_first_sight = {HELPER_ENTITY: early}

        def before_main() -> None:
            take_first_sight(runtime.config, store, factusol_tables=rest, prestashop=False)

    try:
        with _Progress() as progress, _helper(runtime, progress, helper_first_sight) as helper:
            report = runtime.engine.initial_sync(progress, helper=helper, before_main=before_main)
    except BrokenProcessPool as exc:
        raise HelperDiedError(
            "the initial sync's child process ended unexpectedly (killed, out of memory, or "
            "it could not start: a Python script that runs the replicator must guard its entry "
            "point with `if __name__ == '__main__':`); what it committed is kept: run again to "
            "go on (initial_sync_workers: thread keeps the work in this process)"
        ) from exc
    store.set_checkpoint(INITIAL_SYNC_CHECKPOINT, {"done": True, "keys": report.keys})
    log.info("initial sync done: %d keys in %.1fs (%s)", report.keys, report.seconds, outcome_text(report.outcomes))


def _helper(runtime: Runtime, progress, first_sight: dict[str, list[str]] | None):
    """Where the initial sync's helper work runs (`initial_sync_workers`, see replicator.workers); ``first_sight``:
    entity -> the FactuSOL tables the child takes the first sight of before it syncs that entity."""
    if runtime.config.initial_sync_workers == "thread":
        ctx = runtime.ctx
        return ThreadHelper(runtime.engine, lambda: open_context(runtime.config, ctx.store, ctx.rules), progress)
    return ProcessHelper(runtime.config, runtime.ctx.rules, progress, first_sight)


def _first_sight_parts(runtime: Runtime) -> tuple[list[str] | None, list[str] | None]:
    """(FactuSOL tables of the first part, of the second part); (None, None) when the first sight is one part.

    In parts only when the helper work runs in a child process and FactuSOL's reads do not hold off writes (Access,
    or the stand-in in WAL mode): the child scans the first part (the customers' tables) and then creates customers
    while this process scans the second.  The two scans share one checkpoint, which each merges on commit
    (`FactusolScanner.scan`).  Beside a thread of this process it would not pay: the scan fetches row by row, and
    each row waits for the GIL."""
    fs = runtime.config.factusol
    if (
        runtime.config.initial_sync_workers != "process"
        or not (fs.file or fs.data_dir)
        or HELPER_ENTITY not in runtime.engine.syncs
    ):
        return None, None
    if reads_hold_off_writes(runtime.ctx.factusol.conn_str):
        return None, None
    tables = factusol_tables()
    early = [name for name, t in tables.items() if t.entity == HELPER_ENTITY]
    return early, [name for name in tables if name not in early]
