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
