"""`replicator run`: once (initial sync on a fresh pair, then capture + apply) or as a service that captures
continuously, applies as soon as a capture commits changes (and at least every `apply_interval_seconds`), reloads
rule files when they change and stops cleanly on SIGTERM/SIGINT."""

from __future__ import annotations

import logging
import os
import signal
import threading
from contextlib import contextmanager
from datetime import datetime

from replicator.capture.service import CaptureService, capture_once
from replicator.capture.wakeup import Wakeup, run_loop
from replicator.config import Config, redact
from replicator.engine import outcome_text
from replicator.initial import INITIAL_SYNC_CHECKPOINT, run_initial_sync
from replicator.instance_lock import hold
from replicator.reload import adopt
from replicator.rules import RulesWatcher
from replicator.runtime import Runtime, open_runtime
from replicator.store import Store

log = logging.getLogger("replicator")


def run_once(runtime: Runtime) -> int:
    store = runtime.store
    first_run = not (store.checkpoint(INITIAL_SYNC_CHECKPOINT) or {}).get("done")
    if first_run:
        run_initial_sync(runtime)
    # Right after an initial sync (whose first-sight scan read every row minutes ago) the tables with a
    # last-modified column (F_CLI, F_ART, ...) are scanned narrow: key list + rows modified since.  Edits that do
    # not stamp FUM* are caught by the next full scan (the next run's first, or the service's safety rescan).
    capture = capture_once(runtime.config, store, full=not first_run)
    report = runtime.engine.apply_pending()
    log.info("captured %s; applied %d changes (%d keys) in %.1fs (%s)", capture.summary(), report.changes,
             report.keys, report.seconds, outcome_text(report.outcomes))
    return 0


SERVICE_CHECKPOINT = "service"


def publish_status(runtime: Runtime, capture, report, problem: str) -> None:
    """Put the watchers' state (scanning / locked / error ...) where `replicator status` and the TUI read it."""
    try:
        runtime.store.set_checkpoint(SERVICE_CHECKPOINT, {
            "pid": os.getpid(), "at": datetime.now().astimezone().isoformat(timespec="seconds"),
            "capture": capture.status(), "last_apply": report.outcomes if report else None,
            "apply_error": problem or None, "factusol_year": runtime.ctx.factusol_year,
        })
    except Exception as exc:  # status is informative; never let it stop the service
        log.debug("could not publish the service status: %s", redact(exc))


def serve(runtime: Runtime, stop: threading.Event) -> int:
    if not (runtime.store.checkpoint(INITIAL_SYNC_CHECKPOINT) or {}).get("done"):
        run_once(runtime)

    reloaded: list = []  # rules the watcher loaded, adopted by the apply loop (replicator.reload)
    wakeup = Wakeup(stop)

    def on_reload(rules, problems) -> None:
        if problems:
            for problem in problems:
                log.error("rule file error, previous rules stay in force: %s", problem)
            return
        reloaded.append(rules)
        wakeup.notify()

    capture = CaptureService(runtime.config, runtime.store, on_change=wakeup.notify)
    watcher = RulesWatcher(runtime.config.rules_dir, on_reload)
    capture.start()
    watcher.start()
    log.info("replicator running (store %s); Ctrl-C to stop", redact(runtime.config.store))

    def cycle() -> None:
        problem = ""
        try:
            runtime.reconnect()
            if reloaded:
                newest = None
                while reloaded:  # the newest of the reloads since the last cycle
                    newest = reloaded.pop(0)
                adopt(runtime, newest)
            report = runtime.engine.apply_pending()
        except Exception as exc:  # a failing cycle is logged and retried, the service keeps running
            problem = redact(f"{type(exc).__name__}: {exc}")
            log.error("apply cycle failed, retrying in %.0fs: %s", runtime.config.apply_interval_seconds, problem)
            report = None
        publish_status(runtime, capture, report, problem)
        if problem:  # the next capture must not retry it at once: wait for the safety tick
            wakeup.clear()

    try:
        # Each captured change wakes the apply at once; the interval is the safety tick (quarantine retries, the
        # changes of another process writing to the same store).
        run_loop(cycle, wakeup, stop, runtime.config.apply_interval_seconds)
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
    """`replicator run`: one replicator per store (InstanceLocked names the one already running), a last log
    line when it stops."""
    stop = stop or threading.Event()
    with hold(Store(config.store), "run --once" if once else "run", on_lost=lambda _why: stop.set()):
        runtime = open_runtime(config)
        try:
            if once:
                return run_once(runtime)
            with _signals(stop):
                return serve(runtime, stop)
        finally:
            runtime.close()
            log.info("replicator stopped (pid %d)", os.getpid())
