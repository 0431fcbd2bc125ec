"""Orders in the stand-in shop: cart, lines, carrier, history, and the invoice and payment of a paid state."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from .shop_data import ATTRIBUTES, ATTRIBUTE_GROUPS, ZERO
from .shop_sql import insert_row, ts


def add_order(
    cur,
    p: str,
    n: int,
    customer: tuple,
    address_id: int,
    carrier: int,
    state: int,
    lines: list,
    tracking: str,
    invoiced: bool,
    products: dict,
    minute: int,
    secure_key: str,
) -> int:
    when = ts(minute)
    rate_of = {1: Decimal("21"), 2: Decimal("10"), 3: Decimal("4")}
    detail_rows, total_excl, total_incl = [], Decimal(0), Decimal(0)
    for ref, size, color, qty in lines:
        pid, pa_ids, price, tax_group, name, combos = products[ref]
        pa = pa_ids.get((size, color), 0)
        impact = next((Decimal(c[3]) for c in combos if (c[0], c[1]) == (size, color)), Decimal(0))
        unit_excl = (Decimal(price) + impact).quantize(Decimal("0.000001"))
        rate = rate_of[tax_group]
        unit_incl = (unit_excl * (1 + rate / 100)).quantize(Decimal("0.000001"))
        line_excl, line_incl = (unit_excl * qty).quantize(Decimal("0.01")), (unit_incl * qty).quantize(Decimal("0.01"))
        total_excl += line_excl
        total_incl += line_incl
        label = name
        attrs = [a for a in ATTRIBUTES if a[0] in (size, color)]
        if attrs:
            label += " - " + ", ".join(f"{ATTRIBUTE_GROUPS[a[1] - 1][3]} : {a[3]}" for a in attrs)
        detail_rows.append((pid, pa, ref, label, qty, unit_excl, unit_incl, line_excl, line_incl, tax_group, rate))
    ship_excl = Decimal("0") if carrier == 1 else Decimal("4.958678")
    ship_incl = (ship_excl * Decimal("1.21")).quantize(Decimal("0.01"))
    paid_total = total_incl + ship_incl
    reference = "".join(chr(65 + (n * 7 + i * 3) % 26) for i in range(9))
    cid, _ = customer
    id_cart = insert_row(
        cur,
        p,
        "cart",
        dict(
            id_shop_group=1,
            id_shop=1,
            id_carrier=carrier,
            delivery_option="",
            id_lang=2,
            id_address_delivery=address_id,
            id_address_invoice=address_id,
            id_currency=1,
            id_customer=cid,
            id_guest=0,
            secure_key=secure_key,
            recyclable=0,
            gift=0,
            mobile_theme=0,
            allow_seperated_package=0,
            date_add=when,
            date_upd=when,
        ),
    )
    oid = insert_row(
        cur,
        p,
        "orders",
        dict(
            reference=reference,
            id_shop_group=1,
            id_shop=1,
            id_carrier=carrier,
            id_lang=2,
            id_customer=cid,
            id_cart=id_cart,
            id_currency=1,
            id_address_delivery=address_id,
            id_address_invoice=address_id,
            current_state=state,
            secure_key=secure_key,
            payment="Transferencia bancaria" if state == 10 else ("Cheque" if state == 1 else "Tarjeta"),
            conversion_rate=1,
            module="ps_wirepayment" if state == 10 else ("ps_checkpayment" if state == 1 else "ps_checkout"),
            recyclable=0,
            gift=0,
            mobile_theme=0,
            total_discounts=0,
            total_discounts_tax_incl=0,
            total_discounts_tax_excl=0,
            total_paid=paid_total,
            total_paid_tax_incl=paid_total,
            total_paid_tax_excl=total_excl + ship_excl,
            total_paid_real=0,
            total_products=total_excl,
            total_products_wt=total_incl,
            total_shipping=ship_incl,
            total_shipping_tax_incl=ship_incl,
            total_shipping_tax_excl=ship_excl,
            carrier_tax_rate=Decimal("21"),
            total_wrapping=0,
            total_wrapping_tax_incl=0,
            total_wrapping_tax_excl=0,
            round_mode=2,
            round_type=2,
            invoice_number=0,
            delivery_number=0,
            invoice_date=ZERO,
            delivery_date=ZERO,
            valid=1 if state in (2, 3, 4, 5, 11) else 0,
            date_add=when,
            date_upd=when,
        ),
    )
    for pid, pa, ref, label, qty, ue, ui, le, li, tax_group, _rate in detail_rows:
        insert_row(
            cur,
            p,
            "cart_product",
            dict(
                id_cart=id_cart,
                id_product=pid,
                id_address_delivery=address_id,
                id_shop=1,
                id_product_attribute=pa,
                id_customization=0,
                quantity=qty,
                date_add=when,
            ),
        )
        odid = insert_row(
            cur,
            p,
            "order_detail",
            dict(
                id_order=oid,
                id_order_invoice=0,
                id_warehouse=0,
                id_shop=1,
                product_id=pid,
                product_attribute_id=pa,
                id_customization=0,
                product_name=label,
                product_quantity=qty,
                product_quantity_in_stock=qty,
                product_quantity_refunded=0,
                product_quantity_return=0,
                product_quantity_reinjected=0,
                product_price=ue,
                reduction_percent=0,
                reduction_amount=0,
                reduction_amount_tax_incl=0,
                reduction_amount_tax_excl=0,
                group_reduction=0,
                product_quantity_discount=0,
                product_ean13="",
                product_reference=ref,
                product_supplier_reference="",
                product_weight=0,
                id_tax_rules_group=tax_group,
                tax_computation_method=0,
                tax_name="",
                tax_rate=0,
                ecotax=0,
                ecotax_tax_rate=0,
                discount_quantity_applied=0,
                download_hash="",
                download_nb=0,
                download_deadline=ZERO,
                total_price_tax_incl=li,
                total_price_tax_excl=le,
                unit_price_tax_incl=ui,
                unit_price_tax_excl=ue,
                total_shipping_price_tax_incl=0,
                total_shipping_price_tax_excl=0,
                purchase_supplier_price=0,
                original_product_price=ue,
                original_wholesale_price=0,
                total_refunded_tax_excl=0,
                total_refunded_tax_incl=0,
            ),
        )
        insert_row(
            cur,
            p,
            "order_detail_tax",
            dict(id_order_detail=odid, id_tax=tax_group, unit_amount=ui - ue, total_amount=li - le),
        )
        if state not in (6, 8):  # stock was taken at order creation (given back on cancel)
            for a in {pa, 0}:
                cur.execute(
                    f"UPDATE `{p}stock_available` SET quantity = quantity - %s WHERE id_product = %s AND"
                    f" id_product_attribute = %s AND id_shop = 1",
                    (qty, pid, a),
                )
    insert_row(
        cur,
        p,
        "order_carrier",
        dict(
            id_order=oid,
            id_carrier=carrier,
            id_order_invoice=0,
            weight=0,
            shipping_cost_tax_excl=ship_excl,
            shipping_cost_tax_incl=ship_incl,
            tracking_number=tracking or None,
            date_add=when,
        ),
    )
    history = {2: [2], 4: [2, 3, 4], 6: [1, 6], 10: [10], 1: [1]}.get(state, [state])
    for i, s in enumerate(history):
        insert_row(
            cur,
            p,
            "order_history",
            dict(id_employee=0, id_order=oid, id_order_state=s, date_add=when + timedelta(minutes=i)),
        )
    return oid


def seed_invoice(cur, p: str, oid: int, when: datetime, state: int) -> None:
    """The invoice + payment PrestaShop creates when an order enters a paid, invoiced state."""
    cur.execute(
        f"SELECT reference, total_paid_tax_incl, total_paid_tax_excl, total_products, total_products_wt,"
        f" total_shipping_tax_excl, total_shipping_tax_incl, payment FROM `{p}orders` WHERE id_order = %s",
        (oid,),
    )
    ref, paid_incl, paid_excl, prod, prod_wt, ship_excl, ship_incl, payment = cur.fetchone()
    cur.execute(f"SELECT COALESCE(MAX(number), 0) + 1 FROM `{p}order_invoice`")
    number = cur.fetchone()[0]
    inv = insert_row(
        cur,
        p,
        "order_invoice",
        dict(
            id_order=oid,
            number=number,
            delivery_number=0,
            delivery_date=ZERO,
            total_discount_tax_excl=0,
            total_discount_tax_incl=0,
            total_paid_tax_excl=paid_excl,
            total_paid_tax_incl=paid_incl,
            total_products=prod,
            total_products_wt=prod_wt,
            total_shipping_tax_excl=ship_excl,
            total_shipping_tax_incl=ship_incl,
            shipping_tax_computation_method=0,
            total_wrapping_tax_excl=0,
            total_wrapping_tax_incl=0,
            shop_address="Tienda Sandbox",
            note="",
            date_add=when,
        ),
    )
    pay = insert_row(
        cur,
        p,
        "order_payment",
        dict(
            order_reference=ref,
            id_currency=1,
            amount=paid_incl,
            payment_method=payment,
            conversion_rate=1,
            transaction_id="",
            date_add=when,
        ),
    )
    insert_row(cur, p, "order_invoice_payment", dict(id_order_invoice=inv, id_order_payment=pay, id_order=oid))
    cur.execute(f"UPDATE `{p}order_detail` SET id_order_invoice = %s WHERE id_order = %s", (inv, oid))
    cur.execute(f"UPDATE `{p}order_carrier` SET id_order_invoice = %s WHERE id_order = %s", (inv, oid))
    cur.execute(
        f"UPDATE `{p}orders` SET invoice_number = %s, invoice_date = %s, total_paid_real = %s WHERE id_order = %s",
        (number, when, paid_incl, oid),
    )
    if state in (4, 5):  # shipped: delivery slip numbered
        cur.execute(
            f"UPDATE `{p}order_invoice` SET delivery_number = 1, delivery_date = %s WHERE id_order_invoice = %s",
            (when, inv),
        )
        cur.execute(f"UPDATE `{p}orders` SET delivery_number = 1, delivery_date = %s WHERE id_order = %s", (when, oid))
