"""Where the initial sync's helper work runs: in a child process (the default) or on a thread of this process.

The initial sync hands some of its work to a helper: the customers while products and stock run here, and the
second half of the stock (see `replicator.engine.Engine.initial_sync`).  Each job is one entity and its keys, synced
with the worker's own connections to both sides and the same state store.

- `ProcessHelper` runs the jobs in one child process.  The child has its own interpreter, so its Python work does not
  compete for this process's GIL: pyodbc releases and re-takes the GIL around every row and column it fetches, and
  beside a thread busy in Python a streamed read ran 15 times slower (bench numbers in docs/performance.md).  The
  child sends its log records and progress back through a queue, so they show where this process's show.  It
  never outlives this process: on Linux the kernel kills it when this process dies, and on any system it stops
  between chunks when it finds this process gone.  What it had committed is resumed like any interrupted run.
  Before a job it may take the first sight of the tables that job reads (`replicator.initial.run_initial_sync`).
- `ThreadHelper` runs them on threads of this process, with a short GIL switch interval while they run
  (`replicator.gil`).  For where a child process can't be started (`initial_sync_workers: thread`).
"""

from __future__ import annotations

import logging
import logging.handlers
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import ExitStack

from replicator.gil import quick_handoff

log = logging.getLogger("replicator")


class ThreadHelper:
    """Helper jobs on threads of this process, each with its own connections (`open_context`)."""

    def __init__(self, engine, open_context: Callable, progress) -> None:
        self.engine, self.open_context, self.progress = engine, open_context, progress
        self._pool: ThreadPoolExecutor | None = None
        self._stack = ExitStack()

    def __enter__(self) -> ThreadHelper:
        self._stack.enter_context(quick_handoff())  # threads side by side: no GIL convoy (see replicator.gil)
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="initial-sync-helper")
        return self

    def submit(self, entity: str, keys: list | None = None) -> Future:
        return self._pool.submit(self._run, entity, keys)

    def _run(self, entity: str, keys: list | None):
        ctx = self.open_context()
        try:
            return self.engine.initial_entity(ctx, entity, self.progress, keys)
        finally:
            for conn in (ctx.factusol, ctx.shop):
                try:
                    conn.close()
                except Exception:  # closing is best effort
                    pass

    def __exit__(self, *exc) -> None:
        try:
            self._pool.shutdown(wait=True)  # an error here still lets the helper jobs' chunks finish
        finally:
            self._stack.close()


class ProcessHelper:
    """Helper jobs in one child process, started with "spawn" (safe beside threads and open connections)."""

    def __init__(self, config, rules, progress, first_sight: dict[str, list[str]] | None = None) -> None:
        self.config, self.rules, self.progress = config, rules, progress
        # entity -> the FactuSOL tables the child takes the first sight of before it syncs that entity
        self.first_sight = dict(first_sight or {})
        self._pool: ProcessPoolExecutor | None = None
        self._queue = None
        self._listener: threading.Thread | None = None

    def __enter__(self) -> ProcessHelper:
        mp = multiprocessing.get_context("spawn")
        self._queue = mp.Queue()
        self._listener = threading.Thread(target=self._listen, name="initial-sync-helper-events", daemon=True)
        self._listener.start()
        level = logging.getLogger("replicator").getEffectiveLevel()
        self._pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=mp,
            initializer=_child_start,
            initargs=(self.config, self.rules, self._queue, level),
        )
        return self

    def submit(self, entity: str, keys: list | None = None) -> Future:
        # Submitted from the main thread, which lives as long as the run: the child is started from it, and Linux's
        # parent-death signal follows the thread that started the child.
        # a FileOrder stays one (it pickles as itself)
        return self._pool.submit(_child_job, entity, keys, self.first_sight.pop(entity, None))

    def _listen(self) -> None:
        """Hand the child's log records to this process's loggers and its progress to the progress bar."""
        while True:
            item = self._queue.get()
            if item is None:
                return
            if isinstance(item, logging.LogRecord):
                logger = logging.getLogger(item.name)
                if logger.isEnabledFor(item.levelno):
                    logger.handle(item)
            else:
                what, entity, n = item
                getattr(self.progress, what)(entity, n)

    def __exit__(self, *exc) -> None:
        try:
            self._pool.shutdown(wait=True)
        finally:
            self._queue.put(None)
            self._listener.join(timeout=10)
            self._queue.close()


# -- the child process ----------------------------------------------------------------------------------------------

_child_runtime = (
    None  # (Config, SyncContext, Engine, _ChildProgress), or the exception that kept the child from starting
)


class _ChildProgress:
    """Progress from the child: sent to the parent; between chunks, stop if the parent is gone."""

    def __init__(self, queue) -> None:
        self.queue = queue

    def start(self, entity: str, total: int) -> None:
        self.queue.put(("start", entity, total))

    def advance(self, entity: str, n: int) -> None:
        parent = multiprocessing.parent_process()
        if parent is not None and not parent.is_alive():
            os._exit(1)  # the run was killed: the next run resumes what was committed; this one must not go on
        self.queue.put(("advance", entity, n))


def _child_start(config, rules, queue, level: int) -> None:
    global _child_runtime
    _die_with_parent()
    root = logging.getLogger()
    root.handlers[:] = [logging.handlers.QueueHandler(queue)]
    root.setLevel(level)
    try:
        from replicator.config import register_config_secrets
        from replicator.runtime import open_context
        from replicator.engine import Engine
        from replicator.store import Store
        from replicator.sync import default_syncs

        register_config_secrets(config)  # what the child logs or stores is redacted like the parent's
        # the parent's rules, not the files read again
        ctx = open_context(config, Store(config.store, config.store_namespace), rules)
        _child_runtime = (config, ctx, Engine(ctx, default_syncs(rules)), _ChildProgress(queue))
    except Exception as exc:  # raised by the first job, where the parent sees it (an initializer's error is not)
        _child_runtime = exc


def _child_job(entity: str, keys: list | None, first_sight: list[str] | None = None):
    if isinstance(_child_runtime, Exception):
        raise _child_runtime
    config, ctx, engine, progress = _child_runtime
    if first_sight:  # the tables this entity reads, seen before it writes (FirstSightError if that fails)
        from replicator.capture.service import take_first_sight

        take_first_sight(config, ctx.store, factusol_tables=first_sight, prestashop=False)
    return engine.initial_entity(ctx, entity, progress, keys)


def _die_with_parent() -> None:
    """Linux: the kernel sends this process SIGKILL when the thread that started it ends (prctl PR_SET_PDEATHSIG)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):  # no prctl: the check between chunks still stops it
        pass
    parent = multiprocessing.parent_process()
    if parent is not None and not parent.is_alive():  # the parent died before prctl took effect
        os._exit(1)
