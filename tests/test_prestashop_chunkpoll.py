"""Poll mode with server-side chunk checksums, against the real MariaDB: what it sees, what it fetches, restarts,
a dropped connection, and the checksum's NULL/boundary safety."""

from __future__ import annotations

import threading

import pymysql
import pytest

from replicator.prestashop.binlog import ensure_ledger_table
from replicator.prestashop.poller import PollCapture
from replicator.config import PrestashopConfig
from replicator.prestashop import checksum as ck
from replicator.prestashop.chunkpoll import CHECKPOINT, ChunkPoller, run_chunk_poller
from replicator.prestashop.schema import create_schema
from replicator.prestashop.shop_errors import explain
from replicator.store import Store, dumps, loads

pytestmark = pytest.mark.mysql


@pytest.fixture
def shop(mysql_server, mysql_db, tmp_path):
    conn = mysql_server.connect(mysql_db)
    create_schema(conn, "8", "ps_")
    ensure_ledger_table(conn, "ps_")
    store = Store(f"sqlite:///{tmp_path / 'state.sqlite'}")
    cfg = PrestashopConfig(url=mysql_server.database_url(mysql_db), prefix="ps_", poll_overlap_seconds=10)
    yield conn, store, cfg
    conn.close()


def run(conn, *statements):
    with conn.cursor() as cur:
        cur.execute("START TRANSACTION")
        for st in statements:
            cur.execute(*st) if isinstance(st, tuple) else cur.execute(st)
        cur.execute("COMMIT")


def K(**pk) -> str:
    return dumps(pk)


def seed(conn, products: int = 40, stock: int = 3000):
    """Products in 2 languages (ids spread over several chunks), stock rows, one customer."""
    rows = []
    for i in range(1, products + 1):
        for lang in (1, 2):
            rows.append((i * 50, lang, f"<p>description {i} {lang}</p>", f"product-{i}", f"Product {i}"))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO ps_product_lang (id_product, id_shop, id_lang, description, link_rewrite, name)"
            " VALUES (%s, 1, %s, %s, %s, %s)",
            rows,
        )
        cur.executemany(
            "INSERT INTO ps_stock_available (id_stock_available, id_product, id_product_attribute, "
            "id_shop, id_shop_group, quantity) VALUES (%s, %s, 0, 1, 0, 5)",
            [(i, i) for i in range(1, stock + 1)],
        )
        cur.execute(CUSTOMER % (1, "'Ana'"))


CUSTOMER = (
    "INSERT INTO ps_customer (id_customer, id_shop_group, id_shop, id_gender, id_default_group, id_lang, "
    "id_risk, firstname, lastname, email, passwd, last_passwd_gen, secure_key, date_add, date_upd) "
    "VALUES (%s, 1, 1, 1, 3, 1, 0, %s, 'Ruiz', 'ana@example.com', 'x', NOW(), 'k', NOW(), NOW())"
)


def changes(store):
    return {(c.source_table, c.row_key, c.op) for c in store.changes()}


def test_inserts_updates_and_deletes_with_and_without_date_upd_in_one_poll(shop):
    conn, store, cfg = shop
    seed(conn)
    poller = ChunkPoller(store, cfg)
    first = poller.poll()
    assert first.changes == 0 and first.tables["product_lang"] == "baseline"
    run(
        conn,
        # same length, one character: only a checksum of the text itself can see it
        "UPDATE ps_product_lang SET description = '<p>description 7 2</q>' WHERE id_product = 350 AND id_lang = 2",
        "UPDATE ps_stock_available SET quantity = 4 WHERE id_stock_available = 2500",
        "DELETE FROM ps_stock_available WHERE id_stock_available = 17",
        "INSERT INTO ps_stock_available (id_stock_available, id_product, id_product_attribute, id_shop, "
        "id_shop_group, quantity) VALUES (9000, 9000, 0, 1, 0, 1)",
        "UPDATE ps_customer SET firstname = 'Ana María', date_upd = NOW() WHERE id_customer = 1",
        (CUSTOMER.replace("NOW(), NOW())", "'2001-01-01', '2001-01-01')") % (2, "'Old'"), ()),  # old date_upd
    )
    second = poller.poll()
    print(second)
    got = changes(store)
    assert ("product_lang", K(id_lang=2, id_product=350, id_shop=1), "update") in got
    assert ("stock_available", K(id_stock_available=2500), "update") in got
    assert ("stock_available", K(id_stock_available=17), "delete") in got
    assert ("stock_available", K(id_stock_available=9000), "insert") in got
    assert ("customer", K(id_customer=1), "update") in got
    assert ("customer", K(id_customer=2), "insert") in got
    assert second.changes == len(got) == 6
    # Only the changed blocks were fetched, not the 3,000 stock rows nor the 80 descriptions.
    assert second.rows_read < 3 * ck.BLOCK + 10, second
    lang = next(c for c in store.changes() if c.source_table == "product_lang")
    assert loads(lang.before)["description"] == "<p>description 7 2</p>"
    assert loads(lang.after)["description"] == "<p>description 7 2</q>"
    run(
        conn,
        "DELETE FROM ps_customer WHERE id_customer = 2",  # a hard delete in a date_upd table
        "DELETE FROM ps_product_lang WHERE id_product = 2000",
    )  # a whole block (both languages) gone
    third = poller.poll()
    assert third.counts == {"insert": 0, "update": 0, "delete": 3}


def test_an_idle_poll_fetches_no_row_and_writes_nothing(shop):
    conn, store, cfg = shop
    seed(conn)
    poller = ChunkPoller(store, cfg)
    poller.poll()
    run(conn, "UPDATE ps_stock_available SET quantity = 9 WHERE id_stock_available = 5")
    assert poller.poll().changes == 1
    committed = store.checkpoint(CHECKPOINT)
    before = len(store.changes())
    for _ in range(3):
        idle = poller.poll()
        # the window re-reads the customer within the overlap; no block of any table moved
        assert idle.changes == 0 and idle.chunks_changed == 0 and idle.rows_read <= 1
    assert store.checkpoint(CHECKPOINT) == committed and len(store.changes()) == before


def test_nulls_and_column_boundaries_change_the_checksum(shop):
    conn, _, _ = shop
    with conn.cursor() as cur:
        cur.execute(
            "CREATE TABLE t_ck (id INT PRIMARY KEY, a VARCHAR(10) NULL, b VARCHAR(10) NULL, n INT NULL) ENGINE=InnoDB"
        )
        shape = ck.shapes(cur, {"t": ("t_ck", ("id",))})["t"]

        def crc(a, b, n):
            cur.execute("DELETE FROM t_ck")
            cur.execute("INSERT INTO t_ck VALUES (1, %s, %s, %s)", (a, b, n))
            cur.execute(ck.grouped_sql(shape, ck.BLOCK, keys_only=False))
            return cur.fetchall()[0][2]

        seen = [
            crc("a|b", "c", 1),
            crc("a", "b|c", 1),
            crc("", "c", 1),
            crc(None, "c", 1),
            crc("x", "c", None),
            crc("x", "c", 0),
            crc("abcd", "c", 1),
            crc("abce", "c", 1),
        ]
    assert len(set(seen)) == len(seen)
    assert not shape.mixed_collations


def test_a_table_mixing_collations_is_checksummed_too(shop):
    conn, _, _ = shop
    with conn.cursor() as cur:
        cur.execute(
            "CREATE TABLE t_mix (id INT PRIMARY KEY, a VARCHAR(10) COLLATE utf8mb4_general_ci,"
            " b VARCHAR(10) COLLATE utf8mb4_unicode_ci) ENGINE=InnoDB"
        )
        cur.execute("INSERT INTO t_mix VALUES (1, 'x', 'y')")
        shape = ck.shapes(cur, {"t": ("t_mix", ("id",))})["t"]
        assert shape.mixed_collations
        cur.execute(ck.grouped_sql(shape, ck.BLOCK, keys_only=False))
        before = cur.fetchall()
        cur.execute("UPDATE t_mix SET b = 'z'")
        cur.execute(ck.grouped_sql(shape, ck.BLOCK, keys_only=False))
        assert cur.fetchall() != before


def test_a_new_poller_resumes_and_a_failed_commit_loses_and_doubles_nothing(shop, monkeypatch):
    conn, store, cfg = shop
    seed(conn, products=5, stock=100)
    ChunkPoller(store, cfg).poll()
    run(conn, "UPDATE ps_stock_available SET quantity = 1 WHERE id_stock_available = 50")
    poller = ChunkPoller(store, cfg)  # a restarted service: all its state comes from the store

    def refuse(*a, **k):
        raise RuntimeError("disk full")

    with monkeypatch.context() as m:
        m.setattr(store, "record_capture", refuse)
        with pytest.raises(RuntimeError):
            poller.poll()
    assert store.changes() == []
    assert poller.poll().changes == 1
    assert ChunkPoller(store, cfg).poll().changes == 0
    assert poller.poll().changes == 0
    assert [c.op for c in store.changes()] == ["update"]


def test_a_connection_dropped_mid_poll_is_one_sentence_and_the_retry_loses_nothing(shop, mysql_server, caplog):
    conn, store, cfg = shop
    seed(conn, products=5, stock=100)
    poller = ChunkPoller(store, cfg)
    poller.poll()
    run(
        conn,
        "UPDATE ps_stock_available SET quantity = 2 WHERE id_stock_available = 60",
        "UPDATE ps_product_lang SET name = 'Renamed' WHERE id_product = 100 AND id_lang = 1",
    )
    real = poller._grouped
    calls = []

    def kill_then_read(cur, *a, **k):
        calls.append(1)
        if len(calls) == 2:  # the second table's checksum: the first one's rows are already read
            with mysql_server.connect() as admin, admin.cursor() as c:
                c.execute("KILL CONNECTION %s", (poller._conn.thread_id(),))
        return real(cur, *a, **k)

    poller._grouped = kill_then_read
    with pytest.raises(pymysql.MySQLError) as info:
        poller.poll()
    sentence = explain(info.value)
    assert "dropped the connection" in sentence or "closed the connection" in sentence
    assert "\n" not in sentence and "Error" not in sentence
    assert store.changes() == []
    poller._grouped = real
    # The service loop: the retry reconnects and captures both changes once.
    stop = threading.Event()
    thread = threading.Thread(target=run_chunk_poller, args=(poller, stop, 0.05))
    thread.start()
    try:
        for _ in range(200):
            if poller.status.polls >= 2:
                break
            stop.wait(0.05)
    finally:
        stop.set()
        thread.join(10)
    assert {(c.source_table, c.op) for c in store.changes()} == {
        ("stock_available", "update"),
        ("product_lang", "update"),
    }
    assert len(store.changes()) == 2 and poller.status.state == "stopped"


def test_taking_over_from_the_old_poller_captures_what_changed_in_between(shop):
    conn, store, cfg = shop
    seed(conn, products=5, stock=100)
    PollCapture(store, cfg).poll()  # the old poller's baseline
    run(conn, "UPDATE ps_stock_available SET quantity = 3 WHERE id_stock_available = 70")
    first = ChunkPoller(store, cfg).poll()
    assert first.tables["stock_available"] == "full"
    assert changes(store) == {("stock_available", K(id_stock_available=70), "update")}


def test_checksums_every_n_seconds_leave_the_date_upd_windows_every_poll(shop):
    conn, store, cfg = shop
    seed(conn, products=5, stock=100)
    cfg.poll_checksum_seconds = 3600
    poller = ChunkPoller(store, cfg)
    poller.poll()
    run(
        conn,
        "UPDATE ps_stock_available SET quantity = 8 WHERE id_stock_available = 40",
        "UPDATE ps_customer SET firstname = 'Eva', date_upd = NOW() WHERE id_customer = 1",
    )
    between = poller.poll()
    assert between.tables["stock_available"] == "waiting" and between.tables["customer"] == "window"
    assert changes(store) == {("customer", K(id_customer=1), "update")}
    poller._checksummed_at -= 3600  # an hour later
    assert poller.poll().tables["stock_available"] == "chunks"
    assert ("stock_available", K(id_stock_available=40), "update") in changes(store) and len(changes(store)) == 2


def test_rows_that_stay_in_the_window_are_not_fetched_again_unless_they_changed(shop):
    conn, store, cfg = shop
    with conn.cursor() as cur:  # a bulk update: 300 customers share the newest date_upd
        cur.executemany(
            CUSTOMER.replace("NOW(), NOW())", "NOW(), '2030-01-01 10:00:00')"), [(i, f"C{i}") for i in range(1, 301)]
        )
    poller = ChunkPoller(store, cfg)
    poller.poll()
    assert poller.poll().rows_read == 300  # a new poller fetches its first window whole
    idle = poller.poll()
    assert idle.rows_read == 0 and idle.changes == 0
    # an edit in the same second (date_upd unchanged) is still seen, by the row's CRC
    run(conn, "UPDATE ps_customer SET firstname = 'Zed' WHERE id_customer = 7")
    edited = poller.poll()
    assert edited.rows_read == 1 and changes(store) == {("customer", K(id_customer=7), "update")}
