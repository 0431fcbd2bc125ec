"""The service's apply loop is woken by captured changes, not by its interval: a FactuSOL scan, a binlog batch and a
poll that commit changes wake it at once; a change committed during an apply is taken by the next one; a commit
that logged nothing (echoes, an empty scan) wakes nothing, so an apply never brings on another by itself."""

from __future__ import annotations

import shutil
import threading
import time

import pytest

from replicator.capture.wakeup import Wakeup, run_loop
from replicator.config import load_config, render_config
from replicator.factusol.connection import open_factusol
from replicator.factusol.writer import update_stock
from replicator.prestashop.connection import ShopConnection
from replicator.sandbox.factusol import create_sandbox
from replicator.sandbox.shop import create_shop


def wait_for(predicate, seconds: float = 60.0, step: float = 0.05):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return None


def test_a_change_committed_during_an_apply_is_taken_by_the_next_one_and_nothing_else_reruns_it():
    stop = threading.Event()
    wakeup = Wakeup(stop)
    cycles: list[int] = []

    def cycle() -> None:
        cycles.append(len(cycles))
        if len(cycles) == 1:
            wakeup.notify(3)  # a capture commits 3 changes while the first apply runs

    loop = threading.Thread(target=run_loop, args=(cycle, wakeup, stop, 3600.0), daemon=True)
    loop.start()
    # The interval is an hour: a second cycle can only come from the notification made during the first.
    assert wait_for(lambda: len(cycles) == 2, 30)
    wakeup.notify(0)  # a commit that logged nothing (our own echoes): no apply
    time.sleep(0.3)
    assert len(cycles) == 2  # the second apply found nothing new: it does not re-run by itself
    wakeup.notify(1)
    assert wait_for(lambda: len(cycles) == 3, 30)
    stop.set()  # a stop request ends the wait too
    loop.join(30)
    assert not loop.is_alive() and len(cycles) == 3 and wakeup.notified == 2


@pytest.mark.parametrize("mode", ["binlog", "poll"])
def test_the_service_applies_captured_changes_without_waiting_for_its_interval(mysql_server, mysql_db, tmp_path, mode):
    from replicator import daemon
    from replicator.config import default_rules_dir

    fs_path = tmp_path / "0012026.sqlite"
    connection = create_sandbox(str(fs_path), articles=15, customers=3, seed=5)
    shop_url = create_shop(mysql_server.url, mysql_db, demo=True)
    text = render_config(connection, shop_url).replace("apply_interval_seconds: 2", "apply_interval_seconds: 3600")
    text = text.replace("capture: auto", f"capture: {mode}").replace("poll_seconds: 5", "poll_seconds: 0.5")
    (tmp_path / "replicator.yaml").write_text(text, encoding="utf-8")
    shutil.copytree(default_rules_dir(), tmp_path / "rules")
    config = load_config(tmp_path / "replicator.yaml")
    stop = threading.Event()
    applies: list[int] = []
    real_serve = daemon.serve

    def serve(runtime, stop_event, *args, **kwargs):
        apply_pending = runtime.engine.apply_pending

        def counted():
            report = apply_pending()
            applies.append(report.changes)
            return report

        runtime.engine.apply_pending = counted
        return real_serve(runtime, stop_event, *args, **kwargs)

    service = threading.Thread(target=lambda: daemon.run(config, stop=stop), daemon=True)
    daemon_serve, daemon.serve = daemon.serve, serve
    try:
        service.start()
        assert wait_for(lambda: len(applies) >= 2, 120)  # the initial sync's run, then the loop's first cycle
        shop, fs = ShopConnection(shop_url), open_factusol(connection)
        try:
            articles = [
                r["CODART"]
                for r in fs.query(
                    "SELECT [CODART] FROM [F_ART] WHERE [SUWART] = ? AND"
                    " [CODART] NOT IN (SELECT [ARTARC] FROM [F_ARC])",
                    [1],
                )
            ]
            marks = ", ".join(["%s"] * len(articles))
            product = shop.query_one(
                f"SELECT id_product, reference FROM {{p}}product WHERE reference IN ({marks})"
                " ORDER BY id_product LIMIT 1",
                articles,
            )

            def shop_quantity():
                shop.conn.commit()  # a fresh snapshot for the next read
                return shop.query_one(
                    "SELECT quantity FROM {p}stock_available WHERE id_product = %s AND id_product_attribute = 0",
                    (product["id_product"],),
                )["quantity"]

            update_stock(fs, product["reference"], "GEN", actual=777, available=777)
            assert wait_for(lambda: shop_quantity() >= 770, 60)  # FactuSOL scan -> apply, within the hour

            customer = shop.query_one(
                "SELECT id_customer FROM {p}customer WHERE deleted = 0 AND is_guest = 0 ORDER BY id_customer LIMIT 1"
            )
            from replicator.store import Store

            store = Store(config.store)
            code = store.id_map_by_prestashop("customer", [customer["id_customer"]])
            assert code, "the initial sync links the shop's customers"
            shop.execute(
                "UPDATE {p}customer SET lastname = %s, date_upd = NOW() WHERE id_customer = %s",
                ("Wakeful", customer["id_customer"]),
            )
            shop.conn.commit()

            def factusol_name():
                rows = fs.query("SELECT [NOFCLI] FROM [F_CLI]")
                return any("Wakeful" in (r["NOFCLI"] or "") for r in rows)

            assert wait_for(factusol_name, 60)  # binlog batch / poll -> apply, within the hour
        finally:
            shop.close()
            fs.close()
    finally:
        stop.set()
        service.join(60)
        daemon.serve = daemon_serve
    assert not service.is_alive()
