"""Writers against a sandbox shop: stock scope and pa=0 sum, product upsert, state change emulation, tracking,
invoice, the extra-SQL hook in the same transaction, and rollback on failure."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from replicator.model import Combination, Product
from replicator.prestashop import reader
from replicator.rules.fit import ValueRejected
from replicator.prestashop import write as writer
from replicator.sandbox import shop as ps_sandbox
from replicator.prestashop.connection import ShopConnection

pytestmark = pytest.mark.mysql


def _open(mysql_server, mysql_db, version="8.2.1"):
    return ShopConnection(ps_sandbox.create_shop(mysql_server.url, mysql_db, demo=True, version=version))


@pytest.fixture
def shop(mysql_server, mysql_db):
    with _open(mysql_server, mysql_db) as s:
        yield s


def _sa(shop, pid, pa):
    return shop.query_one(
        "SELECT * FROM {p}stock_available WHERE id_product = %s AND id_product_attribute = %s", (pid, pa)
    )


def _pa(shop, reference):
    return shop.query_one(
        "SELECT id_product, id_product_attribute FROM {p}product_attribute WHERE reference = %s", (reference,)
    )


def test_set_stock_combination_resums_product_row(shop):
    combo = _pa(shop, "CAM001-S-BLA")
    before = _sa(shop, combo["id_product"], 0)["quantity"]
    result = writer.set_stock(shop, combo["id_product"], combo["id_product_attribute"], 25)
    assert result.delta == 15 and result.new_quantity == 25
    assert _sa(shop, combo["id_product"], 0)["quantity"] == before + 15
    mvt = shop.query_one("SELECT * FROM {p}stock_mvt ORDER BY id_stock_mvt DESC LIMIT 1")
    assert (mvt["sign"], mvt["physical_quantity"], mvt["id_stock_mvt_reason"], mvt["id_employee"]) == (1, 15, 11, 0)
    writer.set_stock(shop, combo["id_product"], combo["id_product_attribute"], 20)
    assert shop.query_one("SELECT sign, id_stock_mvt_reason FROM {p}stock_mvt ORDER BY id_stock_mvt DESC LIMIT 1") == {
        "sign": -1,
        "id_stock_mvt_reason": 12,
    }
    assert writer.set_stock(shop, combo["id_product"], combo["id_product_attribute"], 20).delta == 0


def test_set_stock_physical_subtracts_reserved(shop):
    combo = _pa(shop, "CAM001-M-BLA")  # order 1 (payment accepted, not shipped) holds 2 units
    row = _sa(shop, combo["id_product"], combo["id_product_attribute"])
    assert row["reserved_quantity"] == 2
    result = writer.set_stock(shop, combo["id_product"], combo["id_product_attribute"], 30, physical=True)
    row = _sa(shop, combo["id_product"], combo["id_product_attribute"])
    assert (result.reserved, row["quantity"], row["reserved_quantity"], row["physical_quantity"]) == (2, 28, 2, 30)


def test_set_stock_shared_group_scope(shop):
    shop.execute("UPDATE {p}shop_group SET share_stock = 1")
    shop.clear_cache()
    pid = writer.find_product(shop, "TAZ010")
    writer.set_stock(shop, pid, 0, 7)
    rows = shop.query(
        "SELECT id_shop, id_shop_group, quantity FROM {p}stock_available WHERE id_product = %s ORDER BY id_shop", (pid,)
    )
    assert {"id_shop": 0, "id_shop_group": 1, "quantity": 7} in rows  # group row created; shop row untouched
    assert len(rows) == 2


def test_extra_runs_in_same_transaction_and_rollback(shop):
    shop.execute("CREATE TABLE ledger (k VARCHAR(20))")
    pid = writer.find_product(shop, "CUA040")
    writer.set_stock(shop, pid, 0, 11, extra=[("INSERT INTO ledger VALUES (%s)", ("ok",))])
    assert shop.query("SELECT k FROM ledger") == [{"k": "ok"}]

    def boom(cur):
        raise RuntimeError("ledger down")

    with pytest.raises(RuntimeError):
        writer.set_stock(shop, pid, 0, 99, extra=boom)
    assert _sa(shop, pid, 0)["quantity"] == 11  # nothing of the failed write stayed


def test_upsert_product_create_and_update(shop):
    product = Product(
        reference="ZAP100",
        name="Zapatilla running",
        description="<p>Ligera</p>",
        price_tax_excl=Decimal("49.5867768"),
        vat_rate=Decimal("21"),
        weight=Decimal("0.8"),
        combinations=[
            Combination(size="42", color="Rojo", reference="ZAP100-42-ROJ"),
            Combination(size="43", color="Rojo", reference="ZAP100-43-ROJ", price_impact=Decimal("2")),
        ],
    )
    pid = writer.upsert_product(shop, product)
    assert writer.find_product(shop, "ZAP100") == pid
    assert shop.query_one(
        "SELECT price, id_tax_rules_group, product_type FROM {p}product WHERE id_product = %s", (pid,)
    ) == {"price": Decimal("49.586777"), "id_tax_rules_group": 1, "product_type": "combinations"}
    assert shop.query_one("SELECT price FROM {p}product_shop WHERE id_product = %s", (pid,))["price"] == Decimal(
        "49.586777"
    )
    assert shop.query_one("SELECT COUNT(*) AS n FROM {p}product_lang WHERE id_product = %s", (pid,))["n"] == 2
    assert shop.query_one("SELECT COUNT(*) AS n FROM {p}category_product WHERE id_product = %s", (pid,))["n"] == 1
    assert shop.query_one("SELECT COUNT(*) AS n FROM {p}stock_available WHERE id_product = %s", (pid,))["n"] == 3
    assert (
        shop.query_one(
            "SELECT COUNT(*) AS n FROM {p}product_attribute WHERE id_product = %s AND default_on = 1", (pid,)
        )["n"]
        == 1
    )
    read = reader.read_products(shop, [pid])[0]
    assert {(c.size, c.color) for c in read.combinations} == {("42", "Rojo"), ("43", "Rojo")}
    # update: same reference, new price/name; no duplicate rows
    product.prestashop_id = None
    product.name, product.price_tax_excl = "Zapatilla trail", Decimal("55")
    assert writer.upsert_product(shop, product) == pid
    read = reader.read_products(shop, [pid])[0]
    assert (read.name, read.price_tax_excl, len(read.combinations)) == ("Zapatilla trail", Decimal("55"), 2)
    assert shop.query_one("SELECT COUNT(*) AS n FROM {p}product WHERE reference = 'ZAP100'")["n"] == 1


def test_change_state_to_shipped(shop):
    order = reader.read_orders(shop, [1])[0]  # payment accepted, invoiced
    combo = _pa(shop, "CAM001-M-BLA")
    before = _sa(shop, combo["id_product"], combo["id_product_attribute"])
    shipped = shop.state_id("PS_OS_SHIPPING")
    result = writer.change_order_state(shop, 1, shipped)
    assert result.movements == 2 and result.stock_changes == [] and not result.invoice_needed
    assert result.delivery_number is not None
    row = shop.query_one(
        "SELECT current_state, valid, delivery_number, delivery_date, total_paid_real FROM {p}orders WHERE id_order = 1"
    )
    assert row["current_state"] == shipped and row["valid"] == 1 and row["delivery_date"] is not None
    assert row["total_paid_real"] == order.total_tax_incl  # already paid: no extra payment
    assert result.payments == 0
    after = _sa(shop, combo["id_product"], combo["id_product_attribute"])
    assert after["quantity"] == before["quantity"]  # quantity untouched on shipping
    assert (after["reserved_quantity"], after["physical_quantity"]) == (0, before["physical_quantity"] - 2)
    mvts = shop.query("SELECT sign, id_stock_mvt_reason, physical_quantity, id_order FROM {p}stock_mvt")
    assert {(m["sign"], m["id_stock_mvt_reason"], m["id_order"]) for m in mvts} == {(-1, 3, 1)}
    history = shop.query_one("SELECT * FROM {p}order_history WHERE id_order = 1 ORDER BY id_order_history DESC LIMIT 1")
    assert history["id_order_state"] == shipped and history["id_employee"] == 0
    assert reader.read_orders(shop, [1])[0].state == "shipped"


def test_change_state_cancel_gives_stock_back_and_no_invoice(shop):
    # order 2: awaiting bank wire (not logable), 3 x SUD002 L + 10 x CUA040
    pid = writer.find_product(shop, "CUA040")
    before = _sa(shop, pid, 0)["quantity"]
    result = writer.change_order_state(shop, 2, shop.state_id("PS_OS_CANCELED"))
    assert _sa(shop, pid, 0)["quantity"] == before + 10
    assert len(result.stock_changes) == 2
    assert shop.query_one("SELECT valid FROM {p}orders WHERE id_order = 2")["valid"] == 0
    # re-validating takes the stock again; payment accepted would invoice: we do not fabricate one
    result = writer.change_order_state(shop, 2, shop.state_id("PS_OS_PAYMENT"))
    assert _sa(shop, pid, 0)["quantity"] == before and result.invoice_needed
    assert shop.query_one("SELECT COUNT(*) AS n FROM {p}order_invoice WHERE id_order = 2")["n"] == 0
    assert shop.query_one("SELECT quantity FROM {p}product_sale WHERE id_product = %s", (pid,))["quantity"] == 10
    result = writer.change_order_state(shop, 2, shop.state_id("PS_OS_PREPARATION"), create_invoice=True)
    inv = shop.query_one("SELECT number FROM {p}order_invoice WHERE id_order = 2")
    assert inv["number"] == 3 and result.payments == 1  # paid state: payment for the rest to pay
    assert reader.read_invoices(shop, [2])[2][0].paid


def test_tracking_8_and_178(mysql_server, mysql_db):
    with _open(mysql_server, mysql_db, "1.7.8.11") as shop178:
        writer.set_tracking(shop178, 1, "PK-123 456/ES")
        assert (
            shop178.query_one("SELECT shipping_number FROM {p}orders WHERE id_order = 1")["shipping_number"]
            == "PK-123 456/ES"
        )
        assert reader.read_shipments(shop178, [1])[1].tracking_number == "PK-123 456/ES"
        with pytest.raises(writer.WriteError):
            writer.set_tracking(shop178, 1, "bad<script>")
        with pytest.raises(ValueRejected, match="order_carrier.tracking_number holds 64"):  # fit: reject
            writer.set_tracking(shop178, 1, "X" * 65)


def test_tracking_and_invoice(shop):
    oc = writer.set_tracking(shop, 2, "CEX0001234")
    assert shop.query_one("SELECT tracking_number FROM {p}order_carrier WHERE id_order_carrier = %s", (oc,)) == {
        "tracking_number": "CEX0001234"
    }
    when = datetime(2024, 6, 1, 12, 0, 0)
    inv = writer.set_invoice(shop, 2, 501, when, {"total_paid_tax_incl": Decimal("100")})
    row = shop.query_one("SELECT invoice_number, invoice_date FROM {p}orders WHERE id_order = 2")
    assert row == {"invoice_number": 501, "invoice_date": when}
    invoice = reader.read_invoices(shop, [2])[2][0]
    assert (invoice.number, invoice.issued_at, invoice.total_tax_incl, invoice.series) == (501, when, 100, "#FA")
    assert (
        shop.query_one(
            "SELECT COUNT(*) AS n FROM {p}order_detail WHERE id_order = 2 AND id_order_invoice = %s", (inv,)
        )["n"]
        == 2
    )
    assert writer.set_invoice(shop, 2, 502, when) == inv  # updates, never duplicates
    with pytest.raises(writer.WriteError):
        writer.set_invoice(shop, 999, 1, when)


def test_repr_hides_password(shop):
    shop._password = "S3cret"
    assert "S3cret" not in repr(shop)
