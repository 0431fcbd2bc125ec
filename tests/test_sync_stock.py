"""Stock FactuSOL -> shop end to end: warehouses, formulas, combinations, the pa=0 sum, and never overselling while
shop orders are not yet in FactuSOL (the order sync runs in the same engine)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from replicator.daemon import run_once
from replicator.factusol import writer as fs_writer
from replicator.sandbox.access_sql import access_sql_guard  # noqa: F401  (every statement must be Access SQL)
from replicator.sandbox import shop as ps_sandbox
from replicator.prestashop import write as ps_writer

from _sync_env import build, open_env
from test_sync_products import add_article

pytestmark = pytest.mark.mysql

# The demo shop's catalogue as FactuSOL articles (CE1 talla, CE2 colour as the combination references are built)
DEMO = [
    ("CAM001", 0, [(s, c) for c in ("BLA", "NEG") for s in ("S", "M", "L")]),
    ("SUD002", 0, [("S", ""), ("M", ""), ("L", ""), ("XL", "")]),
    ("PAN004", 0, [(s, "AZU") for s in ("38", "40", "42")]),
    ("GOR003", 0, [("", "ROJ"), ("", "AZU")]),
    ("TAZ010", 0, []),
    ("CUA040", 0, []),
    ("LIB020", 2, []),
    ("CAF030", 1, []),
]


@pytest.fixture
def env(mysql_server, mysql_db, tmp_path):
    config = build(
        mysql_server, mysql_db, tmp_path, demo=True, articles=0, customers=0, orders=0, workers="thread"
    )  # in-process: tests here look inside the syncs
    e = open_env(config)
    for code, vat, variants in DEMO:
        add_article(e.fs, code, f"Artículo {code}", vat=vat, variants=[(s, c, "") for s, c in variants])
    yield e
    e.close()


def shop_qty(env, ref: str, combo: str | None = None) -> int:
    if combo is None:
        row = env.shop.query_one(
            "SELECT sa.quantity FROM {p}stock_available sa JOIN {p}product p ON p.id_product ="
            " sa.id_product WHERE p.reference = %s AND sa.id_product_attribute = 0"
            " AND sa.id_shop = 1 AND sa.id_shop_group = 0",
            (ref,),
        )
    else:
        row = env.shop.query_one(
            "SELECT sa.quantity FROM {p}stock_available sa JOIN {p}product_attribute pa ON"
            " pa.id_product_attribute = sa.id_product_attribute WHERE pa.reference = %s"
            " AND sa.id_shop = 1 AND sa.id_shop_group = 0",
            (combo,),
        )
    return int(row["quantity"])


def set_fs(env, code, warehouse, act, dis=None, size="", color=""):
    fs_writer.update_stock(
        env.fs,
        code,
        warehouse,
        actual=Decimal(act),
        available=Decimal(act if dis is None else dis),
        size=size,
        color=color,
    )


def test_warehouses_formulas_combinations_and_product_sum(env):
    rules = env.rules.entity("stock").options
    set_fs(env, "TAZ010", "GEN", 10, 8)
    set_fs(env, "TAZ010", "TDA", 5, 5)
    set_fs(env, "TAZ010", "ALM", 100, 100)
    for size, color, qty in (("S", "BLA", 3), ("M", "BLA", 4), ("L", "NEG", 2)):
        set_fs(env, "CAM001", "GEN", qty, size=size, color=color)
    set_fs(env, "CAM001", "TDA", 7, size="S", color="BLA")
    rules["subtract_unsynced_shop_orders"] = False  # this test is about the FactuSOL figures alone
    env.runtime.engine.syncs = {k: v for k, v in env.runtime.engine.syncs.items() if k in ("product", "stock")}
    run_once(env.runtime)
    # default rule: warehouse GEN, physical minus pending orders (none)
    assert shop_qty(env, "TAZ010") == 10
    assert [
        shop_qty(env, "CAM001", f"CAM001-{s}-{c}") for s, c in (("S", "BLA"), ("M", "BLA"), ("L", "NEG"), ("M", "NEG"))
    ] == [3, 4, 2, 0]
    assert shop_qty(env, "CAM001") == 9  # the product row is the sum of its combinations
    for warehouses, formula, taz, cam_s in (
        (["GEN", "TDA"], "physical", 15, 10),
        ("all", "available", 113, 10),
        ("TDA", "physical", 5, 7),
        (["GEN"], "available", 8, 3),
    ):
        rules["warehouses"], rules["formula"] = warehouses, formula
        set_fs(env, "TAZ010", "GEN", 10, 8)  # touch both articles so their keys sync under the new rule
        set_fs(env, "CAM001", "GEN", 3, size="S", color="BLA")
        fs_writer.update_fields(env.fs, "F_ART", {"CODART": "TAZ010"}, {"DESART": f"Taza {warehouses} {formula}"[:50]})
        fs_writer.update_fields(env.fs, "F_ART", {"CODART": "CAM001"}, {"DESART": f"Cam {warehouses} {formula}"[:50]})
        env.runtime.engine.syncs["stock"].sync(env.ctx, ["TAZ010", "CAM001"])
        assert (shop_qty(env, "TAZ010"), shop_qty(env, "CAM001", "CAM001-S-BLA")) == (taz, cam_s), (warehouses, formula)
        assert shop_qty(env, "CAM001") == sum(
            shop_qty(env, "CAM001", f"CAM001-{s}-{c}")
            for s, c in (("S", "BLA"), ("M", "BLA"), ("L", "BLA"), ("S", "NEG"), ("M", "NEG"), ("L", "NEG"))
        )
    # physical minus pending FactuSOL customer orders
    rules["warehouses"], rules["formula"] = ["GEN"], "physical_minus_pending_orders"
    fs_writer.insert_order(
        env.fs, {"CLIPCL": 1, "ALMPCL": "GEN", "ESTPCL": 0}, [{"ARTLPC": "TAZ010", "CANLPC": Decimal(4)}]
    )
    env.cycle()
    assert shop_qty(env, "TAZ010") == 6
    # nothing else moves on a second pass
    captured, applied = env.cycle()
    assert captured.changes == 0 and applied.changes == 0
    # written in the shop's stock scope only (a second shop group row is not touched)
    assert env.shop.query_one("SELECT COUNT(*) AS n FROM {p}stock_available WHERE id_shop_group <> 0")["n"] == 0


def _place_shop_order(env, ref: str, qty: int) -> int:
    """A checkout as PrestaShop writes it (PRESTASHOP.md §5/§6): cart, orders, order_detail and the stock_available
    decrement, in ONE transaction."""
    shop = env.shop
    pid = shop.query_one("SELECT id_product FROM {p}product WHERE reference = %s", (ref,))["id_product"]
    price, tax_group = "7.438017", 1
    catalogue = {ref: (pid, {}, price, tax_group, ref, [])}
    addr = shop.query_one("SELECT id_address FROM {p}address WHERE id_customer = 1 ORDER BY id_address")["id_address"]
    key = shop.query_one("SELECT secure_key FROM {p}customer WHERE id_customer = 1")["secure_key"]
    with shop.transaction() as cur:
        cur = cur.connection.cursor()
        n = shop.query_one("SELECT MAX(id_order) AS n FROM {p}orders")["n"] + 1
        return ps_sandbox.add_order(
            cur, shop.prefix, 40 + n, (1, [addr]), addr, 2, 2, [(ref, 0, 0, qty)], "", False, catalogue, 900 + n, key
        )


def test_never_oversell_while_shop_orders_are_not_in_factusol(env):
    set_fs(env, "TAZ010", "GEN", 20)
    run_once(env.runtime)  # all entities, orders included; demo order 1 holds 1 TAZ010
    assert env.store.map_id("order", prestashop_id="1") is not None
    assert shop_qty(env, "TAZ010") == 19

    def check(fs_physical: int) -> None:
        synced = {int(v) for v in env.store.id_map("order").values()}
        unsynced = sum(
            r["product_quantity"]
            for r in env.shop.query(
                "SELECT od.product_quantity, od.id_order FROM {p}order_detail od WHERE od.product_reference = 'TAZ010'"
            )
            if r["id_order"] not in synced
        )
        pending = env.fs.scalar("SELECT SUM([PENLPC]) AS [S] FROM [F_LPC] WHERE [ARTLPC] = 'TAZ010'") or 0
        assert shop_qty(env, "TAZ010") <= fs_physical - int(pending) - unsynced

    # a shop sale and a FactuSOL counter sale at the same time, then one capture + apply
    oid = _place_shop_order(env, "TAZ010", 3)
    assert shop_qty(env, "TAZ010") == 16  # PrestaShop took the units at order creation
    set_fs(env, "TAZ010", "GEN", 18)  # FactuSOL sold 2 at the counter
    env.cycle()
    check(18)
    assert env.store.map_id("order", prestashop_id=str(oid)) is not None  # the order sync wrote the pedido
    assert shop_qty(env, "TAZ010") == 18 - 1 - 3
    # after the pedido is in FactuSOL the figures still agree, cycle after cycle
    for _ in range(2):
        env.cycle()
        check(18)
        assert shop_qty(env, "TAZ010") == 14
    # with the order sync lagging (not in this engine), a sale is still held back from the shop
    order_sync = env.runtime.engine.syncs.pop("order")
    oid2 = _place_shop_order(env, "TAZ010", 5)
    set_fs(env, "TAZ010", "GEN", 25)  # goods received in FactuSOL
    env.cycle()
    assert env.store.map_id("order", prestashop_id=str(oid2)) is None
    check(25)
    assert shop_qty(env, "TAZ010") == 25 - 4 - 5
    env.runtime.engine.syncs["order"] = order_sync
    env.runtime.engine.retry_due = 0.0
    from replicator.sync.orders import OrderSync

    OrderSync().sync(env.ctx, [f"ps:{oid2}"])
    env.cycle()
    check(25)
    assert shop_qty(env, "TAZ010") == 16
    # FactuSOL serves the orders (delivery note: physical stock leaves, nothing pending)
    env.fs.execute("UPDATE [F_LPC] SET [PENLPC] = 0 WHERE [ARTLPC] = 'TAZ010'")
    set_fs(env, "TAZ010", "GEN", 25 - 9)
    env.cycle()
    check(16)
    assert shop_qty(env, "TAZ010") == 16


def test_a_cancelled_pedido_releases_its_units_to_the_shop_in_the_same_apply(env):
    set_fs(env, "TAZ010", "GEN", 20)
    run_once(env.runtime)  # demo order 1 holds 1 TAZ010: a pedido with 1 pending
    oid = _place_shop_order(env, "TAZ010", 3)
    env.cycle()
    assert shop_qty(env, "TAZ010") == 20 - 1 - 3
    # the shop cancels: PrestaShop puts the 3 units back; the stock sync of that capture still sees them pending in
    # FactuSOL, the order sync then releases them there (our own write, never captured): the same apply publishes it
    ps_writer.change_order_state(env.shop, oid, env.shop.state_id("PS_OS_CANCELED"))
    _, report = env.cycle()
    ref = f"PS-{oid}-"
    assert (
        env.fs.scalar(
            "SELECT SUM([PENLPC]) AS [S] FROM [F_LPC] INNER JOIN [F_PCL] ON ([F_PCL].[TIPPCL] ="
            " [F_LPC].[TIPLPC] AND [F_PCL].[CODPCL] = [F_LPC].[CODLPC]) WHERE [F_PCL].[REFPCL] LIKE ?",
            [ref + "%"],
        )
        == 0
    )
    assert shop_qty(env, "TAZ010") == 20 - 1
    # and the next cycles agree
    env.cycle()
    assert shop_qty(env, "TAZ010") == 19


def _supplier_order(env, number: int, state: int, lines: list[tuple[str, str, str, int]]) -> None:
    fs_writer.insert_row(
        env.fs,
        "F_PPR",
        {"TIPPPR": "1", "CODPPR": number, "ESTPPR": state, "ALMPPR": "GEN", "PROPPR": 1, "REFPPR": f"compra {number}"},
    )
    for pos, (article, size, colour, units) in enumerate(lines, start=1):
        fs_writer.insert_row(
            env.fs,
            "F_LPP",
            {
                "TIPLPP": "1",
                "CODLPP": number,
                "POSLPP": pos,
                "ARTLPP": article,
                "CE1LPP": size,
                "CE2LPP": colour,
                "CANLPP": Decimal(units),
                "PENLPP": Decimal(units),
            },
        )


def test_units_on_supplier_orders_count_with_the_plus_on_order_formulas(env):
    rules = env.rules.entity("stock").options
    rules["subtract_unsynced_shop_orders"] = False
    rules["formula"] = "physical_plus_on_order"
    env.runtime.engine.syncs = {k: v for k, v in env.runtime.engine.syncs.items() if k in ("product", "stock")}
    set_fs(env, "TAZ010", "GEN", 10, 8)
    set_fs(env, "CAM001", "GEN", 3, size="S", color="BLA")
    _supplier_order(env, 1, 0, [("TAZ010", "", "", 5), ("CAM001", "S", "BLA", 2)])  # pending
    _supplier_order(env, 2, 2, [("TAZ010", "", "", 7)])  # received: nothing on order
    run_once(env.runtime)
    assert shop_qty(env, "TAZ010") == 10 + 5
    assert shop_qty(env, "CAM001", "CAM001-S-BLA") == 3 + 2
    rules["formula"] = "available_plus_on_order"
    env.runtime.engine.sync_keys("stock", ["TAZ010"])
    assert shop_qty(env, "TAZ010") == 8 + 5
    # live: the supplier order is received (its state alone changes): every article on it follows
    fs_writer.update_fields(env.fs, "F_PPR", {"TIPPPR": "1", "CODPPR": 1}, {"ESTPPR": 2})
    env.cycle()
    assert (shop_qty(env, "TAZ010"), shop_qty(env, "CAM001", "CAM001-S-BLA")) == (8, 3)
    # a new supplier order line is captured too
    _supplier_order(env, 3, 0, [("TAZ010", "", "", 4)])
    env.cycle()
    assert shop_qty(env, "TAZ010") == 12


def test_a_pedido_served_in_factusol_stops_holding_its_units(env):
    set_fs(env, "TAZ010", "GEN", 20)
    run_once(env.runtime)  # demo order 1 holds 1 TAZ010: a pedido with 1 pending
    assert shop_qty(env, "TAZ010") == 19
    [header] = env.fs.query(
        "SELECT [F_PCL].[TIPPCL], [F_PCL].[CODPCL] FROM [F_PCL] INNER JOIN [F_LPC] ON"
        " ([F_LPC].[TIPLPC] = [F_PCL].[TIPPCL] AND [F_LPC].[CODLPC] = [F_PCL].[CODPCL])"
        " WHERE [F_LPC].[ARTLPC] = ? AND [F_LPC].[PENLPC] > 0",
        ["TAZ010"],
    )
    # a FactuSOL user marks the pedido sent (its lines untouched): the pending unit no longer counts
    fs_writer.update_fields(env.fs, "F_PCL", {"TIPPCL": header["TIPPCL"], "CODPCL": header["CODPCL"]}, {"ESTPCL": 2})
    env.cycle()
    assert shop_qty(env, "TAZ010") == 20
