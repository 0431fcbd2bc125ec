"""The bulk paths of the initial sync: create_products_bulk writes what upsert_product writes, set_stock_bulk keeps the
stock scope, the pa=0 sums and reserved/physical, the initial sync is idempotent and survives a failed chunk, and
product updates keep the shop's translations."""

from __future__ import annotations

import os

from decimal import Decimal

import pymysql
import pytest

from replicator.daemon import run_once
from replicator.factusol import writer as fs_writer
from replicator.sandbox.access_sql import access_sql_guard  # noqa: F401  (every statement must be Access SQL)
from replicator.model import Combination, Product
from replicator.prestashop import write as writer
from replicator.prestashop.write import combinations as write_combinations
from replicator.prestashop.write import sql as write_sql
from replicator.prestashop.write import stock as write_stock
from replicator.sandbox import shop as ps_sandbox
from replicator.prestashop.connection import ShopConnection
from replicator.sync import products as product_sync

from _sync_env import build, open_env
from test_sync_products import add_article

pytestmark = pytest.mark.mysql

SKIP = {"id_product", "reference", "date_add", "date_upd", "id_stock_available", "position"}


def _rows(shop, table: str, pid: int) -> list[dict]:
    order = {"product_lang": "id_lang", "stock_available": "id_product_attribute"}.get(table, "id_product")
    return [
        {k: v for k, v in r.items() if k not in SKIP}
        for r in shop.query(f"SELECT * FROM {{p}}{table} WHERE id_product = %s ORDER BY {order}", (pid,))
    ]


@pytest.mark.parametrize("version", ["8.2.1", "1.7.8.11"])
def test_bulk_creation_writes_the_rows_upsert_product_writes(mysql_server, mysql_db, version):
    with ShopConnection(ps_sandbox.create_shop(mysql_server.url, mysql_db, demo=True, version=version)) as shop:

        def article(ref):
            return Product(
                reference=ref,
                name="Taza grande",
                description="<p>Cerámica</p>",
                ean13="8412345000017",
                price_tax_excl=Decimal("8.2644628"),
                cost_price=Decimal("3.1"),
                vat_rate=Decimal("21"),
                weight=Decimal("0.4"),
            )

        one = writer.upsert_product(shop, article("ONE001"))
        made = writer.create_products_bulk(shop, [article("BLK001"), article("BLK002")])
        assert set(made) == {"BLK001", "BLK002"} and not made.existing
        for table in ("product", "product_shop", "product_lang", "category_product", "stock_available"):
            expected = _rows(shop, table, one)
            assert expected, table
            for ref in ("BLK001", "BLK002"):
                assert _rows(shop, table, made[ref]) == expected, (table, ref)
        positions = [
            shop.query_one("SELECT position FROM {p}category_product WHERE id_product = %s", (pid,))["position"]
            for pid in (one, made["BLK001"], made["BLK002"])
        ]
        assert positions == [positions[0], positions[0] + 1, positions[0] + 2]
        assert shop.query_one("SELECT COUNT(*) AS n FROM {p}product_lang WHERE id_product = %s", (made["BLK001"],))[
            "n"
        ] == len(shop.lang_ids)


COMBO_TABLES = (
    "product",
    "product_shop",
    "product_lang",
    "category_product",
    "stock_available",
    "product_attribute",
    "product_attribute_shop",
    "product_attribute_combination",
    "product_attribute_lang",
)


def _combo_rows(shop, table: str, pid: int, ref: str) -> list[dict]:
    """A product's rows with its combination ids replaced by their rank (1, 2, ... in id order) and its reference
    by REF: two products created the same way give equal lists."""
    rank = {
        r["id_product_attribute"]: n + 1
        for n, r in enumerate(
            shop.query(
                "SELECT id_product_attribute FROM {p}product_attribute WHERE id_product = %s"
                " ORDER BY id_product_attribute",
                (pid,),
            )
        )
    }
    rank[0] = 0
    if table in ("product_attribute_combination", "product_attribute_lang"):
        key = "id_attribute" if table == "product_attribute_combination" else "id_lang"
        rows = shop.query(
            f"SELECT t.* FROM {{p}}{table} t JOIN {{p}}product_attribute pa ON pa.id_product_attribute"
            f" = t.id_product_attribute WHERE pa.id_product = %s ORDER BY t.id_product_attribute, t.{key}",
            (pid,),
        )
    else:
        order = {
            "product_lang": "id_lang",
            "stock_available": "id_product_attribute",
            "product_attribute": "id_product_attribute",
            "product_attribute_shop": "id_product_attribute",
        }
        rows = shop.query(
            f"SELECT * FROM {{p}}{table} WHERE id_product = %s ORDER BY {order.get(table, 'id_product')}", (pid,)
        )
    out = []
    for r in rows:
        r = {k: v for k, v in r.items() if k not in SKIP - {"reference"}}
        for k in ("id_product_attribute", "cache_default_attribute"):
            if k in r:
                r[k] = rank[r[k]]
        if "reference" in r:
            r["reference"] = r["reference"].replace(ref, "REF")
        out.append(r)
    return out


@pytest.mark.parametrize("version,demo", [("8.2.1", True), ("1.7.8.11", True), ("8.2.1", False)])
def test_bulk_creation_of_combinations_writes_the_rows_upsert_product_writes(mysql_server, mysql_db, version, demo):
    with ShopConnection(ps_sandbox.create_shop(mysql_server.url, mysql_db, demo=demo, version=version)) as shop:

        def article(ref):
            return Product(
                reference=ref,
                name="Camiseta lisa",
                description="<p>Algodón</p>",
                ean13="8412345000024",
                price_tax_excl=Decimal("12.396694"),
                cost_price=Decimal("4"),
                vat_rate=Decimal("21"),
                weight=Decimal("0.2"),
                combinations=[
                    Combination(size="S", color="Rojo", reference=f"{ref}-S-Rojo", ean13="8412345000031"),
                    Combination(size="M", color="Turquesa", reference=f"{ref}-M-Turquesa", price_impact=Decimal("1.5")),
                    Combination(size="XXXL", reference=f"{ref}-XXXL", price_impact=Decimal("-0.8264463")),
                    Combination(color="Turquesa", reference=f"{ref}-Turquesa"),
                    # the same values as the first one (the shop compares names without case): the first
                    # combination is found again and updated, not inserted twice
                    Combination(size="s", color="ROJO", reference=f"{ref}-S-ROJO", price_impact=Decimal("0.5")),
                ],
            )

        def attribute_rows(name):
            return shop.query(
                "SELECT a.*, COUNT(DISTINCT l.id_lang) AS langs, COUNT(DISTINCT s.id_shop) AS shops"
                " FROM {p}attribute a JOIN {p}attribute_lang l ON l.id_attribute = a.id_attribute"
                " LEFT JOIN {p}attribute_shop s ON s.id_attribute = a.id_attribute"
                " WHERE a.id_attribute IN (SELECT id_attribute FROM {p}attribute_lang WHERE name = %s)"
                " GROUP BY a.id_attribute",
                (name,),
            )

        # the bulk path creates the values (and the groups, on an empty shop) first; upsert_product then finds them
        first = article("BLK001")
        made = writer.create_products_bulk(shop, [first, Product(reference="BLK900", name="Sin tallas")])
        assert set(made) == {"BLK001", "BLK900"} and not made.existing
        one = writer.upsert_product(shop, article("ONE001"))
        again = writer.create_products_bulk(shop, [article("BLK002")])
        for table in COMBO_TABLES:
            if table == "product_attribute_lang" and not shop.detect_version().has_product_attribute_lang:
                assert not shop.has_table(table)
                continue
            expected = _combo_rows(shop, table, one, "ONE001")
            assert expected, table
            assert _combo_rows(shop, table, made["BLK001"], "BLK001") == expected, table
            assert _combo_rows(shop, table, again["BLK002"], "BLK002") == expected, table
        pas = shop.query(
            "SELECT id_product_attribute, default_on FROM {p}product_attribute WHERE id_product = %s"
            " ORDER BY id_product_attribute",
            (made["BLK001"],),
        )
        assert [r["default_on"] for r in pas] == [1, None, None, None]
        assert [c.prestashop_id for c in first.combinations] == [r["id_product_attribute"] for r in pas] + [
            pas[0]["id_product_attribute"]
        ]
        assert shop.query_one(
            "SELECT product_type, cache_default_attribute FROM {p}product WHERE id_product = %s", (made["BLK001"],)
        ) == {"product_type": "combinations", "cache_default_attribute": pas[0]["id_product_attribute"]}
        assert shop.query_one(
            "SELECT product_type, cache_default_attribute FROM {p}product WHERE id_product = %s", (made["BLK900"],)
        ) == {"product_type": "standard", "cache_default_attribute": 0}
        # the values the bulk path created look like the ones _attribute_id creates, once each
        with shop.transaction() as cur:
            write_combinations.attribute_id(shop, cur, "Ocre", True, shop.lang_ids)
        turquesa, ocre = attribute_rows("Turquesa"), attribute_rows("Ocre")
        assert len(turquesa) == len(ocre) == len(attribute_rows("XXXL")) == 1
        assert ocre[0]["position"] == turquesa[0]["position"] + 1
        for row in (turquesa[0], ocre[0]):
            row.pop("id_attribute"), row.pop("position")
        assert turquesa == ocre and turquesa[0]["langs"] == len(shop.lang_ids) and turquesa[0]["shops"] == 1
        groups = shop.query("SELECT is_color_group, COUNT(*) AS n FROM {p}attribute_group GROUP BY is_color_group")
        assert all(g["n"] == 1 for g in groups) and len(groups) == 2


def test_bulk_creation_follows_the_live_schema_not_the_stock_defaults(mysql_server, mysql_db):
    """Columns left to their DEFAULT and rows copied on the server must give what upsert_product writes even on a
    shop whose schema differs from PrestaShop's: other defaults, a narrower product.price than product_shop's, and
    a third language."""
    with ShopConnection(ps_sandbox.create_shop(mysql_server.url, mysql_db, demo=False)) as admin:
        for sql in (
            "ALTER TABLE {p}product ALTER show_price SET DEFAULT 0, ALTER visibility SET DEFAULT 'none',"
            " ALTER state SET DEFAULT 0, ALTER id_shop_default SET DEFAULT 5,"
            " ALTER available_for_order SET DEFAULT 0, ALTER redirect_type SET DEFAULT '404'",
            "ALTER TABLE {p}product MODIFY price DECIMAL(20,2) NOT NULL DEFAULT '0.00'",
            "ALTER TABLE {p}product_lang ALTER id_shop SET DEFAULT 9",
            "ALTER TABLE {p}product_attribute ALTER minimal_quantity SET DEFAULT 3,"
            " ALTER wholesale_price SET DEFAULT '1.500000'",
            "ALTER TABLE {p}stock_available ALTER out_of_stock SET DEFAULT 2, ALTER quantity SET DEFAULT 7",
        ):
            admin.execute(sql)
    with ShopConnection(mysql_server.database_url(mysql_db)) as shop:
        langs = [*shop.lang_ids, max(shop.lang_ids) + 1]

        def article(ref):
            return Product(
                reference=ref,
                name="Camiseta lisa",
                description="<p>Algodón</p>",
                ean13="8412345000024",
                price_tax_excl=Decimal("12.396694"),
                cost_price=Decimal("4"),
                vat_rate=Decimal("21"),
                weight=Decimal("0.2"),
                combinations=[
                    Combination(size="S", color="Rojo", reference=f"{ref}-S-Rojo"),
                    Combination(size="M", reference=f"{ref}-M", price_impact=Decimal("1.5")),
                ],
            )

        one = writer.upsert_product(shop, article("ONE001"), lang_ids=langs)
        made = writer.create_products_bulk(
            shop,
            [article("BLK001"), Product(reference="BLK900", name="Sin tallas", price_tax_excl=Decimal("3.333333"))],
            lang_ids=langs,
        )
        simple = writer.upsert_product(
            shop, Product(reference="ONE900", name="Sin tallas", price_tax_excl=Decimal("3.333333")), lang_ids=langs
        )
        for table in COMBO_TABLES:
            expected = _combo_rows(shop, table, one, "ONE001")
            assert expected, table
            assert _combo_rows(shop, table, made["BLK001"], "BLK001") == expected, table
        for table in ("product", "product_shop", "product_lang", "category_product", "stock_available"):
            assert _rows(shop, table, made["BLK900"]) == _rows(shop, table, simple), table
        row = shop.query_one(
            "SELECT p.show_price, p.visibility, p.state, p.price, ps.price AS shop_price"
            " FROM {p}product p JOIN {p}product_shop ps ON ps.id_product = p.id_product"
            " WHERE p.id_product = %s",
            (made["BLK900"],),
        )
        assert row == {
            "show_price": 1,
            "visibility": "both",
            "state": 1,
            "price": Decimal("3.33"),
            "shop_price": Decimal("3.333333"),
        }
        assert shop.query_one(
            "SELECT COUNT(*) AS n FROM {p}product_lang WHERE id_product = %s AND id_shop = %s",
            (made["BLK900"], shop.id_shop),
        )["n"] == len(langs)


@pytest.mark.parametrize(
    "raw,nullable,data_type,extra,mariadb,expected",
    [
        ("'default'", False, "enum", "", True, (True, "default")),
        ("1", False, "tinyint", "", True, (True, Decimal(1))),
        ("'0.000000'", False, "decimal", "", True, (True, Decimal(0))),
        ("NULL", True, "varchar", "", True, (True, None)),
        (None, False, "datetime", "", True, (False, None)),  # no default
        ("current_timestamp()", False, "timestamp", "on update current_timestamp()", True, (False, None)),
        ("'it''s'", False, "varchar", "", True, (False, None)),  # quoting we do not decode: always sent
        ("default", False, "enum", "", False, (True, "default")),  # MySQL: bare values
        ("0.000000", False, "decimal", "", False, (True, Decimal(0))),
        (None, True, "varchar", "", False, (True, None)),  # MySQL: nullable without default = DEFAULT NULL
        (None, False, "int", "", False, (False, None)),
        ("CURRENT_TIMESTAMP", False, "timestamp", "default_generated", False, (False, None)),
        ("CURRENT_TIMESTAMP", False, "timestamp", "on update current_timestamp", False, (False, None)),  # MySQL 5.7
        ("0000-00-00", True, "date", "", False, (True, "0000-00-00")),
        ("", False, "json", "", False, (False, None)),
    ],
)
def test_column_defaults_are_read_from_both_servers_dialects(raw, nullable, data_type, extra, mariadb, expected):
    assert write_sql.default_of(raw, nullable, data_type, extra, mariadb) == expected


def test_equals_default_is_exact():
    number, text, null = (
        write_sql.Column("int", True, Decimal(1)),
        write_sql.Column("varchar(9)", True, "both"),
        write_sql.Column("date", True, None),
    )
    assert write_sql.equals_default(number, 1) and write_sql.equals_default(number, True)
    assert write_sql.equals_default(number, Decimal("1.000"))
    assert not write_sql.equals_default(number, "1") and not write_sql.equals_default(number, 2)
    assert write_sql.equals_default(text, "both") and not write_sql.equals_default(text, "Both")
    assert write_sql.equals_default(null, None) and not write_sql.equals_default(null, "0000-00-00")
    assert not write_sql.equals_default(write_sql.Column("int", False), None)


def test_insert_copies_copies_only_the_rows_asked_for(mysql_server, mysql_db):
    """The server-side copy: a range when the keys are consecutive, an IN list when they are not; columns that
    repeat the source row are copied, constant ones sent once, anything else falls back to plain INSERTs."""
    with ShopConnection(ps_sandbox.create_shop(mysql_server.url, mysql_db, demo=False)) as shop:
        made = writer.create_products_bulk(
            shop, [Product(reference=f"CPY{i}", name=f"Copia {i}", price_tax_excl=Decimal(i)) for i in range(1, 5)]
        )
        ids = [made[f"CPY{i}"] for i in range(1, 5)]
        assert ids == list(range(ids[0], ids[0] + 4))
        sources = {pid: {"price": Decimal(n + 1)} for n, pid in enumerate(ids)}

        def copy(pids, prices, shop_id):
            with shop.transaction() as cur:
                write_sql.insert_copies(
                    shop,
                    cur,
                    "product_shop",
                    [
                        {
                            "id_product": pid,
                            "id_shop": shop_id,
                            "price": price,
                            "id_tax_rules_group": 0,
                            "date_add": "2024-01-01 00:00:00",
                            "date_upd": "2024-01-01 00:00:00",
                        }
                        for pid, price in zip(pids, prices)
                    ],
                    "product",
                    "id_product",
                    sources,
                )
            return {
                r["id_product"]: r["price"]
                for r in shop.query("SELECT id_product, price FROM {p}product_shop WHERE id_shop = %s", (shop_id,))
            }

        # not consecutive (the second product left out): exactly the two asked for, with their own prices
        assert copy([ids[0], ids[2]], [Decimal(1), Decimal(3)], 2) == {ids[0]: 1, ids[2]: 3}
        # consecutive, the middle two only
        assert copy(ids[1:3], [Decimal(2), Decimal(3)], 3) == {ids[1]: 2, ids[2]: 3}
        # a price that is not the product's: sent as it is
        assert copy(ids[:2], [Decimal(1), Decimal("9.5")], 4) == {ids[0]: 1, ids[1]: Decimal("9.5")}


def test_bulk_creation_skips_existing_references_and_rolls_back_a_failed_chunk(mysql_server, mysql_db):
    with ShopConnection(ps_sandbox.create_shop(mysql_server.url, mysql_db, demo=True)) as shop:
        before = shop.query_one("SELECT COUNT(*) AS n FROM {p}product")["n"]
        calls = []

        def crash_in_second_chunk(cur):
            calls.append(1)
            if len(calls) == 2:
                raise RuntimeError("killed mid-chunk")

        batch = [Product(reference=f"NEW{i:03d}", name=f"Nuevo {i}", price_tax_excl=Decimal(1)) for i in range(10)]
        with pytest.raises(RuntimeError):
            writer.create_products_bulk(shop, batch, extra=crash_in_second_chunk, chunk=4)
        # the first chunk committed, the second rolled back whole, the third never ran
        assert shop.query_one("SELECT COUNT(*) AS n FROM {p}product")["n"] == before + 4
        assert (
            shop.query_one(
                "SELECT COUNT(*) AS n FROM {p}product_lang pl LEFT JOIN {p}product p ON p.id_product"
                " = pl.id_product WHERE p.id_product IS NULL"
            )["n"]
            == 0
        )
        made = writer.create_products_bulk(shop, batch + [Product(reference="TAZ010", name="x")], chunk=4)
        assert made.existing == {"NEW000", "NEW001", "NEW002", "NEW003", "TAZ010"}
        assert made["TAZ010"] == writer.find_product(shop, "TAZ010")
        assert shop.query_one("SELECT COUNT(*) AS n FROM {p}product")["n"] == before + 10
        assert (
            shop.query_one("SELECT COUNT(DISTINCT reference) AS n FROM {p}product WHERE reference LIKE 'NEW%%'")["n"]
            == 10
        )


def _sa(shop, pid, pa, scope=(1, 0)):
    return shop.query_one(
        "SELECT quantity, reserved_quantity, physical_quantity FROM {p}stock_available WHERE"
        " id_product = %s AND id_product_attribute = %s AND id_shop = %s AND id_shop_group = %s",
        (pid, pa, *scope),
    )


def test_set_stock_bulk_scope_sums_reserved_and_movements(mysql_server, mysql_db):
    with ShopConnection(ps_sandbox.create_shop(mysql_server.url, mysql_db, demo=True)) as shop:
        combos = {
            r["reference"]: (r["id_product"], r["id_product_attribute"])
            for r in shop.query(
                "SELECT reference, id_product, id_product_attribute FROM {p}product_attribute"
                " WHERE reference LIKE 'CAM001-%%'"
            )
        }
        cam = combos["CAM001-M-BLA"][0]
        taz = writer.find_product(shop, "TAZ010")
        # demo order 1 (open, not shipped) holds 2 x CAM001-M-BLA and 1 x TAZ010: reserved
        writes = writer.set_stock_bulk(shop, [(*combos["CAM001-S-BLA"], 5), (*combos["CAM001-M-BLA"], 7), (taz, 0, 13)])
        assert {k: (w.old_quantity, w.new_quantity) for k, w in writes.items()}[(taz, 0)][1] == 13
        assert _sa(shop, *combos["CAM001-M-BLA"]) == {"quantity": 7, "reserved_quantity": 2, "physical_quantity": 9}
        total = sum(_sa(shop, *c)["quantity"] for c in combos.values())
        assert _sa(shop, cam, 0)["quantity"] == total  # pa=0 = sum of the combinations
        assert _sa(shop, taz, 0) == {
            "quantity": 13,
            "reserved_quantity": 1,
            "physical_quantity": 14,
        }  # order 1: 1 TAZ010
        assert shop.query_one("SELECT COUNT(*) AS n FROM {p}stock_mvt")["n"] == len(writes)
        # same quantities again: nothing written, no movement
        assert writer.set_stock_bulk(shop, [(*combos["CAM001-S-BLA"], 5), (taz, 0, 13)]) == {}
        assert shop.query_one("SELECT COUNT(*) AS n FROM {p}stock_mvt")["n"] == len(writes)
        # compute() under the lock replaces the quantities passed in
        writer.set_stock_bulk(shop, [(taz, 0, 50)], compute=lambda cur: {(taz, 0): 44})
        assert _sa(shop, taz, 0)["quantity"] == 44
        # shared stock: group-scoped rows are created and written, the shop rows stay
        shop.execute("UPDATE {p}shop_group SET share_stock = 1")
        shop.clear_cache()
        writer.set_stock_bulk(shop, [(*combos["CAM001-S-BLA"], 3), (*combos["CAM001-L-NEG"], 4), (taz, 0, 9)])
        group = (0, 1)
        assert _sa(shop, *combos["CAM001-S-BLA"], scope=group)["quantity"] == 3
        assert _sa(shop, cam, 0, scope=group)["quantity"] == 7  # only the group's combination rows are summed
        assert _sa(shop, taz, 0, scope=group)["quantity"] == 9 and _sa(shop, taz, 0)["quantity"] == 44
        assert _sa(shop, *combos["CAM001-S-BLA"])["quantity"] == 5


def _stock_state(shop) -> tuple[list[dict], list[dict]]:
    sa = shop.query(
        "SELECT id_product, id_product_attribute, id_shop, id_shop_group, quantity, reserved_quantity,"
        " physical_quantity FROM {p}stock_available ORDER BY id_product, id_product_attribute, id_shop,"
        " id_shop_group"
    )
    mvt = shop.query(
        "SELECT sa.id_product, sa.id_product_attribute, m.id_order, m.id_supply_order,"
        " m.id_stock_mvt_reason, m.id_employee, m.employee_lastname, m.physical_quantity, m.sign,"
        " m.price_te, m.last_wa, m.current_wa, m.referer FROM {p}stock_mvt m JOIN {p}stock_available sa"
        " ON sa.id_stock_available = m.id_stock ORDER BY m.id_stock_mvt"
    )
    return sa, mvt


def test_set_stock_bulk_without_temporary_tables_writes_the_same(mysql_server, mysql_db, monkeypatch):
    """A shop user without CREATE TEMPORARY TABLES gets the multi-row upsert instead of the batch table: the same
    stock rows, pa=0 sums, reserved/physical figures and movements, in the same order."""
    from replicator.config import parse_mysql_url

    monkeypatch.setattr(write_stock, "STOCK_BATCH_MIN_ROWS", 1)  # the batch table even for these few rows
    other = mysql_server.fresh_database()
    user = f"lim_{other[-10:]}"
    try:
        with mysql_server.connect() as conn, conn.cursor() as cur:
            try:
                cur.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY 'pw'")
            except pymysql.MySQLError as exc:
                # the throwaway servers the suite starts always allow it: under CI a refusal is a failure
                (pytest.fail if os.environ.get("CI", "").lower() in ("1", "true", "yes") else pytest.skip)(
                    f"cannot create a test user on this server: {exc}"
                )
            cur.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON `{other}`.* TO '{user}'@'%'")
        ps_sandbox.create_shop(mysql_server.url, other, demo=True)
        full_url = ps_sandbox.create_shop(mysql_server.url, mysql_db, demo=True)
        params = parse_mysql_url(mysql_server.url)
        limited_url = f"mysql://{user}:pw@{params['host']}:{params['port']}/{other}"
        results = []
        for url in (full_url, limited_url):
            with ShopConnection(url) as shop:
                combos = {
                    r["reference"]: (r["id_product"], r["id_product_attribute"])
                    for r in shop.query(
                        "SELECT reference, id_product, id_product_attribute FROM {p}product_attribute"
                        " WHERE reference LIKE 'CAM001-%%'"
                    )
                }
                taz = writer.find_product(shop, "TAZ010")
                first = writer.set_stock_bulk(
                    shop, [(*combos["CAM001-S-BLA"], 5), (*combos["CAM001-M-BLA"], 7), (taz, 0, 13)]
                )
                second = writer.set_stock_bulk(
                    shop, [(*combos["CAM001-S-BLA"], 2), (taz, 0, 20)], compute=lambda cur: {(taz, 0): 11}
                )
                assert {k: w.new_quantity for k, w in second.items()} == {combos["CAM001-S-BLA"]: 2, (taz, 0): 11}
                results.append((first.keys(), _stock_state(shop)))
                if url == limited_url:
                    assert shop._cache.get("stock_batch_table") is False
                else:  # the session's batch table exists: the rows went through it
                    assert shop.query_one(f"SHOW CREATE TABLE {{p}}{write_stock.STOCK_BATCH_TABLE}")
        (keys, (stock, movements)), (limited_keys, (limited_stock, limited_movements)) = results
        assert list(keys) == list(limited_keys)
        assert stock == limited_stock
        assert movements == limited_movements and len(movements) >= 5
    finally:
        with mysql_server.connect() as conn, conn.cursor() as cur:
            cur.execute(f"DROP USER IF EXISTS '{user}'@'%'")
            cur.execute(f"DROP DATABASE IF EXISTS `{other}`")


@pytest.fixture
def fresh(mysql_server, mysql_db, tmp_path):
    config = build(mysql_server, mysql_db, tmp_path, demo=False, articles=120, customers=0, orders=0)
    e = open_env(config)
    e.runtime.engine.syncs = {k: v for k, v in e.runtime.engine.syncs.items() if k in ("product", "stock")}
    yield e
    e.close()


def _published(env) -> int:
    return env.fs.scalar("SELECT COUNT(*) AS [N] FROM [F_ART] WHERE [SUWART] = 1")


def _shop_counts(env) -> tuple[int, int]:
    row = env.shop.query_one("SELECT COUNT(*) AS n, COUNT(DISTINCT reference) AS d FROM {p}product")
    return row["n"], row["d"]


def test_initial_sync_twice_and_after_a_failed_chunk_creates_nothing_twice(fresh, monkeypatch):
    env = fresh
    monkeypatch.setattr(product_sync, "BULK_CHUNK", 30)
    original = writer.create_products_bulk
    calls = []

    def failing(shop, products, *a, extra=None, **kw):
        calls.append(1)

        def then_fail(cur):
            write_sql.run_extra(shop, cur, extra)
            if len(calls) == 2:  # the connection drops before the 2nd chunk commits: the run stops there
                raise pymysql.err.OperationalError(2013, "Lost connection to MySQL server during query")

        return original(shop, products, *a, extra=then_fail, **kw)

    monkeypatch.setattr(writer, "create_products_bulk", failing)
    with pytest.raises(pymysql.err.OperationalError):
        run_once(env.runtime)
    # the 1st bulk chunk (articles with and without combinations) is in and linked; the 2nd chunk rolled back
    # whole
    n, distinct = _shop_counts(env)
    assert n == distinct == len(env.store.id_map("product")) < _published(env)
    monkeypatch.setattr(writer, "create_products_bulk", original)
    run_once(env.runtime)
    assert _shop_counts(env) == (_published(env), _published(env))
    assert len(env.store.id_map("product")) == _published(env)
    stocked = env.shop.query_one("SELECT COUNT(*) AS n FROM {p}stock_available WHERE quantity > 0")["n"]
    assert stocked > 0
    # a second initial sync: every key is a no-op, nothing created, nothing written
    report = env.runtime.engine.initial_sync()
    assert set(report.outcomes) == {"noop"}, report.outcomes
    assert _shop_counts(env) == (_published(env), _published(env))
    captured, applied = env.cycle()
    assert applied.changes == 0


def test_product_update_keeps_shop_translations(mysql_server, mysql_db, tmp_path):
    config = build(mysql_server, mysql_db, tmp_path, demo=True, articles=0, customers=0, orders=0)
    env = open_env(config)
    try:
        env.runtime.engine.syncs = {k: v for k, v in env.runtime.engine.syncs.items() if k in ("product", "stock")}
        add_article(env.fs, "VEL100", "Vela", price="4", description="Vela de cera")
        run_once(env.runtime)
        pid = writer.find_product(env.shop, "VEL100")
        default = env.shop.id_lang
        others = [lang for lang in env.shop.lang_ids if lang != default]
        assert others
        translated = others[0]
        env.shop.execute(
            "UPDATE {p}product_lang SET name = 'Candle' WHERE id_product = %s AND id_lang = %s", (pid, translated)
        )
        env.cycle()
        fs_writer.update_fields(
            env.fs, "F_ART", {"CODART": "VEL100"}, {"DESART": "Vela grande", "DEWART": "Vela de cera natural"}
        )
        env.cycle()
        langs = {
            r["id_lang"]: (r["name"], r["description"])
            for r in env.shop.query(
                "SELECT id_lang, name, description FROM {p}product_lang WHERE id_product = %s", (pid,)
            )
        }
        assert langs[default] == ("Vela grande", "Vela de cera natural")
        # the translated name stays; its description was still FactuSOL's, so it follows
        assert langs[translated] == ("Candle", "Vela de cera natural")
        for lang in others[1:]:
            assert langs[lang] == ("Vela grande", "Vela de cera natural")
        captured, applied = env.cycle()
        assert applied.changes == 0
    finally:
        env.close()
