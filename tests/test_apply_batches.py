"""Apply batches of many keys, as a busy service takes them: one bad key is quarantined alone while the others land,
and a kill in the middle of a batch resumes with nothing lost and nothing doubled.

Real parts: the demo shop on MariaDB, the FactuSOL stand-in through pyodbc, the engine as the service runs it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from replicator.daemon import run_once
from replicator.engine import Engine
from replicator.keys import factusol_row_key, row_hash
from replicator.sandbox.access_sql import access_sql_guard  # noqa: F401  (every statement must be Access SQL)
from replicator.sync.customers import CustomerSync, ensure_factusol_customer

from _sync_env import build, open_env
from replicator.sandbox import shop as ps_sandbox
from replicator.sandbox.factusol import create_sandbox
from test_sync_orders import ARTICLES, SYNCS, _insert_shop_order, add_article, lines_of, make_ctx, pedidos

pytestmark = pytest.mark.mysql
BATCH = 50


@pytest.fixture
def orders_env(mysql_server, mysql_db, tmp_path):
    """The demo shop and a stand-in holding its articles (as in test_sync_orders), no order synced yet."""
    shop_url = ps_sandbox.create_shop(mysql_server.url, mysql_db, demo=True)
    fs_path = tmp_path / "0012025.sqlite"
    create_sandbox(fs_path, articles=20, customers=3, orders=0, year=2025)
    store_url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    ctx = make_ctx(store_url, str(fs_path), shop_url, tmp_path)
    for code, selector, variants in ARTICLES:
        add_article(ctx.factusol, code, selector, variants)
    ctx.paths = {"shop": shop_url, "fs": str(fs_path), "store": store_url, "tmp": str(tmp_path)}
    yield ctx
    ctx.factusol.close()
    ctx.shop.close()


def _orders(ctx, n: int = BATCH) -> list[int]:
    ensure_factusol_customer(ctx, 1)  # the customer is not what these tests are about
    return [_insert_shop_order(ctx, customer=1, lines=[("TAZ010", 0, 0, 1 + i % 3)], carrier=1) for i in range(n)]


def _one_pedido_each(ctx, oids: list[int], unrecorded: tuple[int, ...] = ()) -> None:
    """Every order has exactly one pedido with its one line, linked to it, and its echo records match FactuSOL's rows
    (so the next scan takes them for our own writes), but for ``unrecorded``: pedidos written by a process killed
    before it recorded them, which the next scan captures (and the order sync finds in step)."""
    links = set()
    for oid in oids:
        [h] = pedidos(ctx, oid)
        [line] = lines_of(ctx, h)
        link = ctx.store.map_id("order", prestashop_id=str(oid))
        assert link is not None and link.factusol_key.endswith(f"-{h['CODPCL']}")
        links.add(link.factusol_key)
        if oid in unrecorded:
            continue
        head = factusol_row_key({"TIPPCL": h["TIPPCL"], "CODPCL": h["CODPCL"]})
        assert ctx.store.last_written_hash("factusol", "F_PCL", head) == row_hash(h)
        pos = factusol_row_key({"TIPLPC": h["TIPPCL"], "CODLPC": h["CODPCL"], "POSLPC": line["POSLPC"]})
        assert ctx.store.last_written_hash("factusol", "F_LPC", pos) == row_hash(line)
    assert len(links) == len(oids)


def test_one_bad_order_in_a_batch_of_fifty_is_quarantined_alone_and_the_others_land(orders_env):
    ctx = orders_env
    oids = _orders(ctx)
    bad = oids[17]
    ctx.shop.execute("INSERT INTO {p}tax (id_tax, rate, active, deleted) VALUES (99, 7.000, 1, 0)")
    ctx.shop.execute(
        "UPDATE {p}order_detail_tax SET id_tax = 99 WHERE id_order_detail IN"
        " (SELECT id_order_detail FROM {p}order_detail WHERE id_order = %s)",
        (bad,),
    )
    keys = [f"ps:{oid}" for oid in oids]
    outcomes = Engine(ctx, SYNCS).sync_keys("order", keys)
    assert outcomes[f"ps:{bad}"].status == "quarantined" and "vat_rate" in outcomes[f"ps:{bad}"].detail
    assert [(q.entity, q.key) for q in ctx.store.quarantined()] == [("order", f"ps:{bad}")]
    assert pedidos(ctx, bad) == []
    good = [oid for oid in oids if oid != bad]
    assert {outcomes[f"ps:{oid}"].status for oid in good} == {"applied"}
    _one_pedido_each(ctx, good)
    # the same batch again writes nothing
    again = Engine(ctx, SYNCS).sync_keys("order", [f"ps:{oid}" for oid in good])
    assert {o.status for o in again.values()} == {"noop"}


CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from replicator.factusol.connection import STATEMENT_HOOKS
    sys.path.insert(0, {tests!r})
    from test_sync_orders import SYNCS, make_ctx
    from replicator.engine import Engine

    seen = []

    def hook(rec):
        if rec.sql.startswith({trigger!r}):
            seen.append(rec.sql)
            if len(seen) == {nth}:
                print("HOOK", flush=True)
                time.sleep(120)

    ctx = make_ctx({store!r}, {fs!r}, {shop!r}, Path({tmp!r}))
    if {trigger!r} == "store.writes":  # the nth pedido's link and echo records, after its FactuSOL commit
        from replicator.store import Store

        real_writes = Store.writes

        def writes(self, *args, **kwargs):
            seen.append("writes")
            if len(seen) == {nth}:
                print("HOOK", flush=True)
                time.sleep(120)
            return real_writes(self, *args, **kwargs)

        Store.writes = writes
    else:
        STATEMENT_HOOKS.append(hook)
    Engine(ctx, SYNCS).sync_keys("order", {keys!r})
    print("DONE", flush=True)
""")


@pytest.mark.parametrize(
    "trigger",
    [
        "INSERT INTO [F_LPC]",  # killed inside the 10th pedido's transaction: that one is not committed
        "SELECT * FROM [F_PCL] WHERE [TIPPCL]",  # killed reading back the 10th pedido's echo images: not committed
        "store.writes",  # killed after the 10th commit, before its echo records and link
    ],
)
def test_kill_9_in_the_middle_of_a_batch_resumes_with_nothing_doubled(orders_env, trigger):
    ctx = orders_env
    oids = _orders(ctx)
    keys = [f"ps:{oid}" for oid in oids]
    code = CHILD.format(tests=str(Path(__file__).parent), trigger=trigger, nth=10, keys=keys, **ctx.paths)
    child = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=str(Path(__file__).parents[1]),
    )
    try:
        line = child.stdout.readline()
        assert line.strip() == "HOOK", child.stderr.read()
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    linked = [oid for oid in oids if ctx.store.map_id("order", prestashop_id=str(oid))]
    assert linked == oids[:9]  # the nine before the kill, and only them
    outcomes = Engine(ctx, SYNCS).sync_keys("order", keys)
    assert {outcomes[f"ps:{oid}"].status for oid in oids[:9]} == {"noop"}
    assert {outcomes[f"ps:{oid}"].status for oid in oids[9:]} == {"applied"}
    unrecorded = ()
    if trigger == "store.writes":
        assert "linked existing pedido" in outcomes[f"ps:{oids[9]}"].detail
        unrecorded = (oids[9],)
    _one_pedido_each(ctx, oids, unrecorded)
    assert {o.status for o in Engine(ctx, SYNCS).sync_keys("order", keys).values()} == {"noop"}


@pytest.fixture
def customers_env(mysql_server, mysql_db, tmp_path):
    config = build(mysql_server, mysql_db, tmp_path, demo=True, customers=3, shop_customers=BATCH, workers="thread")
    e = open_env(config)
    e.runtime.engine.syncs = {"customer": CustomerSync()}  # customers only
    yield e
    e.close()


def test_fifty_customer_edits_in_one_batch_one_bad_is_quarantined_alone_and_the_others_land(customers_env):
    env = customers_env
    run_once(env.runtime)  # the initial sync links or creates every shop customer
    ids = [
        r["id_customer"]
        for r in env.shop.query(
            "SELECT id_customer FROM {p}customer WHERE deleted = 0 AND is_guest = 0 ORDER BY id_customer"
        )
    ][:BATCH]
    assert len(ids) == BATCH
    bad = ids[23]
    with env.shop.transaction() as cur:  # one shop transaction: the whole edit is one apply batch
        for i, cid in enumerate(ids):
            env.shop.execute(
                "UPDATE {p}customer SET lastname = %s, date_upd = NOW() WHERE id_customer = %s",
                (f"Lote{i}", cid),
                cursor=cur,
            )
        env.shop.execute(
            "UPDATE {p}address SET address1 = %s, date_upd = NOW() WHERE id_customer = %s",
            ("Calle " + "x" * 110, bad),  # wider than DOMCLI's 100, under a reject policy
            cursor=cur,
        )
    _captured, report = env.cycle()
    assert report.keys == BATCH
    [q] = env.store.quarantined()
    assert (q.key, q.field) == (f"ps:{bad}", "street")
    codes = {int(ps): int(code) for ps, code in env.store.id_map_by_prestashop("customer", ids).items()}
    for i, cid in enumerate(ids):
        row = env.fs.query_one("SELECT [NOFCLI], [NOCCLI] FROM [F_CLI] WHERE [CODCLI] = ?", [codes[cid]])
        name = f"{row['NOFCLI']} / {row['NOCCLI']}"  # a company's contact name is its commercial name
        assert (f"Lote{i}" in name) == (cid != bad), (cid, name)
    # every merged key's baseline was kept: the same keys again are all in step
    good = [f"ps:{cid}" for cid in ids if cid != bad]
    assert {o.status for o in CustomerSync().sync(env.ctx, good).values()} == {"noop"}
