"""Order writes as PrestaShop makes them: state changes with their history, invoices, deliveries and payments,
carrier and tracking.  Every value is checked against its live column before it is written
(replicator/prestashop/fit.py): fitted by rule with a log line, or refused naming the field."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


from replicator.prestashop.connection import ShopConnection
from replicator.prestashop.fit import fit_row

from .sql import Extra, WriteError, run_extra
from .stock import add_quantity, recompute_reserved, stock_movement, stock_row

TRACKING_RE = re.compile(r"^[~:#,%&_=\(\)\[\]\.\? \+\-@/a-zA-Z0-9]+$")  # Validate::isTrackingNumber


@dataclass
class StateChange:
    id_order: int
    old_state: int
    new_state: int
    id_order_history: int = 0
    stock_changes: list[tuple[int, int, int]] = field(default_factory=list)  # (product, attribute, delta)
    movements: int = 0
    invoice_needed: bool = False  # PS would have created an invoice; we did not (create_invoice=False)
    id_order_invoice: int | None = None
    payments: int = 0
    delivery_number: int | None = None


def _next_delivery_number(shop: ShopConnection, cur) -> int:
    configured = shop.config_int("PS_DELIVERY_NUMBER", 0)
    current = shop.query_one("SELECT COALESCE(MAX(delivery_number), 0) AS n FROM {p}order_invoice", cursor=cur)["n"]
    if configured and configured > current:
        # Order::setDeliveryNumber consumes PS_DELIVERY_NUMBER once, then clears it
        shop.execute(
            "UPDATE {p}configuration SET value = '', date_upd = %s WHERE name = 'PS_DELIVERY_NUMBER'",
            (shop.now(),),
            cursor=cur,
        )
        return configured
    return int(current) + 1


def _next_invoice_number(shop: ShopConnection, cur, when: datetime) -> int:
    start = shop.config_int("PS_INVOICE_START_NUMBER", 0)
    if shop.config_value("PS_INVOICE_RESET") == "1":
        current = shop.query_one(
            "SELECT COALESCE(MAX(number), 0) AS n FROM {p}order_invoice WHERE YEAR(date_add) = %s",
            (when.year,),
            cursor=cur,
        )["n"]
    else:
        current = shop.query_one("SELECT COALESCE(MAX(number), 0) AS n FROM {p}order_invoice", cursor=cur)["n"]
    if start and start > current:
        shop.execute(
            "UPDATE {p}configuration SET value = '', date_upd = %s WHERE name = 'PS_INVOICE_START_NUMBER'",
            (shop.now(),),
            cursor=cur,
        )
        return start
    return int(current) + 1


def _insert_invoice(
    shop: ShopConnection, cur, order: dict, number: int, when: datetime, totals: dict | None = None
) -> int:
    t = {
        "total_discount_tax_excl": order["total_discounts_tax_excl"],
        "total_discount_tax_incl": order["total_discounts_tax_incl"],
        "total_paid_tax_excl": order["total_paid_tax_excl"],
        "total_paid_tax_incl": order["total_paid_tax_incl"],
        "total_products": order["total_products"],
        "total_products_wt": order["total_products_wt"],
        "total_shipping_tax_excl": order["total_shipping_tax_excl"],
        "total_shipping_tax_incl": order["total_shipping_tax_incl"],
        "total_wrapping_tax_excl": order["total_wrapping_tax_excl"],
        "total_wrapping_tax_incl": order["total_wrapping_tax_incl"],
    }
    t.update({k: v for k, v in (totals or {}).items() if k in t})
    shop_address = shop.config_value("PS_SHOP_NAME") or ""
    cols = dict(
        t,
        id_order=order["id_order"],
        number=number,
        delivery_number=0,
        delivery_date="0000-00-00 00:00:00",
        shipping_tax_computation_method=0,
        shop_address=shop_address,
        note="",
        date_add=when,
    )
    cols = fit_row(shop, "order_invoice", cols, order["id_order"])
    inv = shop.execute(
        f"INSERT INTO {{p}}order_invoice ({', '.join(f'`{k}`' for k in cols)})"
        f" VALUES ({', '.join(['%s'] * len(cols))})",
        list(cols.values()),
        cursor=cur,
    )
    for table in ("order_detail", "order_carrier"):
        shop.execute(
            f"UPDATE {{p}}{table} SET id_order_invoice = %s WHERE id_order = %s AND"
            " (id_order_invoice = 0 OR id_order_invoice IS NULL)",
            (inv, order["id_order"]),
            cursor=cur,
        )
    return inv


def _link_existing_payments(shop: ShopConnection, cur, order: dict, inv: int) -> None:
    shop.execute(
        "INSERT INTO {p}order_invoice_payment (id_order_invoice, id_order_payment, id_order)"
        " SELECT %s, op.id_order_payment, %s FROM {p}order_payment op WHERE op.order_reference = %s"
        " AND NOT EXISTS (SELECT 1 FROM {p}order_invoice_payment x WHERE x.id_order_payment ="
        " op.id_order_payment)",
        (inv, order["id_order"], (order["reference"] or "")[:9]),
        cursor=cur,
    )


def _load_order(shop: ShopConnection, cur, order_id: int) -> dict:
    order = shop.query_one("SELECT * FROM {p}orders WHERE id_order = %s FOR UPDATE", (order_id,), cursor=cur)
    if not order:
        raise WriteError(f"order {order_id} does not exist")
    return order


def change_order_state(
    shop: ShopConnection,
    order_id: int,
    new_state_id: int,
    *,
    id_employee: int = 0,
    create_invoice: bool = False,
    extra: Extra = None,
) -> StateChange:
    """OrderHistory::changeIdOrderState + add(), by SQL, in one transaction.

    Stock: cancel/error gives stock back, leaving cancel/error takes it again; shipped-flag changes write
    stock_mvt (reason PS_STOCK_CUSTOMER_ORDER_REASON / _CANCEL_REASON) without touching quantity; reserved and
    physical are recomputed.  ProductSale is kept.  Invoices are NOT created unless ``create_invoice`` (PS numbering
    races are a known bug); ``StateChange.invoice_needed`` says PS would have made one.  Payments are added for
    invoices with rest-to-pay when the new state is paid; delivery numbers are assigned when it is delivery.
    No mail, no hook.
    """
    states = shop.order_states()
    if new_state_id not in states:
        raise WriteError(f"order state {new_state_id} does not exist")
    error, canceled = shop.state_id("PS_OS_ERROR"), shop.state_id("PS_OS_CANCELED")
    now = shop.now()
    with shop.transaction() as cur:
        order = _load_order(shop, cur, order_id)
        old_id = int(order["current_state"])
        old = states.get(old_id)
        new = states[new_state_id]
        result = StateChange(order_id, old_id, new_state_id)
        old_logable = bool(old and old.logable)
        old_shipped = bool(old and old.shipped)
        lines = shop.query("SELECT * FROM {p}order_detail WHERE id_order = %s", (order_id,), cursor=cur)
        for line in lines:
            pid, pa, qty = line["product_id"], line["product_attribute_id"] or 0, int(line["product_quantity"])
            delta = 0
            if not old_logable and new.logable:
                _product_sale(shop, cur, pid, qty, now)
                if old_id in (error, canceled):
                    delta = -qty
            elif old_logable and not new.logable:
                _product_sale(shop, cur, pid, -qty, now)
                if new_state_id in (error, canceled):
                    delta = qty
            elif (
                not old_logable
                and not new.logable
                and new_state_id in (error, canceled)
                and old_id not in (error, canceled)
            ):
                delta = qty
            if delta:
                add_quantity(shop, cur, pid, pa, delta)
                result.stock_changes.append((pid, pa, delta))
            if old_shipped != new.shipped:
                moved = qty - int(line["product_quantity_refunded"]) - int(line["product_quantity_return"])
                if moved > 0:
                    row = stock_row(shop, cur, pid, pa)
                    stock_movement(
                        shop,
                        cur,
                        row["id_stock_available"],
                        moved,
                        -1 if new.shipped else 1,
                        "PS_STOCK_CUSTOMER_ORDER_REASON" if new.shipped else "PS_STOCK_CUSTOMER_ORDER_CANCEL_REASON",
                        id_order=order_id,
                        id_employee=id_employee,
                        when=now,
                    )
                    result.movements += 1
        sets = fit_row(shop, "orders", {"current_state": new_state_id, "valid": int(new.logable)}, order_id)
        shop.execute(
            "UPDATE {p}orders SET current_state = %s, valid = %s, date_upd = %s WHERE id_order = %s",
            (sets["current_state"], sets["valid"], now, order_id),
            cursor=cur,
        )
        invoices = shop.query(
            "SELECT * FROM {p}order_invoice WHERE id_order = %s ORDER BY id_order_invoice", (order_id,), cursor=cur
        )
        has_invoice = any(i["number"] > 0 for i in invoices) or (shop.config_value("PS_INVOICE") == "0" and invoices)
        if new.invoice and not int(order["invoice_number"] or 0) and not has_invoice:
            if create_invoice:
                number = _next_invoice_number(shop, cur, now) if shop.config_value("PS_INVOICE") != "0" else 0
                inv = _insert_invoice(shop, cur, order, number, now)
                _link_existing_payments(shop, cur, order, inv)
                shop.execute(
                    "UPDATE {p}orders SET invoice_number = %s, invoice_date = %s WHERE id_order = %s",
                    (number, now, order_id),
                    cursor=cur,
                )
                result.id_order_invoice = inv
            else:
                result.invoice_needed = True
        elif new.delivery and not int(order["delivery_number"] or 0) and not invoices:
            # Order::setDeliverySlip: a number-0 order_invoice carries the delivery slip
            _insert_invoice(shop, cur, order, 0, now)
            shop.execute("UPDATE {p}orders SET delivery_date = %s WHERE id_order = %s", (now, order_id), cursor=cur)
        invoices = shop.query(
            "SELECT * FROM {p}order_invoice WHERE id_order = %s ORDER BY id_order_invoice", (order_id,), cursor=cur
        )
        if new.paid:
            result.payments += _pay_invoices(shop, cur, order, invoices, now, id_employee)
        if new.delivery:
            for inv in invoices:
                if not inv["delivery_number"]:
                    number = _next_delivery_number(shop, cur)
                    shop.execute(
                        "UPDATE {p}order_invoice SET delivery_number = %s, delivery_date = %s"
                        " WHERE id_order_invoice = %s",
                        (number, now, inv["id_order_invoice"]),
                        cursor=cur,
                    )
                    shop.execute(
                        "UPDATE {p}orders SET delivery_number = %s, delivery_date = %s WHERE id_order = %s",
                        (number, now, order_id),
                        cursor=cur,
                    )
                    result.delivery_number = number
        history = fit_row(
            shop,
            "order_history",
            {"id_employee": id_employee, "id_order": order_id, "id_order_state": new_state_id, "date_add": now},
            order_id,
        )
        result.id_order_history = shop.execute(
            "INSERT INTO {p}order_history (id_employee, id_order, id_order_state, date_add) VALUES (%s, %s, %s, %s)",
            tuple(history.values()),
            cursor=cur,
        )
        recompute_reserved(shop, cur, {line["product_id"] for line in lines})
        run_extra(shop, cur, extra)
    return result


def _pay_invoices(
    shop: ShopConnection, cur, order: dict, invoices: list[dict], now: datetime, id_employee: int = 0
) -> int:
    """An order_payment for the rest to pay of every numbered invoice (what a paid state does); returns how many."""
    made = 0
    for inv in invoices:
        if inv["number"] <= 0:
            continue
        paid = shop.query_one(
            "SELECT COALESCE(SUM(op.amount), 0) AS s FROM {p}order_invoice_payment oip"
            " JOIN {p}order_payment op ON op.id_order_payment = oip.id_order_payment"
            " WHERE oip.id_order_invoice = %s",
            (inv["id_order_invoice"],),
            cursor=cur,
        )["s"]
        rest = (Decimal(inv["total_paid_tax_incl"]) - Decimal(paid)).quantize(Decimal("0.01"))
        if rest > 0:
            cols = {
                "order_reference": (order["reference"] or "")[:9],
                "id_currency": order["id_currency"],
                "amount": rest,
                "payment_method": order["payment"],
                "conversion_rate": order["conversion_rate"],
                "transaction_id": "",
                "date_add": now,
            }
            if shop.detect_version().has_order_payment_employee:
                cols["id_employee"] = id_employee
            cols = fit_row(shop, "order_payment", cols, order["id_order"])
            pay = shop.execute(
                f"INSERT INTO {{p}}order_payment ({', '.join(f'`{k}`' for k in cols)})"
                f" VALUES ({', '.join(['%s'] * len(cols))})",
                list(cols.values()),
                cursor=cur,
            )
            shop.execute(
                "INSERT INTO {p}order_invoice_payment (id_order_invoice, id_order_payment, id_order)"
                " VALUES (%s, %s, %s)",
                (inv["id_order_invoice"], pay, order["id_order"]),
                cursor=cur,
            )
            shop.execute(
                "UPDATE {p}orders SET total_paid_real = total_paid_real + %s WHERE id_order = %s",
                (rest, order["id_order"]),
                cursor=cur,
            )
            made += 1
    return made


def record_invoice_payment(shop: ShopConnection, order_id: int, *, id_employee: int = 0, extra: Extra = None) -> int:
    """Register the rest to pay of the order's invoices as paid, without changing the order state (for an ERP
    "collected" event on an order already further along, e.g. Delivered).  Returns the payments added."""
    with shop.transaction() as cur:
        order = _load_order(shop, cur, order_id)
        invoices = shop.query(
            "SELECT * FROM {p}order_invoice WHERE id_order = %s ORDER BY id_order_invoice", (order_id,), cursor=cur
        )
        made = _pay_invoices(shop, cur, order, invoices, shop.now(), id_employee)
        run_extra(shop, cur, extra)
    return made


def set_order_carrier(shop: ShopConnection, order_id: int, id_carrier: int, *, extra: Extra = None) -> bool:
    """Point the order (orders.id_carrier and its first order_carrier row) at another carrier; False if unchanged."""
    with shop.transaction() as cur:
        order = _load_order(shop, cur, order_id)
        if int(order["id_carrier"]) == int(id_carrier):
            return False
        shop.execute(
            "UPDATE {p}orders SET id_carrier = %s, date_upd = %s WHERE id_order = %s",
            (id_carrier, shop.now(), order_id),
            cursor=cur,
        )
        shop.execute(
            "UPDATE {p}order_carrier SET id_carrier = %s WHERE id_order_carrier = (SELECT id FROM"
            " (SELECT MIN(id_order_carrier) AS id FROM {p}order_carrier WHERE id_order = %s) x)",
            (id_carrier, order_id),
            cursor=cur,
        )
        run_extra(shop, cur, extra)
    return True


def _product_sale(shop: ShopConnection, cur, product_id: int, qty: int, now: datetime) -> None:
    """ProductSale::addProductSale / removeProductSale."""
    if qty > 0:
        shop.execute(
            "INSERT INTO {p}product_sale (id_product, quantity, sale_nbr, date_upd) VALUES (%s, %s, 1, %s)"
            " ON DUPLICATE KEY UPDATE quantity = quantity + VALUES(quantity), sale_nbr = sale_nbr + 1,"
            " date_upd = VALUES(date_upd)",
            (product_id, qty, now.date()),
            cursor=cur,
        )
    else:
        shop.execute(
            "UPDATE {p}product_sale SET quantity = GREATEST(CAST(quantity AS SIGNED) + %s, 0),"
            " sale_nbr = GREATEST(CAST(sale_nbr AS SIGNED) - 1, 0), date_upd = %s WHERE id_product = %s",
            (qty, now.date(), product_id),
            cursor=cur,
        )


def validate_tracking(tracking: str, shop: ShopConnection | None = None, order_id: int | None = None) -> str:
    """The tracking number as PrestaShop accepts it (Validate::isTrackingNumber), fitted to the live
    order_carrier.tracking_number when the shop is given: cut with a log line under `fit: truncate`, else refused
    naming the field and its limit."""
    tracking = (tracking or "").strip()
    if not tracking or not TRACKING_RE.match(tracking):
        raise WriteError(
            "invalid tracking number: PrestaShop allows letters, digits, spaces and ~:#,%&_=()[].?+-@/ in it"
        )
    if shop is not None:
        return fit_row(shop, "order_carrier", {"tracking_number": tracking}, order_id)["tracking_number"]
    if len(tracking) > 64:  # without the live schema: PrestaShop's own limit (OrderCarrier's field size)
        raise WriteError(f"the tracking number is {len(tracking)} characters; PrestaShop holds 64")
    return tracking


def set_tracking(shop: ShopConnection, order_id: int, tracking: str, *, extra: Extra = None) -> int:
    """Tracking number on the order's first order_carrier row (and orders.shipping_number on 1.7.8).

    Returns the id_order_carrier written.  Does not change the order state (use change_order_state).
    """
    tracking = validate_tracking(tracking, shop, order_id)
    with shop.transaction() as cur:
        order = _load_order(shop, cur, order_id)
        row = shop.query_one(
            "SELECT MIN(id_order_carrier) AS id FROM {p}order_carrier WHERE id_order = %s", (order_id,), cursor=cur
        )
        if row and row["id"]:
            oc = row["id"]
            shop.execute(
                "UPDATE {p}order_carrier SET tracking_number = %s WHERE id_order_carrier = %s",
                (tracking, oc),
                cursor=cur,
            )
        else:  # orders created outside the checkout may lack the row; PS's getIdOrderCarrier would find none
            oc = shop.execute(
                "INSERT INTO {p}order_carrier (id_order, id_carrier, id_order_invoice, weight,"
                " shipping_cost_tax_excl, shipping_cost_tax_incl, tracking_number, date_add)"
                " VALUES (%s, %s, 0, 0, %s, %s, %s, %s)",
                (
                    order_id,
                    order["id_carrier"],
                    order["total_shipping_tax_excl"],
                    order["total_shipping_tax_incl"],
                    tracking,
                    shop.now(),
                ),
                cursor=cur,
            )
        if shop.detect_version().has_shipping_number:
            number = fit_row(shop, "orders", {"shipping_number": tracking}, order_id, entity="shipment")
            shop.execute(
                "UPDATE {p}orders SET shipping_number = %s, date_upd = %s WHERE id_order = %s",
                (number["shipping_number"], shop.now(), order_id),
                cursor=cur,
            )
        run_extra(shop, cur, extra)
    return oc


def set_invoice(
    shop: ShopConnection,
    order_id: int,
    number: int,
    date: datetime,
    totals: dict | None = None,
    *,
    note: str | None = None,
    extra: Extra = None,
) -> int:
    """Record the ERP's invoice on the order: order_invoice (+ line/carrier links, existing payments linked)
    and orders.invoice_number/invoice_date.  Updates the existing invoice if the order has one (or fills the
    delivery-slip-only row).  ``totals`` may override order_invoice total_* columns; ``note`` sets
    order_invoice.note (e.g. the ERP's due dates, which PrestaShop has no column for).  Returns id_order_invoice.
    """
    if int(number) <= 0:
        raise WriteError("invoice number must be positive")
    with shop.transaction() as cur:
        order = _load_order(shop, cur, order_id)
        rows = shop.query(
            "SELECT id_order_invoice, number FROM {p}order_invoice WHERE id_order = %s"
            " ORDER BY (number > 0) DESC, id_order_invoice FOR UPDATE",
            (order_id,),
            cursor=cur,
        )
        if rows:
            inv = rows[0]["id_order_invoice"]
            sets = {"number": int(number), "date_add": date}
            allowed = {
                "total_discount_tax_excl",
                "total_discount_tax_incl",
                "total_paid_tax_excl",
                "total_paid_tax_incl",
                "total_products",
                "total_products_wt",
                "total_shipping_tax_excl",
                "total_shipping_tax_incl",
                "total_wrapping_tax_excl",
                "total_wrapping_tax_incl",
            }
            sets.update({k: v for k, v in (totals or {}).items() if k in allowed})
            if note is not None:
                sets["note"] = note
            sets = fit_row(shop, "order_invoice", sets, order_id)
            shop.execute(
                f"UPDATE {{p}}order_invoice SET {', '.join(f'`{k}` = %s' for k in sets)} WHERE id_order_invoice = %s",
                (*sets.values(), inv),
                cursor=cur,
            )
        else:
            inv = _insert_invoice(shop, cur, order, int(number), date, totals)
            if note is not None:
                note = fit_row(shop, "order_invoice", {"note": note}, order_id)["note"]
                shop.execute(
                    "UPDATE {p}order_invoice SET note = %s WHERE id_order_invoice = %s", (note, inv), cursor=cur
                )
        _link_existing_payments(shop, cur, order, inv)
        head = fit_row(
            shop, "orders", {"invoice_number": int(number), "invoice_date": date}, order_id, entity="invoice"
        )
        shop.execute(
            "UPDATE {p}orders SET invoice_number = %s, invoice_date = %s, date_upd = %s WHERE id_order = %s",
            (head["invoice_number"], head["invoice_date"], shop.now(), order_id),
            cursor=cur,
        )
        run_extra(shop, cur, extra)
    return inv


def set_shipping_cost(
    shop: ShopConnection, order_id: int, tax_excl: Decimal, tax_incl: Decimal, *, extra: Extra = None
) -> bool:
    """The order's shipping cost as the ERP billed it: the first order_carrier row and the order's shipping totals,
    the order's paid totals moved by the same difference (as PrestaShop's own order edit keeps them in step).
    False when it already is."""
    cost = fit_row(
        shop,
        "orders",
        {"total_shipping_tax_excl": Decimal(tax_excl), "total_shipping_tax_incl": Decimal(tax_incl)},
        order_id,
        entity="shipment",
    )
    excl, incl = Decimal(cost["total_shipping_tax_excl"]), Decimal(cost["total_shipping_tax_incl"])
    with shop.transaction() as cur:
        order = _load_order(shop, cur, order_id)
        old_excl, old_incl = Decimal(order["total_shipping_tax_excl"]), Decimal(order["total_shipping_tax_incl"])
        if (old_excl, old_incl) == (excl, incl):
            return False
        d_excl, d_incl = excl - old_excl, incl - old_incl
        shop.execute(
            "UPDATE {p}orders SET total_shipping = %s, total_shipping_tax_incl = %s,"
            " total_shipping_tax_excl = %s, total_paid = total_paid + %s,"
            " total_paid_tax_incl = total_paid_tax_incl + %s, total_paid_tax_excl = total_paid_tax_excl + %s,"
            " date_upd = %s WHERE id_order = %s",
            (incl, incl, excl, d_incl, d_incl, d_excl, shop.now(), order_id),
            cursor=cur,
        )
        shop.execute(
            "UPDATE {p}order_carrier SET shipping_cost_tax_excl = %s, shipping_cost_tax_incl = %s"
            " WHERE id_order_carrier = (SELECT id FROM (SELECT MIN(id_order_carrier) AS id FROM"
            " {p}order_carrier WHERE id_order = %s) x)",
            (excl, incl, order_id),
            cursor=cur,
        )
        run_extra(shop, cur, extra)
    return True
