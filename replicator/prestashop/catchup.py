"""The binlog history that is gone made good from the current data.

When the binlog position the replicator stored no longer exists on the server (its logs were purged, e.g. by
`PURGE BINARY LOGS` or `expire_logs_days`, while the service was stopped), the changes made meanwhile cannot be read
from the log.  Skipping to the server's current position would lose them, so instead:

1. the server's current position is taken first (so nothing written during the catch-up is missed: it comes
   again from the binlog afterwards, a harmless second trigger, since the sync re-reads the current state);
2. every watched table is read in one consistent snapshot, and every row becomes a change (an insert trigger):
   the engine brings each key in step with its baseline, writing only what really differs (a row nobody touched
   costs a read and nothing else);
3. those changes, the rows' snapshots and the binlog checkpoint moved to the position of step 1 are stored in ONE
   store transaction: a crash before it does the catch-up again, a crash after it finds the checkpoint valid.

A row deleted in the shop while the history was gone leaves no row to read: `replicator reconcile` finds those.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from replicator.capture.snapshot import DiffResult, Differ, commit_diff
from replicator.capture.tables import WatchedTable
from replicator.config import PrestashopConfig
from replicator.store import Store

from .binlog_server import current_position
from .connection import connect
from .pollrows import read_keyset

log = logging.getLogger("replicator.prestashop.binlog")

FETCH = 2000  # rows per keyset read


@dataclass
class CatchUp:
    changes: int = 0
    rows: int = 0
    file: str = ""
    pos: int = 0
    seconds: float = 0.0


def position_is_gone(files: list[tuple[str, int]], file: str, pos: int) -> bool:
    """Whether `file`:`pos` can no longer be read: the file is not among the server's binary logs (purged), or it
    is shorter than the position (RESET MASTER began the same file name again).  `files` is SHOW BINARY LOGS."""
    sizes = dict(files)
    return file not in sizes or (sizes[file] is not None and pos > int(sizes[file]))


def catch_up(
    store: Store, cfg: PrestashopConfig, tables: dict[str, WatchedTable], checkpoint_name: str, now: str
) -> CatchUp:
    """Steps 1-3 above; returns what was stored.  The caller has said why in its log line."""
    started = time.monotonic()
    out = CatchUp()
    conn = connect(cfg.url)
    try:
        out.file, out.pos = current_position(conn)
        total = DiffResult()
        position, txn = f"catch-up:{out.file}:{out.pos}", f"prestashop:catch-up:{out.file}:{out.pos}"
        with conn.cursor() as cur:
            cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cur.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT")
            cur.execute("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()")
            present = {r[0] for r in cur.fetchall()}
            for table in tables.values():
                physical = table.physical(cfg.prefix)
                if physical not in present:
                    continue
                # no known hashes: every current row is a trigger, whatever an older snapshot says
                differ = Differ(store, table, {}, position, txn)
                _, rows = read_keyset(cur, table, physical, differ, FETCH)
                out.rows += rows
                total.extend(differ.result)
            cur.execute("COMMIT")
    finally:
        conn.close()
    checkpoint = {"file": out.file, "pos": out.pos, "txn": "", "at": now}
    out.changes = commit_diff(store, total, (checkpoint_name, checkpoint), {})
    out.seconds = round(time.monotonic() - started, 3)
    return out
