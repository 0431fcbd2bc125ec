"""FactusolConnection through the real SQLite3 ODBC driver: types, transactions, streaming, locks, year files."""

import sqlite3
import threading
from datetime import datetime
from decimal import Decimal

import pytest

from replicator.factusol import connection as fc
from replicator.factusol.connection import (
    FactusolConnection,
    FactusolLockedError,
    connection_string_for,
    open_factusol,
    translate_for_sqlite,
)
from replicator.factusol.years import resolve_year_file
from replicator.sandbox.access_sql import *  # noqa: F401,F403


def test_moneda_is_decimal_and_dates_are_datetime(fs_conn):
    row = fs_conn.query_one(
        "SELECT [ARTSTO], [ACTSTO], [DISSTO] FROM [F_STO] WHERE [ALMSTO] = ? ORDER BY [ARTSTO]", ["GEN"]
    )
    assert isinstance(row["ACTSTO"], Decimal) and row["ACTSTO"] == row["ACTSTO"].quantize(Decimal("0.0001"))
    cli = fs_conn.query_one("SELECT [FALCLI], [FUMCLI], [NOFCLI], [TARCLI] FROM [F_CLI] WHERE [CODCLI] = ?", [2])
    assert isinstance(cli["FALCLI"], datetime) and isinstance(cli["NOFCLI"], str) and isinstance(cli["TARCLI"], int)


def test_decimal_and_datetime_roundtrip_as_parameters(fs_conn):
    when = datetime(2025, 3, 4, 5, 6, 7)
    fs_conn.execute(
        "UPDATE [F_STO] SET [ACTSTO] = ?, [DISSTO] = ? WHERE [ARTSTO] = ? AND [ALMSTO] = ?",
        [Decimal("12.3456"), Decimal("-0.1"), "ACE000048", "GEN"],
    )
    fs_conn.execute("UPDATE [F_CLI] SET [FUMCLI] = ? WHERE [CODCLI] = ?", [when, 2])
    row = fs_conn.query_one(
        "SELECT [ACTSTO], [DISSTO] FROM [F_STO] WHERE [ARTSTO] = ? AND [ALMSTO] = ?", ["ACE000048", "GEN"]
    )
    assert row == {"ACTSTO": Decimal("12.3456"), "DISSTO": Decimal("-0.1000")}
    assert fs_conn.scalar("SELECT [FUMCLI] FROM [F_CLI] WHERE [CODCLI] = ?", [2]) == when


def test_transaction_commits_and_rolls_back(fs_conn):
    with fs_conn.transaction():
        fs_conn.execute("UPDATE [F_ALM] SET [NOMALM] = ? WHERE [CODALM] = ?", ["Central", "GEN"])
    assert fs_conn.scalar("SELECT [NOMALM] FROM [F_ALM] WHERE [CODALM] = ?", ["GEN"]) == "Central"
    with pytest.raises(RuntimeError):
        with fs_conn.transaction():
            fs_conn.execute("UPDATE [F_ALM] SET [NOMALM] = ? WHERE [CODALM] = ?", ["Perdido", "GEN"])
            with fs_conn.transaction():  # nested joins the outer transaction
                fs_conn.execute("DELETE FROM [F_ALM] WHERE [CODALM] = ?", ["AL2"])
            raise RuntimeError("boom")
    assert fs_conn.scalar("SELECT [NOMALM] FROM [F_ALM] WHERE [CODALM] = ?", ["GEN"]) == "Central"
    assert fs_conn.scalar("SELECT COUNT(*) AS [N] FROM [F_ALM]") == 2


def test_iter_rows_streams_everything_and_top(fs_conn):
    rows = list(fs_conn.iter_rows("SELECT [CODART] FROM [F_ART] ORDER BY [CODART]", batch=64))
    assert len(rows) == 1000 and rows == sorted(rows, key=lambda r: r["CODART"])
    top = fs_conn.query("SELECT TOP 3 [CODART] FROM [F_ART] ORDER BY [CODART]")
    assert top == rows[:3]


def test_executemany(fs_conn):
    fs_conn.executemany(
        "INSERT INTO [F_CE2] ([CODCE2], [DESCE2]) VALUES (?, ?)", [("AMA", "Amarillo"), ("ROS", "Rosa")]
    )
    assert fs_conn.scalar("SELECT COUNT(*) AS [N] FROM [F_CE2] WHERE [CODCE2] IN (?, ?)", ["AMA", "ROS"]) == 2


def test_translate_top():
    assert (
        translate_for_sqlite("SELECT TOP 1 * FROM [F_PCL] WHERE [REFPCL] = ? ORDER BY [CODPCL]")
        == "SELECT * FROM [F_PCL] WHERE [REFPCL] = ? ORDER BY [CODPCL] LIMIT 1"
    )
    assert translate_for_sqlite("SELECT DISTINCT TOP 5 [A] FROM [T]") == "SELECT DISTINCT [A] FROM [T] LIMIT 5"
    # the page sums' text fingerprints; a literal or a [name] holding & is left alone
    fingerprint = "SELECT SUM(ASC([A&B] & ' ') + 3 * ASC(RIGHT([A&B], 1) & ' ')) FROM [T] WHERE [C] = 'x&y'"
    assert (
        translate_for_sqlite(fingerprint)
        == "SELECT SUM(UNICODE([A&B] || ' ') + 3 * UNICODE(SUBSTR([A&B], -1, 1) || ' ')) FROM [T] WHERE [C] = 'x&y'"
    )


def test_open_retries_while_locked_then_gives_up(sandbox_path):
    holder = sqlite3.connect(sandbox_path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # what FactuSOL compaction / an antivirus scan looks like
    sleeps = []
    try:
        with pytest.raises(FactusolLockedError, match="still locked after 3 attempts"):
            open_factusol(
                connection_string_for(sandbox_path, timeout_ms=50), retries=2, backoff=0.01, sleep=sleeps.append
            )
        assert sleeps == [0.01, 0.02]
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_open_succeeds_when_lock_is_released(sandbox_path):
    holder = sqlite3.connect(sandbox_path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    timer = threading.Timer(0.3, lambda: (holder.execute("ROLLBACK"), holder.close()))
    timer.start()
    try:
        conn = open_factusol(connection_string_for(sandbox_path, timeout_ms=50), retries=8, backoff=0.05)
        assert conn.scalar("SELECT COUNT(*) AS [N] FROM [F_CLI]") == 200
        conn.close()
    finally:
        timer.join()


def test_lock_during_statement_raises_locked_error(fs_conn, sandbox_path):
    holder = sqlite3.connect(sandbox_path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        slow = FactusolConnection(connection_string_for(sandbox_path, timeout_ms=50))
        with pytest.raises(FactusolLockedError):
            slow.query("SELECT COUNT(*) AS [N] FROM [F_ART]")
        slow.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_resolve_year_file(tmp_path):
    for name in ["0012023.accdb", "0012025.sqlite", "0012024.mdb", "0022026.accdb", "001.bak", "0012025.accdb.old"]:
        (tmp_path / name).write_bytes(b"")
    assert resolve_year_file(tmp_path, "001").name == "0012025.sqlite"
    (tmp_path / "0012025.accdb").write_bytes(b"")
    assert resolve_year_file(tmp_path, "001").name == "0012025.accdb"  # same year: the real Access file wins
    assert resolve_year_file(tmp_path, "002").name == "0022026.accdb"
    with pytest.raises(FileNotFoundError):
        resolve_year_file(tmp_path, "XD1")


def test_connection_string_for(tmp_path, monkeypatch):
    assert connection_string_for(tmp_path / "0012025.sqlite").startswith("DRIVER={SQLite3};Database=")
    monkeypatch.setattr(fc.sys, "platform", "win32")
    assert connection_string_for(r"C:\Datos\FS\0012025.accdb").startswith(
        "DRIVER={Microsoft Access Driver (*.mdb, *.accdb)};DBQ="
    )
    monkeypatch.setattr(fc.sys, "platform", "linux")
    with pytest.raises(fc.FactusolError):
        connection_string_for("0012025.accdb")


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def test_big_reads_stream_instead_of_loading_the_whole_result(tmp_path):
    # 30,000 rows of 2 KB: ~60 MB if the driver copied the result on execute (its default), ~nothing streamed.
    path = tmp_path / "big.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE [F_BIG] ([COD] INTEGER PRIMARY KEY, [TXT] TEXT)")
        db.executemany("INSERT INTO [F_BIG] VALUES (?, ?)", ((i, f"{i:06d}" * 340) for i in range(30_000)))
    conn = FactusolConnection(f"DRIVER={{SQLite3}};Database={path}")
    try:
        before = _rss_mb()
        grew, seen = 0.0, 0
        with conn.iter_tuples("SELECT [COD], [TXT] FROM [F_BIG]", batch=500) as rows:
            for cod, txt in rows:
                seen += 1
                if seen == 1_000:
                    grew = _rss_mb() - before
                    # A transaction opened while the stream is open is a real one: its rollback undoes its write.
                    with pytest.raises(RuntimeError):
                        with conn.transaction():
                            conn.execute("UPDATE [F_BIG] SET [TXT] = ? WHERE [COD] = ?", ["lost", 1])
                            raise RuntimeError("roll back")
        assert seen == 30_000 and grew < 25, f"rss grew {grew:.0f} MB after the first rows"
        assert conn.scalar("SELECT [TXT] FROM [F_BIG] WHERE [COD] = ?", [1]).startswith("000001")
        # After the stream, statements outside a transaction commit one by one again, as before.
        conn.executemany("UPDATE [F_BIG] SET [TXT] = ? WHERE [COD] = ?", [("x", 1), ("y", 2)])
        assert conn.query("SELECT [TXT] FROM [F_BIG] WHERE [COD] IN (?, ?) ORDER BY [COD]", [1, 2]) == [
            {"TXT": "x"},
            {"TXT": "y"},
        ]
    finally:
        conn.close()


@pytest.mark.parametrize("journal_mode", ["delete", "wal"])
def test_reads_hold_off_writes_says_whether_a_commit_can_go_on_during_a_long_read(tmp_path, journal_mode):
    """What the first run relies on to sync customers while it scans the other tables: in WAL mode (as with Access's
    page locks) one connection commits while another is halfway through a streamed read; in rollback-journal mode
    the commit waits for the reader, past the busy timeout."""
    from replicator.sandbox.factusol import create_sandbox

    path = tmp_path / "0012025.sqlite"
    create_sandbox(path, articles=3000, customers=5, orders=0, year=2025, journal_mode=journal_mode)
    conn_str = connection_string_for(path, timeout_ms=200)
    holds_off = fc.reads_hold_off_writes(conn_str)
    assert holds_off is (journal_mode == "delete")
    reader, writer = FactusolConnection(conn_str), FactusolConnection(conn_str)
    try:
        with reader.iter_tuples("SELECT * FROM [F_ART]", batch=100) as rows:
            stream = iter(rows)
            first = next(stream)  # the read is under way (and goes on below)
            try:
                with writer.transaction():
                    writer.execute("UPDATE [F_CLI] SET [NOFCLI] = ? WHERE [CODCLI] = ?", ["Durante la lectura", 2])
                committed = True
            except FactusolLockedError:
                committed = False
            assert committed is not holds_off
            assert 1 + sum(1 for _ in stream) == 3000 and first[0]  # the reader still gets every row
    finally:
        reader.close()
        writer.close()
    assert fc.reads_hold_off_writes(f"DRIVER={{SQLite3}};Database={tmp_path / 'missing.sqlite'}")  # unknown: assume so
    assert not fc.reads_hold_off_writes("DRIVER={Microsoft Access Driver (*.mdb, *.accdb)};DBQ=C:\\x\\0012025.accdb;")


def test_database_path_and_the_fiscal_year_it_names():
    from replicator.factusol.years import fiscal_year

    assert fc.database_path("DRIVER={SQLite3};Database=/d/FS/0012026.sqlite;Timeout=2") == "/d/FS/0012026.sqlite"
    assert (
        fc.database_path("DRIVER={Microsoft Access Driver (*.mdb, *.accdb)};DBQ=C:\\FS\\0012025.accdb;")
        == "C:\\FS\\0012025.accdb"
    )
    assert fc.database_path("DSN=factusol") == ""
    assert fiscal_year(None, "DRIVER={SQLite3};Database=/d/FS/0012026.sqlite;") == "2026"
    assert fiscal_year(None, "DSN=factusol") == ""


def test_a_transaction_that_reads_then_writes_makes_another_writer_wait_instead_of_failing_itself(tmp_path):
    """A pedido's transaction reads its next number, then writes.  On the stand-in (SQLite, WAL) a transaction whose
    read came before another connection's commit can never write (the driver waits out its busy timeout, then
    "database is locked"); it begins holding the write lock instead, as Access serialises two writers, so the other
    writer waits for its commit and both writes land."""
    from replicator.sandbox.factusol import create_sandbox

    path = tmp_path / "0012026.sqlite"
    conn = open_factusol(create_sandbox(str(path), articles=5, customers=3, orders=0, journal_mode="wal"))
    other = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
    try:
        done: list[str] = []

        def other_writer() -> None:  # FactuSOL saving a customer meanwhile
            other.execute("UPDATE F_CLI SET TELCLI = '600000001' WHERE CODCLI = (SELECT MIN(CODCLI) FROM F_CLI)")
            done.append("other")

        with conn.transaction():
            code = conn.scalar("SELECT MAX([CODCLI]) AS [N] FROM [F_CLI]")
            writer = threading.Thread(target=other_writer)
            writer.start()
            writer.join(0.5)  # it waits for this transaction (without the lock taken first it would commit now)
            conn.execute("UPDATE [F_CLI] SET [TELCLI] = ? WHERE [CODCLI] = ?", ["600000002", code])
        writer.join(10)
        assert done == ["other"]
        phones = {r["TELCLI"] for r in conn.query("SELECT [TELCLI] FROM [F_CLI]")}
        assert {"600000001", "600000002"} <= phones
    finally:
        other.close()
        conn.close()
