"""The sandbox shop: reference data of a fresh install and the deterministic demo content, both versions."""

from __future__ import annotations

import pytest

from replicator.prestashop import reader
from replicator.sandbox import shop as ps_sandbox
from replicator.prestashop.connection import ShopConnection

pytestmark = pytest.mark.mysql


@pytest.mark.parametrize("version", ["8.2.1", "1.7.8.11"])
def test_demo_shop_content(mysql_server, mysql_db, version):
    url = ps_sandbox.create_shop(mysql_server.url, mysql_db, demo=True, products=3, customers=2, version=version)
    with ShopConnection(url) as shop:
        assert {r["iso_code"] for r in shop.query("SELECT iso_code FROM {p}lang")} == {"en", "es"}
        isos = {r["iso_code"] for r in shop.query("SELECT iso_code FROM {p}country")}
        assert {"ES", "FR", "PT", "DE"} <= isos
        assert (
            shop.query_one(
                "SELECT COUNT(*) AS n FROM {p}state s JOIN {p}country c USING (id_country) WHERE c.iso_code = 'ES'"
            )["n"]
            >= 15
        )
        assert shop.config_value("PS_CURRENCY_DEFAULT") == "1"
        assert shop.query_one("SELECT iso_code FROM {p}currency")["iso_code"] == "EUR"
        assert [shop.config_value(k) for k in ("PS_UNIDENTIFIED_GROUP", "PS_GUEST_GROUP", "PS_CUSTOMER_GROUP")] == [
            "1",
            "2",
            "3",
        ]
        assert len(shop.order_states()) == 13
        assert shop.config_value("PS_STOCK_CUSTOMER_ORDER_REASON") == "3"
        assert shop.config_value("PS_COUNTRY_DEFAULT") == "6"
        rates = reader.tax_rates(shop)
        assert sorted(rates.values()) == [4, 10, 21]
        carriers = shop.query("SELECT id_carrier, id_reference FROM {p}carrier")
        assert len(carriers) == 3 and all(c["id_reference"] for c in carriers)
        products = reader.read_products(shop)
        assert len(products) == 8 + 3
        shirt = next(p for p in products if p.reference == "CAM001")
        assert len(shirt.combinations) == 6 and {c.color for c in shirt.combinations} == {"Blanco", "Negro"}
        assert shirt.vat_rate == 21
        # every product has a name in every language, a category link and a stock row
        assert shop.query_one("SELECT COUNT(*) AS n FROM {p}product_lang")["n"] == 11 * 2
        assert shop.query_one("SELECT COUNT(DISTINCT id_product) AS n FROM {p}category_product")["n"] == 11
        assert shop.query_one("SELECT COUNT(*) AS n FROM {p}stock_available WHERE id_product_attribute = 0")["n"] == 11
        customers = reader.read_customers(shop)
        assert len(customers) == 4 + 2
        assert any(c.is_guest for c in customers)
        assert {c.nif for c in customers} >= {"12345678Z", "B12345674"}
        orders = reader.read_orders(shop)
        assert [o.state for o in orders] == [
            "payment_accepted",
            "awaiting_bankwire",
            "shipped",
            "canceled",
            "awaiting_cheque",
        ]
        assert reader.read_shipments(shop, [3])[3].tracking_number == "SEU1234567890"
        assert [
            i.number for inv in reader.read_invoices(shop, [o.prestashop_id for o in orders]).values() for i in inv
        ] == [1, 2]
        # stock consistency: pa=0 = sum of combinations; reserved from open orders
        for row in shop.query(
            "SELECT id_product, quantity FROM {p}stock_available WHERE id_product_attribute = 0"
            " AND id_product IN (SELECT id_product FROM {p}product_attribute)"
        ):
            total = shop.query_one(
                "SELECT SUM(quantity) AS s FROM {p}stock_available WHERE id_product = %s AND id_product_attribute > 0",
                (row["id_product"],),
            )["s"]
            assert row["quantity"] == total


def test_deterministic(mysql_server):
    dumps = []
    for name in ("sbx_det_a", "sbx_det_b"):
        url = ps_sandbox.create_shop(mysql_server.url, name, demo=True, products=2, customers=2)
        with ShopConnection(url) as shop:
            dumps.append([reader.read_orders(shop), reader.read_products(shop), reader.read_customers(shop)])
        ps_sandbox.drop_shop(mysql_server.url, name)
    assert dumps[0] == dumps[1]
