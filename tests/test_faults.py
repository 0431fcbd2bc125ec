"""The fault suite (`make faults`): the service killed with kill -9 at random points while changes flow both ways,
MariaDB restarted under it, the FactuSOL file held locked for a long while, the FactuSOL file replaced by a restored
backup under load, the shop's binary logs purged while the service was stopped, the state store deleted; after each,
`replicator reconcile` must report 0 differences for every entity (products, customers, orders, stock, shipments,
invoices).  Prints one JSON line of counts per scenario (docs/reliability.md).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime

import pytest

from replicator.cli import main
from replicator.config import default_rules_dir, load_config, render_config
from replicator.factusol.connection import open_factusol
from replicator.factusol.writer import update_fields, update_stock
from replicator.prestashop.connection import ShopConnection
from replicator.sandbox.demo import add_shop_catalogue
from replicator.sandbox.factusol import create_sandbox
from replicator.sandbox.shop import create_shop
from replicator.store import Store
from replicator.sync.reconcile import ENTITIES

pytestmark = [pytest.mark.mysql, pytest.mark.faults]
ROUNDS = int(os.environ.get("REPLICATOR_FAULT_ROUNDS", "4"))
LOCKED_SECONDS = float(os.environ.get("REPLICATOR_FAULT_LOCKED_SECONDS", "15"))


@pytest.fixture(autouse=True)
def restore_logging():
    import logging

    root = logging.getLogger()
    handlers, level, filters = root.handlers[:], root.level, root.filters[:]
    yield
    root.handlers[:], root.filters[:] = handlers, filters
    root.setLevel(level)


@pytest.fixture
def site(mysql_server, mysql_db, tmp_path):
    fs_path = tmp_path / "FS" / "0012026.sqlite"
    fs_path.parent.mkdir()
    connection = create_sandbox(str(fs_path), articles=15, customers=3, seed=7)
    add_shop_catalogue(connection)  # the demo shop's articles: its orders become pedidos, stock and follow-ups flow
    shop_url = create_shop(mysql_server.url, mysql_db, demo=True)
    config = tmp_path / "replicator.yaml"
    config.write_text(
        render_config(connection, shop_url).replace("apply_interval_seconds: 2", "apply_interval_seconds: 0.5"),
        encoding="utf-8",
    )
    shutil.copytree(default_rules_dir(), tmp_path / "rules")
    assert main(["run", "--config", str(config), "--once"]) == 0  # the first sync, then the faults
    return config, connection, shop_url


def _service(config, log_path):
    with open(log_path, "a") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "replicator.cli", "run", "--config", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def _edit_both_sides(connection, shop_url, n: int) -> int:
    """One FactuSOL article renamed and its stock changed, one shop customer renamed: 3 changes."""
    fs = open_factusol(connection)
    try:
        articles = [r["CODART"] for r in fs.query("SELECT [CODART] FROM [F_ART] ORDER BY [CODART]")]
        article = articles[n % len(articles)]
        update_fields(fs, "F_ART", {"CODART": article}, {"DESART": f"Artículo {n}", "FUMART": datetime.now()})
        update_stock(fs, article, "GEN", actual=100 + n, available=100 + n)
    finally:
        fs.close()
    with ShopConnection(shop_url) as shop:
        ids = [
            r["id_customer"]
            for r in shop.query(
                "SELECT id_customer FROM {p}customer WHERE deleted = 0 AND is_guest = 0 ORDER BY id_customer"
            )
        ]
        shop.execute(
            "UPDATE {p}customer SET firstname = %s, date_upd = NOW() WHERE id_customer = %s",
            (f"Nombre{n}", ids[n % len(ids)]),
        )
    return 3


def _reconcile(config, capsys, *extra) -> dict:
    capsys.readouterr()
    main(["reconcile", "--config", str(config), "--json", *extra])
    return json.loads(capsys.readouterr().out)


def _settle_and_reconcile(config, capsys) -> int:
    for _ in range(2):  # what the killed service left pending, then what its last apply captured
        assert main(["run", "--config", str(config), "--once"]) == 0
    report = _reconcile(config, capsys)
    assert set(report["checked"]) == set(ENTITIES)
    assert report["total"] == 0, "\n".join(map(str, report["differences"]))
    return report["total"]


def _fs_path(connection: str) -> str:
    return connection.split("Database=")[1].split(";")[0]


def _service_report(config) -> dict:
    return Store(load_config(config).store).checkpoint("service") or {}


def _wait(predicate, seconds: float = 60.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"not within {seconds:.0f} s: {predicate.__doc__ or predicate}")


def test_kill_9_at_random_points_with_changes_flowing_then_reconcile_finds_nothing(site, tmp_path, capsys):
    config, connection, shop_url = site
    rng = random.Random(20)
    log_path = tmp_path / "service.log"
    changes = kills = 0
    for n in range(ROUNDS):
        service = _service(config, log_path)
        time.sleep(rng.uniform(0.5, 3.0))  # starting, scanning or applying: wherever the kill lands
        changes += _edit_both_sides(connection, shop_url, n)
        time.sleep(rng.uniform(0.0, 2.0))
        os.kill(service.pid, signal.SIGKILL)
        service.wait(timeout=30)
        kills += 1
    differences = _settle_and_reconcile(config, capsys)
    assert "Traceback" not in log_path.read_text()
    with capsys.disabled():
        print(json.dumps({"scenario": "kill -9", "kills": kills, "changes": changes, "differences": differences}))


def test_mariadb_restarted_under_the_service_then_reconcile_finds_nothing(site, mysql_server, tmp_path, capsys):
    config, connection, shop_url = site
    if getattr(mysql_server, "local", None) is None:
        pytest.skip("needs the throwaway MariaDB the tests started (it is restarted)")
    log_path = tmp_path / "service.log"
    service = _service(config, log_path)
    try:
        time.sleep(2)
        changes = _edit_both_sides(connection, shop_url, 1)
        mysql_server.local.restart()
        changes += _edit_both_sides(connection, shop_url, 2)
        time.sleep(3)
    finally:
        service.send_signal(signal.SIGTERM)
        service.wait(timeout=60)
    differences = _settle_and_reconcile(config, capsys)
    with capsys.disabled():
        print(
            json.dumps({"scenario": "MariaDB restart", "restarts": 1, "changes": changes, "differences": differences})
        )


LOCKER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=15, isolation_level=None)  # between two of the service's scans
db.execute("BEGIN EXCLUSIVE")
db.execute("UPDATE F_ART SET DESART = 'editado bajo bloqueo', FUMART = ? WHERE CODART = 'TAZ010'", (sys.argv[2],))
print("locked", flush=True)
sys.stdin.readline()
db.execute("COMMIT")
"""


def test_factusol_file_locked_for_a_long_while_as_changes_flow_then_nothing_is_lost(site, tmp_path, capsys):
    config, connection, shop_url = site
    log_path = tmp_path / "service.log"
    service = _service(config, log_path)
    locked_for = 0.0
    try:
        _wait(lambda: _service_report(config).get("state") == "running")
        changes = _edit_both_sides(connection, shop_url, 1)
        # FactuSOL (or its compaction, or a backup program) holds the file, in its own process (a lock is the
        # process's: one this test took would go with any descriptor of the file the test closes); its own edit
        # waits in its transaction
        locker = subprocess.Popen(
            [sys.executable, "-c", LOCKER, _fs_path(connection), datetime.now().strftime("%Y-%m-%d %H:%M:%S")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        started = time.monotonic()
        try:
            assert locker.stdout.readline().strip() == "locked"
            changes += 1
            for n in (2, 3):  # the shop goes on changing: its FactuSOL writes wait for the file
                with ShopConnection(shop_url) as shop:
                    shop.execute(
                        "UPDATE {p}customer SET lastname = %s, date_upd = NOW() WHERE id_customer = %s",
                        (f"Bloqueo{n}", n),
                    )
                changes += 1
                time.sleep(2)

            def locked_since():
                """the service says the FactuSOL file is locked"""
                watcher = (_service_report(config).get("capture") or {}).get("factusol") or {}
                return watcher.get("locked_since")

            since = _wait(locked_since, 30)
            capsys.readouterr()
            assert main(["status", "--config", str(config)]) == 0
            assert "FactuSOL file: locked since" in capsys.readouterr().out
            time.sleep(max(3.0, LOCKED_SECONDS - (time.monotonic() - started)))  # a long lock: many retries
            assert locked_since() == since  # the same lock all along, said once
        finally:
            locker.communicate("commit\n", timeout=30)
        assert locker.returncode == 0
        locked_for = time.monotonic() - started

        def applied():
            """the edit made under the lock reached the shop"""
            with ShopConnection(shop_url) as shop:
                row = shop.query_one(
                    "SELECT pl.name FROM {p}product_lang pl JOIN {p}product p ON p.id_product = pl.id_product"
                    " WHERE p.reference = 'TAZ010' AND pl.id_lang = %s",
                    (shop.id_lang,),
                )
            return row and row["name"] == "editado bajo bloqueo"

        _wait(applied, 60)
        _wait(lambda: not ((_service_report(config).get("capture") or {}).get("factusol") or {}).get("locked_since"))
    finally:
        service.send_signal(signal.SIGTERM)
        service.wait(timeout=60)
    log = log_path.read_text()
    assert "Traceback" not in log and "FactuSOL file locked since" in log and "unlocked after" in log, log[-3000:]
    differences = _settle_and_reconcile(config, capsys)
    with capsys.disabled():
        print(
            json.dumps(
                {
                    "scenario": "FactuSOL file locked",
                    "locked_seconds": round(locked_for),
                    "changes": changes,
                    "differences": differences,
                }
            )
        )


def test_factusol_file_replaced_by_a_restored_backup_under_load_halts_then_reconcile_brings_both_in_step(
    site, tmp_path, capsys
):
    config, connection, shop_url = site
    path = _fs_path(connection)
    backup = tmp_path / "backup.sqlite"
    with sqlite3.connect(path) as src, sqlite3.connect(backup) as dst:  # the backup FactuSOL's user made
        src.backup(dst)
    log_path = tmp_path / "service.log"
    service = _service(config, log_path)
    changes = 0
    try:
        _wait(lambda: _service_report(config).get("state") == "running")
        for n in range(3):  # changes flow both ways after the backup, and are applied
            changes += _edit_both_sides(connection, shop_url, 10 + n)
            time.sleep(1)
        time.sleep(3)
        changes += _edit_both_sides(connection, shop_url, 20)
        # under load: the backup is copied over the file while the service works on it (same path, older data)
        with sqlite3.connect(backup) as src, sqlite3.connect(path) as dst:
            src.backup(dst)
        changes += _edit_both_sides(connection, shop_url, 21)

        def stopped():
            """the service stopped applying for the restored file"""
            capsys.readouterr()
            main(["status", "--config", str(config)])
            return "applying is STOPPED" in capsys.readouterr().out

        _wait(stopped, 60)
    finally:
        service.send_signal(signal.SIGTERM)
        service.wait(timeout=60)
    assert "Traceback" not in log_path.read_text()
    found = _reconcile(config, capsys)
    assert main(["accept-baseline", "--config", str(config)]) == 0
    repaired = _reconcile(config, capsys, "--repair")
    # what both sides changed since the last agreed image (the shop edited while FactuSOL went back) is a conflict
    # for a person, as the rules say: the report names it; here the person keeps the shop's value
    left = _reconcile(config, capsys)["differences"] if repaired["remaining"] else []
    conflicts = Store(load_config(config).store).conflicts()
    assert all("open conflict #" in d["detail"] for d in left), "\n".join(map(str, left))
    assert {(d["entity"], d["key"]) for d in left} <= {(c.entity, c.key) for c in conflicts}
    for conflict in conflicts:
        assert main(["resolve", str(conflict.id), "--take", "prestashop", "--config", str(config)]) == 0
    differences = _settle_and_reconcile(config, capsys)
    with capsys.disabled():
        print(
            json.dumps(
                {
                    "scenario": "FactuSOL file restored from a backup",
                    "changes": changes,
                    "found_after_restore": found["total"],
                    "repaired_keys": sum(len(v) for v in repaired["repaired"].values()),
                    "conflicts_resolved": len(conflicts),
                    "differences": differences,
                }
            )
        )


def _run_a_while(config, log_path, connection, shop_url, n: int) -> int:
    """The service runs, both sides change and the changes are applied, then it is stopped: the changes made."""
    service = _service(config, log_path)
    try:
        _wait(lambda: _service_report(config).get("state") == "running")
        changes = _edit_both_sides(connection, shop_url, n)
        time.sleep(3)
    finally:
        service.send_signal(signal.SIGTERM)
        service.wait(timeout=60)
    return changes


def test_binlog_purged_while_the_service_was_stopped_then_reconcile_finds_nothing(site, mysql_server, tmp_path, capsys):
    config, connection, shop_url = site
    if getattr(mysql_server, "local", None) is None:
        pytest.skip("needs the throwaway MariaDB the tests started (its binary logs are purged)")
    log_path = tmp_path / "service.log"
    changes = _run_a_while(config, log_path, connection, shop_url, 40)
    stored = Store(load_config(config).store).checkpoint("prestashop.binlog")
    changes += _edit_both_sides(connection, shop_url, 41)  # while it is stopped, then the logs holding them go
    with ShopConnection(shop_url) as server:
        server.execute("FLUSH BINARY LOGS")
        newest = server.query_one("SHOW MASTER STATUS")["File"]
        deadline = time.monotonic() + 30
        while stored["file"] in [r["Log_name"] for r in server.query("SHOW BINARY LOGS")]:
            server.execute(f"PURGE BINARY LOGS TO '{newest}'")  # kept until the server's own checkpoint moves on
            assert time.monotonic() < deadline, "the server did not purge the old binary log"
            time.sleep(0.2)
    changes += _run_a_while(config, log_path, connection, shop_url, 42)
    log = log_path.read_text()
    assert "Traceback" not in log and "is no longer on the shop's server" in log, log[-3000:]
    differences = _settle_and_reconcile(config, capsys)
    with capsys.disabled():
        print(json.dumps({"scenario": "binlog purged while stopped", "changes": changes, "differences": differences}))


def test_state_store_deleted_while_stopped_halts_then_accept_baseline_and_repair_bring_both_in_step(
    site, tmp_path, capsys
):
    config, connection, shop_url = site
    log_path = tmp_path / "service.log"
    changes = _run_a_while(config, log_path, connection, shop_url, 50)
    store_file = load_config(config).store.removeprefix("sqlite:///")
    for path in (store_file, store_file + "-wal", store_file + "-shm"):  # the state store is lost
        if os.path.exists(path):
            os.remove(path)
    changes += _edit_both_sides(connection, shop_url, 51)  # and both sides change meanwhile
    capsys.readouterr()
    assert main(["run", "--config", str(config), "--once"]) == 1  # a store the shop was not written with: stopped
    assert "state store" in capsys.readouterr().err
    found = _reconcile(config, capsys)
    assert found["total"] > 0  # without links every key is reported, nothing is written yet
    assert main(["accept-baseline", "--config", str(config)]) == 0
    repaired = _reconcile(config, capsys, "--repair")
    left = _reconcile(config, capsys)["differences"] if repaired["remaining"] else []
    conflicts = Store(load_config(config).store).conflicts()
    assert all("open conflict #" in d["detail"] for d in left), "\n".join(map(str, left))
    for conflict in conflicts:  # what the rules leave to a person: here the person keeps the shop's value
        assert main(["resolve", str(conflict.id), "--take", "prestashop", "--config", str(config)]) == 0
    differences = _settle_and_reconcile(config, capsys)
    assert len(Store(load_config(config).store).id_map("product")) > 0  # the links were made again, not doubled
    with capsys.disabled():
        print(
            json.dumps(
                {
                    "scenario": "state store deleted while stopped",
                    "changes": changes,
                    "found_after_loss": found["total"],
                    "repaired_keys": sum(len(v) for v in repaired["repaired"].values()),
                    "conflicts_resolved": len(conflicts),
                    "differences": differences,
                }
            )
        )
