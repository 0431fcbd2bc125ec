"""Rows stamped today are read whole only when they moved (`replicator/factusol/stamped.py`): FactuSOL's FUM* dates
are days, so every row edited today is at the watermark; their prints are read instead, and a same-day re-edit is
still found, exactly (not only the changes a length or a first or last character would show)."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

import pytest

from replicator.config import FactusolConfig
from replicator.factusol import pages as paging
from replicator.factusol import stamped
from replicator.factusol.scanner import FactusolScanner
from replicator.factusol.sqlcheck import STATEMENT_LOG
from replicator.store import Store

from test_capture_factusol import CONN, K, _changes, make_file
from test_factusol_pages import fail_the_next_commit

TODAY = datetime(2026, 6, 1)


@pytest.fixture
def day(tmp_path, monkeypatch):
    """A 300-article file whose articles A0..A49 were all edited today: each scan of the day meets them again."""
    monkeypatch.setattr(paging, "PAGE_ROWS", 50)
    monkeypatch.setattr(paging, "SMALL_TABLE_CELLS", 1000)
    path = tmp_path / "0012026.sqlite"
    conn = make_file(path, articles=300)
    cur = conn.cursor()
    for i in range(50):
        cur.execute("UPDATE [F_ART] SET [FUMART]=?, [PCOART]=? WHERE [CODART]=?", TODAY, Decimal(i), f"A{i}")
    store = Store(f"sqlite:///{tmp_path / 'state.sqlite'}")
    scanner = FactusolScanner(store, FactusolConfig(file=path, connection=CONN))
    scanner.scan(full=True)
    scanner.scan(full=False)  # the first quick scan reads today's rows whole, once (and the page sums go round)
    yield cur, store, scanner
    conn.close()


def _article_reads(since: int) -> list[str]:
    """The statements that read F_ART rows whole since STATEMENT_LOG entry `since`."""
    return [r.sql for r in list(STATEMENT_LOG) if r.seq > since and r.sql.startswith("SELECT * FROM [F_ART] WHERE")]


def _last_seq() -> int:
    return STATEMENT_LOG[-1].seq if STATEMENT_LOG else 0


def test_rows_stamped_today_are_not_read_whole_again_when_nothing_moved(day):
    cur, store, scanner = day
    since = _last_seq()
    report = scanner.scan(full=False, rotation_seconds=0)
    assert report.tables["F_ART"] == "paged" and report.changes == 0
    assert _article_reads(since) == []  # their prints said they are as they were


def test_a_same_day_edit_is_found_and_only_that_row_is_read(day):
    cur, store, scanner = day
    cur.execute("UPDATE [F_ART] SET [DESART]=?, [FUMART]=? WHERE [CODART]=?", "Camiseta roja", TODAY, "A7")
    scanner.scan(full=False, rotation_seconds=0)
    since = _last_seq()
    # The same day, the same length, the same first and last character: what the page sums cannot see.
    cur.execute("UPDATE [F_ART] SET [DESART]=?, [FUMART]=? WHERE [CODART]=?", "Camiseta rosa", TODAY, "A7")
    report = scanner.scan(full=False, rotation_seconds=0)
    assert report.changes == 1
    assert _changes(store)[-1] == ("F_ART", K(CODART="A7"), "update")
    reads = _article_reads(since)
    assert len(reads) == 1 and re.search(r"\[CODART\] IN \(\?\)$", reads[0]), reads


def test_a_value_set_to_null_or_a_number_moved_is_a_moved_print(day):
    cur, store, scanner = day
    cur.execute("UPDATE [F_ART] SET [DESART]='' WHERE [CODART]=?", "A3")
    cur.execute("UPDATE [F_ART] SET [PCOART]=? WHERE [CODART]=?", Decimal("3.0001"), "A4")
    scanner.scan(full=False, rotation_seconds=0)
    cur.execute("UPDATE [F_ART] SET [DESART]=NULL WHERE [CODART]=?", "A3")  # '' -> NULL: Access's & reads both as ''
    assert scanner.scan(full=False, rotation_seconds=0).changes == 1
    assert _changes(store)[-1] == ("F_ART", K(CODART="A3"), "update")


def test_many_moved_rows_are_read_in_one_statement(day, monkeypatch):
    cur, store, scanner = day
    monkeypatch.setattr(stamped, "BY_KEY_MAX", 5)
    cur.execute("UPDATE [F_ART] SET [PCOART]=[PCOART]+1 WHERE [FUMART]=?", TODAY)
    since = _last_seq()
    assert scanner.scan(full=False, rotation_seconds=0).changes == 50
    assert _article_reads(since) == ["SELECT * FROM [F_ART] WHERE [FUMART] >= ?"]


def test_a_scan_that_fails_before_its_commit_reads_the_moved_rows_again(day, monkeypatch):
    """The prints a failed scan read must not count as seen: the next scan reads the same rows whole."""
    cur, store, scanner = day
    cur.execute("UPDATE [F_ART] SET [DESART]=?, [FUMART]=? WHERE [CODART]=?", "renamed today", TODAY, "A9")
    fail_the_next_commit(monkeypatch)
    with pytest.raises(OSError):
        scanner.scan(full=False, rotation_seconds=0)
    assert scanner.scan(full=False, rotation_seconds=0).changes == 1
    assert _changes(store)[-1] == ("F_ART", K(CODART="A9"), "update")


def test_a_column_gone_since_the_last_full_read_falls_back_to_whole_rows(day, caplog):
    """The print names the columns the last full read saw: one dropped since (a FactuSOL update) must not stop the
    scans until the next full one; the stamped rows are read whole meanwhile, and their edits found."""
    cur, store, scanner = day
    cur.execute("ALTER TABLE [F_ART] DROP COLUMN [DEEART]")
    cur.execute("UPDATE [F_ART] SET [DESART]=?, [FUMART]=? WHERE [CODART]=?", "after the update", TODAY, "A8")
    with caplog.at_level("WARNING", logger="replicator.factusol.scanner"):
        report = scanner.scan(full=False, rotation_seconds=0)
    assert any("cannot read its row prints" in r.getMessage() for r in caplog.records)
    assert ("F_ART", K(CODART="A8"), "update") in _changes(store)
    assert report.changes >= 1
    scanner.scan(full=True)  # learns the columns as they are now
    scanner.scan(full=False, rotation_seconds=0)
    cur.execute("UPDATE [F_ART] SET [DESART]=? WHERE [CODART]=?", "and again", "A8")
    since = _last_seq()
    assert scanner.scan(full=False, rotation_seconds=0).changes == 1
    assert [re.sub(r"\(.*", "", r) for r in _article_reads(since)] == ["SELECT * FROM [F_ART] WHERE [CODART] IN "]


def test_compound_keys_are_read_by_key_too(tmp_path, monkeypatch):
    """F_PCL (TIPPCL, CODPCL) is stamped by FUMPCL: a moved pedido is read by its two key columns."""
    monkeypatch.setattr(paging, "SMALL_TABLE_CELLS", 0)  # (two pedidos would be read whole, as a small table)
    path = tmp_path / "0012026.sqlite"
    conn = make_file(path)
    cur = conn.cursor()
    cur.execute("UPDATE [F_PCL] SET [FUMPCL]=? WHERE [TIPPCL]=? AND [CODPCL]=?", TODAY, "1", 1)  # (make_file's)
    cur.execute("INSERT INTO [F_PCL] ([TIPPCL],[CODPCL],[CLIPCL],[FUMPCL]) VALUES (?,?,?,?)", "1", 2, 1, TODAY)
    store = Store(f"sqlite:///{tmp_path / 'state.sqlite'}")
    scanner = FactusolScanner(store, FactusolConfig(file=path, connection=CONN))
    scanner.scan(full=True)
    scanner.scan(full=False, rotation_seconds=0)
    cur.execute("UPDATE [F_PCL] SET [CLIPCL]=? WHERE [TIPPCL]=? AND [CODPCL]=?", 2, "1", 2)
    since = _last_seq()
    report = scanner.scan(full=False, rotation_seconds=0)
    conn.close()
    assert report.tables["F_PCL"] == "paged" and report.changes == 1
    assert _changes(store)[-1] == ("F_PCL", K(CODPCL=2, TIPPCL="1"), "update")
    reads = [r.sql for r in list(STATEMENT_LOG) if r.seq > since and r.sql.startswith("SELECT * FROM [F_PCL] WHERE")]
    assert reads == ["SELECT * FROM [F_PCL] WHERE ([TIPPCL] = ? AND [CODPCL] = ?)"]


def test_the_row_prints_are_access_sql_within_its_limits():
    """Every stamped table's print list, with all its schema columns: valid Access SQL, only Access's own functions,
    no OLE object (Access cannot turn one into text), groups small enough not to be 'too complex'."""
    from replicator.capture.tables import factusol_tables
    from replicator.factusol.connection import check_access_sql
    from replicator.factusol.schema import load_schema

    for name, table in factusol_tables().items():
        if not table.ts_column:
            continue
        columns = load_schema()[name].columns
        select = stamped.print_list(table, [c.name for c in columns])
        assert select, name
        sql = f"SELECT [{table.pk[0]}], {', '.join(select)} FROM [{name}] WHERE [{table.ts_column}] >= ?"
        check_access_sql(sql)
        assert set(re.findall(r"([A-Z]+)\(", re.sub(r"\[[^\]]*\]", "", sql))) == {"IIF", "CHR"}, name
        ole = {c.name for c in columns if c.type == "Objeto OLE"}
        assert not any(f"[{c}]" in sql for c in ole), name
        assert max(group.count("IIF(") for group in select) <= stamped.PRINT_GROUP
