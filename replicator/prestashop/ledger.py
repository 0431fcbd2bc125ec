"""The echo ledger: `<prefix>replicator_ledger`, the row every shop write by the replicator adds in its own
transaction so the binlog reader recognises the transaction as an echo; the state store's tag in its notes."""

from __future__ import annotations

import re

import pymysql

from replicator.capture.tables import LEDGER_TABLE


def ledger_table(prefix: str) -> str:
    return prefix + LEDGER_TABLE


def ledger_ddl(prefix: str, database: str | None = None) -> str:
    """CREATE TABLE of the ledger (InnoDB: it commits with the shop rows it marks)."""
    name = _quote(prefix + LEDGER_TABLE) if not database else f"{_quote(database)}.{_quote(prefix + LEDGER_TABLE)}"
    return (
        f"CREATE TABLE IF NOT EXISTS {name} (\n"
        "  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,\n"
        "  change_id BIGINT NULL,\n"
        "  note VARCHAR(255) NOT NULL DEFAULT '',\n"
        "  written_at DATETIME NOT NULL\n"
        ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
    )


def _quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def ensure_ledger_table(conn, prefix: str) -> None:
    """Create `<prefix>replicator_ledger` if missing (InnoDB: it must commit with the shop rows it marks).

    An existing table is left alone without a CREATE statement, so a runtime user without the CREATE privilege
    works once an admin made the table (`replicator shop-sql`)."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
            (ledger_table(prefix),),
        )
        if cur.fetchone():
            return
        try:
            cur.execute(ledger_ddl(prefix))
        except pymysql.MySQLError as exc:
            if exc.args and exc.args[0] in (1142, 1044):
                raise RuntimeError(
                    f"the ledger table {ledger_table(prefix)} is missing and the shop user may not "
                    "create it: an administrator runs the SQL printed by `replicator shop-sql`"
                ) from None
            raise


STORE_TAG = re.compile(r"\[store ([0-9a-f]{12})(?: g(\d+))?\]")  # the store's id and its apply generation


def _last_note(conn, prefix: str, like: str) -> str | None:
    try:
        with conn.cursor() as cur:
            cur.execute(
                f"SELECT note FROM `{ledger_table(prefix)}` WHERE note LIKE %s ORDER BY id DESC LIMIT 1", (like,)
            )
            row = cur.fetchone()
    except Exception:  # no ledger yet (a shop never written to): nothing to compare
        return None
    return (row[0] if isinstance(row, (tuple, list)) else (row or {}).get("note")) if row else None


def last_store_tag(conn, prefix: str) -> str | None:
    """The state store that made the shop's latest tagged write (the `[store <id>]` in its ledger note)."""
    match = STORE_TAG.search(_last_note(conn, prefix, "%[store %") or "")
    return match.group(1) if match else None


def last_generation(conn, prefix: str, store_id: str) -> int:
    """The apply generation of this store's latest tagged write in the shop (`[store <id> g<N>]`; 0 for none)."""
    match = STORE_TAG.search(_last_note(conn, prefix, f"%[store {store_id} g%") or "")
    return int(match.group(2)) if match and match.group(2) else 0


def ledger_insert_sql(prefix: str) -> str:
    """The statement a shop writer runs INSIDE its write transaction: params (change_id, note)."""
    return f"INSERT INTO `{ledger_table(prefix)}` (change_id, note, written_at) VALUES (%s, %s, NOW())"


# ------------------------------------------------------------------------------------------------ values
