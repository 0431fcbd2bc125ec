"""A FactuSOL file replaced under the replicator (restored from a backup, copied over, another company's file) stops
the apply with the command to run; FactuSOL's own saves, a deleted last document and a compaction do not."""

from __future__ import annotations

import os
import shutil
import time

import pytest

from replicator.config import FactusolConfig
from replicator.factusol.connection import connection_string_for, open_factusol
from replicator.factusol.errors import FactusolRestoredError
from replicator.factusol.scanner import FactusolScanner
from replicator.halt import HALT, accept, halted
from replicator.sandbox.access_sql import *  # noqa: F401,F403
from replicator.store import Store


@pytest.fixture
def live(sandbox_path, tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'state.sqlite'}")
    cfg = FactusolConfig(file=sandbox_path)
    scanner = FactusolScanner(store, cfg)
    assert scanner.scan().changes == 0  # the first sight: the baseline
    return sandbox_path, store, cfg, scanner


def _edit(path, sql: str, params: list) -> None:
    conn = open_factusol(connection_string_for(path))
    try:
        conn.execute(sql, params)
    finally:
        conn.close()


def _last_order(path) -> tuple[str, int]:
    conn = open_factusol(connection_string_for(path))
    try:
        row = conn.query_one("SELECT TOP 1 [TIPPCL], [CODPCL] FROM [F_PCL] ORDER BY [TIPPCL], [CODPCL] DESC")
    finally:
        conn.close()
    return row["TIPPCL"], row["CODPCL"]


def _new_order(path) -> tuple[str, int]:
    series, number = _last_order(path)
    _edit(path, "INSERT INTO [F_PCL] ([TIPPCL], [CODPCL], [CLIPCL]) VALUES (?, ?, ?)", [series, number + 1, 1])
    return series, number + 1


def _backup(path, tmp_path, age_seconds: float | None):
    """A copy of the file as it is now; with `age_seconds`, dated that long ago, as a backup keeps its date."""
    copy = tmp_path / "backup" / path.name
    copy.parent.mkdir(exist_ok=True)
    shutil.copyfile(path, copy)
    if age_seconds is not None:
        then = time.time() - age_seconds
        os.utime(copy, (then, then))
    return copy


def _put_back(copy, path) -> None:
    """The copy takes the file's place as another file on disk (a restore that writes a new file)."""
    staged = path.with_name(path.name + ".restoring")
    shutil.copy2(copy, staged)
    os.replace(staged, path)


def test_an_older_copy_put_back_stops_the_apply_until_accepted(live, tmp_path):
    path, store, cfg, scanner = live
    backup = _backup(path, tmp_path, age_seconds=3600)
    series, number = _new_order(path)  # a document made after the backup
    assert scanner.scan().changes == 1
    before = len(store.changes())
    _put_back(backup, path)
    with pytest.raises(FactusolRestoredError) as info:
        scanner.scan()
    message = str(info.value)
    assert f"the FactuSOL file {path.name} was replaced by another file" in message
    assert "last-write time went back" in message
    assert f"F_PCL series '{series}' ends at {number - 1}, it ended at {number}" in message
    stopped = halted(store)
    assert stopped["cause"] == "factusol_restored" and stopped["reason"] == message
    assert "reconcile" in stopped["command"] and "accept-baseline" in stopped["command"]
    assert len(store.changes()) == before  # the vanished order is not sent to the shop as a delete
    with pytest.raises(FactusolRestoredError):  # a later scan, by a new scanner too, stays stopped
        FactusolScanner(store, cfg).scan()
    assert accept(store)["cause"] == "factusol_restored" and not halted(store)
    assert FactusolScanner(store, cfg).scan().changes == 0  # the restored file is the new baseline
    _new_order(path)
    assert FactusolScanner(store, cfg).scan().changes == 1  # and later edits flow again
    assert not store.checkpoint(HALT)


def test_an_older_copy_with_a_new_date_is_found_by_its_document_numbers(live, tmp_path):
    path, store, cfg, scanner = live
    backup = _backup(path, tmp_path, age_seconds=None)
    _new_order(path)
    scanner.scan()
    _put_back(backup, path)
    with pytest.raises(FactusolRestoredError, match="new file on disk whose documents stop earlier"):
        scanner.scan()
    assert halted(store)["cause"] == "factusol_restored"


def test_another_company_file_copied_over_in_place_stops_the_apply(live, tmp_path):
    path, store, cfg, scanner = live
    other = _backup(path, tmp_path, age_seconds=None)
    _edit(other, "UPDATE [F_EMP] SET [CODEMP] = ?, [NIFEMP] = ?", ["002", "B99999999"])
    inode = os.stat(path).st_ino
    shutil.copyfile(other, path)  # written into the same file on disk, with today's date
    assert os.stat(path).st_ino == inode
    with pytest.raises(FactusolRestoredError, match="its company rows are 002 B99999999, they were 001 "):
        scanner.scan()


def test_saves_a_deleted_last_document_and_a_compaction_do_not_stop_anything(live, tmp_path):
    path, store, cfg, scanner = live
    _edit(path, "UPDATE [F_ART] SET [DESART] = ? WHERE [CODART] = (SELECT MIN([CODART]) FROM [F_ART])", ["saved"])
    assert scanner.scan().changes == 1  # FactuSOL's save: the file written in place
    series, number = _last_order(path)
    _edit(path, "DELETE FROM [F_PCL] WHERE [TIPPCL] = ? AND [CODPCL] = ?", [series, number])
    assert scanner.scan().changes == 1  # the last document of a series deleted, in the same file
    compacted = _backup(path, tmp_path, age_seconds=None)
    _put_back(compacted, path)  # compact/repair: a new file on disk with the same data
    assert os.stat(path).st_ino != os.stat(compacted).st_ino
    assert scanner.scan().changes == 0
    _new_order(path)
    assert scanner.scan().changes == 1
    assert not halted(store)
