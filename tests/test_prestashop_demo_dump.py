"""The reader against a REAL PrestaShop 8.2.1 database: the reference demo dump, loaded once per module.

Expected values are read from the loaded dump with plain SQL (and a few facts of the dump: 5 orders, 2 customers,
19 products, 39 combinations), so the test checks the reader's joins and conversions, not our own fixtures.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from replicator.prestashop import reader, schema
from replicator.prestashop.connection import ShopConnection

pytestmark = [pytest.mark.mysql, pytest.mark.reference]


@pytest.fixture(scope="module")
def demo_shop(mysql_server, request):
    dump = Path(__file__).resolve().parents[2] / "shared" / "reference" / "prestashop" / "demo_dump.sql"
    if not dump.is_file():
        pytest.skip("../shared/reference is not present (reference-only test)")
    name = mysql_server.fresh_database("demo")
    schema.load_sql_file(mysql_server.database_url(name), str(dump))
    shop = ShopConnection(mysql_server.database_url(name))
    yield shop
    shop.close()
    with mysql_server.connect() as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")


def test_version_and_states(demo_shop):
    info = demo_shop.detect_version()
    assert info.version == "8.2.1" and info.family == "8" and not info.has_shipping_number
    states = demo_shop.order_states()
    assert len(states) >= 13 and states[demo_shop.state_id("PS_OS_SHIPPING")].shipped


def test_orders(demo_shop):
    orders = reader.read_orders(demo_shop)
    raw = demo_shop.query("SELECT * FROM {p}orders ORDER BY id_order")
    assert len(orders) == len(raw) == 5
    states = demo_shop.order_states()
    for order, row in zip(orders, raw):
        assert order.prestashop_id == row["id_order"] and order.reference == row["reference"]
        assert order.total_tax_incl == row["total_paid_tax_incl"]
        assert order.total_products_tax_excl == row["total_products"]
        assert order.state == states[row["current_state"]].canonical
        assert order.payment_method == row["payment"]
        assert order.customer_email == "pub@prestashop.com"
        details = demo_shop.query(
            "SELECT * FROM {p}order_detail WHERE id_order = %s ORDER BY id_order_detail", (row["id_order"],)
        )
        assert [(l.reference, l.quantity, l.total_tax_incl) for l in order.lines] == [
            (d["product_reference"], Decimal(d["product_quantity"]), d["total_price_tax_incl"]) for d in details
        ]
        assert order.delivery is not None and order.delivery.street.startswith("16, Main street")
    assert [o.state for o in orders] == [
        "canceled",
        "awaiting_cheque",
        "payment_error",
        "awaiting_cheque",
        "awaiting_bankwire",
    ]
    first = orders[0].lines[0]
    assert (first.size, first.color) == ("S", "White")  # "Color : White, Size : S" in product_name
    assert orders[0].carrier == "My carrier"


def test_customers(demo_shop):
    customers = {c.prestashop_id: c for c in reader.read_customers(demo_shop)}
    assert set(customers) == {r["id_customer"] for r in demo_shop.query("SELECT id_customer FROM {p}customer")}
    john = customers[2]
    assert (john.firstname, john.lastname, john.email, john.is_guest) == ("John", "DOE", "pub@prestashop.com", False)
    assert {a.city.strip() for a in john.addresses} == {"Paris", "Miami"}
    assert customers[1].nif == "0000"  # psgdpr anonymous customer: dni '0000'


def test_products_and_combinations(demo_shop):
    products = reader.read_products(demo_shop)
    assert len(products) == 19
    n_combos = demo_shop.query_one("SELECT COUNT(*) AS n FROM {p}product_attribute")["n"]
    assert sum(len(p.combinations) for p in products) == n_combos == 39
    by_ref = {p.reference: p for p in products}
    tshirt = by_ref["demo_1"]
    assert tshirt.name == "Hummingbird printed t-shirt" and tshirt.price_tax_excl == Decimal("23.900000")
    assert {(c.size, c.color) for c in tshirt.combinations} == {
        (s, c) for s in ("S", "M", "L", "XL") for c in ("White", "Black")
    }
    mug = by_ref["demo_11"]
    assert mug.combinations == []


def test_stock_and_shipments(demo_shop):
    stock = reader.read_stock(demo_shop)
    combos = demo_shop.query_one("SELECT COUNT(*) AS n FROM {p}stock_available WHERE id_product_attribute > 0")["n"]
    simple = demo_shop.query_one(
        "SELECT COUNT(*) AS n FROM {p}stock_available sa WHERE id_product_attribute = 0 AND NOT EXISTS"
        " (SELECT 1 FROM {p}product_attribute pa WHERE pa.id_product = sa.id_product)"
    )["n"]
    assert len(stock) == combos + simple
    shipments = reader.read_shipments(demo_shop, range(1, 6))
    assert len(shipments) == 5 and all(not s.shipped and s.tracking_number == "" for s in shipments.values())
    assert reader.read_invoices(demo_shop, range(1, 6)) == {}  # no invoice in the demo (no paid order)
