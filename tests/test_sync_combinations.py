"""Combinations matched by attribute names (real MariaDB shop, FactuSOL stand-in): a demo-like shop whose
combinations carry no reference of their own (or the product's) still gets per-combination stock, and new
combinations and attribute values use FactuSOL's talla/color names, never the codes alone."""

from __future__ import annotations

from decimal import Decimal

import pytest

from replicator.factusol import writer as fs_writer
from replicator.sandbox.access_sql import access_sql_guard  # noqa: F401  (every statement must be Access SQL)
from replicator.sync.products import ProductSync
from replicator.sync.stock import StockSync

from _sync_env import build, open_env
from test_sync_products import add_article

pytestmark = pytest.mark.mysql

CAM = [(s, c) for c in ("BLA", "NEG") for s in ("S", "M", "L")]  # the demo shop's CAM001: S/M/L x White/Black


@pytest.fixture
def env(mysql_server, mysql_db, tmp_path):
    config = build(mysql_server, mysql_db, tmp_path, demo=True, articles=0, customers=0, orders=0, workers="thread")
    e = open_env(config)
    e.runtime.engine.syncs = {"product": ProductSync(), "stock": StockSync()}
    e.rules.entity("stock").options["subtract_unsynced_shop_orders"] = False  # FactuSOL's figures alone here
    add_article(e.fs, "CAM001", "Camiseta básica", variants=[(s, c, "") for s, c in CAM])
    add_article(e.fs, "SUD002", "Sudadera", variants=[(s, "", "") for s in ("S", "M", "L", "XL")])
    add_article(e.fs, "GOR003", "Gorra", variants=[("", c, "") for c in ("ROJ", "AZU")])
    yield e
    e.close()


def combination_stock(env, ref: str) -> dict[tuple[str, ...], int]:
    """{(attribute names in Spanish, sorted): quantity} of a product's combinations."""
    rows = env.shop.query(
        "SELECT sa.id_product_attribute AS pa, sa.quantity, al.name FROM {p}stock_available sa JOIN {p}product p ON"
        " p.id_product = sa.id_product JOIN {p}product_attribute_combination pac ON pac.id_product_attribute ="
        " sa.id_product_attribute JOIN {p}attribute_lang al ON al.id_attribute = pac.id_attribute AND al.id_lang = 2"
        " WHERE p.reference = %s AND sa.id_shop = 1",
        (ref,),
    )
    names: dict[int, list[str]] = {}
    qty: dict[int, int] = {}
    for r in rows:
        names.setdefault(r["pa"], []).append(r["name"])
        qty[r["pa"]] = r["quantity"]
    return {tuple(sorted(names[pa])): qty[pa] for pa in names}


def sync(env, *entities: str, keys=("CAM001", "SUD002", "GOR003")):
    for entity in entities:
        env.runtime.engine.sync_keys(entity, list(keys))


def test_combinations_without_their_own_reference_get_stock_by_names(env):
    sync(env, "product")
    attributes = env.shop.query_one("SELECT COUNT(*) AS n FROM {p}attribute")["n"]
    combos = env.shop.query_one("SELECT COUNT(*) AS n FROM {p}product_attribute")["n"]
    # the shop's combinations lose their references: none for the T-shirt, the product's for the sweatshirt
    env.shop.execute(
        "UPDATE {p}product_attribute pa JOIN {p}product p ON p.id_product = pa.id_product"
        " SET pa.reference = IF(p.reference = 'CAM001', '', p.reference)"
    )
    for (size, colour), units in zip(CAM, (1, 2, 3, 4, 5, 6)):
        fs_writer.update_stock(
            env.fs, "CAM001", "GEN", actual=Decimal(units), available=Decimal(units), size=size, color=colour
        )
    for size, units in (("S", 7), ("XL", 9)):
        fs_writer.update_stock(env.fs, "SUD002", "GEN", actual=Decimal(units), available=Decimal(units), size=size)
    fs_writer.update_stock(env.fs, "GOR003", "GEN", actual=Decimal(11), available=Decimal(11), color="AZU")
    sync(env, "stock")
    # sizes match by code (shop "S" = FactuSOL S "Talla S"), colours by name (shop "Blanco" = FactuSOL BLA "Blanco")
    assert combination_stock(env, "CAM001") == {
        ("Blanco", "S"): 1,
        ("Blanco", "M"): 2,
        ("Blanco", "L"): 3,
        ("Negro", "S"): 4,
        ("M", "Negro"): 5,
        ("L", "Negro"): 6,
    }
    assert combination_stock(env, "SUD002") == {("S",): 7, ("M",): 0, ("L",): 0, ("XL",): 9}
    assert combination_stock(env, "GOR003") == {("Rojo",): 0, ("Azul",): 11}
    # nothing was duplicated on the way: the product sync found the shop's combinations and values by name
    assert env.shop.query_one("SELECT COUNT(*) AS n FROM {p}attribute")["n"] == attributes
    assert env.shop.query_one("SELECT COUNT(*) AS n FROM {p}product_attribute")["n"] == combos
    # with reference matching alone those combinations are not FactuSOL's: their stock is left alone
    env.rules.entity("product").options["combinations"] = {"match": ["reference"]}
    fs_writer.update_stock(env.fs, "SUD002", "GEN", actual=Decimal(1), available=Decimal(1), size="S")
    sync(env, "stock", keys=("SUD002",))
    assert combination_stock(env, "SUD002")[("S",)] == 7


def test_new_combinations_and_values_are_named_as_factusol_names_them(env):
    fs_writer.insert_row(env.fs, "F_CE2", {"CODCE2": "MOS", "DESCE2": "Mostaza"})
    add_article(
        env.fs,
        "ZAP900",
        "Zapatilla",
        family="ZAP",
        variants=[("42", "MOS", ""), ("43", "NEG", "")],
        stock={("GEN", "42", "MOS"): 4, ("GEN", "43", "NEG"): 2},
    )
    sync(env, "product", "stock", keys=("ZAP900",))
    # 42 is the shop's "42" (FactuSOL 42 "Número 42"), Negro the shop's; 43 and Mostaza are added with their names
    assert combination_stock(env, "ZAP900") == {("42", "Mostaza"): 4, ("Negro", "Número 43"): 2}
    added = env.shop.query(
        "SELECT a.id_attribute_group AS g, l.id_lang, l.name FROM {p}attribute a JOIN"
        " {p}attribute_lang l ON l.id_attribute = a.id_attribute WHERE l.name IN"
        " ('Mostaza', 'MOS', 'Número 43', '43', 'Número 42') ORDER BY l.name, l.id_lang"
    )
    assert [(r["g"], r["id_lang"], r["name"]) for r in added] == [
        (2, 1, "Mostaza"),
        (2, 2, "Mostaza"),
        (1, 1, "Número 43"),
        (1, 2, "Número 43"),
    ]
    # a second run adds nothing
    count = env.shop.query_one("SELECT COUNT(*) AS n FROM {p}attribute")["n"]
    sync(env, "product", "stock", keys=("ZAP900",))
    assert env.shop.query_one("SELECT COUNT(*) AS n FROM {p}attribute")["n"] == count


def test_an_order_line_of_a_combination_without_reference_gets_its_talla_and_color(env):
    from replicator.sync.orders import OrderSync

    add_article(env.fs, "TAZ010", "Taza")
    sync(env, "product")
    env.shop.execute(
        "UPDATE {p}product_attribute pa JOIN {p}product p ON p.id_product = pa.id_product"
        " SET pa.reference = IF(p.reference = 'CAM001', '', p.reference)"
    )
    env.runtime.engine.syncs["order"] = OrderSync()
    # demo order 1: 2 x CAM001 in M / White (and a mug)
    out = env.runtime.engine.sync_keys("order", ["ps:1"])
    assert out["ps:1"].status == "applied", out
    lines = env.fs.query(
        "SELECT [F_LPC].[ARTLPC], [F_LPC].[CE1LPC], [F_LPC].[CE2LPC], [F_LPC].[PENLPC] FROM [F_LPC]"
        " INNER JOIN [F_PCL] ON ([F_PCL].[TIPPCL] = [F_LPC].[TIPLPC] AND [F_PCL].[CODPCL] ="
        " [F_LPC].[CODLPC]) WHERE [F_PCL].[REFPCL] LIKE ? AND [F_LPC].[ARTLPC] = ?",
        ["PS-1-%", "CAM001"],
    )
    assert [(r["CE1LPC"], r["CE2LPC"], r["PENLPC"]) for r in lines] == [("M", "BLA", 2)]
