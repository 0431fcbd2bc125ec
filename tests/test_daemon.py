"""`replicator run` as a service: it replicates while running, keeps going on a bad rule edit, stops on SIGTERM."""

from __future__ import annotations

from replicator.factusol.writer import update_stock

from _service_env import installation, published_article, start_service, stop_service, wait_for


def test_service_replicates_survives_a_bad_rule_edit_and_stops_on_sigterm(mysql_server, mysql_db, tmp_path):
    config, connection, shop_url = installation(mysql_server, mysql_db, tmp_path)
    log_path = tmp_path / "service.log"
    service = start_service(config, log_path)
    try:
        assert wait_for(lambda: "replicator running" in log_path.read_text(), 60), log_path.read_text()[-2000:]
        fs, shop, article, shop_quantity = published_article(connection, shop_url)
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
        code = stop_service(service)
    text = log_path.read_text()
    assert code == 0, text[-2000:]
    assert "Traceback" not in text


HOLDER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=15, isolation_level=None)
db.execute("BEGIN EXCLUSIVE")  # FactuSOL saving, a backup program: no other writer for a few seconds
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
db.execute("COMMIT")
"""


def test_an_apply_that_meets_the_factusol_file_locked_for_a_moment_is_retried_soon_not_at_the_next_tick(
    mysql_server, mysql_db, tmp_path
):
    """The safety tick is 30 s here: a shop edit whose FactuSOL write meets the file locked for 10 s is retried after
    0.1, 0.2, 0.4 ... s (not at the next tick), so it arrives soon after the lock ends; a lock shorter than the tick
    is said once (INFO), not as an ERROR."""
    import subprocess
    import sys

    from replicator.factusol.connection import open_factusol
    from replicator.prestashop.connection import ShopConnection

    config, connection, shop_url = installation(mysql_server, mysql_db, tmp_path, apply_interval="30")
    log_path = tmp_path / "service.log"
    service = start_service(config, log_path)
    try:
        assert wait_for(lambda: "replicator running" in log_path.read_text(), 60), log_path.read_text()[-2000:]
        path = connection.split("Database=")[1].split(";")[0]
        holder = subprocess.Popen([sys.executable, "-c", HOLDER, path, "10"], stdout=subprocess.PIPE, text=True)
        assert holder.stdout.readline().strip() == "locked"
        with ShopConnection(shop_url) as shop:
            customer = shop.query_one("SELECT MIN(id_customer) AS id FROM {p}customer WHERE is_guest = 0")["id"]
            shop.execute(
                "UPDATE {p}customer SET lastname = 'Reintento', date_upd = NOW() WHERE id_customer = %s", (customer,)
            )
        fs = open_factusol(connection)
        try:
            arrived = wait_for(
                lambda: fs.scalar("SELECT COUNT(*) AS [N] FROM [F_CLI] WHERE [NOFCLI] LIKE ?", ["%Reintento%"]), 22
            )
        finally:
            fs.close()
        holder.wait(30)
        assert arrived, log_path.read_text()[-3000:]
    finally:
        code = stop_service(service)
    text = log_path.read_text()
    assert code == 0 and "Traceback" not in text, text[-2000:]
    assert not [line for line in text.splitlines() if "ERROR" in line and "apply cycle failed" in line], text[-2000:]
    assert "INFO    replicator: apply cycle failed, retrying in 0.1s: FactuSOL database is locked" in text
