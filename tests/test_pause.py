"""Giving FactuSOL its file: the idle connection is closed and reopened; `replicator pause` / `resume` stop and
restart the FactuSOL side of a running service; a paused service says so in `status`.

The service runs in this process (the runner, as the Windows service hosts it), so the test can look at which files
the process holds open (/proc/self/fd on Linux).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from replicator.cli import main
from replicator.config import load_config
from replicator.factusol.writer import update_stock
from replicator.service.runner import ServiceRunner
from replicator.store import Store

from _service_env import installation, published_article, wait_for


def _holds_open(path: Path) -> bool:
    """Whether this process has `path` (or its -wal/-journal) open."""
    fd_dir = Path("/proc/self/fd")
    if not fd_dir.is_dir():
        pytest.skip("needs /proc to see the open files")
    target = str(path)
    for fd in fd_dir.iterdir():
        try:
            if os.readlink(fd).startswith(target):
                return True
        except OSError:
            continue
    return False


@pytest.fixture
def service(mysql_server, mysql_db, tmp_path, capsys):
    config_path, connection, shop_url = installation(mysql_server, mysql_db, tmp_path)
    config_path.write_text(
        config_path.read_text().replace("idle_close_seconds: 60", "idle_close_seconds: 1"), encoding="utf-8"
    )
    config = load_config(config_path)
    assert config.factusol.idle_close_seconds == 1
    store = Store(config.store)

    def start():
        runner = ServiceRunner(config)
        thread = threading.Thread(target=runner.run, daemon=True)
        thread.start()
        started.append(runner)
        return runner

    started: list[ServiceRunner] = []
    fs_file = tmp_path / "FS" / "0012026.sqlite"
    yield {
        "config": config_path,
        "store": store,
        "start": start,
        "connection": connection,
        "shop_url": shop_url,
        "file": fs_file,
    }
    for runner in started:
        runner.request_stop("test over")
        runner.stopped.wait(15)


def _state(store) -> dict:
    return store.checkpoint("service") or {}


def test_pause_closes_the_file_and_resume_catches_up(service, capsys):
    store, fs_file = service["store"], service["file"]
    service["start"]()
    assert wait_for(lambda: _state(store).get("state") == "running", 90)
    fs, shop, article, quantity = published_article(service["connection"], service["shop_url"])
    update_stock(fs, article, "GEN", actual=410, available=410)
    assert wait_for(lambda: quantity() >= 400), _state(store)

    assert main(["pause", "--config", str(service["config"]), "--reason", "compact and repair"]) == 0
    assert "the service has closed the FactuSOL file" in capsys.readouterr().out
    state = _state(store)
    assert state["state"] == "paused" and state["factusol_open"] is False
    assert "compact and repair" in state["paused"]
    assert state["capture"]["factusol"]["state"] in ("paused", "idle")
    fs.close()
    assert not _holds_open(fs_file), "the paused service still holds the FactuSOL file"

    assert main(["status", "--config", str(service["config"])]) == 0
    out = capsys.readouterr().out
    assert "service:     paused since" in out and "compact and repair" in out and "running:" not in out

    # FactuSOL's own maintenance writes while paused: nothing reaches the shop until the resume
    from replicator.factusol.connection import open_factusol

    maintenance = open_factusol(service["connection"])
    update_stock(maintenance, article, "GEN", actual=222, available=222)
    maintenance.close()
    assert not wait_for(lambda: quantity() <= 230, 4)
    assert not _holds_open(fs_file)

    assert main(["resume", "--config", str(service["config"])]) == 0
    assert "resumed" in capsys.readouterr().out
    assert wait_for(lambda: quantity() <= 230, 30), _state(store)
    assert wait_for(lambda: _state(store).get("state") == "running", 10)
    shop.close()


def test_the_idle_connection_is_closed_and_reopened_on_the_next_change(service):
    store, fs_file = service["store"], service["file"]
    from replicator.factusol.connection import FactusolConnection

    probe = FactusolConnection(service["connection"])  # the check itself sees an open connection
    assert _holds_open(fs_file)
    probe.close()
    service["start"]()
    assert wait_for(lambda: _state(store).get("state") == "running", 90)
    # nothing to do: after idle_close_seconds the service lets go of the file
    assert wait_for(lambda: _state(store).get("factusol_open") is False, 15), _state(store)
    assert wait_for(lambda: not _holds_open(fs_file), 5)
    fs, shop, article, quantity = published_article(service["connection"], service["shop_url"])
    update_stock(fs, article, "GEN", actual=377, available=377)
    fs.close()
    assert wait_for(lambda: quantity() >= 370, 30), _state(store)  # reopened for the change
    assert wait_for(lambda: _state(store).get("factusol_open") is False, 15)
    shop.close()


def test_a_service_started_while_paused_does_not_open_the_file(service, capsys):
    store, fs_file = service["store"], service["file"]
    assert main(["pause", "--config", str(service["config"])]) == 0
    assert "no service is running now" in capsys.readouterr().out
    assert main(["run", "--once", "--config", str(service["config"])]) == 1  # refused, nothing opened
    err = capsys.readouterr().err
    assert "error: the replicator is paused" in err and "replicator resume" in err
    runner = service["start"]()
    assert wait_for(lambda: _state(store).get("state") == "paused", 15)
    assert not _holds_open(fs_file)
    assert main(["resume", "--config", str(service["config"])]) == 0
    assert wait_for(lambda: _state(store).get("state") == "running", 90)
    runner.request_stop("test over")
    assert runner.stopped.wait(15)
