"""Articles -> shop products end to end: real capture on both sides, field ownership, filters, variants."""

from __future__ import annotations

from decimal import Decimal

import pytest

from replicator.daemon import run_once
from replicator.factusol import writer as fs_writer
from replicator.sandbox.access_sql import access_sql_guard  # noqa: F401  (every statement must be Access SQL)
from replicator.store import PENDING
from replicator.sync.products import ProductSync
from replicator.sync.stock import StockSync

from _sync_env import build, open_env

pytestmark = pytest.mark.mysql


def add_article(
    fs,
    code: str,
    name: str,
    *,
    price: str = "10",
    price_incl: str | None = None,
    vat: int = 0,
    family: str = "ROP",
    publish: int = 1,
    description: str = "",
    ean: str = "",
    weight: str = "0",
    variants=(),
    stock: dict | None = None,
) -> None:
    """An article as FactuSOL stores it: F_ART, tariff 1 (without VAT) and 2 (VAT included), variants and stock."""
    fs_writer.insert_row(
        fs,
        "F_ART",
        {
            "CODART": code,
            "DESART": name,
            "DEWART": description,
            "EANART": ean,
            "PESART": Decimal(weight),
            "SUWART": publish,
            "TIVART": vat,
            "FAMART": family,
            "PCOART": Decimal(price) / 2,
            "DSCART": 0,
            "NPUART": 0,
        },
    )
    fs_writer.insert_row(fs, "F_LTA", {"TARLTA": 1, "ARTLTA": code, "PRELTA": Decimal(price)})
    if price_incl is not None:
        fs_writer.insert_row(fs, "F_LTA", {"TARLTA": 2, "ARTLTA": code, "PRELTA": Decimal(price_incl)})
    for size, color, v_ean in variants:
        fs_writer.insert_row(fs, "F_ARC", {"ARTARC": code, "CE1ARC": size, "CE2ARC": color})
        if v_ean:
            fs_writer.insert_row(fs, "F_EAC", {"ARTEAC": code, "EANEAC": v_ean, "CE1EAC": size, "CE2EAC": color})
    for (warehouse, size, color), qty in (stock or {}).items():
        fs_writer.update_stock(fs, code, warehouse, actual=Decimal(qty), available=Decimal(qty), size=size, color=color)


@pytest.fixture
def env(mysql_server, mysql_db, tmp_path):
    config = build(
        mysql_server, mysql_db, tmp_path, demo=True, articles=0, customers=0, orders=0, workers="thread"
    )  # in-process: tests here look inside the syncs
    e = open_env(config)
    e.runtime.engine.syncs = {"product": ProductSync(), "stock": StockSync()}
    yield e
    e.close()


def scalar(env, sql: str, args=()):
    row = env.shop.query_one(sql, args)
    return None if row is None else next(iter(row.values()))


def product(env, ref: str) -> dict | None:
    return env.shop.query_one(
        "SELECT p.*, ps.price AS shop_price, ps.active AS shop_active, ps.id_tax_rules_group AS"
        " shop_tax FROM {p}product p JOIN {p}product_shop ps ON ps.id_product = p.id_product"
        " AND ps.id_shop = 1 WHERE p.reference = %s",
        (ref,),
    )


def names(env, pid: int) -> dict[int, tuple[str, str]]:
    return {
        r["id_lang"]: (r["name"], r["description"])
        for r in env.shop.query(
            "SELECT id_lang, name, description FROM {p}product_lang WHERE id_product = %s AND id_shop = 1", (pid,)
        )
    }


def test_articles_become_products_with_variants_and_link_before_create(env):
    add_article(
        env.fs,
        "ZAP100",
        "Zapatilla running",
        price="50",
        vat=1,
        family="CAL",
        description="Ligera y cómoda",
        ean="8412345001006",
        weight="0.35",
        variants=[("42", "ROJ", "8412345001013"), ("43", "ROJ", "8412345001020")],
        stock={("GEN", "42", "ROJ"): 4, ("GEN", "43", "ROJ"): 6},
    )
    add_article(env.fs, "TAZ010", "Taza cerámica FS", price="7.438017", stock={("GEN", "", ""): 12})  # in the demo
    add_article(env.fs, "OCU200", "Oculto", publish=0)  # "subir a internet" unticked
    shop_products = scalar(env, "SELECT COUNT(*) FROM {p}product")
    run_once(env.runtime)
    # the demo shop's TAZ010 is linked, not duplicated; OCU200 is not published
    assert scalar(env, "SELECT COUNT(*) FROM {p}product") == shop_products + 1
    assert scalar(env, "SELECT COUNT(*) FROM {p}product WHERE reference = 'TAZ010'") == 1
    assert product(env, "OCU200") is None
    p = product(env, "ZAP100")
    assert env.store.map_id("product", factusol_key="ZAP100").prestashop_id == str(p["id_product"])
    assert (p["ean13"], p["weight"], p["active"], p["shop_active"]) == ("8412345001006", Decimal("0.350000"), 1, 1)
    assert p["price"] == p["shop_price"] == Decimal("50.000000")
    assert p["id_tax_rules_group"] == p["shop_tax"] == 2  # 10 % group from TIVART 1
    langs = {r["id_lang"] for r in env.shop.query("SELECT id_lang FROM {p}lang")}
    assert len(langs) > 1 and names(env, p["id_product"]) == {
        lang: ("Zapatilla running", "Ligera y cómoda") for lang in langs
    }
    combos = env.shop.query(
        "SELECT pa.id_product_attribute AS pa, pa.reference, pa.ean13, sa.quantity FROM"
        " {p}product_attribute pa JOIN {p}stock_available sa ON sa.id_product_attribute ="
        " pa.id_product_attribute AND sa.id_shop = 1 WHERE pa.id_product = %s ORDER BY pa.reference",
        (p["id_product"],),
    )
    assert [(c["reference"], c["ean13"], c["quantity"]) for c in combos] == [
        ("ZAP100-42-ROJ", "8412345001013", 4),
        ("ZAP100-43-ROJ", "8412345001020", 6),
    ]
    assert (
        scalar(
            env,
            "SELECT quantity FROM {p}stock_available WHERE id_product = %s AND id_product_attribute = 0"
            " AND id_shop = 1",
            (p["id_product"],),
        )
        == 10
    )
    assert scalar(env, "SELECT COUNT(*) FROM {p}product_attribute_shop WHERE id_product = %s", (p["id_product"],)) == 2
    taz = product(env, "TAZ010")
    assert names(env, taz["id_product"])[2][0] == "Taza cerámica FS"
    # echo: our writes are not changes, a second apply writes nothing
    captured, applied = env.cycle()
    assert captured.changes == 0 and applied.changes == 0 and env.store.changes(status=PENDING) == []
    out = ProductSync().sync(env.ctx, ["ZAP100", "TAZ010"])
    assert {o.status for o in out.values()} == {"noop"}


def test_field_ownership_shop_edit_stays_until_factusol_changes(env):
    add_article(env.fs, "LAM300", "Lámpara", price="20", description="Descripción de FactuSOL")
    run_once(env.runtime)
    pid = product(env, "LAM300")["id_product"]
    # the shop's back office rewrites the description (all languages)
    env.shop.execute("UPDATE {p}product_lang SET description = 'Texto de la tienda' WHERE id_product = %s", (pid,))
    env.cycle()
    assert {d for _, d in names(env, pid).values()} == {"Texto de la tienda"}
    # FactuSOL changes something else (the price): the shop's description stays
    fs_writer.update_fields(env.fs, "F_LTA", {"TARLTA": 1, "ARTLTA": "LAM300"}, {"PRELTA": Decimal("22")})
    env.cycle()
    assert product(env, "LAM300")["price"] == Decimal("22.000000")
    assert {d for _, d in names(env, pid).values()} == {"Texto de la tienda"}
    # FactuSOL changes the description: now it travels to the default language; the other languages hold the
    # shop's own text (no longer FactuSOL's previous value: a translation) and keep it
    fs_writer.update_fields(env.fs, "F_ART", {"CODART": "LAM300"}, {"DEWART": "Nueva descripción"})
    env.cycle()
    default = env.shop.id_lang
    assert {lang: d for lang, (_, d) in names(env, pid).items()} == {
        lang: "Nueva descripción" if lang == default else "Texto de la tienda" for lang in names(env, pid)
    }
    # name with direction none: a FactuSOL name change does not reach the shop
    env.rules.entity("product").fields["name"].direction = "none"
    fs_writer.update_fields(env.fs, "F_ART", {"CODART": "LAM300"}, {"DESART": "Lámpara de pie"})
    env.cycle()
    assert {n for n, _ in names(env, pid).values()} == {"Lámpara"}
    captured, applied = env.cycle()
    assert captured.changes == 0 and applied.changes == 0


def test_publish_flag_and_family_filter_and_tax_included_tariff(env):
    env.rules.entity("product").filters["families"] = ["ROP", "CAL"]
    env.rules.entity("product").options["tariff"] = 2  # "PVP tienda (IVA incluido)"
    add_article(env.fs, "CAM500", "Camisa", price="1", price_incl="121", vat=0, family="ROP")
    add_article(env.fs, "LIB600", "Libro", price="1", price_incl="20.80", vat=2, family="ROP")
    add_article(env.fs, "MUE700", "Mueble", price="1", price_incl="100", family="HOG")  # family filtered out
    run_once(env.runtime)
    assert product(env, "CAM500")["price"] == Decimal("100.000000")  # 121 / 1.21
    assert product(env, "LIB600")["price"] == Decimal("20.000000") and product(env, "LIB600")["id_tax_rules_group"] == 3
    assert product(env, "MUE700") is None
    # unticked "subir a internet": deactivated, never deleted
    fs_writer.update_fields(env.fs, "F_ART", {"CODART": "CAM500"}, {"SUWART": 0})
    env.cycle()
    p = product(env, "CAM500")
    assert p is not None and p["active"] == 0 and p["shop_active"] == 0
    captured, applied = env.cycle()
    assert applied.changes == 0
    # ticked again: active again
    fs_writer.update_fields(env.fs, "F_ART", {"CODART": "CAM500"}, {"SUWART": 1})
    env.cycle()
    assert product(env, "CAM500")["shop_active"] == 1
    # a family added to the rule: the article goes up on the next sync of its key
    env.rules.entity("product").filters["families"] = "all"
    fs_writer.update_fields(env.fs, "F_ART", {"CODART": "MUE700"}, {"DESART": "Mueble bajo"})
    env.cycle()
    assert product(env, "MUE700")["price"] == Decimal("82.644628")


def test_linking_never_wipes_shop_text_with_empty_factusol_fields(env):
    """The demo shop's TAZ010 has descriptions; the FactuSOL article with that code has no web description.
    (Checked in the shop's default language: other languages keep their translations anyway.)"""
    before = scalar(
        env,
        "SELECT description FROM {p}product_lang WHERE id_product = (SELECT id_product FROM"
        " {p}product WHERE reference = %s) AND id_lang = %s",
        ("TAZ010", env.shop.id_lang),
    )
    assert before, "the demo product has a description to keep"
    add_article(env.fs, "TAZ010", "Taza de cerámica", price="8.00", description="")
    run_once(env.runtime)
    after = scalar(
        env,
        "SELECT description FROM {p}product_lang WHERE id_product = (SELECT id_product FROM"
        " {p}product WHERE reference = %s) AND id_lang = %s",
        ("TAZ010", env.shop.id_lang),
    )
    assert after == before
    assert Decimal(product(env, "TAZ010")["shop_price"]) == Decimal("8.000000")  # what FactuSOL has does travel
    # later, FactuSOL gets a web description: now it is FactuSOL's to give
    env.fs.execute("UPDATE [F_ART] SET [DEWART] = ? WHERE [CODART] = ?", ["Taza de 350 ml", "TAZ010"])
    from replicator.capture.service import capture_once

    capture_once(env.config, env.store)
    env.runtime.engine.apply_pending()
    assert (
        scalar(
            env,
            "SELECT description FROM {p}product_lang WHERE id_product = (SELECT id_product FROM"
            " {p}product WHERE reference = %s) AND id_lang = %s",
            ("TAZ010", env.shop.id_lang),
        )
        == "Taza de 350 ml"
    )
