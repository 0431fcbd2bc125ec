"""PrestaShop capture against a real MariaDB with ROW binlog: binlog groups, echoes, restarts, polling, auto mode."""

from __future__ import annotations

import itertools
import logging
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pymysql
import pytest
from sqlalchemy.exc import IntegrityError

from replicator.capture.service import capture_once
from replicator.prestashop.binlog import check_binlog_access, ensure_ledger_table, ledger_insert_sql
from replicator.prestashop.binlog import BinlogCapture
from replicator.prestashop.catchup import position_is_gone
from replicator.prestashop.poller import PollCapture
from replicator.capture.service import choose_prestashop_mode
from replicator.capture.tables import PRESTASHOP, WatchedTable
from replicator.config import Config, PrestashopConfig
from replicator.prestashop.schema import create_schema
from replicator.store import CapturedRow, Change, Store, dumps, loads

pytestmark = pytest.mark.mysql
_SERVER_IDS = itertools.count(5100)


@pytest.fixture
def shop(mysql_server, mysql_db, tmp_path):
    conn = mysql_server.connect(mysql_db)
    create_schema(conn, "8", "ps_")
    ensure_ledger_table(conn, "ps_")
    store = Store(f"sqlite:///{tmp_path / 'state.sqlite'}")
    cfg = PrestashopConfig(
        url=mysql_server.database_url(mysql_db), prefix="ps_", server_id=next(_SERVER_IDS), poll_overlap_seconds=10
    )
    yield conn, store, cfg
    try:
        conn.close()
    except pymysql.MySQLError:
        pass  # the restart test closes it itself


def run(conn, *statements, commit=True):
    with conn.cursor() as cur:
        if commit:
            cur.execute("START TRANSACTION")
        for st in statements:
            if isinstance(st, tuple):
                cur.execute(*st)
            else:
                cur.execute(st)
        if commit:
            cur.execute("COMMIT")


def K(**pk) -> str:
    return dumps(pk)


def stock_insert(i, qty=5):
    return (
        "INSERT INTO ps_stock_available (id_stock_available, id_product, id_product_attribute, id_shop, "
        "id_shop_group, quantity) VALUES (%s, %s, 0, 1, 0, %s)",
        (i, i, qty),
    )


def order_statements(id_order: int, lines: int = 3):
    ref = uuid.uuid4().hex[:9].upper()
    out = [
        (
            "INSERT INTO ps_orders (id_order, reference, id_shop_group, id_shop, id_carrier, id_lang, id_customer, "
            "id_cart, id_currency, id_address_delivery, id_address_invoice, current_state, secure_key, payment, "
            "module, total_paid, date_add, date_upd) VALUES (%s, %s, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 'k', 'Card', "
            "'ps_checkout', 10.5, NOW(), NOW())",
            (id_order, ref),
        )
    ]
    for n in range(lines):
        out.append(
            (
                "INSERT INTO ps_order_detail (id_order, id_shop, product_id, product_name, product_quantity, "
                "unit_price_tax_incl, unit_price_tax_excl) VALUES (%s, 1, %s, %s, 1, 3.5, 2.89)",
                (id_order, n + 1, f"line {n}"),
            )
        )
    out.append(
        (
            "INSERT INTO ps_order_carrier (id_order, id_carrier, tracking_number, date_add) VALUES (%s, 1, '', NOW())",
            (id_order,),
        )
    )
    out.append(
        (
            "INSERT INTO ps_order_history (id_employee, id_order, id_order_state, date_add) VALUES (0, %s, 2, NOW())",
            (id_order,),
        )
    )
    return out


# ------------------------------------------------------------------------------------------------ access check


def test_check_binlog_access_passes_on_the_test_server(shop):
    conn, _, _ = shop
    assert check_binlog_access(conn) == []


def test_check_binlog_access_names_missing_privileges(mysql_server, mysql_db):
    user = "cap_" + uuid.uuid4().hex[:6]
    with mysql_server.connect() as root, root.cursor() as cur:
        cur.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY 'pw-{user}'")
        cur.execute(f"GRANT SELECT ON `{mysql_db}`.* TO '{user}'@'%'")
    try:
        conn = mysql_server.connect(mysql_db, user=user, password=f"pw-{user}")
        problems = check_binlog_access(conn)
        conn.close()
        assert any("REPLICATION SLAVE" in p for p in problems)
        assert any("REPLICATION CLIENT" in p for p in problems)
        url = mysql_server.database_url(mysql_db).replace("root@", f"{user}:pw-{user}@", 1)
        if "root@" not in mysql_server.url:
            pytest.skip("server URL has a password: auto-mode URL rewrite not supported here")
        cfg = Config(
            path=Path("x.yaml"),
            store="sqlite://",
            rules_dir=Path("."),
            prestashop=PrestashopConfig(url=url, capture="auto"),
        )
        mode, why = choose_prestashop_mode(cfg)
        assert mode == "poll" and "REPLICATION SLAVE" in why
    finally:
        with mysql_server.connect() as root, root.cursor() as cur:
            cur.execute(f"DROP USER '{user}'@'%'")


# ------------------------------------------------------------------------------------------------ binlog


def test_binlog_insert_update_delete_with_images(shop):
    conn, store, cfg = shop
    cap = BinlogCapture(store, cfg)
    cap.capture()  # starts at the current end of the binlog
    run(conn, stock_insert(1, 5))
    run(conn, "UPDATE ps_stock_available SET quantity = 7 WHERE id_stock_available = 1")
    run(conn, "UPDATE ps_customer SET firstname = 'x' WHERE id_customer = -1")  # touches nothing
    run(conn, "DELETE FROM ps_stock_available WHERE id_stock_available = 1")
    report = cap.capture()
    assert report.counts == {"insert": 1, "update": 1, "delete": 1}
    ins, upd, dele = store.changes()
    assert (ins.entity, ins.source_table, ins.row_key) == ("stock", "stock_available", K(id_stock_available=1))
    assert loads(upd.before)["quantity"] == 5 and loads(upd.after)["quantity"] == 7
    assert loads(dele.before)["quantity"] == 7 and dele.after is None
    assert len({ins.txn, upd.txn, dele.txn}) == 3  # three source transactions, three groups
    cp = store.checkpoint("prestashop.binlog")
    assert dele.txn == f"{cp['file']}:{cp['pos']}"
    assert cap.capture().changes == 0


def test_the_url_tls_options_reach_the_binlog_stream(shop):
    # The binlog reader opens its own connections (the stream and the library's control connection) from the same
    # URL: ssl_mode=disabled there as well, and nothing else changes.
    conn, store, cfg = shop
    cfg = PrestashopConfig(url=cfg.url + "?ssl_mode=disabled", prefix="ps_", server_id=cfg.server_id)
    cap = BinlogCapture(store, cfg)
    assert cap.settings["ssl_disabled"] is True
    cap.capture()
    run(conn, stock_insert(1, 5))
    assert cap.capture().changes == 1
    assert [c.row_key for c in store.changes()] == [K(id_stock_available=1)]


def test_one_shop_transaction_is_one_change_group(shop):
    conn, store, cfg = shop
    cap = BinlogCapture(store, cfg)
    cap.capture()
    run(conn, *order_statements(1, lines=3))
    report = cap.capture()
    changes = store.changes()
    assert report.transactions >= 1 and len(changes) == 6
    assert {c.source_table for c in changes} == {"orders", "order_detail", "order_carrier", "order_history"}
    assert len({c.txn for c in changes}) == 1 and len({c.position for c in changes}) == 6
    order = next(c for c in changes if c.source_table == "orders")
    assert loads(order.after)["payment"] == "Card" and str(loads(order.after)["total_paid"]) == "10.500000"
    # the zero date in invoice_date (sql_mode='') arrives as None, text columns as str
    assert loads(order.after)["invoice_date"] is None


def test_values_the_library_does_not_hand_over_as_json_ready_text_are_cleaned_column_by_column(shop):
    # Text in a binary column arrives as bytes, SET as a set, TIME as a timedelta: those become text.  Text that
    # merely reads like a zero date stays as it is (zero DATE/DATETIME values arrive as None already).
    conn, store, cfg = shop
    run(
        conn,
        "CREATE TABLE ps_odd (id INT PRIMARY KEY, label VARCHAR(40), raw VARBINARY(20), note BLOB, "
        "tags SET('a','b','c'), opens TIME, day DATE, empty_day DATETIME) ENGINE=InnoDB",
        commit=False,
    )
    tables = {"odd": WatchedTable(PRESTASHOP, "odd", ("id",), "product")}
    cap = BinlogCapture(store, cfg, tables)
    cap.capture()
    with conn.cursor() as cur:
        cur.execute("SET SESSION sql_mode = ''")
    run(
        conn,
        (
            "INSERT INTO ps_odd VALUES (1, '0000-00-00 looks like a date', %s, %s, 'c,a', '-01:02:03', "
            "'2026-11-28', '0000-00-00 00:00:00')",
            (b"caf\xc3\xa9", "Peñíscola".encode()),
        ),
    )
    assert cap.capture().changes == 1
    (change,) = store.changes()
    assert loads(change.after) == {
        "id": 1,
        "label": "0000-00-00 looks like a date",
        "raw": "café",
        "note": "Peñíscola",
        "tags": "a,c",
        "opens": "-01:02:03",
        "day": "2026-11-28",
        "empty_day": None,
    }


def test_ledger_transaction_is_an_echo_and_the_next_human_edit_is_captured(shop):
    conn, store, cfg = shop
    run(conn, stock_insert(1, 5))
    cap = BinlogCapture(store, cfg)
    cap.capture()
    # Our own write: shop row + ledger row in ONE transaction.
    run(
        conn,
        "UPDATE ps_stock_available SET quantity = 50 WHERE id_stock_available = 1",
        (ledger_insert_sql("ps_"), (123, "stock A1")),
    )
    run(conn, "UPDATE ps_stock_available SET quantity = 49 WHERE id_stock_available = 1")  # a person, right after
    report = cap.capture()
    assert report.echoes == 1
    changes = store.changes()
    assert len(changes) == 1
    assert loads(changes[0].before)["quantity"] == 50 and loads(changes[0].after)["quantity"] == 49


def test_large_echo_transaction_is_dropped_without_decoding_its_rows(shop, monkeypatch):
    from pymysqlreplication.row_event import RowsEvent

    conn, store, cfg = shop
    run(conn, stock_insert(1, 5))
    cap = BinlogCapture(store, cfg)
    cap.capture()
    decoded: list[str] = []  # tables whose RowsEvent rows the library parsed
    fetch_rows = RowsEvent._fetch_rows

    def counting_fetch_rows(self):
        decoded.append(self.table)
        return fetch_rows(self)

    monkeypatch.setattr(RowsEvent, "_fetch_rows", counting_fetch_rows)
    # An initial sync's write: 5,000 products and stock rows, the ledger row last (as shop_marker does).
    values = ", ".join(f"({i}, 1, 'REF-{i:05d}', {i % 97}.5, NOW(), NOW())" for i in range(1, 5001))
    stock = ", ".join(f"({i}, {i}, 0, 1, 0, {i % 50})" for i in range(2, 5001))
    run(
        conn,
        f"INSERT INTO ps_product (id_product, id_tax_rules_group, reference, price, date_add, date_upd) "
        f"VALUES {values}",
        "INSERT INTO ps_stock_available (id_stock_available, id_product, id_product_attribute, id_shop, "
        f"id_shop_group, quantity) VALUES {stock}",
        "UPDATE ps_stock_available SET quantity = 50 WHERE id_stock_available = 1",
        (ledger_insert_sql("ps_"), (7, "initial sync")),
    )
    run(conn, "UPDATE ps_stock_available SET quantity = 49 WHERE id_stock_available = 1")  # a person, right after
    report = cap.capture()
    assert report.echoes == 1 and report.skipped_events > 1  # the echo's rows came in several events
    assert decoded == ["ps_stock_available"]  # only the person's event was parsed
    assert report.row_events == 1 and report.counts == {"insert": 0, "update": 1, "delete": 0}
    changes = store.changes()
    assert [(c.source_table, c.row_key, c.op) for c in changes] == [
        ("stock_available", K(id_stock_available=1), "update")
    ]
    assert loads(changes[0].before)["quantity"] == 50 and loads(changes[0].after)["quantity"] == 49
    cp = store.checkpoint("prestashop.binlog")
    assert changes[0].txn == f"{cp['file']}:{cp['pos']}"
    assert cap.capture().changes == 0 and cap.capture().echoes == 0  # the checkpoint moved past both


def _binlog_order(change) -> tuple:
    file, _, rest = change.position.partition(":")
    pos, _, index = rest.partition("#")
    return file, int(pos), int(index.rstrip("d"))


def test_a_batch_the_commit_thread_cannot_store_stops_the_read_and_is_read_again(shop, tmp_path, monkeypatch):
    # Batches are committed on a background thread.  One the store refuses (here: one of its positions is already
    # logged, so the unique key rejects the whole batch) stops the read with that error; the batches before it
    # stay committed with their checkpoint, the ones after it are not written, and the next read resumes there.
    monkeypatch.setattr("replicator.prestashop.binlog.BATCH_ROWS", 50)
    conn, store, cfg = shop
    cap = BinlogCapture(store, cfg)
    cap.capture()
    start = store.checkpoint("prestashop.binlog")
    for t in range(40):
        run(conn, *(stock_insert(t * 10 + i + 1, qty=t) for i in range(10)))
    cap.capture()
    reference = store.changes()
    assert len(reference) == 400
    assert [_binlog_order(c) for c in reference] == sorted(_binlog_order(c) for c in reference)  # ids follow the log

    other = Store(f"sqlite:///{tmp_path / 'other.sqlite'}")
    other.set_checkpoint("prestashop.binlog", start)
    planted = reference[301]
    other.record_capture(
        [
            CapturedRow(
                planted.side,
                planted.entity,
                planted.source_table,
                planted.row_key,
                planted.op,
                None,
                {"planted": True},
                planted.position,
                planted.txn,
            )
        ]
    )
    cap.store = other
    with pytest.raises(IntegrityError):
        cap.capture()
    stored = [c for c in other.changes() if c.id > 1]
    assert 0 < len(stored) <= 300 and len(stored) % 10 == 0  # whole transactions only, none from the bad batch on
    assert [c.position for c in stored] == [c.position for c in reference[: len(stored)]]
    assert other.checkpoint("prestashop.binlog")["txn"] == stored[-1].txn

    with other.session() as s:  # the operator removes the offending row; the next read goes on from there
        s.delete(s.get(Change, 1))
        s.commit()
    assert cap.capture().changes == 400 - len(stored)
    assert [(c.position, c.row_key, c.after) for c in other.changes()] == [
        (c.position, c.row_key, c.after) for c in reference
    ]


def test_the_daemon_reader_outlives_a_store_that_refuses_a_batch(shop, tmp_path):
    # As the daemon runs it, a batch the store refuses puts the reader in "error" (the cause named, no traceback
    # out of its thread) and it keeps trying from the checkpoint: once the cause is gone, every change arrives once.
    conn, store, cfg = shop
    BinlogCapture(store, cfg).capture()
    run(conn, stock_insert(1))
    BinlogCapture(store, cfg).capture()
    (first,) = store.changes()
    other = Store(f"sqlite:///{tmp_path / 'other.sqlite'}")
    other.set_checkpoint("prestashop.binlog", store.checkpoint("prestashop.binlog"))
    run(conn, stock_insert(2))
    run(conn, stock_insert(3))
    probe = BinlogCapture(Store(f"sqlite:///{tmp_path / 'probe.sqlite'}"), cfg)
    probe.store.set_checkpoint("prestashop.binlog", other.checkpoint("prestashop.binlog"))
    probe.capture()
    planted = probe.store.changes()[0]  # the position stock row 2 gets: already logged in `other`
    other.record_capture(
        [
            CapturedRow(
                planted.side,
                planted.entity,
                planted.source_table,
                planted.row_key,
                planted.op,
                None,
                {"planted": True},
                planted.position,
                planted.txn,
            )
        ]
    )
    cap = BinlogCapture(other, cfg)
    with daemon_reader(cap, idle_seconds=0.2) as thread:
        _wait(lambda: "UNIQUE constraint failed" in cap.status.last_error)
        assert "Error" not in cap.status.last_error  # the store's sentence, no class names
        assert thread.is_alive()
        with other.session() as s:
            s.delete(s.get(Change, 1))
            s.commit()
        _wait(lambda: len(other.changes()) == 2)
        _wait(lambda: cap.status.last_error == "")
    assert [c.row_key for c in other.changes()] == [K(id_stock_available=2), K(id_stock_available=3)]
    assert first.row_key == K(id_stock_available=1)


def test_resume_from_checkpoint_after_a_new_reader(shop):
    conn, store, cfg = shop
    BinlogCapture(store, cfg).capture()
    run(conn, stock_insert(1))
    BinlogCapture(store, cfg).capture()
    run(conn, stock_insert(2))
    BinlogCapture(store, cfg).capture()  # a fresh process resumes where the last one committed
    assert [c.row_key for c in store.changes()] == [K(id_stock_available=1), K(id_stock_available=2)]


@contextmanager
def daemon_reader(cap: BinlogCapture, idle_seconds: float):
    """`cap.run` on a thread for the block, as the daemon runs it; stopped (and joined) at the end."""
    stop = threading.Event()
    thread = threading.Thread(target=cap.run, args=(stop, idle_seconds), daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        stop.set()
        thread.join(20)


def _connections(conn) -> int:
    with conn.cursor() as cur:
        cur.execute("SHOW GLOBAL STATUS LIKE 'Connections'")
        return int(cur.fetchone()[1])


def test_the_daemon_keeps_one_stream_while_the_shop_is_quiet(shop):
    # The daemon's reader follows the binlog on one blocking stream: a quiet shop costs it no new connections
    # (a reader that polled would open two every half second), a change still arrives within a heartbeat or two,
    # and a stop request is seen at the next heartbeat.
    conn, store, cfg = shop
    cap = BinlogCapture(store, cfg)
    cap.capture()
    with daemon_reader(cap, idle_seconds=0.2) as thread:
        _wait(lambda: cap.status.state == "streaming")
        time.sleep(0.5)
        before = _connections(conn)
        time.sleep(2.0)
        assert _connections(conn) == before
        run(conn, stock_insert(1, 3))
        _wait(lambda: len(store.changes()) == 1, timeout=5)
        assert _connections(conn) == before
    assert not thread.is_alive() and cap.status.state == "stopped"
    assert store.checkpoint("prestashop.binlog")["txn"] == store.changes()[0].txn


def test_server_restart_mid_stream_loses_and_duplicates_nothing(mysql_server, shop):
    if mysql_server.local is None:
        pytest.skip("the test server is not a local mariadbd this test can restart")
    conn, store, cfg = shop
    cap = BinlogCapture(store, cfg)
    cap.capture()
    with daemon_reader(cap, idle_seconds=0.1):
        for i in range(1, 51):
            run(conn, stock_insert(i))
        _wait(lambda: len(store.changes()) >= 50)
        conn.close()
        mysql_server.local.restart()
        conn2 = mysql_server.connect(conn.db.decode() if isinstance(conn.db, bytes) else conn.db)
        for i in range(51, 101):
            run(conn2, stock_insert(i))
        conn2.close()
        _wait(lambda: len(store.changes()) >= 100, timeout=60)
        time.sleep(0.5)
    keys = [c.row_key for c in store.changes()]
    assert sorted(keys) == sorted(K(id_stock_available=i) for i in range(1, 101))
    assert cap.status.reconnects >= 1


def test_binlog_purged_while_stopped_catches_up_from_the_current_data(mysql_server, shop, caplog):
    if mysql_server.local is None:
        pytest.skip("the test server is shared: purging its binary logs would pull them from under other readers")
    conn, store, cfg = shop
    run(conn, stock_insert(1, qty=5))
    BinlogCapture(store, cfg).capture()  # the service ran, then stopped here
    stored = store.checkpoint("prestashop.binlog")
    seen = len(store.changes())
    run(conn, "UPDATE ps_stock_available SET quantity = 9 WHERE id_stock_available = 1")
    run(conn, stock_insert(2, qty=7))
    with conn.cursor() as cur:
        cur.execute("FLUSH BINARY LOGS")
        cur.execute("SHOW MASTER STATUS")
        newest = cur.fetchone()[0]
        deadline = time.monotonic() + 30
        while True:  # the server keeps a log until its binlog checkpoint has moved past it (just after the flush)
            cur.execute(f"PURGE BINARY LOGS TO '{newest}'")
            cur.execute("SHOW BINARY LOGS")
            if stored["file"] not in [r[0] for r in cur.fetchall()]:
                break
            assert time.monotonic() < deadline, "the server did not purge the old binary log"
            time.sleep(0.2)
    caplog.set_level(logging.INFO, logger="replicator.prestashop.binlog")
    cap = BinlogCapture(store, cfg)  # the service starts again
    with daemon_reader(cap, idle_seconds=0.1):
        _wait(lambda: {K(id_stock_available=1), K(id_stock_available=2)} <= {c.row_key for c in store.changes()[seen:]})
        run(conn, stock_insert(3))  # and the binlog is followed again from the server's position
        _wait(lambda: K(id_stock_available=3) in {c.row_key for c in store.changes()})
    after = {c.row_key: loads(c.after) for c in store.changes()[seen:] if c.after}
    assert after[K(id_stock_available=1)]["quantity"] == 9 and after[K(id_stock_available=2)]["quantity"] == 7
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(said) == 1 and f"{stored['file']}:{stored['pos']} is no longer on the shop's server" in said[0], said
    assert "Error" not in said[0]
    assert store.checkpoint("prestashop.binlog")["file"] != stored["file"]


def test_a_position_is_gone_when_its_file_was_purged_or_the_log_reset():
    logs = [("binlog.000007", 4000), ("binlog.000008", 365)]
    assert not position_is_gone(logs, "binlog.000007", 1200)
    assert position_is_gone(logs, "binlog.000003", 1200)  # purged
    assert position_is_gone([("binlog.000001", 365)], "binlog.000001", 98000)  # RESET MASTER began it again


# ------------------------------------------------------------------------------------------------ polling


def test_poll_mode_catches_date_upd_edits_deletes_and_timestampless_tables(shop):
    conn, store, cfg = shop
    run(
        conn,
        stock_insert(1, 5),
        stock_insert(2, 5),
        "INSERT INTO ps_customer (id_customer, id_shop_group, id_shop, id_gender, id_default_group, id_lang, "
        "id_risk, firstname, lastname, email, passwd, last_passwd_gen, secure_key, date_add, date_upd) "
        "VALUES (1, 1, 1, 1, 3, 1, 0, 'Ana', 'Ruiz', 'ana@example.com', 'x', NOW(), 'k', NOW(), NOW())",
    )
    poller = PollCapture(store, cfg)
    first = poller.poll()
    assert first.changes == 0 and first.tables["stock_available"] == "baseline"
    run(
        conn,
        "UPDATE ps_customer SET firstname = 'Ana María', date_upd = NOW() WHERE id_customer = 1",
        "UPDATE ps_stock_available SET quantity = 4 WHERE id_stock_available = 1",  # no timestamp anywhere
        "DELETE FROM ps_stock_available WHERE id_stock_available = 2",
        *order_statements(7, lines=2),
    )
    second = poller.poll()
    assert second.tables["customer"] == "window" and second.tables["stock_available"] == "keyset"
    got = {(c.source_table, c.row_key, c.op) for c in store.changes()}
    assert ("customer", K(id_customer=1), "update") in got
    assert ("stock_available", K(id_stock_available=1), "update") in got
    assert ("stock_available", K(id_stock_available=2), "delete") in got
    assert ("orders", K(id_order=7), "insert") in got and len([g for g in got if g[0] == "order_detail"]) == 2
    cust = next(c for c in store.changes() if c.source_table == "customer")
    assert loads(cust.before)["firstname"] == "Ana" and loads(cust.after)["firstname"] == "Ana María"
    # The overlap re-reads the same rows: the snapshot hashes make that a no-op.
    assert poller.poll().changes == 0
    run(conn, "DELETE FROM ps_customer WHERE id_customer = 1")  # hard delete: found by the key list
    third = PollCapture(store, cfg).poll()  # also a fresh process: state comes from the store
    assert third.counts["delete"] == 1


def test_capture_once_auto_mode_uses_binlog_when_access_passes(shop, tmp_path):
    conn, store, cfg = shop
    config = Config(
        path=tmp_path / "replicator.yaml",
        store=store.url,
        rules_dir=tmp_path,
        prestashop=PrestashopConfig(url=cfg.url, capture="auto", server_id=cfg.server_id),
    )
    first = capture_once(config, store)
    assert first.prestashop_mode == "binlog" and not first.errors
    run(conn, stock_insert(3))
    second = capture_once(config, store)
    assert second.prestashop["changes"] == 1 and second.changes == 1


def _wait(cond, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")
