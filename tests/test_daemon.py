"""`replicator run` as a service: it replicates while running, keeps going on a bad rule edit, stops on SIGTERM."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time

from replicator.config import render_config
from replicator.factusol.connection import open_factusol
from replicator.sandbox.factusol import create_sandbox
from replicator.factusol.writer import update_stock
from replicator.prestashop.connection import ShopConnection
from replicator.sandbox.shop import create_shop


def wait_for(predicate, seconds: float = 30.0, step: float = 0.3):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return None


def test_service_replicates_survives_a_bad_rule_edit_and_stops_on_sigterm(mysql_server, mysql_db, tmp_path):
    from replicator.config import default_rules_dir

    fs_path = tmp_path / "FS" / "0012026.sqlite"
    fs_path.parent.mkdir()
    connection = create_sandbox(str(fs_path), articles=15, customers=3, seed=5)
    shop_url = create_shop(mysql_server.url, mysql_db, demo=True)
    config = tmp_path / "replicator.yaml"
    config.write_text(
        render_config(connection, shop_url).replace("apply_interval_seconds: 2", "apply_interval_seconds: 0.5"),
        encoding="utf-8",
    )
    shutil.copytree(default_rules_dir(), tmp_path / "rules")
    log_path = tmp_path / "service.log"
    with open(log_path, "w") as log:
        service = subprocess.Popen(
            [sys.executable, "-m", "replicator.cli", "run", "--config", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        assert wait_for(lambda: "replicator running" in log_path.read_text(), 60), log_path.read_text()[-2000:]
        shop = ShopConnection(shop_url)
        fs = open_factusol(connection)
        articles = [
            r["CODART"]
            for r in fs.query(
                "SELECT [CODART] FROM [F_ART] WHERE [SUWART] = ? AND [CODART]"
                " NOT IN (SELECT [ARTARC] FROM [F_ARC]) ORDER BY [CODART]",
                [1],
            )
        ]
        marks = ", ".join(["%s"] * len(articles))
        product = shop.query_one(
            f"SELECT id_product, reference FROM {{p}}product WHERE reference IN ({marks}) ORDER BY id_product LIMIT 1",
            articles,
        )
        article = product["reference"]

        def shop_quantity():
            shop.conn.commit()  # a fresh snapshot for the next read
            return shop.query_one(
                "SELECT quantity FROM {p}stock_available WHERE id_product = %s AND id_product_attribute = 0",
                (product["id_product"],),
            )["quantity"]

        update_stock(fs, article, "GEN", actual=777, available=777)
        assert wait_for(lambda: shop_quantity() >= 770), log_path.read_text()[-2000:]

        # an invalid rule edit is reported and the previous rules stay in force
        stock_rules = tmp_path / "rules" / "stock.yaml"
        stock_rules.write_text(
            stock_rules.read_text().replace("formula: physical_minus_pending_orders", "formula: guesswork")
        )
        assert wait_for(lambda: "previous rules stay in force" in log_path.read_text(), 30)
        update_stock(fs, article, "GEN", actual=500, available=500)
        assert wait_for(lambda: 490 <= shop_quantity() <= 500), log_path.read_text()[-2000:]
        # the watchers' state is published where `replicator status` and the TUI read it
        from replicator.store import Store

        store = Store(f"sqlite:///{tmp_path / 'replicator-state.sqlite'}")
        status = wait_for(lambda: store.checkpoint("service"), 10)
        assert status["capture"]["factusol"]["state"] in ("idle", "scanning", "waiting")
        assert status["capture"]["prestashop_mode"] == "binlog"
        fs.close()
        shop.close()
    finally:
        service.send_signal(signal.SIGTERM)
        code = service.wait(timeout=60)
    text = log_path.read_text()
    assert code == 0, text[-2000:]
    assert "Traceback" not in text
