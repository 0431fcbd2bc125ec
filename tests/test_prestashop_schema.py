"""Schema fixture: loads on a real server for both versions, and matches the reference schemas column by column."""

from __future__ import annotations

import pytest

from replicator.prestashop import ddl, schema

REQUIRED = """configuration configuration_lang shop shop_group lang country country_lang state zone currency customer
customer_group group address product product_lang product_shop product_attribute product_attribute_shop
product_attribute_combination attribute attribute_lang attribute_group attribute_group_lang category category_lang
category_product stock_available stock_mvt stock_mvt_reason orders order_detail order_detail_tax order_carrier
order_history order_state order_state_lang order_invoice order_payment order_invoice_payment carrier carrier_lang tax
tax_rule tax_rules_group cart cart_product""".split()
DOCTRINE = {
    "lang",
    "lang_shop",
    "shop",
    "shop_group",
    "attribute",
    "attribute_lang",
    "attribute_group",
    "attribute_group_lang",
    "attribute_shop",
    "attribute_group_shop",
    "stock_mvt",
}


def _columns(version):
    return ddl.parse_tables(schema.schema_sql(version, prefix="PREFIX_"))


def _mismatches(ours: dict, ref: dict, tables) -> list[str]:
    problems = []
    for table in tables:
        if table not in ref:
            problems.append(f"{table}: not in reference")
            continue
        mine, theirs = ours[table], ref[table]
        if list(mine) != list(theirs):
            problems.append(f"{table}: columns {list(mine)} != {list(theirs)}")
        for name, col in theirs.items():
            if name in mine and mine[name] != col:
                problems.append(f"{table}.{name}: {mine[name]} != {col}")
    return problems


def test_fixture_has_required_tables():
    for version in ("8", "1.7.8"):
        assert set(REQUIRED) <= set(_columns(version))


def test_178_delta_columns():
    t8, t178 = _columns("8"), _columns("1.7.8")
    assert "shipping_number" in t178["orders"] and "shipping_number" not in t8["orders"]
    assert {"quantity", "location"} <= set(t178["product_attribute"]) and "quantity" not in t8["product_attribute"]
    assert "id_tax_rules_group" in t178["carrier"] and "id_tax_rules_group" not in t8["carrier"]
    assert "product_attribute_lang" in t8 and "product_attribute_lang" not in t178


@pytest.mark.reference
def test_fixture_matches_reference_82(reference_dir):
    base = reference_dir / "prestashop"
    legacy = ddl.parse_tables((base / "db_structure.sql").read_text(encoding="utf-8"))
    dump = ddl.parse_tables((base / "demo_dump.sql").read_text(encoding="utf-8"), prefix="ps_")
    ours = _columns("8")
    assert _mismatches(ours, legacy, [t for t in ours if t not in DOCTRINE]) == []
    assert _mismatches(ours, dump, [t for t in ours if t in DOCTRINE]) == []
    # the dump is a real 8.2.1 install: the legacy tables must agree with it too (shop_url is Doctrine there)
    assert _mismatches(ours, dump, [t for t in ours if t not in DOCTRINE and t != "shop_url"]) == []


@pytest.mark.reference
def test_fixture_matches_reference_178(reference_dir):
    legacy = ddl.parse_tables((reference_dir / "prestashop" / "db_structure-1.7.8.sql").read_text(encoding="utf-8"))
    ours = _columns("1.7.8")
    assert _mismatches(ours, legacy, [t for t in ours if t not in DOCTRINE]) == []


@pytest.mark.mysql
@pytest.mark.parametrize("version", ["8", "1.7.8"])
def test_fixture_loads_and_server_agrees(mysql_server, mysql_db, version):
    """The server's own description of the created tables equals what the parser reads from the fixture."""
    with mysql_server.connect(mysql_db) as conn:
        schema.create_schema(conn, version, prefix="ps_")
        with conn.cursor() as cur:
            cur.execute(
                "SELECT table_name, column_name, column_type, is_nullable, column_default"
                " FROM information_schema.columns WHERE table_schema = %s ORDER BY table_name, ordinal_position",
                (mysql_db,),
            )
            rows = cur.fetchall()
    server: dict[str, dict[str, tuple]] = {}
    for table, column, col_type, nullable, default in rows:
        if default is not None and default.startswith("'"):
            default = default[1:-1]
        if default == "NULL":
            default = None
        server.setdefault(table[3:], {})[column] = (col_type, nullable == "YES", default)
    ours = _columns(version)
    assert set(server) == set(ours)
    for table, cols in ours.items():
        assert list(server[table]) == list(cols), table
        for name, col in cols.items():
            s_type, s_null, s_default = server[table][name]
            assert ddl.normalise_type(s_type) == col.type, (table, name)
            assert s_null == col.nullable, (table, name)
            assert (
                ddl._normalise_default(
                    s_default and s_default.replace("current_timestamp()", "CURRENT_TIMESTAMP"), col.type
                )
                == col.default
            ), (table, name, s_default)


def test_split_statements_handles_quotes_and_comments():
    sql = "-- c;\nINSERT INTO t VALUES ('a;b', \"c;d\", 'it''s');\n/* x; */ SELECT 1;\n/*!40101 SET x=1 */;"
    assert schema.split_statements(sql) == [
        "INSERT INTO t VALUES ('a;b', \"c;d\", 'it''s')",
        "SELECT 1",
        "/*!40101 SET x=1 */",
    ]
