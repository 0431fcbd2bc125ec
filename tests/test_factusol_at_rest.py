"""A FactuSOL file at rest is not rescanned: safety and full rescans are skipped while the file's stamp (sizes,
modification times) is the one two completed scans began with, and run again as soon as it moves, events or not."""

from __future__ import annotations

import time

from replicator.config import FactusolConfig
from replicator.factusol.filestamp import STAMP_TICK, ScannedStamp, file_stamp
from replicator.factusol.watcher import FactusolWatcher

from test_capture_factusol import CONN, K, _changes
from test_factusol_debounce import _wait
from test_factusol_pages import big  # noqa: F401 - the fixture: a file with paged tables


def _watching_without_events(store, path, full_rescan_seconds: float) -> FactusolWatcher:
    """A watcher with safety rescans every 0.5 s, after its first scan, whose file events are lost from then on (a
    network share)."""
    cfg = FactusolConfig(
        file=path,
        connection=CONN,
        debounce_seconds=0.2,
        rescan_seconds=0.5,
        full_rescan_seconds=full_rescan_seconds,
    )
    watcher = FactusolWatcher(store, cfg).start()
    try:
        _wait(lambda: watcher.status.scans >= 1)
        watcher._observer.stop()
        watcher._observer.join(10)
    except BaseException:
        watcher.stop()
        raise
    return watcher


def _scans_in(watcher: FactusolWatcher, seconds: float) -> int:
    before = watcher.status.scans
    time.sleep(seconds)
    return watcher.status.scans - before


def test_a_stamp_counts_once_two_scans_began_with_it_a_tick_apart():
    seen = ScannedStamp()
    stamp = (("0012026.ACCDB", 4096, 1_000, 7),)
    seen.record(stamp, at=100.0)
    assert not seen.covers(stamp)  # a write in the same tick as that stat, after the scan read it, looks the same
    seen.record(stamp, at=100.0 + STAMP_TICK / 2)
    assert not seen.covers(stamp)
    seen.record(stamp, at=100.0 + STAMP_TICK)
    assert seen.covers(stamp)
    moved = (("0012026.ACCDB", 4096, 2_000, 7),)
    assert not seen.covers(moved)
    seen.record(moved, at=200.0)  # a new stamp starts over
    assert not seen.covers(moved) and not seen.covers(stamp)
    assert not seen.covers(None)  # an unreadable folder proves nothing


def test_the_stamp_moves_with_a_write_and_not_with_a_read(big):  # noqa: F811 - the fixture
    conn, _, cfg, path = big
    watcher = FactusolWatcher(None, cfg)  # (no store: only its file matching is used)
    before = file_stamp(path.parent, watcher.is_database_file)
    assert [entry[0] for entry in before] == [path.name.upper()]  # the database only, not the store beside it
    conn.cursor().execute("SELECT COUNT(*) FROM [F_ART]").fetchall()
    assert file_stamp(path.parent, watcher.is_database_file) == before
    conn.cursor().execute("UPDATE [F_ART] SET [DESART]=? WHERE [CODART]=?", "renamed", "A3")
    assert file_stamp(path.parent, watcher.is_database_file) != before
    assert file_stamp(path.parent / "gone", watcher.is_database_file) is None


def test_rescans_of_a_file_at_rest_stop_and_come_back_when_it_changes_without_an_event(big):  # noqa: F811
    """No event ever arrives (a network share): safety rescans every 0.5 s and full ones every second run until the
    stamp is proved, then stop; an unstamped edit that only the page sums see moves the stamp, and is found."""
    conn, store, _, path = big
    watcher = _watching_without_events(store, path, full_rescan_seconds=1)
    try:
        _wait(lambda: _scans_in(watcher, 2.0) == 0, timeout=60)  # at rest: no scan at all
        assert not watcher.scanner.owed
        conn.cursor().execute("UPDATE [F_ART] SET [DESART]=? WHERE [CODART]=?", "renamed, no stamp, no event", "A9")
        _wait(lambda: _changes(store), timeout=30)
        assert _changes(store) == [("F_ART", K(CODART="A9"), "update")]
        _wait(lambda: _scans_in(watcher, 2.0) == 0, timeout=60)  # and at rest again
    finally:
        watcher.stop()


def test_an_edit_only_a_full_rescan_sees_is_found_by_the_next_one(big, caplog):  # noqa: F811 - the fixture
    """An edit that keeps every number, length and sampled character is left to the full rescan: the stamp it
    moves makes that run although the file had been at rest.  The safety rescans proved the new stamp before the
    full rescan found the edit: that says nothing against the stamps, which stay trusted."""
    import logging

    caplog.set_level(logging.DEBUG, logger="replicator.capture.factusol")
    conn, store, _, path = big
    watcher = _watching_without_events(store, path, full_rescan_seconds=6)
    try:
        skipped = caplog.text.count("full scan skipped")
        _wait(lambda: caplog.text.count("full scan skipped") > skipped, timeout=60)
        # Right after a full rescan was skipped: the next comes 6 s later, when the safety rescans (every 0.5 s)
        # have proved the new stamp (two of them STAMP_TICK apart).
        # "article 150" -> "articlE 150" keeps the length and the first and last characters
        conn.cursor().execute("UPDATE [F_ART] SET [DESART]=? WHERE [CODART]=?", "articlE 150", "A150")
        edited = time.monotonic()
        _wait(lambda: _changes(store), timeout=30)
        assert time.monotonic() - edited > STAMP_TICK + 1  # found by the full rescan, after the proof
        assert _changes(store) == [("F_ART", K(CODART="A150"), "update")]
        assert watcher.stamps_trusted
    finally:
        watcher.stop()


def test_rescan_unchanged_file_keeps_every_rescan(big):  # noqa: F811 - the fixture
    conn, store, _, path = big
    cfg = FactusolConfig(
        file=path, connection=CONN, debounce_seconds=0.2, rescan_seconds=0.5, rescan_unchanged_file=True
    )
    watcher = FactusolWatcher(store, cfg).start()
    try:
        _wait(lambda: watcher.status.scans >= 1)
        time.sleep(STAMP_TICK + 1)
        assert _scans_in(watcher, 2.0) >= 2
    finally:
        watcher.stop()


def test_a_write_that_leaves_the_stamp_alone_is_found_by_the_hourly_full_scan_and_stops_the_skipping(
    big,  # noqa: F811 - the fixture
    monkeypatch,
    caplog,
):
    """Where a write does not move the modification time, a file at rest still gets a full rescan every
    AT_REST_FULL_SCAN: it finds the write, says so once, and from then on nothing is skipped."""
    import logging
    import os

    from replicator.factusol import watcher as watching

    monkeypatch.setattr(watching, "AT_REST_FULL_SCAN", 4.0)
    caplog.set_level(logging.WARNING, logger="replicator.capture.factusol")
    conn, store, _, path = big
    watcher = _watching_without_events(store, path, full_rescan_seconds=1)
    try:
        _wait(lambda: _scans_in(watcher, 2.0) == 0, timeout=60)
        before = file_stamp(path.parent, watcher.is_database_file)
        st = os.stat(path)
        conn.cursor().execute("UPDATE [F_ART] SET [DESART]=? WHERE [CODART]=?", "articlE 150", "A150")
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # as if the write had not moved the time
        assert file_stamp(path.parent, watcher.is_database_file) == before
        _wait(lambda: _changes(store), timeout=30)
        assert _changes(store) == [("F_ART", K(CODART="A150"), "update")]
        _wait(lambda: "without its modification time moving" in caplog.text)
        assert not watcher.stamps_trusted
        time.sleep(STAMP_TICK + 1)
        assert _scans_in(watcher, 2.0) >= 2  # rescans every 0.5 s again
    finally:
        watcher.stop()
