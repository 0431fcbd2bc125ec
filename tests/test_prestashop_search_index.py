"""Search and price-filter indexes as PrestaShop keeps them (replicator/prestashop/search_index.py).

Word cleaning is checked on cases whose PrestaShop result is known (the real 8.2.1 demo shop holds 't-shirt',
'tshirt', 'shirt', '043kg', 'dishwasher-proo'); the writer is checked against a sandbox shop (indexed = 1, words and
weights per language, rename, inactive, rule switch, faceted-search tables); the reference part re-indexes every
product of the real demo shop and compares with the rows PrestaShop itself wrote there.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from replicator.model import Combination, Product
from replicator.prestashop import schema, search_index
from replicator.prestashop import write as writer
from replicator.sandbox import shop as sandbox
from replicator.prestashop.connection import ShopConnection
from replicator.prestashop.search_index import SearchSettings, extract_keywords, sanitize, weigh


def test_sanitize_like_prestashop():
    assert sanitize("<p>Hummingbird printed T-Shirt</p>", 3) == "hummingbird printed shirt"
    assert extract_keywords("Hummingbird printed t-shirt", 3) == [
        "hummingbird",
        "printed",
        "shirt",
        "t-shirt",
        "tshirt",
    ]
    assert sanitize("Weight: 0.43kg, 1,000 units", 3) == "weight 043kg 1000 units"
    assert sanitize("Camiseta Ñandú &amp; Cía. ²", 3) == "camiseta nandu cia"
    assert sanitize("demo_1", 3) == "demo"
    assert sanitize("a an the cat", 1) == "a an the cat"
    assert sanitize("the big cat sat", 3, blacklist="the|sat") == "big cat"
    assert extract_keywords(None, 3) == [] and extract_keywords("", 3) == []


def test_weights_sum_per_word_and_words_are_cut_like_prestashop():
    settings = SearchSettings(
        weights={"pname": 6, "reference": 10, "description": 1, "attributes": 2}, min_word_length=3, max_word_length=15
    )
    words = weigh(
        [
            ("pname", "Mug dishwasher-proof"),
            ("reference", "MUG-01"),
            ("description", "A mug. A MUG!"),
            ("attributes", "White White Black "),
            ("reference", "MUG-01"),
        ],
        settings,
        1,
    )
    assert words["mug"] == 6 + 10 + 1 + 10
    assert words["dishwasher-proo"] == 6 and words["dishwasherproof"] == 6 and words["proof"] == 6
    assert words["mug-01"] == 20 and words["mug01"] == 20
    assert words["white"] == 2 and words["black"] == 2


FACETED = (
    "CREATE TABLE `{p}layered_price_index` (id_product int(11) NOT NULL, id_currency int(11) NOT NULL,"
    " id_shop int(11) NOT NULL, price_min decimal(20,6) NOT NULL, price_max decimal(20,6) NOT NULL,"
    " id_country int(11) NOT NULL, PRIMARY KEY (id_product,id_currency,id_shop,id_country))",
    "CREATE TABLE `{p}layered_filter_block` (hash char(32) NOT NULL DEFAULT '', data text DEFAULT NULL,"
    " PRIMARY KEY (hash))",
)


def _words(shop, pid, lang=None) -> dict[str, int]:
    rows = shop.query(
        "SELECT w.word, w.id_lang, i.weight FROM {p}search_index i JOIN {p}search_word w"
        " ON w.id_word = i.id_word WHERE i.id_product = %s",
        (pid,),
    )
    return {r["word"]: r["weight"] for r in rows if lang is None or r["id_lang"] == lang}


@pytest.fixture
def shop(mysql_server, mysql_db):
    with ShopConnection(sandbox.create_shop(mysql_server.url, mysql_db, demo=True)) as s:
        yield s


@pytest.mark.mysql
def test_created_product_is_found_by_search_in_every_language(shop):
    pid = writer.upsert_product(
        shop,
        Product(
            reference="CAM-77",
            name="Camiseta Ñandú",
            price_tax_excl=Decimal(9),
            description="<p>Algodón orgánico</p>",
            combinations=[Combination(reference="CAM-77-S", size="S", color="Verde")],
        ),
    )
    assert shop.query_one(
        "SELECT p.indexed AS a, ps.indexed AS b FROM {p}product p JOIN {p}product_shop ps"
        " USING (id_product) WHERE id_product = %s",
        (pid,),
    ) == {"a": 1, "b": 1}
    for lang in shop.lang_ids:
        words = _words(shop, pid, lang)
        assert words["camiseta"] == 6 and words["nandu"] == 6
        # "CAM-77" (product) and "CAM-77-S" (combination): "cam" from both, "77" and "s" too short
        assert words["cam"] == 20 and words["cam-77"] == 10 and words["cam77"] == 10 and words["cam77s"] == 10
        assert words["algodon"] == 1 and words["verde"] == 2
    # a rename replaces the words, as PrestaShop's save re-indexes the product
    writer.upsert_product(
        shop, Product(reference="CAM-77", prestashop_id=pid, name="Polo Ñandú", price_tax_excl=Decimal(9))
    )
    words = _words(shop, pid, shop.id_lang)
    assert "polo" in words and "camiseta" not in words


@pytest.mark.mysql
def test_inactive_product_and_the_rule_switch_leave_no_search_rows(shop):
    pid = writer.upsert_product(shop, Product(reference="OFF-1", name="Hidden thing", active=False))
    assert _words(shop, pid) == {}
    assert shop.query_one("SELECT indexed FROM {p}product_shop WHERE id_product = %s", (pid,))["indexed"] == 0
    made = writer.create_products_bulk(shop, [Product(reference="LEFT-1", name="Left to PrestaShop")], index=False)
    assert _words(shop, made["LEFT-1"]) == {}
    assert shop.query_one("SELECT indexed FROM {p}product WHERE id_product = %s", (made["LEFT-1"],))["indexed"] == 0


@pytest.mark.mysql
def test_bulk_creation_indexes_and_fills_the_faceted_price_index(shop):
    for ddl in FACETED:
        shop.execute(ddl.replace("{p}", shop.prefix))
    shop.execute("INSERT INTO {p}layered_filter_block (hash, data) VALUES ('x', 'cached')")
    made = writer.create_products_bulk(
        shop,
        [
            Product(reference="BLK-1", name="Blue kettle", price_tax_excl=Decimal("20")),
            Product(
                reference="BLK-2",
                name="Red kettle",
                price_tax_excl=Decimal("10"),
                combinations=[
                    Combination(reference="BLK-2-L", size="L", price_impact=Decimal("2.5")),
                    Combination(reference="BLK-2-XL", size="XL", price_impact=Decimal("5")),
                ],
            ),
        ],
    )
    assert _words(shop, made["BLK-1"], shop.id_lang)["kettle"] == 6
    rows = shop.query("SELECT * FROM {p}layered_price_index WHERE id_product = %s", (made["BLK-2"],))
    currencies = shop.query(
        "SELECT c.id_currency, c.conversion_rate FROM {p}currency c JOIN {p}currency_shop s"
        " USING (id_currency) WHERE c.active = 1 AND c.deleted = 0"
    )
    countries = shop.query_one("SELECT COUNT(*) AS n FROM {p}country WHERE active = 1")["n"]
    assert len(rows) == len(currencies) * countries > 0
    rate = {c["id_currency"]: Decimal(c["conversion_rate"]) for c in currencies}
    for r in rows:
        # priced as shown: the default (first) combination's impact, no reduction in the sandbox
        shown = (Decimal("12.5") * rate[r["id_currency"]]).quantize(Decimal("0.000001"))
        assert r["price_min"] == r["price_max"] == shown
    assert shop.query_one("SELECT COUNT(*) AS n FROM {p}layered_filter_block")["n"] == 0


# ------------------------------------------------------------------------------------------------ reference


@pytest.fixture(scope="module")
def demo_shop(mysql_server):
    dump = Path(__file__).resolve().parents[2] / "shared" / "reference" / "prestashop" / "demo_dump.sql"
    if not dump.is_file():
        pytest.skip("../shared/reference is not present (reference-only test)")
    name = mysql_server.fresh_database("demo")
    schema.load_sql_file(mysql_server.database_url(name), str(dump))
    with ShopConnection(mysql_server.database_url(name)) as shop:
        yield shop
    with mysql_server.connect() as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")


@pytest.mark.mysql
@pytest.mark.reference
def test_reindexing_the_real_demo_products_gives_prestashops_own_rows(demo_shop):
    shop = demo_shop
    ids = [r["id_product"] for r in shop.query("SELECT id_product FROM {p}product ORDER BY id_product")]
    before = {pid: _words(shop, pid) for pid in ids}
    assert sum(map(len, before.values())) > 500
    with shop.transaction() as cur:
        search_index.index_products(shop, ids, cur)
    for pid in ids:
        assert _words(shop, pid) == before[pid], f"product {pid}"


@pytest.mark.mysql
@pytest.mark.reference
def test_price_index_of_the_real_demo_products_matches_the_modules_rows(demo_shop):
    shop = demo_shop
    cols = "id_product, id_currency, id_shop, price_min, price_max, id_country"
    before = shop.query(f"SELECT {cols} FROM {{p}}layered_price_index ORDER BY {cols}")
    ids = sorted({r["id_product"] for r in before})
    with shop.transaction() as cur:
        search_index.refresh_price_index(shop, ids, cur)
    assert shop.query(f"SELECT {cols} FROM {{p}}layered_price_index ORDER BY {cols}") == before
