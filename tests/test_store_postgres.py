"""The state store on a real PostgreSQL (started by the tests): instances sharing one server under their own
namespace, `status --all`, and a lost connection that fails a batch whole and is resumed from."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from replicator.cli import main
from replicator.store import CapturedRow, Store


def _row(i: int) -> CapturedRow:
    return CapturedRow(
        side="prestashop",
        entity="stock",
        source_table="stock_available",
        row_key=f'{{"id":{i}}}',
        op="insert",
        before=None,
        after={"id": i, "q": i},
        position=f"bin.000001:{100 + i}#0",
        txn=f"bin.000001:{100 + i}",
    )


def test_instances_share_one_server_each_under_its_namespace(pg_url):
    one, two = Store(pg_url, "shop_one"), Store(pg_url, "shop_two")
    assert one.record_capture([_row(1), _row(2)], ("prestashop.binlog", {"pos": 2})) == 2
    assert two.record_capture([_row(1)], ("prestashop.binlog", {"pos": 9})) == 1
    assert one.checkpoint("prestashop.binlog") == {"pos": 2} and two.checkpoint("prestashop.binlog") == {"pos": 9}
    assert len(one.changes()) == 2 and len(two.changes()) == 1
    one.open_conflict("customer", "fs:1", "email", "a@x.es", "b@x.es", "c@x.es")
    assert two.conflicts() == []
    assert Store.namespaces(pg_url) == ["shop_one", "shop_two"]
    again = Store(pg_url, "shop_one")  # a restarted instance finds its own state
    assert again.checkpoint("prestashop.binlog") == {"pos": 2} and len(again.conflicts()) == 1


def test_a_namespace_is_refused_on_sqlite_and_when_not_a_plain_name(tmp_path, pg_url):
    with pytest.raises(ValueError, match="store_namespace"):
        Store(f"sqlite:///{tmp_path / 'state.sqlite'}", "shop_one")
    with pytest.raises(ValueError, match="store_namespace"):
        Store(pg_url, 'x"; DROP SCHEMA public; --')


def test_status_all_lists_every_instance(pg_url, tmp_path, capsys, monkeypatch):
    Store(pg_url, "shop_one").record_capture([_row(1)], ("prestashop.binlog", {"pos": 1}))
    Store(pg_url, "shop_two")
    monkeypatch.setenv("PS_DB_PASSWORD", "unused")
    (tmp_path / "fs.sqlite").touch()
    assert main(["init", str(tmp_path), "--factusol", f"DRIVER={{SQLite3}};Database={tmp_path / 'fs.sqlite'}"]) == 0
    config = tmp_path / "replicator.yaml"
    text = config.read_text(encoding="utf-8").replace(
        "store: sqlite:///replicator-state.sqlite", f"store: {pg_url}\nstore_namespace: shop_two"
    )
    config.write_text(text, encoding="utf-8")
    capsys.readouterr()
    assert main(["status", "--config", str(config), "--all"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("shop_one: pending 1") and "\nshop_two: no changes" in out


def test_a_lost_connection_fails_the_batch_whole_and_the_store_resumes(pg_server, pg_url):
    if pg_server.local is None:
        pytest.skip("needs the throwaway server the tests started (it is stopped and started again)")
    store = Store(pg_url, "shop_one")
    store.record_capture([_row(1)], ("prestashop.binlog", {"pos": 1}))
    pg_server.local.ctl("stop", "-m", "immediate")
    try:
        with pytest.raises(OperationalError):
            store.record_capture([_row(2), _row(3)], ("prestashop.binlog", {"pos": 3}))
    finally:
        pg_server.local.ctl("start")
    # nothing of the failed batch, neither its rows nor its checkpoint; the same store object goes on
    assert [c.row_key for c in store.changes()] == ['{"id":1}'] and store.checkpoint("prestashop.binlog") == {"pos": 1}
    assert store.record_capture([_row(2), _row(3)], ("prestashop.binlog", {"pos": 3})) == 2
    assert store.checkpoint("prestashop.binlog") == {"pos": 3} and len(store.changes()) == 3
