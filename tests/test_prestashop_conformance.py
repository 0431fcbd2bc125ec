"""Shop inserts are what PrestaShop itself writes: column by column, no NULL where PrestaShop writes '' or 0.

Project-own part: products with and without combinations, made by ``upsert_product`` and by
``create_products_bulk`` in sandbox shops of both schema families, read back row by row and compared with
replicator/prestashop/defaults.py.  Reference part (skipped without ../shared): every nullable column of the real
8.2.0 and 1.7.8 schemas is covered by the defaults, and a product made in the real 8.2.1 demo shop has no NULL
where PrestaShop writes a value.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from replicator.model import Combination, Product
from replicator.prestashop import ddl, defaults, schema
from replicator.prestashop import write as writer
from replicator.sandbox import shop as sandbox
from replicator.prestashop.connection import ShopConnection

pytestmark = pytest.mark.mysql

# Columns the writer fills with the article's own data (compared elsewhere): everything else must hold
# PrestaShop's value.
DATA = {
    "id_product",
    "id_shop",
    "id_lang",
    "id_product_attribute",
    "id_category_default",
    "id_tax_rules_group",
    "id_shop_default",
    "name",
    "link_rewrite",
    "description",
    "description_short",
    "reference",
    "ean13",
    "price",
    "wholesale_price",
    "weight",
    "active",
    "date_add",
    "date_upd",
    "product_type",
    "cache_default_attribute",
    "default_on",
    "indexed",
}
TABLES = (
    "product",
    "product_shop",
    "product_lang",
    "product_attribute",
    "product_attribute_shop",
    "product_attribute_lang",
)


def _rows(shop: ShopConnection, table: str, pid: int) -> list[dict]:
    where = "id_product = %s"
    if table == "product_attribute_lang":
        where = "id_product_attribute IN (SELECT id_product_attribute FROM {p}product_attribute WHERE id_product = %s)"
    if not shop.query_one(
        "SELECT 1 AS x FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
        (shop.prefix + table,),
    ):
        return []
    # dates as text: '0000-00-00' is what PrestaShop writes, and the driver reads it back as None otherwise
    cols = [
        r["c"]
        for r in shop.query(
            "SELECT COLUMN_NAME AS c, DATA_TYPE AS t FROM information_schema.COLUMNS"
            " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
            (shop.prefix + table,),
        )
    ]
    select = ", ".join(
        f"CAST(`{c}` AS CHAR) AS `{c}`" if c in ("available_date", "birthday") else f"`{c}`" for c in cols
    )
    return shop.query(f"SELECT {select} FROM {{p}}{table} WHERE {where}", (pid,))


def _same(stored, expected) -> bool:
    if expected is None or stored is None:
        return stored is expected
    if isinstance(expected, (int, Decimal)) and not isinstance(expected, bool):
        return Decimal(str(stored)) == Decimal(expected)
    return str(stored) == str(expected)


def assert_like_prestashop(shop: ShopConnection, pid: int) -> int:
    version = shop.detect_version()
    checked = 0
    for table in TABLES:
        for row in _rows(shop, table, pid):
            assert defaults.null_violations(table, row) == [], f"{table} of product {pid}"
            for column, value in defaults.defaults(table, version).items():
                if column in row and column not in DATA:
                    assert _same(row[column], value), f"{table}.{column} = {row[column]!r}, PrestaShop writes {value!r}"
                    checked += 1
    return checked


def _products(tag: str) -> list[Product]:
    plain = Product(
        reference=f"{tag}-P",
        name="Plain article",
        price_tax_excl=Decimal("10"),
        description=None,
        description_short=None,
        weight=None,
    )
    combo = Product(
        reference=f"{tag}-C",
        name="Shirt",
        price_tax_excl=Decimal("20"),
        description="<p>x</p>",
        combinations=[
            Combination(reference=f"{tag}-C-S", size="S", color="Red"),
            Combination(reference=f"{tag}-C-M", size="M", color="Red"),
        ],
    )
    return [plain, combo]


@pytest.mark.parametrize("version", ["8.2.1", "1.7.8.11"])
def test_created_products_hold_what_prestashop_writes(mysql_server, mysql_db, version):
    with ShopConnection(sandbox.create_shop(mysql_server.url, mysql_db, demo=True, version=version)) as shop:
        one = [writer.upsert_product(shop, p) for p in _products("ONE")]
        bulk = writer.create_products_bulk(shop, _products("BULK"))
        checked = sum(assert_like_prestashop(shop, pid) for pid in [*one, *bulk.values()])
        assert checked > 100
        isbn = shop.query(
            "SELECT isbn, upc, mpn, unity, supplier_reference, id_supplier, id_manufacturer"
            " FROM {p}product WHERE id_product IN (%s, %s)",
            tuple(one),
        )
        assert all(
            r
            == {
                "isbn": "",
                "upc": "",
                "mpn": "",
                "unity": "",
                "supplier_reference": "",
                "id_supplier": 0,
                "id_manufacturer": 0,
            }
            for r in isbn
        )


def test_defaults_differ_by_family_where_the_schemas_do():
    assert defaults.defaults("product", "8")["redirect_type"] == "default"
    assert defaults.defaults("product", "1.7.8")["redirect_type"] == "404"
    row = defaults.new_row("product_lang", "8", {"name": "x", "description": None}, ["name", "description", "id_lang"])
    assert row == {"name": "x", "description": ""}
    assert defaults.null_violations("product", {"isbn": None, "low_stock_threshold": None}) == ["isbn"]


def test_address_copy_never_carries_a_null_on(mysql_server, mysql_db):
    with ShopConnection(sandbox.create_shop(mysql_server.url, mysql_db, demo=True)) as shop:
        used = shop.query_one(
            "SELECT a.id_address, a.id_customer FROM {p}address a JOIN {p}orders o"
            " ON o.id_address_delivery = a.id_address ORDER BY a.id_address LIMIT 1"
        )
        shop.execute(
            "UPDATE {p}address SET address2 = NULL, phone_mobile = NULL WHERE id_address = %s", (used["id_address"],)
        )
        new_id = writer.update_customer(shop, used["id_customer"], {}, {"city": "Teruel"})
        if new_id == used["id_address"]:
            pytest.skip("the sandbox's first address of this customer is not the one its order uses")
        row = shop.query_one("SELECT * FROM {p}address WHERE id_address = %s", (new_id,))
        assert (row["city"], row["address2"], row["phone_mobile"]) == ("Teruel", "", "")


# ------------------------------------------------------------------------------------------------ reference

WRITER_SUPPLIES = {
    "id_product",
    "id_product_attribute",
    "id_lang",
    "id_shop",
    "date_add",
    "date_upd",
    "name",
    "link_rewrite",
    "id_tax_rules_group",
    "id_customer",
    "id_address",
    "id_country",
    "firstname",
    "lastname",
    "address1",
    "city",
    "email",
    "passwd",
    "id_gender",
}


@pytest.mark.reference
@pytest.mark.parametrize("structure, family", [("db_structure.sql", "8"), ("db_structure-1.7.8.sql", "1.7.8")])
def test_every_nullable_column_of_the_real_schema_is_covered(reference_dir, structure, family):
    real = ddl.parse_tables((reference_dir / "prestashop" / structure).read_text(encoding="utf-8"))
    uncovered = []
    for table in defaults.DEFAULTS[family]:
        if table not in real:
            assert family == "1.7.8" and table == "product_attribute_lang"
            continue
        ours = defaults.defaults(table, family)
        for name, column in real[table].items():
            if name in WRITER_SUPPLIES or column.auto_increment:
                continue
            if name in ours:
                if ours[name] is None:
                    assert name in defaults.NULL_WRITTEN[table], f"{table}.{name}"
                elif column.type.startswith("enum("):
                    assert f"'{ours[name]}'" in column.type, f"{table}.{name} = {ours[name]!r} not in {column.type}"
                continue
            if column.nullable and name not in defaults.NULL_WRITTEN[table]:
                uncovered.append(f"{table}.{name}")
    assert uncovered == []


@pytest.mark.reference
def test_product_made_in_the_real_demo_shop(mysql_server):
    dump = Path(__file__).resolve().parents[2] / "shared" / "reference" / "prestashop" / "demo_dump.sql"
    if not dump.is_file():
        pytest.skip("../shared/reference is not present (reference-only test)")
    name = mysql_server.fresh_database("demo")
    try:
        schema.load_sql_file(mysql_server.database_url(name), str(dump))
        with ShopConnection(mysql_server.database_url(name)) as shop:
            pids = [writer.upsert_product(shop, p) for p in _products("REF")]
            pids += list(writer.create_products_bulk(shop, _products("REFB")).values())
            for pid in pids:
                assert_like_prestashop(shop, pid)
            # the demo's own products hold the same values in the columns we leave to PrestaShop's defaults
            own = _rows(shop, "product_lang", 1)[0]
            assert {k: own[k] for k in ("meta_title", "available_now", "delivery_in_stock")} == {
                "meta_title": "",
                "available_now": "",
                "delivery_in_stock": "",
            }
    finally:
        with mysql_server.connect() as conn, conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
