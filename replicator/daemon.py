"""`replicator run`: once (initial sync on a fresh pair, then capture + apply) or as a service that captures
continuously, applies as soon as a capture commits changes (and at least every `apply_interval_seconds`), reloads
rule files when they change and stops cleanly on a stop request (SIGTERM/SIGINT, or the Windows service stop), which
replicator.service.runner turns into `stop`."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from contextlib import contextmanager
from datetime import datetime

from replicator.sentences import exception_text
from replicator.capture.service import CaptureService, capture_once
from replicator.capture.wakeup import Wakeup, run_loop
from replicator.config import Config, redact
from replicator.engine import is_transient, outcome_text
from replicator.gil import quick_handoff
from replicator.halt import ACCEPT_STORE, halt, halted
from replicator.initial import INITIAL_SYNC_CHECKPOINT, run_initial_sync
from replicator.instance_lock import hold
from replicator.masking import without_class_name
from replicator.prestashop.binlog import last_store_tag
from replicator.reload import adopt
from replicator.rules import RulesWatcher
from replicator.runtime import Runtime, open_runtime
from replicator.store import Store
from replicator.sync import generation

log = logging.getLogger("replicator")
# The first wait after an apply that failed for a transient reason; it doubles with each failure, up to the interval.
RETRY_FIRST = 0.1


class PausedError(RuntimeError):
    """`run --once` while a pause request stands (FactuSOL needs its file alone)."""

    @property
    def sentence(self) -> str:  # already the user's sentence: printed as it is (cli_output.error_sentence)
        return str(self)


def run_once(runtime: Runtime) -> int:
    store = runtime.store
    stopped = halted(store)
    if stopped:  # a replaced store or a restored file: no initial sync, no apply until a person decides
        log.error("applying is stopped: %s. Run %s", stopped.get("reason"), stopped.get("command"))
        return 1
    first_run = not (store.checkpoint(INITIAL_SYNC_CHECKPOINT) or {}).get("done")
    if first_run:
        run_initial_sync(runtime)
    # Right after an initial sync (whose first-sight scan read every row minutes ago) the tables with a
    # last-modified column (F_CLI, F_ART, ...) are scanned narrow: key list + rows modified since.  Edits that do
    # not stamp FUM* are caught by the next full scan (the next run's first, or the service's safety rescan).
    capture = capture_once(runtime.config, store, full=not first_run)
    report = runtime.engine.apply_pending()
    log.info(
        "captured %s; applied %d changes (%d keys) in %.1fs (%s)",
        capture.summary(),
        report.changes,
        report.keys,
        report.seconds,
        outcome_text(report.outcomes),
    )
    return 0


SERVICE_CHECKPOINT = "service"


def publish_status(runtime: Runtime, capture, report, problem: str, state: str = "running", paused: str = "") -> None:
    """Put the watchers' state (scanning / locked / error ...) where `replicator status` and the TUI read it."""
    try:
        watchers = capture.status()
        for side in ("factusol", "prestashop"):  # the one place errors are stored for status and the TUI:
            if isinstance(watchers.get(side), dict) and watchers[side].get("last_error"):  # no class names
                watchers[side] = {**watchers[side], "last_error": without_class_name(watchers[side]["last_error"])}
        runtime.store.set_checkpoint(
            SERVICE_CHECKPOINT,
            {
                "state": state,
                "pid": os.getpid(),
                "at": datetime.now().astimezone().isoformat(timespec="seconds"),
                "capture": watchers,
                "last_apply": report.outcomes if report else None,
                "apply_error": without_class_name(problem) or None,
                "factusol_year": runtime.ctx.factusol_year,
                "paused": paused or None,
                "factusol_open": runtime.ctx.factusol.is_open,
            },
        )
    except Exception as exc:  # status is informative; never let it stop the service
        log.debug("could not publish the service status: %s", redact(exc))


def serve(runtime: Runtime, stop: threading.Event, drain_left: Callable[[], float] | None = None) -> int:
    """Capture and apply until `stop` is set; then stop the watchers within `drain_left()` seconds (they commit
    their last batch and checkpoint) and publish the stopped state.  See replicator.service.runner."""
    if not (runtime.store.checkpoint(INITIAL_SYNC_CHECKPOINT) or {}).get("done"):
        if run_once(runtime) != 0 and halted(runtime.store):
            return 1  # stopped before the first sync: nothing to watch for until a person decides

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

    report = None
    paused = ""
    interval = runtime.config.apply_interval_seconds
    retry_in = RETRY_FIRST  # after a transient failure (the FactuSOL file locked a moment, the shop's server gone)

    def cycle() -> None:
        nonlocal report, paused, retry_in
        paused = _follow_pause(runtime, capture, paused)
        if paused:  # FactuSOL has the file: no scan, no apply until `replicator resume`
            publish_status(runtime, capture, report, "", state="paused", paused=paused)
            wakeup.clear()
            return
        problem, wait = "", interval
        try:
            runtime.reconnect()
            if reloaded:
                newest = None
                while reloaded:  # the newest of the reloads since the last cycle
                    newest = reloaded.pop(0)
                adopt(runtime, newest)
            report = runtime.engine.apply_pending()
            retry_in = RETRY_FIRST
            if report.changes:
                log.debug(
                    "apply cycle: %d changes, %d keys in %.3f s (%.3f s of CPU)",
                    report.changes,
                    report.keys,
                    report.seconds,
                    report.cpu_seconds,
                )
        except Exception as exc:  # a failing cycle is logged and retried, the service keeps running
            log.debug("apply cycle failed", exc_info=True)  # the traceback, for a developer's debug log
            problem = redact(exception_text(exc))
            transient = is_transient(exc)
            wait = min(retry_in, interval) if transient else interval
            # a lock held for a moment (FactuSOL saving) is retried soon, every retry waiting twice as long, up to the
            # interval: the first failure is said (INFO), the retries only in the debug log, until the wait reaches the
            # interval (ERROR)
            level = logging.INFO if retry_in == RETRY_FIRST else logging.DEBUG
            log.log(
                logging.ERROR if not transient or wait >= interval else level,
                "apply cycle failed, retrying in %.1fs: %s",
                wait,
                problem,
            )
            retry_in = min(interval, retry_in * 2) if transient else RETRY_FIRST
            report = None
        _close_if_idle(runtime)
        publish_status(runtime, capture, report, problem)
        if problem:  # the next capture must not retry it at once: wait, then try again
            wakeup.clear()
            if wait < interval and not stop.wait(wait):
                wakeup.notify()

    try:
        # Each captured change wakes the apply at once; the interval is the safety tick (quarantine retries, the
        # changes of another process writing to the same store, the pause request and the idle close).  The apply's
        # many short shop queries run beside a FactuSOL scan's Python work: without a quick GIL hand-over each of
        # them waited up to 5 ms for it (replicator.gil).
        with quick_handoff():
            run_loop(cycle, wakeup, stop, interval)
    finally:
        watcher.stop()
        capture.stop(drain_left() if drain_left else 15.0)
        publish_status(runtime, capture, report, "", state="stopped")
    return 0


def _follow_pause(runtime: Runtime, capture, paused: str) -> str:
    """Pause or resume as the store's pause request says; the pause's description while paused, else ""."""
    from replicator.service.pause import describe, pause_request

    request = pause_request(runtime.store)
    if request and not paused:
        if capture.factusol:
            capture.factusol.pause()
        runtime.ctx.factusol.release()  # between cycles: no transaction is open
        log.info(
            "%s: the FactuSOL file is left alone (no scan, no apply, connection closed) until `replicator resume`",
            describe(request),
        )
    elif paused and not request:
        if capture.factusol:
            capture.factusol.resume()
        log.info("resumed: a full scan of the FactuSOL file, then the changes waiting on both sides")
    return describe(request) if request else ""


def _close_if_idle(runtime: Runtime) -> None:
    """Give the file back to FactuSOL when the service has not used it for factusol.idle_close_seconds."""
    idle = runtime.config.factusol.idle_close_seconds
    conn = runtime.ctx.factusol
    if idle and conn.is_open and conn.idle_seconds() >= idle and conn.release():
        log.debug("FactuSOL connection closed after %.0f s unused; it opens again on the next change", idle)


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


def check_store_identity(runtime: Runtime) -> bool:
    """Stop applying when the shop's latest write was made with another state store (this one was lost, replaced,
    or restored from another copy), or when this store is an older copy of itself (its apply generation is behind
    the shop's ledger: sync/generation.py): edits applied meanwhile are not in this store.  True when stopped."""
    store, shop = runtime.store, runtime.ctx.shop
    if store.checkpoint(ACCEPT_STORE):  # `accept-baseline`: this store goes on as the shop's writer
        generation.adopt(store, shop)
        return False
    tag = last_store_tag(shop.conn, shop.prefix)
    if tag is not None and tag != store.store_id:
        halt(
            store,
            "store_replaced",
            f"the shop was last written with state store {tag}, and this state store is "
            f"{store.store_id}: the store was lost, replaced or restored from another copy, "
            "so edits made meanwhile on both sides are not known to it",
        )
        return True
    older = generation.restored_store(store, shop)
    if older:
        halt(store, "store_restored", older)
    return bool(older)


def run(
    config: Config,
    once: bool = False,
    stop: threading.Event | None = None,
    drain_left: Callable[[], float] | None = None,
    signals: bool = True,
) -> int:
    """`replicator run`: one replicator per store (InstanceLocked names the one already running), a last log
    line when it stops.  `--once` is refused while a pause request stands; the service waits it out before it
    opens anything.  `signals=False` when the caller owns the stop request (replicator.service.runner)."""
    from replicator.service.pause import describe, pause_request, wait_while_paused

    stop = stop or threading.Event()
    store = Store(config.store, config.store_namespace)
    request = pause_request(store) if once else None
    if request:
        raise PausedError(f"the replicator is {describe(request)}: run `replicator resume` first")
    with hold(store, "run --once" if once else "run", on_lost=lambda _why: stop.set()):
        if not once and not wait_while_paused(store, stop):
            return 0  # stopped while paused: the file was never opened
        runtime = open_runtime(config)
        try:
            check_store_identity(runtime)  # a replaced store: the engine then applies nothing
            if once:
                return run_once(runtime)
            if not signals:
                return serve(runtime, stop, drain_left)
            with _signals(stop):
                return serve(runtime, stop, drain_left)
        finally:
            runtime.close()
            log.info("replicator stopped (pid %d)", os.getpid())
