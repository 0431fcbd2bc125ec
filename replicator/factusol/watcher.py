"""FactuSOL capture, when to scan: file events (watchdog, debounced) start scans from a thread, once the file has
been quiet for an adaptive window (QUIET_MIN for a lone save, growing while events keep coming, capped at
`debounce_seconds`); every `rescan_seconds` regardless (network shares drop events; a full rescan at least every
`full_rescan_seconds`), and again with backoff while the file is locked."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from replicator.config import FactusolConfig, redact
from replicator.halt import COMMAND
from replicator.store import Store

from .errors import FactusolLockedError, FactusolRestoredError
from .filestamp import ScannedStamp, Stamp, file_stamp
from .scanner import FactusolScanner, ScanReport, scan_with_retry
from .years import year_file_pattern

log = logging.getLogger("replicator.capture.factusol")


@dataclass
class WatcherStatus:
    state: str = "starting"  # starting | idle | scanning | locked | error | paused | stopped
    last_error: str = ""
    last_scan_at: datetime | None = None
    file: str = ""
    scans: int = 0
    changes: int = 0
    echoes: int = 0
    locked_since: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "last_error": self.last_error,
            "file": self.file,
            "scans": self.scans,
            "changes": self.changes,
            "echoes": self.echoes,
            "last_scan_at": self.last_scan_at.isoformat() if self.last_scan_at else None,
            "locked_since": self.locked_since.isoformat() if self.locked_since else None,
        }


_DATA_EVENT_KINDS = frozenset({"modified", "created", "deleted", "moved"})  # watchdog's event_type values


# The quiet window after a data event: a lone save (its few events come within milliseconds) is scanned this long
# after its last event.  When a burst outlasts the window, the window doubles (up to debounce_seconds), so a program
# writing for a while is scanned once or twice, not after each write; after debounce_seconds of quiet it is back here.
QUIET_MIN = 0.075  # seconds

# While file events are seen to announce the changes (an event scan found some), the safety rescan, which is there for
# folders whose events get lost (network shares), runs this many times less often; a change found by a safety scan
# that no event announced brings it back to every rescan_seconds.
SAFETY_STRETCH = 4

# The page sums' rotation (`FactusolScanner.rearm`, `rotate`): after an event scan's commit (the apply has its
# changes by then), this long of the owed page sums, so a stream of saves still gets them through, a slice at a time;
# once no event waits, one rotation takes all that are left, stopping at once if an event comes.
ROTATION_SLICE = 0.03  # seconds
# Each safety rescan while file events are not trusted (events lost on a network share, or none seen since the
# start) takes this long of them: the page sums go round in several safety rescans (about five with 100,000 articles).
SAFETY_ROTATION_SLICE = 0.3  # seconds
# At most one slice after event scans in this long: under a stream of saves, the scans come one after the other, and
# a slice after each one made every change wait for it once more.
ROTATION_SLICE_GAP = 0.3  # seconds

# A file at rest (its stamp unchanged: filestamp.py) skips its rescans, but still gets a full one this often: where a
# write did not move the modification time, that scan finds it, and the skipping stops (`_learn_whether_stamps_move`).
AT_REST_FULL_SCAN = 3600.0  # seconds

EMPTY_SCANS_BEFORE_SPACING = 3
EVENT_SCAN_GAP_MAX = 15.0  # seconds


def event_scan_gap(empty_event_scans: int, debounce: float) -> float:
    """The least time between the end of a scan and the next event scan, after `empty_event_scans` event scans in a
    row found nothing.

    Only data events reach the scanner (`FactusolWatcher.is_data_event`), but a program may write to the file
    without changing a watched table, or a driver may write to it on open (not seen with the stand-in; unverified
    with Access): then each scan would bring on the next.  After a few such scans the gap doubles with each one, up
    to EVENT_SCAN_GAP_MAX; a scan that finds a change or an echo resets it."""
    if empty_event_scans < EMPTY_SCANS_BEFORE_SPACING:
        return 0.0
    return min(EVENT_SCAN_GAP_MAX, max(debounce, 0.25) * 2 ** (empty_event_scans - EMPTY_SCANS_BEFORE_SPACING + 1))


def failure_text(exc: BaseException) -> str:
    """What went wrong, as people read it: the error's own message, never its class name, secrets redacted."""
    args = exc.args
    if isinstance(exc, KeyError) and args:
        text = f"no {args[0]!r} found"
    elif len(args) == 2 and isinstance(args[0], str) and len(args[0]) == 5:  # a driver error: (SQLSTATE, text)
        text = f"{args[1]} (SQLSTATE {args[0]})"
    else:
        text = str(exc) or "an unexpected error without a message"
    return " ".join(redact(text).split())


class FactusolWatcher:
    """Runs `FactusolScanner` from a thread, driven by watchdog file events, a safety timer and lock backoff."""

    def __init__(
        self,
        store: Store,
        cfg: FactusolConfig,
        initial_load: bool = False,
        on_scan: Callable[[ScanReport], None] | None = None,
        max_backoff: float = 30.0,
    ):
        self.store, self.cfg = store, cfg
        self.scanner = FactusolScanner(store, cfg, initial_load=initial_load)
        self.status = WatcherStatus()
        self.on_scan = on_scan
        self.max_backoff = max_backoff
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._paused = threading.Event()
        self._full_next = False  # after a pause: the file may have been restored, read all of it
        self._dirty_since: float | None = None
        self._last_event = 0.0
        self._cap = max(0.0, float(cfg.debounce_seconds))
        self.quiet = min(QUIET_MIN, self._cap)  # the current quiet window (see QUIET_MIN)
        self._scan_seconds = float("inf")  # how long the last event scan took (the quiet window grows up to it)
        self._burst_since = 0.0  # when the file last began to change after a quiet spell longer than the cap
        self.events_trusted = False  # file events were seen to announce changes here (see SAFETY_STRETCH)
        self._slice_end = float("-inf")  # when the last slice of the rotation after an event scan ended
        # What the file's stamp was when scans began (filestamp.py): a rescan of a file unchanged since is skipped.
        self._scanned = ScannedStamp()  # event, safety and full scans
        self._fully_scanned = ScannedStamp()  # full scans
        self._armed: Stamp | None = None  # the stamp when the page sums' rotation was last rearmed
        self._swept: Stamp | None = None  # ... and when the last complete round of them began
        self.stamps_trusted = True  # False once a write was seen not to move the stamp: nothing is skipped then
        self._thread: threading.Thread | None = None
        self._observer = None

    # -- file events --
    def _folder(self) -> Path:
        return Path(self.cfg.data_dir) if self.cfg.data_dir else Path(self.cfg.file).parent

    def is_data_event(self, path: str, kind: str = "modified") -> bool:
        """Whether a file event can mean new data in a watched database file.

        That is a write to the file itself or to its SQLite write-ahead log, or a database file created, deleted or
        moved into place (a new fiscal year's file, a restored copy).  Opening and closing the file, attribute
        changes, lock files (`.laccdb`, `.ldb`), `-shm` and `-journal` files come with every connection, this
        watcher's own scans included; reacting to them made it rescan after each of its own scans, forever."""
        wal = Path(path).name.upper().endswith("-WAL")
        if kind not in _DATA_EVENT_KINDS or (wal and kind != "modified"):
            return False
        return self.is_database_file(Path(path).name)

    def is_database_file(self, name: str) -> bool:
        """Whether `name` is a watched database file (any year file of the company, a new year's included, with a
        data folder) or a SQLite stand-in's write-ahead log of one."""
        name = name.upper()
        if name.endswith("-WAL"):
            name = name[: -len("-WAL")]
        if self.cfg.data_dir:
            return year_file_pattern(self.cfg.company).fullmatch(name) is not None
        return name == Path(self.cfg.file).name.upper()

    def notify(self, path: str | None = None, kind: str = "modified") -> None:
        """A file event (or a manual nudge): scan once the file has been quiet for the quiet window."""
        if path is not None and not self.is_data_event(path, kind):
            return
        now = time.monotonic()
        if self._dirty_since is None:
            if now - self._last_event > self._cap:  # the file was quiet for a while: a new burst, the shortest window
                self.quiet = min(QUIET_MIN, self._cap)
                self._burst_since = now
            self._dirty_since = now
        elif now - self._dirty_since > self.quiet:  # events keep coming for longer than the window: widen it
            # ... but not past the time a scan takes: waiting longer saves fewer scans than it costs in latency
            self.quiet = min(self._cap, max(QUIET_MIN, self._scan_seconds), self.quiet * 2)
        self._last_event = now
        self._wake.set()

    def _learn_whether_events_arrive(self, report, announced: bool, full: bool) -> None:
        """Events are trusted once an event scan finds changes (or our own writes' echoes); a change a safety scan
        finds with no event pending means events get lost here: safety rescans go back to every rescan_seconds, said
        once.  A full scan's finds say nothing of events (the first one reads what changed while the service was
        stopped; the others, edits the page sums cannot see)."""
        found = report.changes or report.echoes
        if announced and found:
            self.events_trusted = True
        elif found and not announced and self.events_trusted and not full:
            self.events_trusted = False
            log.info(
                "FactuSOL file changed without a file event (a network share?): safety rescans every %.0f s",
                float(self.cfg.rescan_seconds),
            )

    def _due_without_quiet(self, now: float, max_wait: float, last_scan_end: float) -> float:
        """When changes that never see a quiet moment are scanned: a burst `max_wait` after its first event (or after
        the last scan's end, when it came during that scan), a steady stream `_steady_rest` after the last scan."""
        rest = self._steady_rest(now)
        if rest == float("inf"):
            return max(self._dirty_since or now, last_scan_end) + max_wait
        return last_scan_end + rest

    def _steady_rest(self, now: float) -> float:
        """How long after a scan's end a steady stream of saves is scanned again.  A burst (saves for less than the
        cap) waits for a quiet moment, up to the cap, so it is scanned once or twice (infinity here).  A stream that
        outlasts the cap is never quiet: it is scanned again a quarter of a scan's time after the last scan ended (at
        least one quiet window), so its changes wait about one scan, not the cap, and the scanner rests at least a
        fifth of the time (FactuSOL, on the same PC, keeps its share)."""
        if now - self._burst_since <= self._cap:
            return float("inf")
        return max(QUIET_MIN, self._scan_seconds / 4)

    def _stamp(self) -> Stamp | None:
        if self.cfg.rescan_unchanged_file or not self.stamps_trusted:
            return None  # nothing is skipped
        return file_stamp(self._folder(), self.is_database_file)

    def _full_scan_needless(self, stamp: Stamp | None, now: float) -> bool:
        """Two full scans began with this stamp, far enough apart to prove no write came after the first, no scan
        since saw another one, and the last one is less than AT_REST_FULL_SCAN old: a full scan now would read what
        they read."""
        return (
            self._fully_scanned.covers(stamp)
            and self._scanned.stamp == stamp
            and now - self._fully_scanned.latest < AT_REST_FULL_SCAN
        )

    def _safety_scan_needless(self, stamp: Stamp | None) -> bool:
        """As `_full_scan_needless`, for the scans a safety rescan repeats: the narrow scan, and, while file events
        are not trusted, the page sums' rotation (nothing of it owed, and its last round begun with this stamp)."""
        return (
            self._scanned.covers(stamp)
            and not self.scanner.owed
            and (self.events_trusted or (stamp is not None and stamp == self._swept))
        )

    def _learn_whether_stamps_move(self, stamp: Stamp | None, report: ScanReport, full: bool) -> None:
        """A full scan found changes although it began with the stamp the last full scan began with (that one read
        every row), and the stamp has still not moved: a write came in between and left the modification time
        alone (a file system or program not seen yet), so the stamp proves nothing.  Rescans are skipped no more,
        said once.  (Only a full scan tells: the others may find an older edit only now, one the earlier narrow
        scans and page sums could not see.)"""
        if (
            full
            and report.changes
            and stamp is not None
            and stamp == self._fully_scanned.stamp
            and self._stamp() == stamp
        ):
            self.stamps_trusted = False
            log.warning(
                "FactuSOL file changed without its modification time moving: rescans are no longer skipped while "
                "the file looks unchanged (factusol.rescan_unchanged_file: true says so from the start)"
            )

    def _record_scan(self, stamp: Stamp | None, at: float, full: bool) -> None:
        """A scan (event, safety or full) that began with `stamp` at `at` completed."""
        self._scanned.record(stamp, at)
        if full:
            self._fully_scanned.record(stamp, at)
            self._armed, self._swept = None, stamp  # a full scan takes every page's sums

    def _note_round(self) -> None:
        """After any scan: once nothing is owed, the round of page sums rearmed with `_armed` is complete."""
        if self._armed is not None and not self.scanner.owed:
            self._armed, self._swept = None, self._armed

    def _no_event_waits(self) -> bool:
        return self._dirty_since is None and not self._stop.is_set() and not self._paused.is_set()

    def _start_observer(self) -> None:
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event):
                watcher.notify(event.src_path, event.event_type)
                dest = getattr(event, "dest_path", "")
                if dest:
                    watcher.notify(dest, event.event_type)

        self._observer = Observer()
        self._observer.schedule(Handler(), str(self._folder()), recursive=False)
        self._observer.daemon = True
        self._observer.start()

    # -- a capture Side (replicator/capture/side.py) --
    side = "factusol"

    def once(self) -> ScanReport:
        """One scan now (a locked file is retried for `lock_retry_seconds`)."""
        return scan_with_retry(self.scanner, self.cfg.lock_retry_seconds)

    def stream(self, stop: threading.Event, on_change: Callable[[int], None] | None = None) -> None:
        """Watch until `stop` is set; `on_change(n)` after each scan that stored n changes."""
        if on_change is not None:
            self.on_scan = lambda report: on_change(report.changes)
        self.start()
        stop.wait()
        self.stop()

    # -- lifecycle --
    def start(self) -> "FactusolWatcher":
        self._start_observer()
        self._thread = threading.Thread(target=self._run, name="factusol-watcher", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout)
        if self._thread is not None:
            self._thread.join(timeout)
        self.status.state = "stopped"

    def pause(self) -> None:
        """Stop touching the file (FactuSOL needs it alone) until `resume`; a scan in progress finishes first."""
        self._paused.set()
        self._wake.set()

    def resume(self) -> None:
        """Go on watching, starting with a full scan."""
        self._full_next = True
        self._paused.clear()
        self._wake.set()

    def _run(self) -> None:
        debounce = max(0.0, float(self.cfg.debounce_seconds))
        # The safety rescan takes the narrow path where FUM* columns allow (it finds inserts, deletes and every
        # edit that moved a FUM date); a full one, every row of every table, runs at least every full_every.
        rescan = max(0.5, float(self.cfg.rescan_seconds))
        full_every = max(rescan, float(self.cfg.full_rescan_seconds))
        # Busy files see events continuously: never wait more than the cap for a quiet moment (a steady stream of
        # saves is scanned at least this often).
        max_wait = max(debounce, QUIET_MIN)
        next_full = next_safety = 0.0  # first pass is a full scan
        retry_at = 0.0
        backoff = 0.5
        last_scan_end, empty_event_scans = 0.0, 0
        owed = False  # page sums are owed (ScanReport.owed): a rotation scan once no file event waits
        while not self._stop.is_set():
            if self._paused.is_set():
                self.status.state = "paused"
                self._wake.wait(1.0)
                self._wake.clear()
                continue
            now = time.monotonic()
            due_full = now >= next_full or self._full_next
            due_safety = now >= next_safety
            stamp: Stamp | None = None
            stamped_at = now
            if (due_full or due_safety) and now >= retry_at and not self._full_next:
                # At rest nothing writes to the file: a rescan would find nothing (and cost a 100,000-article file
                # 0.1-0.4 s, or 13 s for a full one), so the timers just start again.
                stamp, stamped_at = self._stamp(), time.monotonic()
                if due_full and self._full_scan_needless(stamp, now):
                    due_full, next_full = False, now + full_every
                    log.debug("full scan skipped: the file has not changed since the last full scans")
                if due_safety and not due_full and self._safety_scan_needless(stamp):
                    due_safety, next_safety = False, now + rescan * (SAFETY_STRETCH if self.events_trusted else 1)
                    log.debug("safety scan skipped: the file has not changed since the last scans")
            gap_left = last_scan_end + event_scan_gap(empty_event_scans, debounce) - now
            quiet = self.quiet
            due_event = (
                self._dirty_since is not None
                and gap_left <= 0
                and (now - self._last_event >= quiet or now >= self._due_without_quiet(now, max_wait, last_scan_end))
            )
            owed_due = owed and self._dirty_since is None  # the rotation of page sums after an event scan
            if now < retry_at or not (due_full or due_safety or due_event or owed_due):
                waits = [min(next_full, next_safety) - now]
                if self._dirty_since is not None:
                    until_due = min(
                        quiet - (now - self._last_event), self._due_without_quiet(now, max_wait, last_scan_end) - now
                    )
                    waits.append(max(until_due, gap_left))
                if now < retry_at:
                    waits = [retry_at - now]
                self._wake.wait(max(0.01, min(waits)))
                self._wake.clear()
                continue
            # Events from here on start a new burst, taken by the next scan (this one reads what they wrote before
            # it began; an event that comes during the scan may be for a write it did not see).  A rotation scan
            # leaves them waiting: it stops its page sums for them, and the event scan comes next.
            event_scan = due_event and not (due_full or due_safety)
            dirty = None
            if due_full or due_safety or event_scan:
                dirty, self._dirty_since = self._dirty_since, None
                if stamp is None:  # (before the scan: a write that comes during it moves the stamp again)
                    stamp, stamped_at = self._stamp(), time.monotonic()
            cpu_started = time.thread_time()
            try:
                self.status.state = "scanning"
                if due_full or due_safety:
                    # A safety rescan takes the quick sums only while events announce changes (their event scans
                    # start the rotation of page sums); otherwise also a slice of the page sums, the rotation
                    # starting again once through: every page's sums in each one cost a 100,000-article file 2 % of
                    # a core at rest, until the first file event came.
                    rotation: float | None = None
                    if not due_full:
                        rotation = 0 if self.events_trusted else SAFETY_ROTATION_SLICE
                        if rotation and not self.scanner.owed and (stamp is None or stamp != self._swept):
                            self.scanner.rearm()  # (a file unchanged since a round began needs no other)
                            self._armed = stamp
                    report = self.scanner.scan(full=due_full, rotation_seconds=rotation)
                elif event_scan:
                    self.scanner.rearm()  # the file changed: every page's sums are owed again
                    self._armed = stamp
                    report = self.scanner.scan(full=False, rotation_seconds=0)
                    if self.on_scan:
                        self.on_scan(report)  # the apply starts now, not after the slice below
                    if time.monotonic() - self._slice_end >= ROTATION_SLICE_GAP:
                        rotated = self.scanner.rotate(ROTATION_SLICE)
                        self._slice_end = time.monotonic()
                        if self.on_scan and rotated.changes:
                            self.on_scan(rotated)
                        report = replace(
                            report,
                            changes=report.changes + rotated.changes,
                            echoes=report.echoes + rotated.echoes,
                            owed=rotated.owed,
                        )
                else:
                    report = self.scanner.rotate(0, keep_going=self._no_event_waits)
            except FactusolLockedError as exc:
                # Nothing is lost: the snapshots did not move, so the next successful scan sees every change.
                self._dirty_since = self._dirty_since or dirty  # the event scan is still owed
                self.status.state, self.status.last_error = "locked", redact(exc)
                if self.status.locked_since is None:  # one line when the lock starts, one when it ends
                    self.status.locked_since = datetime.now()
                    log.warning(
                        "FactuSOL file locked since %s (another program holds it): capture waits and retries; %s",
                        self.status.locked_since.strftime("%H:%M:%S"),
                        redact(exc),
                    )
                else:
                    log.debug("FactuSOL file still locked, retrying in %.1fs: %s", backoff, redact(exc))
                retry_at = time.monotonic() + backoff
                backoff = min(self.max_backoff, backoff * 2)
                continue
            except FactusolRestoredError as exc:  # applying is stopped (halt.py); say it once, look again later
                if self.status.state != "restored":
                    log.error("%s Applying is stopped; run %s", redact(exc), COMMAND)
                self.status.state, self.status.last_error = "restored", redact(exc)
                retry_at = time.monotonic() + self.max_backoff
                continue
            except Exception as exc:  # keep watching; the status says what went wrong
                self._dirty_since = self._dirty_since or dirty
                self.status.state, self.status.last_error = "error", failure_text(exc)
                what = self.status.last_error.rstrip(".")
                log.error("FactuSOL scan failed: %s; capture tries again in %.1f s", what, backoff)
                retry_at = time.monotonic() + backoff
                backoff = min(self.max_backoff, backoff * 2)
                continue
            backoff = 0.5
            last_scan_end = time.monotonic()
            if due_full or due_safety or event_scan:
                self._learn_whether_stamps_move(stamp, report, full=due_full)
                self._record_scan(stamp, stamped_at, full=due_full)
            self._note_round()
            if event_scan:
                self._scan_seconds = last_scan_end - now
            log.debug(
                "%s scan: first event %.3f s before, quiet window %.3f s, took %.3f s (%.3f s of CPU), %d changes",
                "full" if due_full else "safety" if due_safety else "event" if event_scan else "rotation",
                now - dirty if dirty is not None else -1,
                quiet,
                last_scan_end - now,
                time.thread_time() - cpu_started,
                report.changes,
            )
            # (what a safety rescan leaves of the rotation waits for the next one, or for a file event)
            owed = report.owed and not (due_safety and not due_full and not self.events_trusted)
            self._learn_whether_events_arrive(report, announced=dirty is not None or owed_due, full=due_full)
            # any scan looked at the file: the safety timer starts again
            next_safety = last_scan_end + rescan * (SAFETY_STRETCH if self.events_trusted else 1)
            if report.changes or report.echoes:
                empty_event_scans = 0
            elif event_scan and dirty is not None:  # (a rotation scan is no event scan)
                empty_event_scans += 1
                if empty_event_scans == EMPTY_SCANS_BEFORE_SPACING:
                    log.info(
                        "FactuSOL file events without changes to the watched tables (something writes to the "
                        "file without changing them): event scans are spaced out, up to one every %.0f s, "
                        "until one finds a change",
                        EVENT_SCAN_GAP_MAX,
                    )
            if due_full:
                next_full = last_scan_end + full_every
                self._full_next = False
            st = self.status
            if st.locked_since is not None:
                log.warning(
                    "FactuSOL file unlocked after %.0f s (locked since %s): capture resumed",
                    (datetime.now() - st.locked_since).total_seconds(),
                    st.locked_since.strftime("%H:%M:%S"),
                )
            st.state, st.last_error, st.locked_since = "idle", "", None
            st.last_scan_at, st.file = datetime.now(), report.file
            st.scans += 1
            st.changes += report.changes
            st.echoes += report.echoes
            if self.on_scan and not event_scan:  # (an event scan's reports went out as each part committed)
                self.on_scan(report)
