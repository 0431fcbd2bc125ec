"""Event scans of big FactuSOL tables by page sums (`replicator/factusol/pages.py`): edits that do not move FUM*
(a bulk price update, another program), inserts and deletes are found without reading the whole table; small tables
are read whole; an edit stamped exactly at the FUM watermark is found by the narrow path too."""

from __future__ import annotations

import time
from datetime import datetime
from decimal import Decimal

import pytest

from replicator.config import FactusolConfig
from replicator.factusol import pages as paging
from replicator.factusol.scanner import FactusolScanner
from replicator.factusol.watcher import FactusolWatcher
from replicator.store import Store

from test_capture_factusol import CONN, K, _changes, make_file


@pytest.fixture
def big(tmp_path, monkeypatch):
    # Small page and "small table" sizes, so a 300-article file has paged tables (F_ART, F_STO) and whole ones (F_CLI).
    monkeypatch.setattr(paging, "PAGE_ROWS", 50)
    monkeypatch.setattr(paging, "SMALL_TABLE_CELLS", 1000)
    path = tmp_path / "0012026.sqlite"
    conn = make_file(path, articles=300)
    # A0 was stamped later than the others: the FUM watermark is its date, so the FUM read of a scan leaves the
    # other articles out, and only the page sums can find their unstamped edits.
    conn.cursor().execute("UPDATE [F_ART] SET [FUMART]=? WHERE [CODART]=?", datetime(2026, 6, 1), "A0")
    store = Store(f"sqlite:///{tmp_path / 'state.sqlite'}")
    cfg = FactusolConfig(file=path, connection=CONN, debounce_seconds=0.2, rescan_seconds=600)
    yield conn, store, cfg, path
    conn.close()


def fail_the_next_commit(monkeypatch) -> None:
    """The scanner's next commit to the store fails (a full disk, say); the ones after it go through."""
    from replicator.factusol import scanner as scanning

    real_commit = scanning.commit_diff

    def store_fails(*args, **kwargs):
        monkeypatch.setattr(scanning, "commit_diff", real_commit)
        raise OSError("disk I/O error")

    monkeypatch.setattr(scanning, "commit_diff", store_fails)


def _quick_scanner(store, cfg) -> FactusolScanner:
    scanner = FactusolScanner(store, cfg)
    scanner.scan(full=True)  # first sight: sizes the tables, takes their page sums
    return scanner


def test_edits_that_do_not_move_fum_are_found_by_the_page_sums(big):
    conn, store, cfg, _ = big
    scanner = _quick_scanner(store, cfg)
    cur = conn.cursor()
    # A bulk price update by another program: FUMART not touched.
    cur.execute("UPDATE [F_ART] SET [PCOART]=? WHERE [CODART] IN (?, ?)", Decimal("9.25"), "A17", "A250")
    cur.execute("UPDATE [F_ART] SET [DESART]=? WHERE [CODART]=?", "renamed without a stamp", "A120")
    cur.execute("UPDATE [F_STO] SET [ACTSTO]=? WHERE [ARTSTO]=?", 77, "A42")
    cur.execute("UPDATE [F_CLI] SET [NOFCLI]=? WHERE [CODCLI]=?", "Ana Unstamped", 1)
    report = scanner.scan(full=False)
    assert report.tables["F_ART"] == "paged" and report.tables["F_STO"] == "paged"
    assert report.tables["F_CLI"] == "full"  # a small table is read whole by every scan
    assert sorted(_changes(store)) == sorted(
        [
            ("F_ART", K(CODART="A17"), "update"),
            ("F_ART", K(CODART="A250"), "update"),
            ("F_ART", K(CODART="A120"), "update"),
            ("F_STO", K(ALMSTO="GEN", ARTSTO="A42"), "update"),
            ("F_CLI", K(CODCLI=1), "update"),
        ]
    )
    assert scanner.scan(full=False).changes == 0  # and a quiet scan finds nothing


def test_inserts_and_deletes_in_a_paged_table_are_found(big):
    conn, store, cfg, _ = big
    scanner = _quick_scanner(store, cfg)
    cur = conn.cursor()
    cur.execute("DELETE FROM [F_STO] WHERE [ARTSTO]=?", "A99")
    cur.execute("INSERT INTO [F_STO] ([ARTSTO],[ALMSTO],[ACTSTO]) VALUES (?,?,?)", "A99", "SEC", 5)  # same page
    cur.execute("INSERT INTO [F_STO] ([ARTSTO],[ALMSTO],[ACTSTO]) VALUES (?,?,?)", "ZZZ", "GEN", 1)  # after the last
    cur.execute("INSERT INTO [F_ART] ([CODART],[DESART]) VALUES (?,?)", "0000", "before the first page")
    scanner.scan(full=False)
    assert sorted(_changes(store)) == sorted(
        [
            ("F_STO", K(ALMSTO="GEN", ARTSTO="A99"), "delete"),
            ("F_STO", K(ALMSTO="SEC", ARTSTO="A99"), "insert"),
            ("F_STO", K(ALMSTO="GEN", ARTSTO="ZZZ"), "insert"),
            ("F_ART", K(CODART="0000"), "insert"),
        ]
    )


def test_a_scan_that_fails_before_its_commit_leaves_its_sums_as_they_were(big, monkeypatch):
    """A scan takes the sums, reads the rows that moved, then commits; when the commit fails (the store, a lock), the
    next scan must still see those rows as moved: the sums go back to what they were."""
    conn, store, cfg, _ = big
    scanner = _quick_scanner(store, cfg)
    cur = conn.cursor()
    cur.execute("UPDATE [F_STO] SET [ACTSTO]=[ACTSTO]+7 WHERE [ARTSTO]=?", "A42")  # the quick sums see it
    cur.execute("UPDATE [F_ART] SET [DESART]=? WHERE [CODART]=?", "renamed without a stamp", "A7")  # the page sums
    fail_the_next_commit(monkeypatch)
    with pytest.raises(OSError):
        scanner.scan(full=False)
    assert _changes(store) == []
    scanner.scan(full=False)
    assert sorted(_changes(store)) == [
        ("F_ART", K(CODART="A7"), "update"),
        ("F_STO", K(ALMSTO="GEN", ARTSTO="A42"), "update"),
    ]


def test_a_stock_transfer_between_warehouses_of_one_article_is_found(big):
    """Units moved from one warehouse to another: both F_STO rows are on one page and its plain sums do not move;
    the numbers weighted by the warehouse do."""
    conn, store, cfg, _ = big
    cur = conn.cursor()
    cur.execute("INSERT INTO [F_STO] ([ARTSTO],[ALMSTO],[ACTSTO],[DISSTO]) VALUES (?,?,?,?)", "A42", "SEC", 10, 10)
    scanner = _quick_scanner(store, cfg)
    for warehouse, units in (("GEN", -5), ("SEC", 5)):
        cur.execute(
            "UPDATE [F_STO] SET [ACTSTO]=[ACTSTO]+?, [DISSTO]=[DISSTO]+? WHERE [ARTSTO]=? AND [ALMSTO]=?",
            units,
            units,
            "A42",
            warehouse,
        )
    scanner.scan(full=False)
    assert sorted(_changes(store)) == [
        ("F_STO", K(ALMSTO="GEN", ARTSTO="A42"), "update"),
        ("F_STO", K(ALMSTO="SEC", ARTSTO="A42"), "update"),
    ]


def test_the_quick_sums_drill_down_stops_once_the_moves_add_up(big, monkeypatch):
    """The pages' quick sums add up to the whole table's: once the pages found moved explain the whole table's move,
    the others are not summed.  The pages last found moved come first; every move is still found."""
    conn, store, cfg, _ = big
    scanner = _quick_scanner(store, cfg)
    pages = scanner._pages["F_STO"]
    summed = []
    real_page_sum = paging.page_sum
    monkeypatch.setattr(paging, "page_sum", lambda *a, **kw: summed.append(a[3]) or real_page_sum(*a, **kw))
    cur = conn.cursor()
    stock = "UPDATE [F_STO] SET [ACTSTO]=[ACTSTO]+? WHERE [ARTSTO]=?"
    cur.execute(stock, 3, "A99")  # the last page (codes sort as text: A99 after A290)
    scanner.scan(full=False, rotation_seconds=0)
    assert len(summed) == pages.count  # nothing found moved before: every page, in order
    summed.clear()
    cur.execute(stock, 2, "A99")  # the same page again: found first, and the drill-down stops there
    scanner.scan(full=False, rotation_seconds=0)
    assert len(summed) == 1
    summed.clear()
    cur.execute(stock, 1, "A10")  # another page
    cur.execute(stock, 1, "A99")
    scanner.scan(full=False, rotation_seconds=0)
    assert 2 <= len(summed) < pages.count
    assert sorted(k for t, k, op in _changes(store) if t == "F_STO") == sorted(
        [K(ALMSTO="GEN", ARTSTO="A99")] * 3 + [K(ALMSTO="GEN", ARTSTO="A10")]
    )


def _stock_reads(since: int) -> list[str]:
    from replicator.factusol.sqlcheck import STATEMENT_LOG

    return [r.sql for r in list(STATEMENT_LOG) if r.seq > since and r.sql.startswith("SELECT * FROM [F_STO]")]


def _last_seq() -> int:
    from replicator.factusol.sqlcheck import STATEMENT_LOG

    return STATEMENT_LOG[-1].seq if STATEMENT_LOG else 0


STOCK_EDIT = "UPDATE [F_STO] SET [ACTSTO]=[ACTSTO]+? WHERE [ARTSTO]=?"


def _page_cut_in_parts(big, monkeypatch):
    """A42's page moved once (parts of about 10 rows): (cursor, store, scanner, the statements that read it)."""
    monkeypatch.setattr(paging, "SUB_PAGE_ROWS", 10)
    conn, store, cfg, _ = big
    scanner = _quick_scanner(store, cfg)
    cur = conn.cursor()
    cur.execute(STOCK_EDIT, 1, "A42")
    since = _last_seq()
    scanner.scan(full=False, rotation_seconds=0)
    return cur, store, scanner, _stock_reads(since)


def test_a_page_that_moved_before_is_read_by_its_parts(big, monkeypatch):
    """The first move of a page reads it whole and cuts it in parts; the next moves read only the parts whose quick
    sums moved: an edit, an insert and a delete in another part of it are all found."""
    cur, store, scanner, whole = _page_cut_in_parts(big, monkeypatch)
    assert len(whole) == 1
    cur.execute(STOCK_EDIT, 1, "A42")
    since = _last_seq()
    scanner.scan(full=False, rotation_seconds=0)
    parts = _stock_reads(since)
    assert len(parts) == 1 and parts[0].startswith(whole[0]) and parts[0] != whole[0]  # the page's clause, and more
    cur.execute("DELETE FROM [F_STO] WHERE [ARTSTO]=?", "A44")
    cur.execute("INSERT INTO [F_STO] ([ARTSTO],[ALMSTO],[ACTSTO]) VALUES (?,?,?)", "A42", "SEC", 5)
    cur.execute(STOCK_EDIT, 5, "A47")
    scanner.scan(full=False, rotation_seconds=0)
    assert sorted((k, op) for t, k, op in _changes(store) if t == "F_STO") == sorted(
        [
            (K(ALMSTO="GEN", ARTSTO="A42"), "update"),
            (K(ALMSTO="GEN", ARTSTO="A42"), "update"),
            (K(ALMSTO="GEN", ARTSTO="A44"), "delete"),
            (K(ALMSTO="SEC", ARTSTO="A42"), "insert"),
            (K(ALMSTO="GEN", ARTSTO="A47"), "update"),
        ]
    )


def test_a_scan_that_fails_before_its_commit_leaves_the_parts_sums_as_they_were(big, monkeypatch):
    cur, store, scanner, _ = _page_cut_in_parts(big, monkeypatch)
    cur.execute(STOCK_EDIT, 1, "A42")
    fail_the_next_commit(monkeypatch)
    with pytest.raises(OSError):
        scanner.scan(full=False, rotation_seconds=0)
    assert scanner.scan(full=False, rotation_seconds=0).changes == 1


def test_a_key_edited_in_place_is_an_insert_and_a_delete(big):
    conn, store, cfg, _ = big
    scanner = _quick_scanner(store, cfg)
    conn.cursor().execute("UPDATE [F_STO] SET [ALMSTO]=? WHERE [ARTSTO]=?", "G2", "A150")  # same page, same count
    scanner.scan(full=False)
    assert sorted(_changes(store)) == sorted(
        [("F_STO", K(ALMSTO="GEN", ARTSTO="A150"), "delete"), ("F_STO", K(ALMSTO="G2", ARTSTO="A150"), "insert")]
    )


def test_an_event_scan_finds_numbers_at_once_and_leaves_the_rest_to_the_rotation(big):
    """The quick sums (COUNT, and the stock and price numbers of a table without FUM*) find a stock edit and a delete
    in the event scan itself; an unstamped text edit of F_ART, and a minimum stock (which no reader takes), wait for
    the page sums' rotation, taken a slice at a time (`rotate`, each slice its own commit), which ends once every
    page was checked."""
    conn, store, cfg, _ = big
    scanner = _quick_scanner(store, cfg)
    cur = conn.cursor()
    cur.execute("UPDATE [F_STO] SET [ACTSTO]=[ACTSTO] + 3 WHERE [ARTSTO]=?", "A42")
    cur.execute("DELETE FROM [F_STO] WHERE [ARTSTO]=?", "A120")
    cur.execute("UPDATE [F_ART] SET [DESART]=? WHERE [CODART]=?", "renamed without a stamp", "A7")
    cur.execute("UPDATE [F_STO] SET [MINSTO]=[MINSTO] + 5 WHERE [ARTSTO]=?", "A250")
    scanner.rearm()
    report = scanner.scan(full=False, rotation_seconds=0)
    assert report.owed
    assert sorted(_changes(store)) == [
        ("F_STO", K(ALMSTO="GEN", ARTSTO="A120"), "delete"),
        ("F_STO", K(ALMSTO="GEN", ARTSTO="A42"), "update"),
    ]
    slices, scans = 0, report.scan
    while True:
        rotated = scanner.rotate(0.000001)  # one page per slice
        slices += 1
        assert slices < 100
        if rotated.changes:
            assert rotated.scan > scans  # committed as a scan of its own
            scans = rotated.scan
        if not rotated.owed:
            break
    assert slices > 5  # (F_ART and F_STO have 6 pages each here)
    assert ("F_ART", K(CODART="A7"), "update") in _changes(store)
    assert ("F_STO", K(ALMSTO="GEN", ARTSTO="A250"), "update") in _changes(store)
    assert len(_changes(store)) == 4
    assert not scanner.rotate(0).owed  # nothing owed until the next file event
    assert not scanner.scan(full=False, rotation_seconds=0).owed


def test_a_rotation_goes_on_while_no_event_waits(big):
    conn, store, cfg, _ = big
    scanner = _quick_scanner(store, cfg)
    conn.cursor().execute("UPDATE [F_ART] SET [DESART]=? WHERE [CODART]=?", "renamed without a stamp", "A290")
    scanner.rearm()
    assert scanner.scan(full=False, rotation_seconds=0).owed and _changes(store) == []
    asked = []
    report = scanner.rotate(0, keep_going=lambda: asked.append(1) is None)
    assert not report.owed and len(asked) > 5
    assert _changes(store) == [("F_ART", K(CODART="A290"), "update")]
    scanner.rearm()
    report = scanner.rotate(0, keep_going=lambda: False)  # an event waits: stop
    assert report.owed and report.changes == 0


def test_a_rotation_that_fails_before_its_commit_leaves_its_sums_as_they_were(big, monkeypatch):
    conn, store, cfg, _ = big
    scanner = _quick_scanner(store, cfg)
    conn.cursor().execute("UPDATE [F_ART] SET [DESART]=? WHERE [CODART]=?", "renamed without a stamp", "A7")
    fail_the_next_commit(monkeypatch)
    scanner.rearm()
    with pytest.raises(OSError):
        scanner.rotate(None)
    assert _changes(store) == []
    assert scanner.rotate(None).changes == 1
    assert _changes(store) == [("F_ART", K(CODART="A7"), "update")]


def test_a_rotation_waits_for_a_scan_of_a_new_file(big, tmp_path):
    """Before a full scan paged the tables there is nothing to rotate; and once the configured file is another one
    (a new fiscal year), the rotation leaves it to the next scan, which reads every table of it."""
    conn, store, cfg, path = big
    scanner = FactusolScanner(store, cfg)
    assert not scanner.rotate(None).owed and _changes(store) == []
    scanner.scan(full=True)
    conn.cursor().execute("UPDATE [F_ART] SET [DESART]=? WHERE [CODART]=?", "renamed without a stamp", "A7")
    other = tmp_path / "copy" / path.name
    other.parent.mkdir()
    other.write_bytes(path.read_bytes())
    scanner.cfg = FactusolConfig(file=other, connection=CONN, debounce_seconds=0.2, rescan_seconds=600)
    scanner.rearm()
    report = scanner.rotate(None)
    assert report.changes == 0 and not report.owed and _changes(store) == []


def test_the_watcher_runs_the_owed_scan_without_another_file_event(big):
    conn, store, cfg, _ = big
    watcher = FactusolWatcher(store, cfg)
    watcher.start()
    try:
        deadline = time.monotonic() + 60
        while watcher.status.scans < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        cur = conn.cursor()
        # A stamped edit (found by the event scan's FUM read) and an unstamped one in the same save (found by the
        # rotation of page sums the watcher runs after it, without another file event).
        cur.execute("UPDATE [F_ART] SET [DESART]=?, [FUMART]=? WHERE [CODART]=?", "stamped", datetime(2026, 7, 1), "A3")
        cur.execute("UPDATE [F_ART] SET [DESART]=? WHERE [CODART]=?", "renamed, not stamped", "A200")
        deadline = time.monotonic() + 60
        while len(_changes(store)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        watcher.stop()
    assert sorted(_changes(store)) == [("F_ART", K(CODART="A200"), "update"), ("F_ART", K(CODART="A3"), "update")]


def test_the_watcher_reports_an_event_scans_changes_before_its_slice_of_the_rotation(big):
    """The apply starts on an event scan's commit: its slice of the page sums' rotation comes after."""
    conn, store, cfg, _ = big
    events: list[tuple] = []
    watcher = FactusolWatcher(store, cfg, on_scan=lambda report: events.append(("reported", report.changes)))
    real_rotate = watcher.scanner.rotate
    watcher.scanner.rotate = lambda *a, **kw: events.append(("rotate",)) or real_rotate(*a, **kw)
    watcher.start()
    try:
        deadline = time.monotonic() + 60
        while watcher.status.scans < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        conn.cursor().execute("UPDATE [F_STO] SET [ACTSTO]=[ACTSTO] + 3 WHERE [ARTSTO]=?", "A42")
        watcher.notify()
        deadline = time.monotonic() + 60
        while ("reported", 1) not in events and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.2)
    finally:
        watcher.stop()
    i = events.index(("reported", 1))
    assert events[i + 1] == ("rotate",)
    assert _changes(store) == [("F_STO", K(ALMSTO="GEN", ARTSTO="A42"), "update")]


def test_an_edit_stamped_exactly_at_the_watermark_is_found_by_the_narrow_path(tmp_path):
    path = tmp_path / "0012026.sqlite"
    conn = make_file(path)  # every FUMART is 2026-01-01: the watermark
    store = Store(f"sqlite:///{tmp_path / 'state.sqlite'}")
    cfg = FactusolConfig(file=path, connection=CONN)
    FactusolScanner(store, cfg).scan(full=True)
    conn.cursor().execute(
        "UPDATE [F_ART] SET [DESART]=?, [FUMART]=? WHERE [CODART]=?", "same day", datetime(2026, 1, 1), "A1"
    )
    report = FactusolScanner(store, cfg).scan(full=False)  # a fresh process: no page sums yet, the narrow path
    conn.close()
    assert report.tables["F_ART"] == "narrow"
    assert _changes(store) == [("F_ART", K(CODART="A1"), "update")]


def test_same_length_text_edits_without_a_stamp_are_found_by_the_text_fingerprint(big):
    """A text changed to another of the same length, FUM* not moved: the page sums' lengths do not move, their
    sampled characters (first, last) do; an empty or NULL text does not break the sums."""
    conn, store, cfg, _ = big
    cur = conn.cursor()
    cur.execute("UPDATE [F_ART] SET [DESART]=? WHERE [CODART]=?", None, "A5")
    cur.execute("UPDATE [F_ART] SET [DESART]=? WHERE [CODART]=?", "", "A6")
    scanner = _quick_scanner(store, cfg)
    cur.execute("UPDATE [F_ART] SET [DESART]=? WHERE [CODART]=?", "Article 17", "A17")  # the first character
    cur.execute("UPDATE [F_ART] SET [DESART]=? WHERE [CODART]=?", "article 12X", "A120")  # the last
    cur.execute("UPDATE [F_ART] SET [DESART]=? WHERE [CODART]=?", "X", "A6")  # '' -> one character
    report = scanner.scan(full=False)
    assert report.tables["F_ART"] == "paged"
    assert sorted(_changes(store)) == sorted([("F_ART", K(CODART=code), "update") for code in ("A17", "A120", "A6")])
    # A character no sample reads waits for the full rescan, as every unstamped edit did before.
    cur.execute("UPDATE [F_ART] SET [DESART]=? WHERE [CODART]=?", "artiXle 99", "A99")
    assert scanner.scan(full=False).changes == 0
    assert scanner.scan(full=True).changes == 1


def test_the_page_sums_are_access_sql_within_its_limits():
    """Every watched table's aggregate list, with all its schema columns: valid Access SQL, at most 255 fields (the
    most a query returns in Access), only functions Access has, and far under its 64,000-character statement."""
    import re

    from replicator.capture.tables import factusol_tables
    from replicator.factusol.connection import check_access_sql
    from replicator.factusol.schema import load_schema

    for name, table in factusol_tables().items():
        select = paging.aggregate_list(table, [c.name for c in load_schema()[name].columns])
        sql = f"SELECT {select} FROM [{name}] WHERE [{table.pk[0]}] >= ? AND [{table.pk[0]}] < ?"
        check_access_sql(sql)
        assert select.count(" AS [") <= 255, name
        assert len(sql) < 32_000, name
        functions = set(re.findall(r"([A-Z]+)\(", re.sub(r"\[[^\]]*\]", "", sql)))
        assert functions <= {"COUNT", "SUM", "LEN", "ASC", "RIGHT"}, (name, functions)
