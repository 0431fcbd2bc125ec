"""Shop checks for `replicator doctor` beside the grants check (prestashop/grants.py): the server's version and
the PrestaShop tables the replicator reads and writes."""

from __future__ import annotations

from .grants import RUNTIME_TABLES


def server_version(conn) -> str:
    with conn.cursor() as cur:
        cur.execute("SELECT VERSION()")
        row = cur.fetchone()
    return str(row[0] if not isinstance(row, dict) else next(iter(row.values())))


def missing_tables(conn, database: str, prefix: str) -> list[str]:
    """The shop tables (RUNTIME_TABLES, with the prefix) that are not in `database`."""
    with conn.cursor() as cur:
        cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (database,))
        present = {str(r[0] if not isinstance(r, dict) else next(iter(r.values()))).lower() for r in cur.fetchall()}
    return [prefix + t for t in RUNTIME_TABLES if (prefix + t).lower() not in present]
