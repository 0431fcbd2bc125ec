"""Families and sections -> shop categories end to end (real MariaDB shop, FactuSOL stand-in through pyodbc): the
tree as PrestaShop keeps it (nested set, depth, positions, languages, groups), products in their family, and the
live path (renamed, new and moved families)."""

from __future__ import annotations

import pytest

from replicator.daemon import run_once
from replicator.factusol import writer as fs_writer
from replicator.sandbox.access_sql import access_sql_guard  # noqa: F401  (every statement must be Access SQL)
from replicator.sync.categories import CategorySync
from replicator.sync.products import ProductSync

from _sync_env import build, open_env
from test_sync_products import add_article

pytestmark = pytest.mark.mysql


@pytest.fixture
def env(mysql_server, mysql_db, tmp_path):
    config = build(mysql_server, mysql_db, tmp_path, demo=True, articles=0, customers=0, orders=0, workers="thread")
    e = open_env(config)
    e.runtime.engine.syncs = {"category": CategorySync(), "product": ProductSync()}
    yield e
    e.close()


def tree(env) -> dict[int, dict]:
    rows = env.shop.query(
        "SELECT c.*, cs.position AS shop_position FROM {p}category c JOIN {p}category_shop cs"
        " ON cs.id_category = c.id_category AND cs.id_shop = 1"
    )
    return {r["id_category"]: r for r in rows}


def names(env, cid: int) -> dict[int, str]:
    return {
        r["id_lang"]: r["name"]
        for r in env.shop.query(
            "SELECT id_lang, name FROM {p}category_lang WHERE id_category = %s AND id_shop = 1", (cid,)
        )
    }


def by_name(env, name: str, lang: int = 2) -> int | None:
    row = env.shop.query_one(
        "SELECT id_category FROM {p}category_lang WHERE name = %s AND id_lang = %s AND id_shop = 1"
        " ORDER BY id_category",
        (name, lang),
    )
    return row["id_category"] if row else None


def assert_nested_set(env) -> None:
    """nleft/nright numbered depth first from the root (1..2n), each child inside its parent, depth = parent + 1,
    sibling positions 0..n-1 without gaps or repeats where we wrote them."""
    cats = tree(env)
    numbers = sorted(n for c in cats.values() for n in (c["nleft"], c["nright"]))
    assert numbers == list(range(1, 2 * len(cats) + 1))
    for c in cats.values():
        assert c["nleft"] < c["nright"]
        if c["id_parent"]:
            parent = cats[c["id_parent"]]
            assert parent["nleft"] < c["nleft"] and c["nright"] < parent["nright"], c
            assert c["level_depth"] == parent["level_depth"] + 1, c
            assert (c["nright"] - c["nleft"] - 1) // 2 == sum(
                1 for d in cats.values() if c["nleft"] < d["nleft"] < c["nright"]
            )


def product_categories(env, ref: str) -> tuple[int, set[int]]:
    row = env.shop.query_one(
        "SELECT p.id_product, p.id_category_default AS d, ps.id_category_default AS sd FROM"
        " {p}product p JOIN {p}product_shop ps ON ps.id_product = p.id_product WHERE p.reference"
        " = %s",
        (ref,),
    )
    assert row["d"] == row["sd"]
    cats = {
        r["id_category"]
        for r in env.shop.query(
            "SELECT id_category FROM {p}category_product WHERE id_product = %s", (row["id_product"],)
        )
    }
    return row["d"], cats


def test_families_and_sections_become_the_category_tree(env):
    add_article(env.fs, "CAM900", "Camiseta lino", family="CAM")
    add_article(env.fs, "ACE900", "Aceite 1L", family="ACE", vat=1)
    add_article(env.fs, "TAZ010", "Taza cerámica FS", family="MEN")  # linked to the demo shop's product
    before = tree(env)
    run_once(env.runtime)
    cats = tree(env)
    # sections link to the demo shop's categories of the same name (Spanish), the others are created under Home
    ropa, alimentacion = by_name(env, "Ropa"), by_name(env, "Alimentación")
    assert (ropa, alimentacion) == (3, 6)
    hogar = by_name(env, "Hogar")
    assert hogar not in before and cats[hogar]["id_parent"] == 2 and cats[hogar]["level_depth"] == 2
    camisetas, aceites, menaje = by_name(env, "Camisetas"), by_name(env, "Aceites y conservas"), by_name(env, "Menaje")
    assert (cats[camisetas]["id_parent"], cats[aceites]["id_parent"], cats[menaje]["id_parent"]) == (
        ropa,
        alimentacion,
        hogar,
    )
    assert cats[camisetas]["level_depth"] == 3 and cats[camisetas]["active"] == 1
    # every language has the name and a friendly URL; the three default groups may see it
    assert names(env, camisetas) == {1: "Camisetas", 2: "Camisetas"}
    assert (
        env.shop.query_one(
            "SELECT link_rewrite FROM {p}category_lang WHERE id_category = %s AND id_lang = 1", (aceites,)
        )["link_rewrite"]
        == "aceites-y-conservas"
    )
    assert {
        r["id_group"]
        for r in env.shop.query("SELECT id_group FROM {p}category_group WHERE id_category = %s", (camisetas,))
    } == {1, 2, 3}
    # siblings under Ropa (pantalones, chaquetas, camisetas ...) get 0, 1, 2 ... as PrestaShop numbers them
    under_ropa = sorted(c["shop_position"] for c in cats.values() if c["id_parent"] == ropa)
    assert under_ropa == list(range(len(under_ropa)))
    assert all(c["position"] == c["shop_position"] for c in cats.values() if c["id_category"] not in before)
    assert_nested_set(env)
    # products: new ones in their family only (not Home), default = family; the linked demo product joins its family
    assert product_categories(env, "CAM900") == (camisetas, {camisetas})
    assert product_categories(env, "ACE900") == (aceites, {aceites})
    default, member = product_categories(env, "TAZ010")
    assert default == menaje and menaje in member
    # a second run changes nothing
    _, report = env.cycle()
    assert tree(env) == cats


def test_live_rename_new_family_and_moves(env):
    add_article(env.fs, "CAM900", "Camiseta lino", family="CAM")
    run_once(env.runtime)
    camisetas = by_name(env, "Camisetas")
    # the English name was translated in the shop: a rename in FactuSOL keeps it, the Spanish name follows
    env.shop.execute(
        "UPDATE {p}category_lang SET name = 'T-shirts' WHERE id_category = %s AND id_lang = 1", (camisetas,)
    )
    fs_writer.update_fields(env.fs, "F_FAM", {"CODFAM": "CAM"}, {"DESFAM": "Camisetas y polos"})
    _, report = env.cycle()
    assert names(env, camisetas) == {1: "T-shirts", 2: "Camisetas y polos"}
    # a new family reaches the shop, under its section; an article moved to it moves its product
    fs_writer.insert_row(env.fs, "F_FAM", {"CODFAM": "POL", "DESFAM": "Polos", "SECFAM": "ROP", "SUWFAM": 1})
    fs_writer.update_fields(env.fs, "F_ART", {"CODART": "CAM900"}, {"FAMART": "POL"})
    env.cycle()
    polos = by_name(env, "Polos")
    assert polos and tree(env)[polos]["id_parent"] == 3
    assert product_categories(env, "CAM900") == (polos, {polos})
    # a family moved to another section moves its category; the nested set follows
    fs_writer.update_fields(env.fs, "F_FAM", {"CODFAM": "POL"}, {"SECFAM": "CAL"})
    env.cycle()
    calzado = by_name(env, "Calzado")
    assert tree(env)[polos]["id_parent"] == calzado and tree(env)[polos]["level_depth"] == 3
    assert_nested_set(env)
    # a product moved by hand in the shop stays there while its family does not change in FactuSOL
    pid = env.shop.query_one("SELECT id_product FROM {p}product WHERE reference = 'CAM900'")["id_product"]
    env.shop.execute("UPDATE {p}category_product SET id_category = 4 WHERE id_product = %s", (pid,))
    env.shop.execute("UPDATE {p}product_shop SET id_category_default = 4 WHERE id_product = %s", (pid,))
    env.shop.execute("UPDATE {p}product SET id_category_default = 4 WHERE id_product = %s", (pid,))
    fs_writer.update_fields(env.fs, "F_ART", {"CODART": "CAM900"}, {"DESART": "Polo lino"})
    env.cycle()
    assert product_categories(env, "CAM900") == (4, {4})


def test_flat_tree_and_default_section(env):
    env.rules.entity("product").options["categories"] = {
        "tree": "family",
        "parent": "home",
        "default_category": "family",
        "rename": False,
    }
    add_article(env.fs, "CAM900", "Camiseta lino", family="CAM")
    run_once(env.runtime)
    camisetas = by_name(env, "Camisetas")
    assert tree(env)[camisetas]["id_parent"] == 2 and by_name(env, "Hogar") is None
    fs_writer.update_fields(env.fs, "F_FAM", {"CODFAM": "CAM"}, {"DESFAM": "Camisetas nuevas"})
    env.cycle()
    assert names(env, camisetas)[2] == "Camisetas"  # rename: false
    env.rules.entity("product").options["categories"] = {"tree": "section_family", "default_category": "section"}
    add_article(env.fs, "ZAP900", "Zapatilla", family="ZAP")
    env.cycle()
    zapatillas, calzado = by_name(env, "Zapatillas"), by_name(env, "Calzado")
    assert product_categories(env, "ZAP900") == (calzado, {calzado, zapatillas})


def test_categories_on_a_178_shop(mysql_server, mysql_db, tmp_path):
    """PrestaShop 1.7.8's category_lang has no additional_description: the rows are written without it."""
    import dataclasses

    from replicator.sandbox import shop as ps_sandbox

    config = build(mysql_server, mysql_db, tmp_path, demo=True, articles=0, customers=0, orders=0, workers="thread")
    url = ps_sandbox.create_shop(mysql_server.url, mysql_db, demo=True, version="1.7.8.11")
    e = open_env(dataclasses.replace(config, prestashop=dataclasses.replace(config.prestashop, url=url)))
    try:
        assert e.shop.detect_version().family == "1.7.8"
        e.runtime.engine.syncs = {"category": CategorySync(), "product": ProductSync()}
        add_article(e.fs, "CAM900", "Camiseta lino", family="CAM")
        run_once(e.runtime)
        camisetas = by_name(e, "Camisetas")
        assert camisetas and names(e, camisetas) == {1: "Camisetas", 2: "Camisetas"}
        assert product_categories(e, "CAM900") == (camisetas, {camisetas})
        assert_nested_set(e)
    finally:
        e.close()
