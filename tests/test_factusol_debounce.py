"""The FactuSOL watcher's adaptive quiet window: a lone save is scanned after the shortest window, not after the
cap (`debounce_seconds`); a burst of events widens the window so it is scanned a few times, not once per event."""

from __future__ import annotations

import threading
import time

import pytest

from replicator.config import FactusolConfig
from replicator.factusol.watcher import QUIET_MIN, FactusolWatcher
from replicator.store import Store

from test_capture_factusol import CONN, K, _changes, make_file
from test_factusol_pages import big  # noqa: F401 - the fixture: a file with paged tables


def _wait(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.02)


@pytest.fixture
def slow_cap(tmp_path):
    path = tmp_path / "0012026.sqlite"
    conn = make_file(path)
    store = Store(f"sqlite:///{tmp_path / 'state.sqlite'}")
    # A cap of a minute: a scan that waited for the cap (or the safety rescan) could not come within the test.
    cfg = FactusolConfig(file=path, connection=CONN, debounce_seconds=60, rescan_seconds=600)
    yield conn, store, cfg, path
    conn.close()


def test_a_lone_save_is_scanned_after_the_shortest_window_not_the_cap(slow_cap):
    conn, store, cfg, _ = slow_cap
    watcher = FactusolWatcher(store, cfg).start()
    try:
        _wait(lambda: watcher.status.scans >= 1)  # the first pass (baseline)
        conn.cursor().execute("UPDATE [F_STO] SET [ACTSTO]=? WHERE [ARTSTO]=?", 42, "A1")
        _wait(lambda: _changes(store), timeout=30)
        assert watcher.quiet == QUIET_MIN  # the window did not widen for one save
        assert watcher.status.scans == 2
    finally:
        watcher.stop()
    assert _changes(store) == [("F_STO", K(ALMSTO="GEN", ARTSTO="A1"), "update")]


def test_a_burst_of_events_widens_the_window_and_is_scanned_a_few_times(slow_cap):
    conn, store, cfg, path = slow_cap
    watcher = FactusolWatcher(store, cfg).start()
    try:
        _wait(lambda: watcher.status.scans >= 1)
        cur = conn.cursor()
        done = threading.Event()

        def burst() -> None:  # 100 saves, 10 ms apart, each with its file event
            for i in range(100):
                cur.execute("UPDATE [F_STO] SET [ACTSTO]=? WHERE [ARTSTO]=?", 100 + i, "A2")
                watcher.notify(str(path))
                time.sleep(0.01)
            done.set()

        writer = threading.Thread(target=burst)
        writer.start()
        writer.join(60)
        assert done.is_set()
        assert watcher.quiet > QUIET_MIN  # the burst outlasted the shortest window: it widened
        _wait(lambda: any('"ACTSTO":"199' in (c.after or "") for c in store.changes()), timeout=90)
        event_scans = watcher.status.scans - 1
        assert 1 <= event_scans <= 3  # not one scan per save
    finally:
        watcher.stop()


def test_a_steady_stream_of_saves_longer_than_the_cap_is_scanned_every_scan_time_not_every_cap(tmp_path):
    """Saves that never stop (a busy shop's stock going through FactuSOL all day) are never quiet: once the stream
    has outlasted the cap, its changes wait about one scan's time, not the cap."""
    path = tmp_path / "0012026.sqlite"
    conn = make_file(path)
    store = Store(f"sqlite:///{tmp_path / 'state.sqlite'}")
    cfg = FactusolConfig(file=path, connection=CONN, debounce_seconds=2, rescan_seconds=600)
    watcher = FactusolWatcher(store, cfg).start()
    try:
        _wait(lambda: watcher.status.scans >= 1)
        cur = conn.cursor()
        started = time.monotonic()
        scans_at_cap = None
        i = 0
        while time.monotonic() - started < 5.0:  # a save every 20 ms for 5 s: the cap (2 s), then 3 s more
            cur.execute("UPDATE [F_STO] SET [ACTSTO]=? WHERE [ARTSTO]=?", 1000 + i, "A2")
            watcher.notify(str(path))
            i += 1
            if scans_at_cap is None and time.monotonic() - started > 2.0:
                scans_at_cap = watcher.status.scans
            time.sleep(0.02)
        after_cap = watcher.status.scans - scans_at_cap
        assert after_cap >= 5, after_cap  # waiting for the cap would give one or two scans in those 3 s
    finally:
        watcher.stop()
        conn.close()


def test_safety_rescans_stretch_while_events_announce_changes_and_come_back_when_a_change_arrives_without_one(
    tmp_path, caplog
):
    """Where file events arrive (a local disk), the safety rescan (for network shares, whose events get lost) runs
    SAFETY_STRETCH times less often; a change found with no event behind it brings it back to rescan_seconds."""
    import logging

    from replicator.factusol.watcher import SAFETY_STRETCH

    path = tmp_path / "0012026.sqlite"
    conn = make_file(path)
    store = Store(f"sqlite:///{tmp_path / 'state.sqlite'}")
    cfg = FactusolConfig(file=path, connection=CONN, debounce_seconds=0.2, rescan_seconds=1.5)
    watcher = FactusolWatcher(store, cfg).start()
    caplog.set_level(logging.INFO, logger="replicator.capture.factusol")
    try:
        _wait(lambda: watcher.status.scans >= 1)
        assert not watcher.events_trusted  # nothing seen yet: safety rescans every rescan_seconds
        cur = conn.cursor()
        cur.execute("UPDATE [F_STO] SET [ACTSTO]=? WHERE [ARTSTO]=?", 51, "A1")  # its file event arrives
        _wait(lambda: watcher.events_trusted, timeout=30)
        watcher._observer.stop()  # from here on events get lost, as on a network share
        watcher._observer.join(10)
        cur.execute("UPDATE [F_STO] SET [ACTSTO]=? WHERE [ARTSTO]=?", 52, "A2")
        edited = time.monotonic()
        _wait(lambda: any('"ACTSTO":"52' in (c.after or "") for c in store.changes()), timeout=60)
        found_after = time.monotonic() - edited
        assert found_after > 1.5 * 1.5  # not at the first rescan_seconds: the safety rescan was stretched
        _wait(lambda: "changed without a file event" in caplog.text)  # said once the scan that found it ends
        assert not watcher.events_trusted
    finally:
        watcher.stop()
        conn.close()
    assert SAFETY_STRETCH * 1.5 + 5 > found_after


def test_a_safety_rescan_takes_only_the_quick_sums_while_events_are_trusted(big):  # noqa: F811 - the fixture
    """At rest a safety rescan costs little where events arrive: the quick sums (and FUM reads) only, since an event
    starts the rotation of page sums itself.  Where an event was lost, an unstamped text edit of a paged table is
    left to a later safety rescan, once a change found without an event has shown that events get lost here."""
    conn, store, _, path = big  # paged tables; FUM reads leave the other articles out
    cfg = FactusolConfig(file=path, connection=CONN, debounce_seconds=0.2, rescan_seconds=0.5)
    watcher = FactusolWatcher(store, cfg).start()
    try:
        _wait(lambda: watcher.status.scans >= 1)
        cur = conn.cursor()
        cur.execute("UPDATE [F_STO] SET [ACTSTO]=? WHERE [ARTSTO]=?", 51, "A1")  # its file event arrives
        _wait(lambda: watcher.events_trusted, timeout=30)
        _wait(lambda: not watcher.scanner._owed and watcher.status.state == "idle", timeout=30)  # rotation done
        watcher._observer.stop()  # from here on events get lost
        watcher._observer.join(10)
        cur.execute("UPDATE [F_ART] SET [DESART]=? WHERE [CODART]=?", "renamed, no stamp, no event", "A150")
        cur.execute("UPDATE [F_STO] SET [ACTSTO]=? WHERE [ARTSTO]=?", 52, "A2")  # the quick sums see this one
        _wait(lambda: ("F_ART", K(CODART="A150"), "update") in _changes(store), timeout=60)
    finally:
        watcher.stop()
    scan_of = {(c.source_table, c.row_key): int(c.position.split(":")[1]) for c in store.changes()}
    # The stock edit's safety rescan did not take the page sums (events were trusted); the next one did.
    assert scan_of[("F_ART", K(CODART="A150"))] > scan_of[("F_STO", K(ALMSTO="GEN", ARTSTO="A2"))]


def test_under_a_stream_of_saves_the_rotation_takes_at_most_one_slice_per_gap(big):  # noqa: F811 - the fixture
    """Scans come one after another under a stream of saves: a slice of the page sums after each one made every
    change wait for it once more, so slices come at most once per ROTATION_SLICE_GAP."""
    from replicator.factusol.watcher import ROTATION_SLICE, ROTATION_SLICE_GAP

    conn, store, cfg, path = big
    watcher = FactusolWatcher(store, cfg)
    slices: list[float] = []
    real_rotate = watcher.scanner.rotate

    def rotate(seconds, keep_going=None):
        if seconds == ROTATION_SLICE:  # a slice after an event scan (a rotation without events takes 0 + keep_going)
            slices.append(time.monotonic())
        return real_rotate(seconds, keep_going)

    watcher.scanner.rotate = rotate
    watcher.start()
    try:
        _wait(lambda: watcher.status.scans >= 1)
        scans_before = watcher.status.scans
        cur = conn.cursor()
        started, i = time.monotonic(), 0
        while time.monotonic() - started < 2.0:  # a save every 20 ms for 2 s
            cur.execute("UPDATE [F_STO] SET [ACTSTO]=? WHERE [ARTSTO]=?", 1000 + i, "A2")
            watcher.notify(str(path))
            i += 1
            time.sleep(0.02)
        event_scans = watcher.status.scans - scans_before
    finally:
        watcher.stop()
    assert slices, "the rotation gets slices under a stream too"
    assert len(slices) <= 2.0 / ROTATION_SLICE_GAP + 2
    assert event_scans > len(slices) + 3, (event_scans, len(slices))
    gaps = [b - a for a, b in zip(slices, slices[1:])]
    assert all(gap >= ROTATION_SLICE_GAP for gap in gaps), gaps


def test_without_trusted_events_each_safety_rescan_takes_a_slice_of_the_page_sums(big, monkeypatch):  # noqa: F811
    """Until a file event has announced a change (after a start, or where events get lost), the safety rescans find
    unstamped edits by the page sums, a slice per rescan (every page's sums in each one cost a big file 2 % of a core
    at rest): the edit is found a few rescans later, not at the first."""
    from replicator.factusol import watcher as watching

    monkeypatch.setattr(watching, "SAFETY_ROTATION_SLICE", 0.000001)  # one page per safety rescan
    conn, store, _, path = big
    cfg = FactusolConfig(file=path, connection=CONN, debounce_seconds=0.2, rescan_seconds=0.5)
    watcher = FactusolWatcher(store, cfg).start()
    try:
        _wait(lambda: watcher.status.scans >= 1)
        watcher._observer.stop()  # no file event ever arrives
        watcher._observer.join(10)
        first = watcher.status.scans
        conn.cursor().execute("UPDATE [F_ART] SET [DESART]=? WHERE [CODART]=?", "renamed, no stamp, no event", "A7")
        _wait(lambda: _changes(store), timeout=60)
        safety_scans = watcher.status.scans - first
    finally:
        watcher.stop()
    assert not watcher.events_trusted
    assert _changes(store) == [("F_ART", K(CODART="A7"), "update")]
    assert safety_scans >= 2, safety_scans  # every page's sums in each safety rescan found it at the first
