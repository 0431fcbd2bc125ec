"""The fault suite (`make faults`): the service killed with kill -9 at random points while changes flow both ways,
MariaDB restarted under it; after each, `replicator reconcile` must report 0 differences.  Prints one JSON line of
counts per scenario (see docs/reliability.md)."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime

import pytest

from replicator.cli import main
from replicator.config import default_rules_dir, render_config
from replicator.factusol.connection import open_factusol
from replicator.factusol.writer import update_fields, update_stock
from replicator.prestashop.connection import ShopConnection
from replicator.sandbox.factusol import create_sandbox
from replicator.sandbox.shop import create_shop

pytestmark = [pytest.mark.mysql, pytest.mark.faults]
ROUNDS = int(os.environ.get("REPLICATOR_FAULT_ROUNDS", "4"))


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


def _settle_and_reconcile(config, capsys) -> int:
    for _ in range(2):  # what the killed service left pending, then what its last apply captured
        assert main(["run", "--config", str(config), "--once"]) == 0
    capsys.readouterr()
    total = 0
    for entity in ("product", "customer"):
        main(["reconcile", entity, "--config", str(config), "--json"])
        report = json.loads(capsys.readouterr().out)
        assert report["total"] == 0, report["differences"]
        total += report["total"]
    return total


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
