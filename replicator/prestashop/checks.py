"""Shop checks for `replicator doctor`: the database answers, the tables are there, and the account may read and
write them (and create the replicator's ledger table)."""

from __future__ import annotations

import re

# The tables every run reads or writes (unprefixed)
NEEDED_TABLES = ("configuration", "shop", "lang", "customer", "address", "product", "product_lang", "product_shop",
                 "stock_available", "orders", "order_detail", "order_history", "order_carrier", "carrier")
NEEDED_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "CREATE")


def server_version(conn) -> str:
    with conn.cursor() as cur:
        cur.execute("SELECT VERSION()")
        row = cur.fetchone()
    return str(row[0] if not isinstance(row, dict) else next(iter(row.values())))


def _grants(conn) -> list[str]:
    with conn.cursor() as cur:
        cur.execute("SHOW GRANTS")
        return [str(r[0] if not isinstance(r, dict) else next(iter(r.values()))) for r in cur.fetchall()]


def missing_privileges(conn, database: str) -> list[str]:
    """The privileges of NEEDED_PRIVILEGES the current account lacks on `database` (by SHOW GRANTS)."""
    have: set[str] = set()
    pattern = re.compile(r"^GRANT (.+?) ON (\S+) TO ", re.IGNORECASE)
    for grant in _grants(conn):
        match = pattern.match(grant)
        if not match:
            continue
        privileges, target = match.group(1).upper(), match.group(2).replace("`", "")
        scope = target.split(".")[0]
        if scope != "*" and not _like(scope, database):
            continue
        if "ALL PRIVILEGES" in privileges:
            return []
        have.update(p.strip().split("(")[0].strip() for p in privileges.split(","))
    return [p for p in NEEDED_PRIVILEGES if p not in have]


def _like(pattern: str, name: str) -> bool:
    """A grant on a database pattern (`shop\\_%`: % any run, _ any one character, \\_ a real _) covers `name`."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        i += 1
    return re.fullmatch("".join(out), name) is not None


def missing_tables(conn, database: str, prefix: str) -> list[str]:
    with conn.cursor() as cur:
        cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (database,))
        present = {str(r[0] if not isinstance(r, dict) else next(iter(r.values()))).lower() for r in cur.fetchall()}
    return [prefix + t for t in NEEDED_TABLES if (prefix + t).lower() not in present]
