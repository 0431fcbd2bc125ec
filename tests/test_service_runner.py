"""The service runner: a stop request (SIGTERM on POSIX; what the Windows service stop calls) drains cleanly.

The current apply finishes, the watchers commit their checkpoints, the stopped state is published and the
process ends within 10 seconds, with exit code 0.
"""

from __future__ import annotations

import signal
import threading
import time

from replicator.config import load_config
from replicator.factusol.writer import update_stock
from replicator.service.runner import DRAIN_SECONDS, ServiceRunner
from replicator.store import Store

from _service_env import installation, published_article, start_service, wait_for


def test_sigterm_drains_and_exits_within_ten_seconds(mysql_server, mysql_db, tmp_path):
    config, connection, shop_url = installation(mysql_server, mysql_db, tmp_path)
    log_path = tmp_path / "service.log"
    service = start_service(config, log_path)
    try:
        assert wait_for(lambda: "replicator running" in log_path.read_text(), 60), log_path.read_text()[-2000:]
        fs, shop, article, quantity = published_article(connection, shop_url)
        update_stock(fs, article, "GEN", actual=321, available=321)
        assert wait_for(lambda: quantity() >= 300), log_path.read_text()[-2000:]
        update_stock(fs, article, "GEN", actual=123, available=123)  # a change in flight when the stop comes
        time.sleep(1.0)
        asked = time.monotonic()
        service.send_signal(signal.SIGTERM)
        code = service.wait(timeout=30)
        took = time.monotonic() - asked
    finally:
        if service.poll() is None:
            service.kill()
    text = log_path.read_text()
    print(f"SIGTERM to exit: {took:.2f} s")
    assert code == 0, text[-2000:]
    assert took < DRAIN_SECONDS, f"stopped in {took:.1f}s"
    assert "SIGTERM received: finishing the current apply" in text
    assert "replicator stopped cleanly" in text
    assert "Traceback" not in text
    store = Store(load_config(config).store)
    assert store.checkpoint("service")["state"] == "stopped"
    assert store.checkpoint("factusol.scan")["scan"] >= 1  # the FactuSOL watcher committed its checkpoint
    fs.close()
    shop.close()


def test_a_stop_request_from_another_thread_drains_like_the_windows_service_stop(mysql_server, mysql_db, tmp_path):
    """SvcStop runs on the service control handler's thread and calls request_stop: the same path, in-process."""
    config_path, connection, shop_url = installation(mysql_server, mysql_db, tmp_path)
    runner = ServiceRunner(load_config(config_path))
    store = Store(load_config(config_path).store)  # before the service's thread: both would create the tables
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("code", runner.run()), daemon=True)
    thread.start()
    assert wait_for(lambda: (store.checkpoint("service") or {}).get("state") == "running", 90)
    fs, shop, article, quantity = published_article(connection, shop_url)
    update_stock(fs, article, "GEN", actual=654, available=654)
    assert wait_for(lambda: quantity() >= 640)
    asked = time.monotonic()
    runner.request_stop("service stop requested")
    assert runner.stopped.wait(DRAIN_SECONDS + 5)
    took = time.monotonic() - asked
    thread.join(5)
    print(f"stop request to stopped: {took:.2f} s")
    assert result == {"code": 0}
    assert took < DRAIN_SECONDS, f"stopped in {took:.1f}s"
    assert store.checkpoint("service")["state"] == "stopped"
    fs.close()
    shop.close()
