"""FactuSOL capture against a real pyodbc + SQLite3-ODBC stand-in: diffs, watchdog path, rollover, locks, echoes."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pyodbc
import pytest
from hypothesis import given, strategies as st

from replicator.factusol import scanner as factusol_scanner
from replicator.factusol import watcher as factusol_watcher
from replicator.keys import row_hash
from replicator.factusol.errors import FactusolLockedError
from replicator.factusol.scanner import FactusolScanner
from replicator.factusol.watcher import FactusolWatcher
from replicator.capture.tables import factusol_tables
from replicator.config import FactusolConfig
from replicator.factusol import connection as fsconn
from replicator.factusol.schema import load_schema, table_ddl
from sqlalchemy import select as sa_select

from replicator.store import RowSnapshot, Store, dumps, loads

TABLES = ["F_CLI", "F_ART", "F_STO", "F_PCL", "F_LPC"]
CONN = "DRIVER={SQLite3};Database={file};Timeout=200"


def make_file(path: Path, articles: int = 5) -> pyodbc.Connection:
    c = pyodbc.connect(f"DRIVER={{SQLite3}};Database={path}", autocommit=True)
    cur = c.cursor()
    for t in TABLES:
        cur.execute(table_ddl(load_schema()[t]))
    for i in range(articles):
        cur.execute(
            "INSERT INTO [F_ART] ([CODART],[DESART],[PCOART],[FUMART]) VALUES (?,?,?,?)",
            f"A{i}",
            f"article {i}",
            Decimal("1.5"),
            datetime(2026, 1, 1),
        )
        cur.execute("INSERT INTO [F_STO] ([ARTSTO],[ALMSTO],[ACTSTO]) VALUES (?,?,?)", f"A{i}", "GEN", 3)
    cur.execute("INSERT INTO [F_CLI] ([CODCLI],[NOFCLI],[FUMCLI]) VALUES (?,?,?)", 1, "Ana", datetime(2026, 1, 1))
    cur.execute("INSERT INTO [F_PCL] ([TIPPCL],[CODPCL],[CLIPCL]) VALUES (?,?,?)", "1", 1, 1)
    cur.execute("INSERT INTO [F_LPC] ([TIPLPC],[CODLPC],[POSLPC],[ARTLPC]) VALUES (?,?,?,?)", "1", 1, 1, "A1")
    return c


@pytest.fixture
def fs(tmp_path):
    path = tmp_path / "0012026.sqlite"
    conn = make_file(path)
    store = Store(f"sqlite:///{tmp_path / 'state.sqlite'}")
    cfg = FactusolConfig(file=path, connection=CONN, debounce_seconds=0.2, rescan_seconds=60)
    yield conn, store, cfg, path
    conn.close()


def _changes(store, **kw):
    return [(c.source_table, c.row_key, c.op) for c in store.changes(side="factusol", **kw)]


def K(**pk) -> str:
    return dumps(pk)


def test_first_scan_is_a_silent_baseline_then_diffs_carry_images(fs):
    conn, store, cfg, _ = fs
    scanner = FactusolScanner(store, cfg)
    first = scanner.scan()
    assert first.changes == 0 and first.tables["F_ART"] == "baseline"
    assert len(store.snapshot_hashes("factusol", "F_ART")) == 5
    cur = conn.cursor()
    cur.execute("UPDATE [F_ART] SET [DESART]=?, [FUMART]=? WHERE [CODART]=?", "renamed", datetime(2026, 2, 1), "A1")
    cur.execute("DELETE FROM [F_STO] WHERE [ARTSTO]=?", "A2")
    cur.execute("INSERT INTO [F_STO] ([ARTSTO],[ALMSTO],[ACTSTO]) VALUES (?,?,?)", "A9", "GEN", Decimal("7.25"))
    report = scanner.scan()
    assert report.counts == {"insert": 1, "update": 1, "delete": 1}
    by_op = {c.op: c for c in store.changes()}
    upd = by_op["update"]
    assert (upd.entity, loads(upd.row_key)) == ("product", {"CODART": "A1"})
    assert loads(upd.before)["DESART"] == "article 1" and loads(upd.after)["DESART"] == "renamed"
    assert loads(by_op["delete"].before)["ARTSTO"] == "A2" and by_op["delete"].after is None
    assert Decimal(loads(by_op["insert"].after)["ACTSTO"]) == Decimal("7.25") and by_op["insert"].before is None
    assert {c.position for c in store.changes()} == {f"scan:{report.scan}"}  # one scan = one position/txn
    assert len({c.txn for c in store.changes()}) == 1
    assert scanner.scan().changes == 0  # nothing new: nothing logged twice
    cp = store.checkpoint("factusol.scan")
    assert cp["file"].endswith("0012026.sqlite") and cp["scan"] == 3


def _stored_images(store, table):
    t = RowSnapshot.__table__
    with store.engine.connect() as c:
        query = sa_select(t.c.row_key, t.c.image).where(t.c.side == "factusol", t.c.source_table == table)
        return dict(c.execute(query).all())


def test_baseline_keeps_compact_images_and_the_first_change_gets_the_full_before_image(fs):
    conn, store, cfg, _ = fs
    scanner = FactusolScanner(store, cfg)
    scanner.scan()
    images = _stored_images(store, "F_ART")
    # The baseline stores the text it hashed (canonical values), not a JSON image per row.
    assert len(images) == 5 and all(i.startswith("~") for i in images.values())
    assert "'article 1'" in images[K(CODART="A1")]
    cur = conn.cursor()
    cur.execute("UPDATE [F_ART] SET [DESART]=? WHERE [CODART]=?", "renamed", "A1")
    cur.execute("DELETE FROM [F_ART] WHERE [CODART]=?", "A2")
    report = FactusolScanner(store, cfg).scan()  # a cold scanner: the before-images come from the store
    assert report.counts == {"insert": 0, "update": 1, "delete": 1}
    upd, dele = (next(c for c in store.changes() if c.op == op) for op in ("update", "delete"))
    before, after = loads(upd.before), loads(upd.after)
    # Every column reads back in the JSON image's form (Moneda "1.5000", dates ISO, NULLs), only DESART differs.
    assert before["DESART"] == "article 1" and after["DESART"] == "renamed"
    assert {k: v for k, v in before.items() if k != "DESART"} == {k: v for k, v in after.items() if k != "DESART"}
    assert before["PCOART"] == "1.5000" and before["FUMART"] == "2026-01-01T00:00:00"
    assert loads(dele.before)["CODART"] == "A2" and loads(dele.before)["PCOART"] == "1.5000"
    # From the first change on, the snapshot keeps a JSON image again.
    assert loads(_stored_images(store, "F_ART")[K(CODART="A1")])["DESART"] == "renamed"


def test_before_image_not_kept_when_the_columns_changed_since_the_baseline(fs):
    conn, store, cfg, _ = fs
    FactusolScanner(store, cfg).scan()
    cur = conn.cursor()
    # A FactuSOL upgrade adds a column: every row's image (and hash) changes, and the baseline's compact images
    # were made with other columns, so they cannot be read back as before-images.
    cur.execute("ALTER TABLE [F_STO] ADD COLUMN [NEWSTO] INTEGER")
    cur.execute("DELETE FROM [F_STO] WHERE [ARTSTO]=?", "A4")
    report = FactusolScanner(store, cfg).scan()
    assert report.counts == {"insert": 0, "update": 4, "delete": 1}
    changes = [c for c in store.changes() if c.source_table == "F_STO"]
    assert all(c.before is None for c in changes) and all(c.after is not None for c in changes if c.op == "update")
    # The TUI says the before-image was not kept instead of marking every field as changed.
    from rich.console import Console
    from tui.format import diff_table

    console = Console(width=100, record=True)
    for change in changes:
        console.print(diff_table(loads(change.before), loads(change.after), before_kept=False))
    text = console.export_text()
    assert "not kept" in text and "before-image not kept" in text and "* " not in text
    # The next change of such a row has a before-image again.
    cur.execute("UPDATE [F_STO] SET [ACTSTO]=? WHERE [ARTSTO]=?", 11, "A1")
    FactusolScanner(store, cfg).scan()
    last = store.changes()[-1]
    assert Decimal(loads(last.before)["ACTSTO"]) == 3 and Decimal(loads(last.after)["ACTSTO"]) == 11


def test_crash_mid_baseline_redoes_it(fs, monkeypatch):
    conn, store, cfg, _ = fs
    monkeypatch.setattr(factusol_scanner, "BASELINE_CHUNK", 2)
    monkeypatch.setattr(factusol_scanner, "BATCH", 2)
    real = store.record_capture
    calls = []

    def crash_at_the_checkpoint(rows, checkpoint=None, snapshots=(), **kw):
        calls.append(checkpoint)
        if checkpoint is not None:
            raise RuntimeError("killed before the final commit")
        return real(rows, checkpoint, snapshots, **kw)

    monkeypatch.setattr(store, "record_capture", crash_at_the_checkpoint)
    with pytest.raises(RuntimeError):
        FactusolScanner(store, cfg).scan()
    assert calls.count(None) >= 2  # baseline chunks were committed without the checkpoint ...
    assert store.checkpoint("factusol.scan") is None  # ... but nothing counts as baselined
    partial = store.snapshot_hashes("factusol", "F_ART")
    assert 0 < len(partial) <= 5
    monkeypatch.setattr(store, "record_capture", real)
    # Before the restart, a row the crashed baseline already stored changes: the redone baseline takes the new
    # image silently (a baseline emits nothing), and later diffs are against it.
    conn.cursor().execute("UPDATE [F_ART] SET [DESART]=? WHERE [CODART]=?", "changed during the crash", "A0")
    report = FactusolScanner(store, cfg).scan()
    assert report.tables["F_ART"] == "baseline" and report.changes == 0 and store.changes() == []
    assert len(store.snapshot_hashes("factusol", "F_ART")) == 5
    assert "F_ART" in store.checkpoint("factusol.scan")["baselined"]
    conn.cursor().execute("UPDATE [F_ART] SET [DESART]=? WHERE [CODART]=?", "after", "A0")
    FactusolScanner(store, cfg).scan()
    change = store.changes()[-1]
    assert loads(change.before)["DESART"] == "changed during the crash" and loads(change.after)["DESART"] == "after"


def test_every_statement_sent_is_access_sql(fs):
    conn, store, cfg, _ = fs
    seen = []
    fsconn.STATEMENT_HOOKS.append(seen.append)
    try:
        scanner = FactusolScanner(store, cfg)
        scanner.scan()
        conn.cursor().execute("INSERT INTO [F_ART] ([CODART],[FUMART]) VALUES (?,?)", "OLD", datetime(2020, 1, 1))
        scanner.scan(full=False)
    finally:
        fsconn.STATEMENT_HOOKS.remove(seen.append)
    assert seen and all(rec.sent for rec in seen)
    for rec in seen:
        fsconn.check_access_sql(rec.sql)
        assert "LIMIT" not in rec.sql.upper() and "#" not in rec.sql


def test_narrow_scan_uses_fum_but_full_scan_still_catches_unbumped_edits(fs):
    conn, store, cfg, _ = fs
    scanner = FactusolScanner(store, cfg, paging=False)  # (page sums: tests/test_factusol_pages.py)
    scanner.scan()
    cur = conn.cursor()
    cur.execute("UPDATE [F_ART] SET [DESART]=?, [FUMART]=? WHERE [CODART]=?", "bumped", datetime(2026, 3, 1), "A0")
    cur.execute("DELETE FROM [F_ART] WHERE [CODART]=?", "A4")
    cur.execute("INSERT INTO [F_ART] ([CODART],[FUMART]) VALUES (?,?)", "OLDFUM", datetime(2019, 1, 1))
    narrow = scanner.scan(full=False)
    assert narrow.tables["F_ART"] == "narrow"
    # The watermark is now 2026-03-01; an edit that leaves FUMART at 2026-01-01 is invisible to the narrow path.
    cur.execute("UPDATE [F_ART] SET [DESART]=? WHERE [CODART]=?", "not bumped", "A3")
    assert scanner.scan(full=False).changes == 0
    assert set(_changes(store)) == {
        ("F_ART", K(CODART="A0"), "update"),
        ("F_ART", K(CODART="A4"), "delete"),
        ("F_ART", K(CODART="OLDFUM"), "insert"),
    }
    full = scanner.scan(full=True)  # the safety rescan
    assert full.counts == {"insert": 0, "update": 1, "delete": 0}
    assert _changes(store)[-1] == ("F_ART", K(CODART="A3"), "update")


def test_echo_of_our_own_write_is_not_logged_but_the_next_human_edit_is(fs):
    conn, store, cfg, _ = fs
    scanner = FactusolScanner(store, cfg)
    scanner.scan()
    cur = conn.cursor()
    # The apply layer writes A1's stock and records the hash of the image it wrote.
    cur.execute("UPDATE [F_STO] SET [ACTSTO]=? WHERE [ARTSTO]=?", Decimal("10"), "A1")
    written = fsconn.FactusolConnection(CONN.replace("{file}", str(cfg.file))).query(
        "SELECT * FROM [F_STO] WHERE [ARTSTO] = ?", ["A1"]
    )[0]
    store.record_applied("factusol", "stock", "F_STO", '{"ALMSTO":"GEN","ARTSTO":"A1"}', row_hash(written), "update")
    assert _stored_images(store, "F_STO")['{"ALMSTO":"GEN","ARTSTO":"A1"}'].startswith("~")  # a baseline snapshot
    report = scanner.scan()
    assert report.changes == 0 and report.echoes == 1
    # The echo's snapshot is the compact image of what we wrote (its after-image was never built) ...
    kept = store.snapshot_image("factusol", "F_STO", '{"ALMSTO":"GEN","ARTSTO":"A1"}')
    assert isinstance(kept, str) and kept.startswith("~") and "10" in kept
    cur.execute("UPDATE [F_STO] SET [ACTSTO]=? WHERE [ARTSTO]=?", Decimal("9"), "A1")  # a person, right after us
    report = scanner.scan()
    assert report.changes == 1
    change = store.changes()[-1]
    # ... and it still gives the next change its full before-image.
    assert Decimal(loads(change.before)["ACTSTO"]) == 10 and Decimal(loads(change.after)["ACTSTO"]) == 9
    assert set(loads(change.before)) == set(loads(change.after))


def test_watchdog_event_triggers_a_debounced_scan(fs):
    conn, store, cfg, _ = fs
    scans = []
    watcher = FactusolWatcher(store, cfg, on_scan=scans.append).start()
    try:
        _wait(lambda: watcher.status.scans >= 1)  # the initial full scan (baseline)
        assert watcher.status.state == "idle"
        cur = conn.cursor()
        for i in range(5):  # a burst of edits: debounced into few scans
            cur.execute("UPDATE [F_STO] SET [ACTSTO]=? WHERE [ARTSTO]=?", 100 + i, "A0")
        cur.execute("UPDATE [F_CLI] SET [NOFCLI]=?, [FUMCLI]=? WHERE [CODCLI]=?", "Ana María", datetime(2026, 4, 1), 1)
        _wait(lambda: len(store.changes()) >= 2)
    finally:
        watcher.stop()
    got = _changes(store)
    assert ("F_CLI", K(CODCLI=1), "update") in got
    stock = [c for c in store.changes() if c.source_table == "F_STO"]
    assert Decimal(loads(stock[-1].after)["ACTSTO"]) == 104
    assert all(not r.full for r in scans[1:])  # event scans, not the safety rescan (60 s)
    assert watcher.status.state == "stopped" and watcher.status.file.endswith("0012026.sqlite")


@pytest.mark.parametrize("journal", ["delete", "wal"])
@pytest.mark.parametrize("located_by", ["file", "data_dir"])
def test_the_watcher_does_not_rescan_after_its_own_reads(tmp_path, journal, located_by):
    # A connection's own file events (open and close, the -wal/-shm files a WAL reader creates and deletes, a lock
    # file) are not data: the watcher must sleep until someone writes.  It used to rescan after each of its own scans.
    path = tmp_path / "FS" / "0012026.sqlite"
    path.parent.mkdir()
    make_file(path).close()  # nobody else holds the file open: our scan's connection is the first and the last
    with sqlite3.connect(path) as c:
        c.execute(f"PRAGMA journal_mode={journal}")
    store = Store(f"sqlite:///{tmp_path / 'state.sqlite'}")
    located = {"file": path} if located_by == "file" else {"data_dir": path.parent, "company": "001"}
    cfg = FactusolConfig(**located, connection=CONN, debounce_seconds=0.2, rescan_seconds=60)
    (path.parent / "0012026.laccdb").write_text("lock")  # a lock file appearing and changing is not data either
    watcher = FactusolWatcher(store, cfg).start()
    try:
        _wait(lambda: watcher.status.scans >= 1)
        (path.parent / "0012026.laccdb").write_text("lock, another user")
        time.sleep(2.0)  # ten debounce periods
        assert watcher.status.scans == 1
        writer = sqlite3.connect(path, isolation_level=None)
        writer.execute("UPDATE F_ART SET DESART = 'edited' WHERE CODART = 'A1'")
        writer.close()
        _wait(lambda: watcher.status.changes == 1)  # counted after the scan's commit, with its scan
        scans = watcher.status.scans
        time.sleep(2.0)
        assert watcher.status.scans == scans  # and no loop after that scan either
    finally:
        watcher.stop()
    assert _changes(store) == [("F_ART", K(CODART="A1"), "update")]


def test_writes_that_change_no_watched_table_space_the_event_scans_out(fs, monkeypatch):
    # Something that writes to the file after each scan without changing a watched table (here: a byte rewritten
    # as it was) would make every scan bring on the next.  After a few empty event scans they are spaced out; a
    # real change is still captured, and resets the spacing.
    monkeypatch.setattr(factusol_watcher, "EVENT_SCAN_GAP_MAX", 1.6)
    conn, store, cfg, path = fs

    def rewrite_a_byte(_report) -> None:
        with open(path, "r+b") as f:
            f.seek(100)
            byte = f.read(1)
            f.seek(100)
            f.write(byte)

    watcher = FactusolWatcher(store, cfg, on_scan=rewrite_a_byte).start()
    try:
        time.sleep(6.0)  # unspaced, a scan every debounce (0.2 s) plus its own time: 15 or more
        scans = watcher.status.scans
        assert 4 <= scans <= 9  # 1 baseline, 3 at once, then 0.5, 1, 1.6, 1.6 ... s apart
        conn.cursor().execute("UPDATE [F_ART] SET [DESART]=? WHERE [CODART]=?", "edited", "A1")
        _wait(lambda: len(store.changes()) == 1, timeout=5)
    finally:
        watcher.stop()
    assert factusol_watcher.event_scan_gap(0, 0.2) == 0 and factusol_watcher.event_scan_gap(3, 0.2) == 0.5
    assert _changes(store) == [("F_ART", K(CODART="A1"), "update")]


class _NoFileEvents(FactusolWatcher):
    """A watcher whose file events never arrive, as on a network share: only its timers make it scan."""

    def _start_observer(self) -> None:
        pass


def test_without_file_events_safety_rescans_are_quick_and_a_full_one_comes_in_time(fs):
    # The safety rescan takes the quick path (small tables read whole, big ones by page sums, with FUM-dated edits
    # read directly); a full rescan still comes every full_rescan_seconds.
    conn, store, _cfg, path = fs
    # A0 was edited later than the others: the FUM watermark is its date, and A1 lies below it
    conn.cursor().execute("UPDATE [F_ART] SET [FUMART]=? WHERE [CODART]=?", datetime(2026, 3, 1), "A0")
    cfg = FactusolConfig(file=path, connection=CONN, debounce_seconds=0.2, rescan_seconds=0.4, full_rescan_seconds=3.0)
    scans: list[tuple[float, bool, int]] = []
    started = time.monotonic()
    watcher = _NoFileEvents(
        store, cfg, on_scan=lambda r: scans.append((time.monotonic() - started, r.full, r.changes))
    ).start()
    try:
        _wait(lambda: len(scans) >= 2)
        cur = conn.cursor()
        cur.execute("UPDATE [F_ART] SET [DESART]=? WHERE [CODART]=?", "edited, FUM not moved", "A1")
        cur.execute("DELETE FROM [F_STO] WHERE [ARTSTO]=?", "A2")  # a table without FUM: read in full every time
        _wait(lambda: ("F_STO", K(ALMSTO="GEN", ARTSTO="A2"), "delete") in _changes(store))
        # F_ART is small here: the safety rescan reads it whole, so the unstamped edit needs no full rescan
        _wait(lambda: ("F_ART", K(CODART="A1"), "update") in _changes(store), timeout=6)
        _wait(lambda: sum(1 for _, full, _ in scans if full) >= 2, timeout=10)
    finally:
        watcher.stop()
    fulls = [at for at, full, _ in scans if full]
    assert scans[0][1] and len(fulls) >= 2 and fulls[1] >= 3.0  # the first pass, then one after full_rescan_seconds
    assert sum(1 for _, full, _ in scans if not full) >= 3  # quick safety rescans in between


def test_locked_file_is_retried_and_nothing_is_lost(fs):
    conn, store, cfg, path = fs
    watcher = FactusolWatcher(store, cfg, max_backoff=0.5).start()
    try:
        _wait(lambda: watcher.status.scans >= 1)
        locker = sqlite3.connect(path, timeout=0, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")
        locker.execute("UPDATE F_ART SET DESART = 'edited under lock' WHERE CODART = 'A2'")
        locker.execute("DELETE FROM F_STO WHERE ARTSTO = 'A3'")
        watcher.notify(str(path))
        _wait(lambda: watcher.status.state == "locked")
        assert "locked" in watcher.status.last_error.lower()
        assert store.changes() == []
        locker.execute("COMMIT")
        locker.close()
        watcher.notify(str(path))
        _wait(lambda: len(store.changes()) >= 2 and watcher.status.state == "idle")
    finally:
        watcher.stop()
    assert set(_changes(store)) == {
        ("F_ART", K(CODART="A2"), "update"),
        ("F_STO", K(ALMSTO="GEN", ARTSTO="A3"), "delete"),
    }


def test_scanner_raises_locked_while_exclusive_lock_is_held(fs):
    _, store, cfg, path = fs
    scanner = FactusolScanner(store, cfg)
    scanner.scan()
    locker = sqlite3.connect(path, timeout=0, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(FactusolLockedError):
            scanner.scan()
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert scanner.scan().changes == 0


def test_fiscal_year_rollover_rebaselines_masters_and_keeps_documents_apart(tmp_path):
    old = make_file(tmp_path / "0012026.sqlite")
    store = Store(f"sqlite:///{tmp_path / 'state.sqlite'}")
    cfg = FactusolConfig(data_dir=tmp_path, company="001", connection=CONN)
    scanner = FactusolScanner(store, cfg)
    assert scanner.scan().file.endswith("0012026.sqlite")
    # FactuSOL opens 2027: masters copied (one article priced differently, one customer missing), no documents.
    new = make_file(tmp_path / "0012027.sqlite")
    cur = new.cursor()
    cur.execute("UPDATE [F_ART] SET [PCOART]=? WHERE [CODART]=?", Decimal("2.75"), "A3")
    cur.execute("DELETE FROM [F_LPC]")
    cur.execute("DELETE FROM [F_PCL]")
    cur.execute("INSERT INTO [F_PCL] ([TIPPCL],[CODPCL],[CLIPCL]) VALUES (?,?,?)", "1", 1, 1)  # numbering restarts
    report = scanner.scan()
    assert report.rollover and report.file.endswith("0012027.sqlite")
    got = _changes(store)
    # Only real differences: the repriced article, and this year's first order.  No mass inserts/deletes.
    assert sorted(got, key=str) == sorted(
        [("F_ART", K(CODART="A3"), "update"), ("F_PCL", K(CODPCL=1, TIPPCL="1"), "insert")], key=str
    )
    cp = store.checkpoint("factusol.scan")
    assert cp["file"].endswith("0012027.sqlite") and cp["previous_file"].endswith("0012026.sqlite")
    assert set(store.snapshot_hashes("factusol", "F_LPC")) == set()  # last year's lines left with last year
    assert scanner.scan().changes == 0
    old.close()
    new.close()


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=4, allow_nan=False))
def test_row_hash_is_stable_over_driver_types(value):
    as_float = float(value)
    if Decimal(repr(as_float)) != value.normalize():
        as_float = None  # not exactly representable as float: only Decimal and text forms are compared
    base = row_hash({"A": value, "B": "x", "D": datetime(2026, 1, 2)})
    assert base == row_hash({"D": datetime(2026, 1, 2), "B": "x", "A": value.quantize(Decimal("0.0001"))})
    assert base == row_hash({"B": "x", "A": fsconn.to_decimal(str(value)), "D": datetime(2026, 1, 2, 0, 0)})
    if as_float is not None:
        assert base == row_hash({"B": "x", "A": as_float, "D": datetime(2026, 1, 2)})
    assert base != row_hash({"A": value + 1, "B": "x", "D": datetime(2026, 1, 2)})


def test_watched_tables_cover_the_issue_list():
    t = factusol_tables()
    assert {n for n, w in t.items() if w.ts_column} == {"F_ART", "F_CLI", "F_PCL", "F_FAC"}
    assert t["F_STO"].pk == ("ARTSTO", "ALMSTO") and t["F_STO"].entity == "stock"
    for name, table in t.items():
        assert tuple(load_schema()[name].pk) == table.pk


def _wait(cond, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_two_scans_of_different_tables_at_once_both_keep_their_checkpoint(fs, monkeypatch):
    """The first run's first sight in two parts: the child process scans F_CLI while this one scans the articles.
    Each scan rewrites the one FactuSOL checkpoint; the last to commit must keep what the other recorded (its tables
    baselined, their FUM watermarks), or a table would later be baselined again and an edit made meanwhile lost."""
    _, store, cfg, _ = fs
    first, second = FactusolScanner(store, cfg), FactusolScanner(store, cfg)
    paused, go_on = threading.Event(), threading.Event()
    real = FactusolScanner._present_tables

    def present(self, conn):  # the first scan has read the checkpoint; it waits here while the other one runs
        if self is first:
            paused.set()
            assert go_on.wait(20)
        return real(self, conn)

    monkeypatch.setattr(FactusolScanner, "_present_tables", present)
    done: list = []
    worker = threading.Thread(target=lambda: done.append(first.scan(only=["F_CLI"])))
    worker.start()
    assert paused.wait(20)
    second.scan(only=["F_ART", "F_STO"])
    go_on.set()
    worker.join(30)
    assert done
    cp = store.checkpoint("factusol.scan")
    assert {"F_CLI", "F_ART", "F_STO"} <= set(cp["baselined"])
    assert {"F_CLI", "F_ART"} <= set(cp["fum"])  # the tables with a FUM column keep their watermark
    # and the next scan diffs all three (nothing is baselined again): an edit made now is a change
    with sqlite3.connect(cfg.file) as db:
        db.execute("UPDATE F_CLI SET NOFCLI = 'Ana María' WHERE CODCLI = 1")
        db.execute("UPDATE F_ART SET DESART = 'cambiado' WHERE CODART = 'A1'")
    FactusolScanner(store, cfg).scan()
    assert {("F_CLI", "update"), ("F_ART", "update")} <= {(t, op) for t, _, op in _changes(store)}


def test_a_lock_without_a_timeout_in_the_string_is_reported_once_when_it_starts_and_once_when_it_ends(fs, caplog):
    """The connection string gives no Timeout: the connection sets one, so the scan fails as locked (status
    `locked since ...`) instead of waiting for ever while the status says idle."""
    conn, store, cfg, path = fs
    cfg.connection = "DRIVER={SQLite3};Database={file}"
    caplog.set_level("DEBUG", logger="replicator.capture.factusol")
    watcher = FactusolWatcher(store, cfg, max_backoff=0.3).start()
    try:
        _wait(lambda: watcher.status.scans >= 1)
        locker = sqlite3.connect(path, timeout=0, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")
        locker.execute("UPDATE F_ART SET DESART = 'edited under lock' WHERE CODART = 'A2'")
        watcher.notify(str(path))
        _wait(lambda: watcher.status.state == "locked", timeout=15)
        assert watcher.status.locked_since is not None
        _wait(lambda: sum("still locked" in r.getMessage() for r in caplog.records) >= 1, timeout=15)
        locker.execute("COMMIT")
        locker.close()
        watcher.notify(str(path))
        _wait(lambda: watcher.status.state == "idle" and watcher.status.locked_since is None, timeout=15)
    finally:
        watcher.stop()
    said = [
        r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and "FactuSOL file" in r.getMessage()
    ]
    assert len([m for m in said if m.startswith("FactuSOL file locked since")]) == 1, said
    assert len([m for m in said if "unlocked after" in m]) == 1, said
    assert ("F_ART", K(CODART="A2"), "update") in _changes(store)


def test_a_file_restored_from_a_backup_stops_the_apply_until_accepted(fs, tmp_path):
    """A row whose FUM* date goes back (FactuSOL only moves it forward) means the file was restored: nothing of
    the scan is kept, applying stops with the command to run; accepting re-baselines without sending a change."""
    from replicator.factusol.errors import FactusolRestoredError
    from replicator.halt import HALT, accept, halted

    conn, store, cfg, path = fs
    scanner = FactusolScanner(store, cfg)
    scanner.scan()
    conn.cursor().execute(
        "UPDATE [F_CLI] SET [NOFCLI]=?, [FUMCLI]=? WHERE [CODCLI]=?", "Ana (backup)", datetime(2025, 12, 1), 1
    )
    with pytest.raises(FactusolRestoredError, match="went back in time") as info:
        scanner.scan()
    assert "FUMCLI 2026-01-01 -> 2025-12-01" in str(info.value)
    stopped = halted(store)
    assert stopped["cause"] == "factusol_restored" and "accept-baseline" in stopped["command"]
    assert store.changes() == []
    with pytest.raises(FactusolRestoredError):  # still stopped, still nothing stored
        FactusolScanner(store, cfg).scan()
    assert accept(store)["cause"] == "factusol_restored" and not halted(store)
    report = FactusolScanner(store, cfg).scan()
    assert report.changes == 0 and store.changes() == []  # the restored file is the new baseline
    conn.cursor().execute(
        "UPDATE [F_CLI] SET [NOFCLI]=?, [FUMCLI]=? WHERE [CODCLI]=?", "Ana again", datetime(2025, 12, 2), 1
    )
    assert FactusolScanner(store, cfg).scan().changes == 1  # later edits flow again
    assert not store.checkpoint(HALT)


def test_the_engine_applies_nothing_while_stopped(fs, caplog):
    from replicator.engine import Engine
    from replicator.halt import halt
    from replicator.sync.base import SyncContext

    conn, store, cfg, path = fs
    FactusolScanner(store, cfg).scan()
    conn.cursor().execute("UPDATE [F_ART] SET [DESART]=? WHERE [CODART]=?", "edited", "A1")
    FactusolScanner(store, cfg).scan()
    assert len(store.changes(status="pending")) == 1
    halt(store, "factusol_restored", "a test stop")
    engine = Engine(SyncContext(config=None, store=store, rules=None, factusol=None, shop=None), {})
    with caplog.at_level(logging.ERROR):
        report = engine.apply_pending()
        engine.apply_pending()
    assert report.changes == 0 and len(store.changes(status="pending")) == 1
    assert sum("applying is stopped: a test stop" in r.getMessage() for r in caplog.records) == 1


def test_a_failed_scan_is_one_sentence_without_class_names_or_traceback(tmp_path, caplog):
    """A file that is no FactuSOL file (none of the watched tables): the status and the log say what went wrong, as
    a sentence, and the watcher keeps trying."""
    path = tmp_path / "0012026.sqlite"
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY)")
    other.close()
    store = Store(f"sqlite:///{tmp_path / 'state.sqlite'}")
    watcher = FactusolWatcher(store, FactusolConfig(file=path, connection=CONN))
    with caplog.at_level(logging.ERROR, logger="replicator.capture.factusol"):
        watcher.start()
        try:
            _wait(lambda: watcher.status.state == "error", timeout=30)
        finally:
            watcher.stop()
    failed = [r.getMessage() for r in caplog.records if "FactuSOL scan failed" in r.getMessage()]
    assert failed and failed[0] == f"FactuSOL scan failed: {watcher.status.last_error}; capture tries again in 0.5 s"
    assert "F_" in watcher.status.last_error and "Error" not in watcher.status.last_error
    assert all(r.exc_info is None for r in caplog.records)
