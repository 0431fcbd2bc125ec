"""Create a schema-faithful FactuSOL stand-in file (SQLite, opened through the SQLite3 ODBC driver) with seed data.

The file is built with Python's ``sqlite3`` module directly because that is the stand-in's storage format and bulk
loading 100,000 articles through ODBC would be slow; everything the replicator does later goes through pyodbc and
``FactusolConnection``.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from replicator.factusol.connection import connection_string_for
from replicator.factusol.schema import all_ddl
from replicator.sandbox.factusol_seed import build_seed

sqlite3.register_adapter(Decimal, lambda d: float(d) if d != d.to_integral_value() else int(d))
sqlite3.register_adapter(datetime, lambda d: d.isoformat(sep=" "))


def create_sandbox(
    path: str | os.PathLike,
    articles: int = 1000,
    customers: int = 200,
    seed: int = 0,
    year: int | None = None,
    orders: int = 6,
    check_seed: bool | None = None,
    journal_mode: str = "delete",
) -> str:
    """(Re)create the stand-in at ``path`` and return its ODBC connection string.  Deterministic by seed and year.

    ``check_seed``: evaluate the width/type CHECK constraints while loading the seed.  They cost ~90% of the load
    time on F_ART (91 checked columns), so by default they are only evaluated for small sandboxes (<= 5,000
    articles); the generator is the same for every size, and the constraints are always enforced afterwards.

    ``journal_mode``: "delete" (SQLite's default: one connection's long read holds off another's commit, a whole-file
    lock) or "wal" (readers and one writer go on side by side, as Access's page locks allow).  It stays with the file.
    """
    if journal_mode not in ("delete", "wal"):
        raise ValueError(f"journal_mode must be 'delete' or 'wal', not {journal_mode!r}")
    if check_seed is None:
        check_seed = articles <= 5000
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(str(p) + suffix).unlink(missing_ok=True)
    data = build_seed(articles=articles, customers=customers, seed=seed, year=year, orders=orders)
    db = sqlite3.connect(p)
    try:
        # Speed only matters while seeding; the file is then used with SQLite's normal durable settings.
        db.execute("PRAGMA journal_mode=DELETE")
        db.execute("PRAGMA synchronous=OFF")
        db.execute(f"PRAGMA ignore_check_constraints={'OFF' if check_seed else 'ON'}")
        for ddl in all_ddl():
            db.execute(ddl)
        for table, (cols, rows) in data.items():
            if rows:
                sql = (
                    f"INSERT INTO [{table}] ({', '.join(f'[{c}]' for c in cols)}) VALUES ({', '.join('?' * len(cols))})"
                )
                db.executemany(sql, rows)
        db.commit()
        db.execute("PRAGMA ignore_check_constraints=OFF")
        if journal_mode == "wal":
            db.execute("PRAGMA journal_mode=WAL")
    finally:
        db.close()
    return connection_string_for(p)
