"""Articles that must wait: no price, or a VAT rate without a tax rule in the shop.  Real MariaDB shop, FactuSOL
stand-in through pyodbc, real capture: quarantined with the reason, nothing written, and through as soon as the cause
is fixed (a price given in FactuSOL, the tax rule made active in the shop)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from replicator.daemon import run_once
from replicator.factusol import writer as fs_writer
from replicator.sandbox.access_sql import access_sql_guard  # noqa: F401  (every statement must be Access SQL)
from replicator.sync.products import ProductSync
from replicator.sync.stock import StockSync

from _sync_env import build, open_env

pytestmark = pytest.mark.mysql


@pytest.fixture
def env(mysql_server, mysql_db, tmp_path):
    config = build(mysql_server, mysql_db, tmp_path, demo=True, workers="thread")
    e = open_env(config)
    e.runtime.engine.syncs = {"product": ProductSync(), "stock": StockSync()}
    yield e
    e.close()


def add_article(fs, code: str, *, price: str | None = "10", vat: int = 0) -> None:
    fs_writer.insert_row(
        fs, "F_ART", {"CODART": code, "DESART": f"Artículo {code}", "SUWART": 1, "TIVART": vat, "FAMART": "ROP"}
    )
    if price is not None:
        fs_writer.insert_row(fs, "F_LTA", {"TARLTA": 1, "ARTLTA": code, "PRELTA": Decimal(price)})


def product(env, ref: str):
    return env.shop.query_one(
        "SELECT p.id_product, ps.price, ps.active, ps.id_tax_rules_group FROM {p}product p"
        " JOIN {p}product_shop ps ON ps.id_product = p.id_product AND ps.id_shop = 1"
        " WHERE p.reference = %s",
        (ref,),
    )


def open_quarantine(env, key: str):
    return [q for q in env.store.quarantined() if q.entity == "product" and q.key == key]


def test_an_article_without_a_price_waits_until_it_has_one(env):
    add_article(env.fs, "SIN001", price=None)
    fs_writer.insert_row(env.fs, "F_LTA", {"TARLTA": 1, "ARTLTA": "SIN002", "PRELTA": None})
    fs_writer.insert_row(env.fs, "F_ART", {"CODART": "SIN002", "DESART": "Precio nulo", "SUWART": 1, "TIVART": 0})
    run_once(env.runtime)
    for code in ("SIN001", "SIN002"):
        assert product(env, code) is None, "never published at 0 €"
        (q,) = open_quarantine(env, code)
        assert q.field == "price_tax_excl" and "no price in tariff 1" in q.reason
        assert env.store.baseline("product", code) is None
    fs_writer.insert_row(env.fs, "F_LTA", {"TARLTA": 1, "ARTLTA": "SIN001", "PRELTA": Decimal("12.50")})
    env.cycle()
    p = product(env, "SIN001")
    assert p is not None and p["price"] == Decimal("12.500000") and p["active"] == 1
    assert open_quarantine(env, "SIN001") == []


def test_a_vat_rate_without_a_shop_tax_rule_waits_until_the_rule_exists(env):
    rule = env.shop.query_one(
        "SELECT g.id_tax_rules_group AS g FROM {p}tax_rules_group g JOIN {p}tax_rule r ON r.id_tax_rules_group ="
        " g.id_tax_rules_group JOIN {p}tax t ON t.id_tax = r.id_tax WHERE t.rate = 4 AND g.active = 1"
    )["g"]
    env.shop.execute("UPDATE {p}tax_rules_group SET active = 0 WHERE id_tax_rules_group = %s", (rule,))
    add_article(env.fs, "LIB777", vat=2)  # IVA3: 4 %
    run_once(env.runtime)
    assert product(env, "LIB777") is None, "never published with no tax"
    (q,) = open_quarantine(env, "LIB777")
    assert q.field == "vat_selector" and "4%" in q.reason and "tax rules group" in q.reason
    assert env.store.baseline("product", "LIB777") is None
    env.shop.execute("UPDATE {p}tax_rules_group SET active = 1 WHERE id_tax_rules_group = %s", (rule,))
    env.runtime.engine.retry_due = 0  # the retry interval passed: quarantined keys are tried again
    env.cycle()
    p = product(env, "LIB777")
    assert p is not None and p["id_tax_rules_group"] == rule
    assert open_quarantine(env, "LIB777") == []


def test_a_linked_product_whose_vat_moves_to_a_rate_without_a_rule_keeps_its_tax_and_waits(env):
    add_article(env.fs, "CAF888", vat=0)
    run_once(env.runtime)
    before = product(env, "CAF888")
    assert before["id_tax_rules_group"] != 0
    groups = [
        r["g"]
        for r in env.shop.query(
            "SELECT g.id_tax_rules_group AS g FROM {p}tax_rules_group g JOIN {p}tax_rule r ON r.id_tax_rules_group ="
            " g.id_tax_rules_group JOIN {p}tax t ON t.id_tax = r.id_tax WHERE t.rate = 10"
        )
    ]
    env.shop.execute(
        f"UPDATE {{p}}tax_rules_group SET active = 0 WHERE id_tax_rules_group IN ({', '.join(['%s'] * len(groups))})",
        groups,
    )
    fs_writer.update_fields(env.fs, "F_ART", {"CODART": "CAF888"}, {"TIVART": 1})  # now 10 %
    env.cycle()
    assert product(env, "CAF888")["id_tax_rules_group"] == before["id_tax_rules_group"]
    (q,) = open_quarantine(env, "CAF888")
    assert q.field == "vat_selector" and "10%" in q.reason
    env.shop.execute(
        f"UPDATE {{p}}tax_rules_group SET active = 1 WHERE id_tax_rules_group IN ({', '.join(['%s'] * len(groups))})",
        groups,
    )
    env.runtime.engine.retry_due = 0
    env.cycle()
    assert product(env, "CAF888")["id_tax_rules_group"] in groups
