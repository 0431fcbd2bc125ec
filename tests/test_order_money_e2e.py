"""Pedido totals to the cent, end to end: shop orders in the real MariaDB demo shop, pedidos in the FactuSOL
stand-in through pyodbc.  (The thousands of random carts are tests/test_pedido_totals.py, without a database.)"""

from __future__ import annotations

from decimal import Decimal

import pytest

from replicator.sandbox.access_sql import access_sql_guard  # noqa: F401  (every statement must be Access SQL)
from replicator.sync.orders import OrderSync

from test_sync_orders import _insert_shop_order, lines_of, pedidos, shop_order
import test_sync_orders

pytestmark = pytest.mark.mysql
env = test_sync_orders.env  # the order tests' fixture: the demo shop, the FactuSOL stand-in, a store
D = Decimal


def _set_lines(ctx, oid: int, rows: list[tuple[str, str, str, str, int]]) -> None:
    """Give the order's first detail row these (unit excl, unit incl, total excl, total incl, quantity) copies, and
    the order's totals what the rows add up to (no shipping: carrier 1, click and collect)."""
    first = ctx.shop.query_one("SELECT * FROM {p}order_detail WHERE id_order = %s ORDER BY id_order_detail", (oid,))
    tax = ctx.shop.query_one(
        "SELECT id_tax FROM {p}order_detail_tax WHERE id_order_detail = %s", (first["id_order_detail"],)
    )["id_tax"]
    with ctx.shop.transaction() as cur:
        ctx.shop.execute(
            "DELETE odt FROM {p}order_detail_tax odt JOIN {p}order_detail od ON od.id_order_detail ="
            " odt.id_order_detail WHERE od.id_order = %s",
            (oid,),
            cursor=cur,
        )
        ctx.shop.execute("DELETE FROM {p}order_detail WHERE id_order = %s", (oid,), cursor=cur)
        for unit, unit_incl, excl, incl, qty in rows:
            row = {k: v for k, v in first.items() if k != "id_order_detail"}
            row.update(
                unit_price_tax_excl=D(unit),
                unit_price_tax_incl=D(unit_incl),
                total_price_tax_excl=D(excl),
                total_price_tax_incl=D(incl),
                product_quantity=qty,
                product_quantity_in_stock=qty,
                product_price=D(unit),
                reduction_percent=0,
            )
            new = ctx.shop.execute(
                f"INSERT INTO {{p}}order_detail ({', '.join(f'`{k}`' for k in row)}) VALUES"
                f" ({', '.join(['%s'] * len(row))})",
                list(row.values()),
                cursor=cur,
            )
            ctx.shop.execute(
                "INSERT INTO {p}order_detail_tax (id_order_detail, id_tax, unit_amount, total_amount)"
                " VALUES (%s, %s, %s, %s)",
                (new, tax, D(unit_incl) - D(unit), D(incl) - D(excl)),
                cursor=cur,
            )
        excl = sum(D(r[2]) for r in rows)
        incl = sum(D(r[3]) for r in rows)
        ctx.shop.execute(
            "UPDATE {p}orders SET total_products = %s, total_products_wt = %s, total_paid = %s,"
            " total_paid_tax_incl = %s, total_paid_tax_excl = %s, total_shipping = 0,"
            " total_shipping_tax_incl = 0, total_shipping_tax_excl = 0 WHERE id_order = %s",
            (excl, incl, incl, incl, excl, oid),
            cursor=cur,
        )


def test_vat_rounded_per_line_in_the_shop_totals_to_the_cent_with_a_rounding_line(env):
    ctx = env
    oid = _insert_shop_order(ctx, customer=1, lines=[("TAZ010", 0, 0, 1)], carrier=1)
    # three lines of 1.02 at 21 %, VAT per line: 3 x 1.23 = 3.69; FactuSOL's slot would make 3.06 + 0.64 = 3.70
    _set_lines(ctx, oid, [("1.020000", "1.234200", "1.02", "1.23", 1)] * 3)
    out = OrderSync().sync(ctx, [f"ps:{oid}"])[f"ps:{oid}"]
    assert out.status == "applied", out.detail
    [h] = pedidos(ctx, oid)
    assert h["TOTPCL"] == shop_order(ctx, oid)["total_paid_tax_incl"] == D("3.69")
    lines = lines_of(ctx, h)
    assert [(l["DESLPC"], l["TOTLPC"], l["IVALPC"]) for l in lines][-1] == ("Ajuste por redondeo", D("-0.01"), 0)
    assert h["BAS1PCL"] == D("3.05") and h["IIVA1PCL"] == D("0.64")
    assert "total differs" not in out.detail


def test_a_shop_row_that_does_not_add_up_takes_what_the_customer_paid_and_says_so(env):
    ctx = env
    oid = _insert_shop_order(ctx, customer=1, lines=[("TAZ010", 0, 0, 1)], carrier=1)
    # 2 x 10.00 = 20.00, but the row's total is 18.00 (18.00 + 21 % = 21.78), and that is what was paid
    _set_lines(ctx, oid, [("10.000000", "12.100000", "18.00", "21.78", 2)])
    out = OrderSync().sync(ctx, [f"ps:{oid}"])[f"ps:{oid}"]
    assert out.status == "applied", out.detail
    [h] = pedidos(ctx, oid)
    assert h["TOTPCL"] == D("21.78")
    [line] = lines_of(ctx, h)
    assert (line["CANLPC"], line["PRELPC"], line["TOTLPC"]) == (D(2), D("9.0000"), D("18.00"))
    assert "the shop's row says 2 x 10.00 but its total is 18.00" in out.detail


def test_the_order_total_wins_over_rows_that_do_not_add_up_to_it(env):
    ctx = env
    oid = _insert_shop_order(ctx, customer=1, lines=[("TAZ010", 0, 0, 1)], carrier=1)
    _set_lines(ctx, oid, [("10.000000", "12.100000", "10.00", "12.10", 1)])
    ctx.shop.execute("UPDATE {p}orders SET total_paid_tax_incl = 12.00, total_paid = 12.00 WHERE id_order = %s", (oid,))
    out = OrderSync().sync(ctx, [f"ps:{oid}"])[f"ps:{oid}"]
    [h] = pedidos(ctx, oid)
    assert h["TOTPCL"] == D("12.00")
    assert "the shop's rows add up to 12.10 but the customer paid 12.00" in out.detail


def test_payment_codes_must_exist_and_a_fallback_is_said(env):
    ctx = env
    out = OrderSync().sync(ctx, ["ps:5"])["ps:5"]  # paid by cheque: not in the default map, the fallback is said
    assert out.status == "applied", out.detail
    assert (
        "payment module 'ps_checkpayment' is not in order.yaml payment_methods: the fallback TAR is used" in out.detail
    )
    assert pedidos(ctx, 5)[0]["FOPPCL"] == "TAR"
    vm = ctx.rules.entity("order").value_map("payment_methods")
    vm.entries["transfer"]["factusol"] = ["XYZ"]  # a code FactuSOL does not have
    out = OrderSync().sync(ctx, ["ps:2"])["ps:2"]
    assert out.status == "quarantined" and "'XYZ'" in out.detail and "F_FPA" in out.detail
    assert not pedidos(ctx, 2)


def test_due_dates_of_the_payment_method_are_in_the_pedido(env):
    ctx = env
    ctx.factusol.execute(
        "UPDATE [F_FPA] SET [VENFPA] = ?, [DIA1FPA] = ?, [DIA2FPA] = ? WHERE [CODFPA] = ?", [2, "30", "60", "TAR"]
    )
    OrderSync().sync(ctx, ["ps:1"])
    [h] = pedidos(ctx, 1)
    placed = shop_order(ctx, 1)["date_add"].date()
    first, second = (placed.toordinal() + 30, placed.toordinal() + 60)
    from datetime import date

    half = (h["TOTPCL"] / 2).quantize(D("0.01"), "ROUND_HALF_UP")
    want = (
        f"Vencimientos (TAR): {date.fromordinal(first):%d/%m/%Y};{half:.2f};"
        f"{date.fromordinal(second):%d/%m/%Y};{h['TOTPCL'] - half:.2f}"
    ).replace(".", ",")
    assert want in h["PRIPCL"], h["PRIPCL"]
    assert "Pago aceptado en la tienda" in h["PRIPCL"]  # order 1 was paid by card at checkout


def test_gift_wrapping_is_a_line_and_counted(env):
    ctx = env
    oid = _insert_shop_order(ctx, customer=1, lines=[("TAZ010", 0, 0, 1)], carrier=1)
    _set_lines(ctx, oid, [("10.000000", "12.100000", "10.00", "12.10", 1)])
    ctx.shop.execute(
        "UPDATE {p}orders SET total_wrapping = 2.42, total_wrapping_tax_incl = 2.42,"
        " total_wrapping_tax_excl = 2.00, total_paid_tax_incl = 14.52, total_paid = 14.52,"
        " total_paid_tax_excl = 12.00 WHERE id_order = %s",
        (oid,),
    )
    out = OrderSync().sync(ctx, [f"ps:{oid}"])[f"ps:{oid}"]
    [h] = pedidos(ctx, oid)
    assert h["TOTPCL"] == D("14.52") and "add up" not in out.detail
    assert [(l["DESLPC"], l["TOTLPC"], l["IVALPC"]) for l in lines_of(ctx, h)][-1] == (
        "Envoltorio de regalo",
        D("2.00"),
        0,
    )
