"""kill -9 of a capture process at several points, then a restart: every change is in the log exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from decimal import Decimal

import pyodbc
import pytest

from replicator.prestashop.binlog import BinlogCapture, ensure_ledger_table
from replicator.config import PrestashopConfig
from replicator.factusol.schema import load_schema, table_ddl
from replicator.prestashop.schema import create_schema
from replicator.store import Store, loads

SCRIPT = r"""
import sys
from pathlib import Path
from replicator.store import Store
from replicator.config import FactusolConfig, PrestashopConfig
kind, store_url, target, server_id = sys.argv[1:5]
store = Store(store_url)
from replicator.prestashop.binlog import BinlogCapture
from replicator.factusol.scanner import FactusolScanner
print("start", flush=True)
if kind == "binlog":
    r = BinlogCapture(store, PrestashopConfig(url=target, server_id=int(server_id))).capture()
else:
    r = FactusolScanner(store, FactusolConfig(file=Path(target), connection="DRIVER={SQLite3};Database={file}")).scan()
print("done", r, flush=True)
"""


def run_capture(kind: str, store_url: str, target: str, kill_after: float | None, server_id: int = 6001) -> bool:
    """Run one capture process; SIGKILL it `kill_after` seconds after it started capturing.  True if it finished."""
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, kind, store_url, target, str(server_id)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout.readline().strip() == "start"
    if kill_after is None:
        started = time.monotonic()
        out = proc.communicate(timeout=300)[0]
        assert proc.returncode == 0, out
        print(f"{kind} run to completion: {time.monotonic() - started:.2f}s")
        return True
    time.sleep(kill_after)
    finished = proc.poll() is not None
    if not finished:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    return finished


@pytest.mark.mysql
def test_binlog_capture_killed_mid_batch_logs_each_change_once(mysql_server, mysql_db, tmp_path):
    conn = mysql_server.connect(mysql_db)
    create_schema(conn, "8", "ps_")
    ensure_ledger_table(conn, "ps_")
    store_url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    url = mysql_server.database_url(mysql_db)
    BinlogCapture(Store(store_url), PrestashopConfig(url=url, server_id=6001)).capture()  # checkpoint = now
    txns, per_txn = 240, 25
    with conn.cursor() as cur:
        for t in range(txns):
            values = ", ".join(f"({t * per_txn + i + 1}, {t * per_txn + i + 1}, 0, 1, 0, {i})" for i in range(per_txn))
            cur.execute("START TRANSACTION")
            cur.execute(
                "INSERT INTO ps_stock_available (id_stock_available, id_product, id_product_attribute, "
                f"id_shop, id_shop_group, quantity) VALUES {values}"
            )
            cur.execute(
                "UPDATE ps_stock_available SET quantity = quantity + 100 WHERE id_stock_available = %s",
                (t * per_txn + 1,),
            )
            cur.execute("COMMIT")
    store = Store(store_url)
    progress = []
    for delay in (0.3, 1.5, 2.5, 3.5):  # before, inside and between store commits
        run_capture("binlog", store_url, url, delay)
        progress.append(len(store.changes()))
    run_capture("binlog", store_url, url, None)
    changes = store.changes()
    truth = txns * (per_txn + 1)
    assert len(changes) == truth, progress
    assert Counter((c.row_key, c.op) for c in changes).most_common(1)[0][1] == 1  # nothing twice
    groups = Counter(c.txn for c in changes)
    assert len(groups) == txns and set(groups.values()) == {per_txn + 1}  # transactions never split
    cp = store.checkpoint("prestashop.binlog")
    assert changes[-1].txn == f"{cp['file']}:{cp['pos']}"
    print("binlog progress at kills:", progress)
    conn.close()


def test_factusol_scan_killed_mid_baseline_and_mid_diff_logs_each_change_once(tmp_path):
    path = tmp_path / "0012026.sqlite"
    c = pyodbc.connect(f"DRIVER={{SQLite3}};Database={path}", autocommit=False)
    cur = c.cursor()
    for t in ("F_ART", "F_STO"):
        cur.execute(table_ddl(load_schema()[t]))
    n = 10000
    cur.executemany(
        "INSERT INTO [F_STO] ([ARTSTO],[ALMSTO],[ACTSTO]) VALUES (?,?,?)",
        [(f"A{i:05d}", "GEN", Decimal(i)) for i in range(n)],
    )
    c.commit()
    store_url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    store = Store(store_url)
    baseline_progress = []
    for delay in (1.0, 2.5):  # inside the chunked baseline
        run_capture("factusol", store_url, str(path), delay)
        baseline_progress.append(len(store.snapshot_hashes("factusol", "F_STO")))
    run_capture("factusol", store_url, str(path), None)
    assert store.changes() == [] and len(store.snapshot_hashes("factusol", "F_STO")) == n
    # A batch edit of 5,000 rows and a delete, then kills during the diff/commit.
    cur.execute("UPDATE [F_STO] SET [ACTSTO] = [ACTSTO] + 1 WHERE [ARTSTO] < ?", "A02500")
    cur.execute("DELETE FROM [F_STO] WHERE [ARTSTO] = ?", "A09999")
    c.commit()
    for delay in (0.5, 1.5, 3.0):
        run_capture("factusol", store_url, str(path), delay)
    run_capture("factusol", store_url, str(path), None)
    run_capture("factusol", store_url, str(path), None)  # a further scan finds nothing new
    changes = store.changes()
    assert Counter(c.op for c in changes) == {"update": 2500, "delete": 1}
    assert len({c.row_key for c in changes}) == 2501
    sample = next(ch for ch in changes if ch.row_key == '{"ALMSTO":"GEN","ARTSTO":"A00007"}')
    assert Decimal(loads(sample.before)["ACTSTO"]) == 7 and Decimal(loads(sample.after)["ACTSTO"]) == 8
    print("baseline snapshots at kills:", baseline_progress)
    c.close()
