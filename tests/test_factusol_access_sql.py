"""Access SQL discipline: forbidden constructs are refused before the driver, and nothing Access rejects was sent.

Every factusol test module imports ``access_sql_guard`` (autouse), which fails a test the moment a statement that
fails the checker reached the driver.  The last test here also re-checks every statement recorded so far in the
session and runs a full reader/writer pass of its own, so the check is meaningful even when this file runs first.
"""

from datetime import datetime
from decimal import Decimal

import pytest

from replicator.factusol import reader, writer
from replicator.factusol.connection import (
    STATEMENT_LOG,
    AccessSqlError,
    check_access_sql,
    last_statement_seq,
)
from replicator.sandbox.access_sql import *  # noqa: F401,F403
from replicator.sandbox.access_sql import rejected_sent_statements

FORBIDDEN = [
    "SELECT [CODART] FROM [F_ART] LIMIT 10",
    "SELECT [CODART] FROM [F_ART] ORDER BY [CODART] OFFSET 10",
    "SELECT [CODART] FROM [F_ART] ORDER BY [CODART] FETCH FIRST 5 ROWS ONLY",
    "INSERT INTO [F_ALM] ([CODALM]) VALUES (?) ON CONFLICT DO NOTHING",
    "INSERT OR REPLACE INTO [F_ALM] ([CODALM]) VALUES (?)",
    "INSERT OR IGNORE INTO [F_ALM] ([CODALM]) VALUES (?)",
    "REPLACE INTO [F_ALM] ([CODALM]) VALUES (?)",
    "INSERT INTO [F_ALM] ([CODALM]) VALUES (?) RETURNING [CODALM]",
    "SELECT `CODART` FROM `F_ART`",
    'SELECT "CODART" FROM "F_ART"',
    "SELECT [CODPCL] FROM [F_PCL] WHERE [FECPCL] >= '2024-01-01'",
    "SELECT [CODPCL] FROM [F_PCL] WHERE [FECPCL] >= '01/02/2024'",
    "SELECT [CODPCL] FROM [F_PCL] WHERE [FECPCL] >= '2024-01-01 10:00:00'",
    "SELECT [CODPCL] FROM [F_PCL] WHERE [FECPCL] >= #2024-01-01#",
    "SELECT [CODPCL] FROM [F_PCL] WHERE [FECPCL] >= CURRENT_DATE",
    "SELECT [CODART] FROM [F_ART] WHERE [TIVART] != 0",
    "SELECT [CODART] || [DESART] FROM [F_ART]",
    "SELECT COALESCE([DESART], '') FROM [F_ART]",
    "SELECT CAST([PCOART] AS TEXT) FROM [F_ART]",
    "SELECT CASE WHEN [TIVART] = 0 THEN 1 END FROM [F_ART]",
    "SELECT LENGTH([DESART]) FROM [F_ART]",
    "SELECT [CODART] FROM [F_ART]; DELETE FROM [F_ART]",
    "SELECT [CODART] FROM [F_ART] -- comment",
    "SELECT [CODART] FROM [F_ART] WHERE [CODART] = :ref",
    "SELECT [CODART] FROM [F_ART] WHERE [CODART] = %s",
    "SELECT TOP ? [CODART] FROM [F_ART]",
    "DELETE FROM [F_ALM] WHERE [CODALM] = 'it''s unterminated",
    "CREATE TABLE IF NOT EXISTS [X] ([A] INTEGER)",
    "SELECT [CODART FROM [F_ART]",
    "SELECT * FROM [F_PCL] FULL OUTER JOIN [F_LPC] ON [TIPPCL] = [TIPLPC]",
    "SELECT * FROM [F_PCL] INNER JOIN [F_LPC] ON [CODPCL] = [CODLPC] INNER JOIN [F_ART] ON [ARTLPC] = [CODART]",
    "SELECT * FROM (([F_PCL] INNER JOIN [F_LPC] ON [CODPCL] = [CODLPC]) INNER JOIN [F_ART] ON [ARTLPC] = [CODART]) "
    "INNER JOIN [F_CLI] ON [CLIPCL] = [CODCLI]",
]
ALLOWED = [
    "SELECT TOP 5 [CODART], [DESART] FROM [F_ART] WHERE [DESART] LIKE ? ORDER BY [CODART]",
    "SELECT [NOFCLI] FROM [F_CLI] WHERE [NOFCLI] = 'O''Donnell -- no comment; not a date 2024'",
    "SELECT * FROM ([F_PCL] INNER JOIN [F_LPC] ON [CODPCL] = [CODLPC]) INNER JOIN [F_ART] ON [ARTLPC] = [CODART]",
    "SELECT [CODPCL] FROM [F_PCL] WHERE [FECPCL] >= ? AND [TIPPCL] = '1'",
    "UPDATE [F_STO] SET [DISSTO] = [DISSTO] - ? WHERE [ARTSTO] = ? AND [ALMSTO] = ?",
    "SELECT [CODART] FROM [F_ART] WHERE [CODART] <> ?;",
    "SELECT [LIMIT], [Nº de serie#] FROM [F_X]",  # keywords and symbols inside brackets are just names
]


@pytest.mark.parametrize("sql", FORBIDDEN)
def test_checker_rejects(sql):
    with pytest.raises(AccessSqlError):
        check_access_sql(sql)


@pytest.mark.parametrize("sql", ALLOWED)
def test_checker_accepts(sql):
    assert check_access_sql(sql) == sql


def test_forbidden_statement_never_reaches_the_driver(fs_conn):
    seq = last_statement_seq()
    with pytest.raises(AccessSqlError):
        fs_conn.execute("INSERT OR REPLACE INTO [F_ALM] ([CODALM], [NOMALM]) VALUES (?, ?)", ["GEN", "borrado"])
    with pytest.raises(AccessSqlError):
        fs_conn.query("SELECT [CODART] FROM [F_ART] ORDER BY [CODART] LIMIT 1 OFFSET 5")
    recs = [r for r in STATEMENT_LOG if r.seq > seq]
    assert len(recs) == 2 and not any(r.sent for r in recs) and all(r.error for r in recs)
    assert fs_conn.scalar("SELECT [NOMALM] FROM [F_ALM] WHERE [CODALM] = ?", ["GEN"]) == "Almacén general"


def test_every_statement_sent_this_session_is_access_sql(fs_conn):
    # Exercise every reader and writer here too, so this holds even if this module runs alone or first.
    reader.read_vat_rates(fs_conn)
    reader.read_customers(fs_conn)
    reader.read_customers(fs_conn, codes=[1, 2, 3])
    reader.read_products(fs_conn, tariff=2)
    reader.read_products(fs_conn, references=["ACE000048"])
    reader.read_stock(fs_conn, ["GEN", "AL2"], "min")
    reader.read_stock(fs_conn, None, references=["ACE000048"])
    reader.read_orders(fs_conn, series="1", since=datetime(2025, 1, 1))
    code = writer.insert_customer(fs_conn, {"NOFCLI": "Prueba", "CPOCLI": "28001"}, code_range=(80000, 80999))
    writer.update_customer_fields(fs_conn, code, {"EMACLI": "p@example.es"})
    lines = [{"ARTLPC": "ACE000048", "CANLPC": Decimal("1"), "PRELPC": Decimal("2"), "IVALPC": 0.0}]
    writer.insert_order(
        fs_conn,
        {
            "REFPCL": "AX-1",
            "FECPCL": datetime(2025, 2, 3),
            "CLIPCL": code,
            **writer.order_totals(lines, [Decimal(21), Decimal(10), Decimal(4)]),
        },
        lines,
    )
    writer.find_order_by_ref(fs_conn, "AX-1")
    writer.update_stock(fs_conn, "ACE000048", "GEN", actual=Decimal("1"), available=Decimal("1"))
    sent = [r for r in STATEMENT_LOG if r.sent]
    assert len(sent) > 20
    assert rejected_sent_statements() == []
