"""The service's apply loop is woken by captured changes, not by its interval: a FactuSOL scan, a binlog batch and a
poll that commit changes wake it at once; a change committed during an apply is taken by the next one; a commit
that logged nothing (echoes, an empty scan) wakes nothing, so an apply never brings on another by itself."""

from __future__ import annotations

import threading
import time

import pytest

from replicator.capture.wakeup import Wakeup, run_loop
from replicator.config import load_config
from replicator.factusol.writer import update_stock

from _service_env import installation, published_article, wait_for


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

    config_path, connection, shop_url = installation(
        mysql_server,
        mysql_db,
        tmp_path,
        apply_interval="3600",
        edits=(("capture: auto", f"capture: {mode}"), ("poll_seconds: 5", "poll_seconds: 0.5")),
    )
    config = load_config(config_path)
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
        fs, shop, article, shop_quantity = published_article(connection, shop_url)
        try:
            update_stock(fs, article, "GEN", actual=777, available=777)
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
