"""The bulk paths of the initial sync: create_products_bulk writes what upsert_product writes, set_stock_bulk keeps the
stock scope, the pa=0 sums and reserved/physical, the initial sync is idempotent and survives a failed chunk, and
product updates keep the shop's translations."""

from __future__ import annotations

from decimal import Decimal

import pymysql
import pytest

from replicator.daemon import run_once
from replicator.factusol import writer as fs_writer
from replicator.factusol.testing import access_sql_guard  # noqa: F401  (every statement must be Access SQL)
from replicator.model import Product
from replicator.prestashop import sandbox, writer
from replicator.prestashop.connection import ShopConnection
from replicator.sync import products as product_sync

from _sync_env import build, open_env
from test_sync_products import add_article

pytestmark = pytest.mark.mysql

SKIP = {"id_product", "reference", "date_add", "date_upd", "id_stock_available", "position"}


def _rows(shop, table: str, pid: int) -> list[dict]:
    order = {"product_lang": "id_lang", "stock_available": "id_product_attribute"}.get(table, "id_product")
    return [{k: v for k, v in r.items() if k not in SKIP}
            for r in shop.query(f"SELECT * FROM {{p}}{table} WHERE id_product = %s ORDER BY {order}", (pid,))]


@pytest.mark.parametrize("version", ["8.2.1", "1.7.8.11"])
def test_bulk_creation_writes_the_rows_upsert_product_writes(mysql_server, mysql_db, version):
    with ShopConnection(sandbox.create_shop(mysql_server.url, mysql_db, demo=True, version=version)) as shop:
        def article(ref):
            return Product(reference=ref, name="Taza grande", description="<p>Cerámica</p>", ean13="8412345000017",
                           price_tax_excl=Decimal("8.2644628"), cost_price=Decimal("3.1"), vat_rate=Decimal("21"),
                           weight=Decimal("0.4"))

        one = writer.upsert_product(shop, article("ONE001"))
        made = writer.create_products_bulk(shop, [article("BLK001"), article("BLK002")])
        assert set(made) == {"BLK001", "BLK002"} and not made.existing
        for table in ("product", "product_shop", "product_lang", "category_product", "stock_available"):
            expected = _rows(shop, table, one)
            assert expected, table
            for ref in ("BLK001", "BLK002"):
                assert _rows(shop, table, made[ref]) == expected, (table, ref)
        positions = [shop.query_one("SELECT position FROM {p}category_product WHERE id_product = %s", (pid,))["position"]
                     for pid in (one, made["BLK001"], made["BLK002"])]
        assert positions == [positions[0], positions[0] + 1, positions[0] + 2]
        assert shop.query_one("SELECT COUNT(*) AS n FROM {p}product_lang WHERE id_product = %s",
                              (made["BLK001"],))["n"] == len(shop.lang_ids)


def test_bulk_creation_skips_existing_references_and_rolls_back_a_failed_chunk(mysql_server, mysql_db):
    with ShopConnection(sandbox.create_shop(mysql_server.url, mysql_db, demo=True)) as shop:
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
        assert shop.query_one("SELECT COUNT(*) AS n FROM {p}product_lang pl LEFT JOIN {p}product p ON p.id_product"
                              " = pl.id_product WHERE p.id_product IS NULL")["n"] == 0
        made = writer.create_products_bulk(shop, batch + [Product(reference="TAZ010", name="x")], chunk=4)
        assert made.existing == {"NEW000", "NEW001", "NEW002", "NEW003", "TAZ010"}
        assert made["TAZ010"] == writer.find_product(shop, "TAZ010")
        assert shop.query_one("SELECT COUNT(*) AS n FROM {p}product")["n"] == before + 10
        assert shop.query_one("SELECT COUNT(DISTINCT reference) AS n FROM {p}product WHERE reference LIKE 'NEW%%'"
                              )["n"] == 10


def _sa(shop, pid, pa, scope=(1, 0)):
    return shop.query_one("SELECT quantity, reserved_quantity, physical_quantity FROM {p}stock_available WHERE"
                          " id_product = %s AND id_product_attribute = %s AND id_shop = %s AND id_shop_group = %s",
                          (pid, pa, *scope))


def test_set_stock_bulk_scope_sums_reserved_and_movements(mysql_server, mysql_db):
    with ShopConnection(sandbox.create_shop(mysql_server.url, mysql_db, demo=True)) as shop:
        combos = {r["reference"]: (r["id_product"], r["id_product_attribute"]) for r in shop.query(
            "SELECT reference, id_product, id_product_attribute FROM {p}product_attribute WHERE reference LIKE 'CAM001-%%'")}
        cam = combos["CAM001-M-BLA"][0]
        taz = writer.find_product(shop, "TAZ010")
        # demo order 1 (open, not shipped) holds 2 x CAM001-M-BLA and 1 x TAZ010: reserved
        writes = writer.set_stock_bulk(shop, [(*combos["CAM001-S-BLA"], 5), (*combos["CAM001-M-BLA"], 7), (taz, 0, 13)])
        assert {k: (w.old_quantity, w.new_quantity) for k, w in writes.items()}[(taz, 0)][1] == 13
        assert _sa(shop, *combos["CAM001-M-BLA"]) == {"quantity": 7, "reserved_quantity": 2, "physical_quantity": 9}
        total = sum(_sa(shop, *c)["quantity"] for c in combos.values())
        assert _sa(shop, cam, 0)["quantity"] == total  # pa=0 = sum of the combinations
        assert _sa(shop, taz, 0) == {"quantity": 13, "reserved_quantity": 1, "physical_quantity": 14}  # order 1: 1 TAZ010
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
            writer._run_extra(shop, cur, extra)
            if len(calls) == 2:  # the connection drops before the 2nd chunk commits: the run stops there
                raise pymysql.err.OperationalError(2013, "Lost connection to MySQL server during query")

        return original(shop, products, *a, extra=then_fail, **kw)

    monkeypatch.setattr(writer, "create_products_bulk", failing)
    with pytest.raises(pymysql.err.OperationalError):
        run_once(env.runtime)
    # articles with combinations (upsert_product, one by one) and the 1st bulk chunk are in and linked; the
    # 2nd chunk rolled back whole
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
        env.shop.execute("UPDATE {p}product_lang SET name = 'Candle' WHERE id_product = %s AND id_lang = %s",
                         (pid, translated))
        env.cycle()
        fs_writer.update_fields(env.fs, "F_ART", {"CODART": "VEL100"}, {"DESART": "Vela grande",
                                                                         "DEWART": "Vela de cera natural"})
        env.cycle()
        langs = {r["id_lang"]: (r["name"], r["description"]) for r in env.shop.query(
            "SELECT id_lang, name, description FROM {p}product_lang WHERE id_product = %s", (pid,))}
        assert langs[default] == ("Vela grande", "Vela de cera natural")
        # the translated name stays; its description was still FactuSOL's, so it follows
        assert langs[translated] == ("Candle", "Vela de cera natural")
        for lang in others[1:]:
            assert langs[lang] == ("Vela grande", "Vela de cera natural")
        captured, applied = env.cycle()
        assert applied.changes == 0
    finally:
        env.close()
