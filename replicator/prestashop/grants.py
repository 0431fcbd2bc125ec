"""Least privilege on the shop database: the SQL an admin runs once, and the check of what the runtime user has.

In poll mode the runtime user needs only SELECT, INSERT, UPDATE and DELETE on the shop's database; the ledger table
(`<prefix>replicator_ledger`, our echo marker) is created once by an admin.  Binlog mode adds REPLICATION SLAVE and
REPLICATION CLIENT (BINLOG MONITOR on MariaDB 10.5+) and a server with log_bin, binlog_format=ROW and
binlog_row_image=FULL.

`shop_sql(...)` is what `replicator shop-sql` prints; `check_grants(conn, prefix, mode)` is what the service runs at
start and what `replicator doctor` can call: it returns one sentence per missing thing (empty: all there), naming the
privilege, the tables and the GRANT that gives it.  The privileges are probed, not parsed from SHOW GRANTS: each
probe is a statement that touches no row (`... WHERE 1 = 0`, inside a transaction rolled back), so the server's own
rules decide (database, table and role grants, wildcards).
"""

from __future__ import annotations

from typing import Callable

import pymysql

from replicator.capture.tables import LEDGER_TABLE as LEDGER
from replicator.prestashop.binlog import check_binlog_access, ledger_ddl

RUNTIME_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE")
BINLOG_PRIVILEGES = ("REPLICATION SLAVE", "REPLICATION CLIENT")

# Unprefixed shop tables the replicator reads and writes (the watched ones and the ones the writers touch).
RUNTIME_TABLES = (
    "customer",
    "address",
    "product",
    "product_shop",
    "product_lang",
    "product_attribute",
    "product_attribute_shop",
    "product_attribute_combination",
    "stock_available",
    "stock_mvt",
    "orders",
    "order_detail",
    "order_carrier",
    "order_history",
    "order_invoice",
    "order_invoice_payment",
    "product_sale",
    "category_product",
    "configuration",
    "attribute",
    "attribute_lang",
    "attribute_shop",
    "attribute_group",
    "attribute_group_lang",
    "attribute_group_shop",
)


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _account(user: str, host: str) -> str:
    return "'" + user.replace("'", "''") + "'@'" + host.replace("'", "''") + "'"


def shop_sql(database: str, prefix: str = "ps_", mode: str = "poll", user: str = "replicator", host: str = "%") -> str:
    """The statements an admin runs once for `mode` (poll | binlog): the ledger table, the user, its grants."""
    if mode not in ("poll", "binlog"):
        raise ValueError("mode must be poll or binlog")
    account = _account(user, host)
    lines = [
        f"-- Run once as an administrator of the shop's database server ({mode} mode).",
        "-- 1. The replicator's ledger table: its own writes are marked there, in the same transaction.",
        ledger_ddl(prefix, database) + ";",
        "-- 2. The runtime user (put its password in the service's environment, e.g. PS_DB_PASSWORD).",
        f"CREATE USER IF NOT EXISTS {account} IDENTIFIED BY '<password>';",
        "-- 3. What it may do: read and write the shop's tables, nothing else.",
        f"GRANT {', '.join(RUNTIME_PRIVILEGES)} ON {_q(database)}.* TO {account};",
    ]
    if mode == "binlog":
        lines += [
            "-- 4. Binlog capture: read the binary log (REPLICATION CLIENT is BINLOG MONITOR on MariaDB 10.5+).",
            f"GRANT {', '.join(BINLOG_PRIVILEGES)} ON *.* TO {account};",
            "-- The server also needs, in my.cnf: log_bin=binlog, server_id=1, binlog_format=ROW,"
            " binlog_row_image=FULL.",
        ]
    lines.append(
        f"-- Optional, for faster stock writes: GRANT CREATE TEMPORARY TABLES ON {_q(database)}.* TO {account};"
    )
    return "\n".join(lines) + "\n"


def _probe(table: str) -> dict[str, str]:
    t = _q(table)
    return {
        "SELECT": f"SELECT 1 FROM {t} WHERE 1 = 0",
        # no column is read, so each probe needs its own privilege only
        "INSERT": f"INSERT INTO {t} ({{col}}) SELECT 1 FROM DUAL WHERE 1 = 0",
        "UPDATE": f"UPDATE {t} SET {{col}} = NULL WHERE 1 = 0",
        "DELETE": f"DELETE FROM {t} WHERE 1 = 0",
    }


def check_grants(conn, prefix: str = "ps_", mode: str = "poll", binlog_check: Callable | None = None) -> list[str]:
    """What the runtime user lacks for `mode` on the connection's database, one sentence each ([] = nothing).

    `conn` is a PyMySQL connection to the shop database as the runtime user (`replicator.prestashop.connection
    .connect(url)`); `binlog_check(conn)` (the binlog reader's access check) adds the binlog needs in binlog mode."""
    problems: list[str] = []
    with conn.cursor() as cur:
        cur.execute("SELECT DATABASE(), CURRENT_USER()")
        database, current = cur.fetchone()
        user, _, host = str(current).partition("@")
        account = _account(user, host)
        cur.execute(
            "SELECT TABLE_NAME, (SELECT COLUMN_NAME FROM information_schema.COLUMNS c WHERE"
            " c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME ORDER BY ORDINAL_POSITION"
            " LIMIT 1) FROM information_schema.TABLES t WHERE t.TABLE_SCHEMA = DATABASE()"
        )
        present = {str(name): str(col) for name, col in cur.fetchall()}
        wanted = [prefix + name for name in RUNTIME_TABLES if prefix + name in present]
        ledger = prefix + LEDGER
        if ledger in present:
            wanted.append(ledger)
        else:
            problems.append(
                f"the ledger table {ledger} is missing and the runtime user must not create it: an "
                f"administrator runs the CREATE TABLE printed by `replicator shop-sql`"
            )
        missing: dict[str, list[str]] = {}
        conn.begin()
        try:
            for table in wanted:
                for privilege, sql in _probe(table).items():
                    try:
                        cur.execute(sql.replace("{col}", _q(present[table])))
                    except pymysql.err.OperationalError as exc:
                        if exc.args and exc.args[0] in (1142, 1143, 1044, 1227):
                            missing.setdefault(privilege, []).append(table)
                        else:
                            raise
                    except pymysql.err.ProgrammingError as exc:
                        if exc.args and exc.args[0] in (1142, 1143):
                            missing.setdefault(privilege, []).append(table)
                        else:
                            raise
        finally:
            conn.rollback()
    for privilege in RUNTIME_PRIVILEGES:
        tables = missing.get(privilege)
        if tables:
            shown = ", ".join(tables[:5]) + (f" and {len(tables) - 5} more" if len(tables) > 5 else "")
            problems.append(
                f"the shop user {account} lacks {privilege} on {shown}: an administrator runs "
                f"GRANT {privilege} ON {_q(database)}.* TO {account};"
            )
    if mode == "binlog" and binlog_check is not None:
        problems += binlog_check(conn)
    return problems


def check_shop(url: str, prefix: str = "ps_", mode: str = "poll") -> list[str]:
    """`check_grants` from a shop URL (opens and closes its own connection; for `replicator doctor`)."""
    from replicator.prestashop.connection import connect

    conn = connect(url)
    try:
        return check_grants(conn, prefix, mode, binlog_check=check_binlog_access)
    finally:
        conn.close()
