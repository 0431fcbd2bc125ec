"""The capture core drives each side's capture source through one protocol, `Side` (replicator/capture/side.py):
FactuSOL's watcher, the shop's binlog reader and its chunk poller all declare it, and a source that cannot start is
reported in one sentence in its status while the other side goes on."""

from __future__ import annotations

import logging
import time

from replicator.capture.service import CaptureService
from replicator.capture.side import SIDES, Side
from replicator.config import Config, FactusolConfig, PrestashopConfig
from replicator.factusol.watcher import FactusolWatcher
from replicator.prestashop.binlog import BinlogCapture
from replicator.prestashop.chunkpoll import ChunkPoller
from replicator.store import Store


def test_each_capture_source_is_a_side(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'state.sqlite'}")
    shop = PrestashopConfig(url="mysql://user:secret@127.0.0.1:3306/shop")
    sources = [
        FactusolWatcher(store, FactusolConfig(file=tmp_path / "0012026.sqlite")),
        BinlogCapture(store, shop),
        ChunkPoller(store, shop),
    ]
    for source in sources:
        assert isinstance(source, Side), type(source).__name__
    assert [s.side for s in sources] == ["factusol", "prestashop", "prestashop"]
    assert {s.side for s in sources} == set(SIDES)
    assert all(s.status.as_dict()["state"] == "starting" for s in sources)


def test_a_source_that_cannot_start_is_said_in_one_sentence_in_its_status(tmp_path, caplog):
    missing = tmp_path / "gone" / "0012026.sqlite"  # its folder does not exist: the file watch cannot start
    config = Config(
        path=tmp_path / "replicator.yaml",
        store=f"sqlite:///{tmp_path / 'state.sqlite'}",
        rules_dir=tmp_path,
        factusol=FactusolConfig(file=missing),
        prestashop=PrestashopConfig(url=""),
    )
    service = CaptureService(config, Store(config.store))
    with caplog.at_level(logging.ERROR, logger="replicator.capture"):
        service.start()
        deadline = time.monotonic() + 10
        while service.status()["factusol"]["state"] != "error" and time.monotonic() < deadline:
            time.sleep(0.05)
        service.stop(5)
    status = service.status()["factusol"]
    assert status["state"] == "error"
    assert status["last_error"].startswith("No such file or directory")
    assert "Error" not in status["last_error"] and "[Errno" not in status["last_error"]
    assert "Traceback" not in caplog.text
    assert [r.getMessage() for r in caplog.records] == [f"factusol capture stopped: {status['last_error']}"]
