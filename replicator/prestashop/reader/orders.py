"""Shop orders, their lines, discounts, carriers, shipments, invoices and payments → canonical entities."""

from __future__ import annotations

from decimal import Decimal
from typing import Callable, Iterable

from ...model import Invoice, Order, OrderDiscount, OrderLine, Shipment
from ..connection import ShopConnection
from .columns import as_decimal, as_text, column_maps, in_marks, select_list
from .customers import addresses_by_id
from .products import attribute_names


def read_orders(
    shop: ShopConnection, ids: Iterable[int] | None = None, *, since=None, maps: dict | None = None
) -> list[Order]:
    """Orders of the shop with lines, addresses, carrier, payment and the canonical state name."""
    maps = column_maps(maps)
    where, args = "o.id_shop = %s", [shop.id_shop]
    if ids is not None:
        ids = list(ids)
        if not ids:
            return []
        marks, a = in_marks(ids)
        where += f" AND o.id_order IN ({marks})"
        args += a
    if since is not None:
        where += " AND o.date_upd >= %s"
        args.append(since)
    rows = shop.query(
        f"SELECT {select_list(maps['order'])}, o.id_address_invoice AS _inv, o.id_address_delivery AS _del,"
        " c.email AS _email, c.is_guest AS _guest, ca.name AS _carrier, o.round_type AS _round_type,"
        " o.total_wrapping_tax_excl AS _wrap_excl, o.total_wrapping_tax_incl AS _wrap_incl FROM {p}orders o"
        " LEFT JOIN {p}customer c ON c.id_customer = o.id_customer"
        f" LEFT JOIN {{p}}carrier ca ON ca.id_carrier = o.id_carrier WHERE {where} ORDER BY o.id_order",
        args,
    )
    if not rows:
        return []
    states = shop.order_states()
    addresses = addresses_by_id(shop, [r["_inv"] for r in rows] + [r["_del"] for r in rows], maps)
    marks, oargs = in_marks(r["prestashop_id"] for r in rows)
    line_rows = shop.query(
        f"SELECT od.id_order AS _order, od.id_order_detail AS _id, {select_list(maps['order_line'])},"
        " (SELECT COALESCE(SUM(t.rate), 0) FROM {p}order_detail_tax odt JOIN {p}tax t ON t.id_tax = odt.id_tax"
        "  WHERE odt.id_order_detail = od.id_order_detail) AS _rate"
        f" FROM {{p}}order_detail od WHERE od.id_order IN ({marks}) ORDER BY od.id_order, od.id_order_detail",
        oargs,
    )
    names = attribute_names(shop, {r["prestashop_attribute_id"] for r in line_rows if r["prestashop_attribute_id"]})
    lines: dict[int, list[OrderLine]] = {}
    for r in line_rows:
        size, color = names.get(r["prestashop_attribute_id"] or 0, ("", ""))
        excl, incl = as_decimal(r["unit_price_tax_excl"]), as_decimal(r["unit_price_tax_incl"])
        rate = as_decimal(r["_rate"])
        if not rate and excl:  # legacy orders without order_detail_tax rows
            rate = ((incl / excl - 1) * 100).quantize(Decimal("0.01"))
        bucket = lines.setdefault(r["_order"], [])
        bucket.append(
            OrderLine(
                position=len(bucket) + 1,
                reference=as_text(r["reference"]),
                size=size,
                color=color,
                name=as_text(r["name"]),
                quantity=as_decimal(r["quantity"]),
                unit_price_tax_excl=excl,
                unit_price_tax_incl=incl,
                discount_percent=as_decimal(r["discount_percent"]),
                total_tax_excl=as_decimal(r["total_tax_excl"]),
                total_tax_incl=as_decimal(r["total_tax_incl"]),
                vat_rate=rate,
                prestashop_product_id=r["prestashop_product_id"],
                prestashop_attribute_id=r["prestashop_attribute_id"] or None,
            )
        )
    discounts: dict[int, list[OrderDiscount]] = {}
    for r in shop.query(
        "SELECT id_order, name, value, value_tax_excl, free_shipping FROM {p}order_cart_rule"
        f" WHERE id_order IN ({marks}) AND deleted = 0 ORDER BY id_order, id_order_cart_rule",
        oargs,
    ):
        discounts.setdefault(r["id_order"], []).append(
            OrderDiscount(
                name=as_text(r["name"]),
                value_tax_incl=as_decimal(r["value"]),
                value_tax_excl=as_decimal(r["value_tax_excl"]),
                free_shipping=bool(r["free_shipping"]),
            )
        )
    orders = []
    for r in rows:
        state = states.get(r["state_id"])
        orders.append(
            Order(
                prestashop_id=r["prestashop_id"],
                reference=as_text(r["reference"]),
                customer_prestashop_id=r["customer_prestashop_id"],
                is_guest=bool(r["_guest"]),
                placed_at=r["placed_at"],
                state=state.canonical if state else f"ps_state_{r['state_id']}",
                state_id=r["state_id"],
                payment_method=as_text(r["payment_method"]),
                carrier=as_text(r["_carrier"]),
                carrier_id=r["carrier_id"],
                shipping_tax_excl=as_decimal(r["shipping_tax_excl"]),
                shipping_tax_incl=as_decimal(r["shipping_tax_incl"]),
                total_products_tax_excl=as_decimal(r["total_products_tax_excl"]),
                total_tax_incl=as_decimal(r["total_tax_incl"]),
                billing=addresses.get(r["_inv"]),
                delivery=addresses.get(r["_del"]),
                customer_email=as_text(r["_email"]),
                lines=lines.get(r["prestashop_id"], []),
                discounts=discounts.get(r["prestashop_id"], []),
                updated_at=r["updated_at"],
                round_type=int(r["_round_type"] or 0),
                wrapping_tax_excl=as_decimal(r["_wrap_excl"]),
                wrapping_tax_incl=as_decimal(r["_wrap_incl"]),
            )
        )
    return orders


def read_shipments(shop: ShopConnection, order_ids: Iterable[int]) -> dict[int, Shipment]:
    """id_order -> Shipment: tracking from the first order_carrier row (orders.shipping_number on 1.7.8 when
    order_carrier has none); shipped/delivered from the current state's flags and PS_OS_DELIVERED."""
    ids = list(order_ids)
    if not ids:
        return {}
    marks, args = in_marks(ids)
    legacy = ", o.shipping_number AS legacy" if shop.detect_version().has_shipping_number else ", NULL AS legacy"
    rows = shop.query(
        f"SELECT o.id_order, o.reference, o.current_state, o.id_carrier{legacy}, oc.id_carrier AS oc_carrier,"
        " oc.tracking_number, oc.shipping_cost_tax_incl, o.total_shipping_tax_incl, ca.name AS carrier"
        " FROM {p}orders o LEFT JOIN {p}order_carrier oc ON oc.id_order_carrier ="
        "  (SELECT MIN(x.id_order_carrier) FROM {p}order_carrier x WHERE x.id_order = o.id_order)"
        " LEFT JOIN {p}carrier ca ON ca.id_carrier = COALESCE(oc.id_carrier, o.id_carrier)"
        f" WHERE o.id_order IN ({marks})",
        args,
    )
    states = shop.order_states()
    delivered = shop.state_id("PS_OS_DELIVERED")
    out = {}
    for r in rows:
        state = states.get(r["current_state"])
        out[r["id_order"]] = Shipment(
            order_reference=as_text(r["reference"]),
            carrier=as_text(r["carrier"]),
            carrier_id=r["oc_carrier"] or r["id_carrier"],
            tracking_number=as_text(r["tracking_number"]) or as_text(r["legacy"]),
            shipped=bool(state and state.shipped),
            delivered=r["current_state"] == delivered,
            shipping_cost=as_decimal(
                r["shipping_cost_tax_incl"] if r["shipping_cost_tax_incl"] is not None else r["total_shipping_tax_incl"]
            ),
        )
    return out


def read_invoices(shop: ShopConnection, order_ids: Iterable[int]) -> dict[int, list[Invoice]]:
    """id_order -> invoices (order_invoice rows with number > 0; number-0 rows are delivery slips only)."""
    ids = list(order_ids)
    if not ids:
        return {}
    marks, args = in_marks(ids)
    rows = shop.query(
        "SELECT oi.id_order_invoice, oi.id_order, oi.number, oi.date_add, oi.total_paid_tax_incl,"
        " oi.total_paid_tax_excl, o.reference, o.current_state,"
        " (SELECT COALESCE(SUM(op.amount), 0) FROM {p}order_invoice_payment oip JOIN {p}order_payment op"
        "  ON op.id_order_payment = oip.id_order_payment WHERE oip.id_order_invoice = oi.id_order_invoice) AS paid"
        " FROM {p}order_invoice oi JOIN {p}orders o ON o.id_order = oi.id_order"
        f" WHERE oi.number > 0 AND oi.id_order IN ({marks}) ORDER BY oi.id_order, oi.id_order_invoice",
        args,
    )
    series = shop.config_value("PS_INVOICE_PREFIX", id_lang=shop.id_lang) or ""
    out: dict[int, list[Invoice]] = {}
    for r in rows:
        total = as_decimal(r["total_paid_tax_incl"])
        out.setdefault(r["id_order"], []).append(
            Invoice(
                order_reference=as_text(r["reference"]),
                series=series,
                number=r["number"],
                issued_at=r["date_add"],
                total_tax_incl=total,
                total_tax_excl=as_decimal(r["total_paid_tax_excl"]),
                paid=as_decimal(r["paid"]).quantize(Decimal("0.01")) >= total.quantize(Decimal("0.01")),
            )
        )
    return out


def unsynced_order_units(
    shop: ShopConnection,
    product_ids: Iterable[int],
    synced_order_ids: set[int] | Callable[[list[int]], set[int]],
    since_order_id: int = 0,
) -> dict[tuple[int, int], int]:
    """Units of open shop orders that FactuSOL does not know yet, per (id_product, id_product_attribute).

    "Open" = not in PS_OS_CANCELED / PS_OS_ERROR and not shipped; orders already written to FactuSOL
    (``synced_order_ids``: a set, or a function answering which of the given order ids are synced) or older
    than ``since_order_id`` are excluded.
    """
    ids = list(product_ids)
    if not ids:
        return {}
    marks, args = in_marks(ids)
    closed = [s for s in (shop.state_id("PS_OS_CANCELED"), shop.state_id("PS_OS_ERROR")) if s]
    closed_sql = f" AND o.current_state NOT IN ({', '.join(['%s'] * len(closed))})" if closed else ""
    rows = shop.query(
        "SELECT o.id_order, od.product_id, od.product_attribute_id,"
        " od.product_quantity - od.product_quantity_refunded AS units"
        " FROM {p}orders o JOIN {p}order_detail od ON od.id_order = o.id_order"
        " LEFT JOIN {p}order_state os ON os.id_order_state = o.current_state"
        f" WHERE o.id_shop = %s AND o.id_order > %s AND od.product_id IN ({marks}){closed_sql}"
        " AND COALESCE(os.shipped, 0) = 0",
        (shop.id_shop, since_order_id, *args, *closed),
    )
    if callable(synced_order_ids):
        synced_order_ids = synced_order_ids(sorted({r["id_order"] for r in rows}))
    out: dict[tuple[int, int], int] = {}
    for r in rows:
        if r["id_order"] in synced_order_ids:
            continue
        key = (r["product_id"], r["product_attribute_id"] or 0)
        out[key] = out.get(key, 0) + int(r["units"])
    return out


def order_ids(shop: ShopConnection, since=None) -> list[int]:
    """Every order id of the shop (optionally only those updated since a shop-time datetime), ascending."""
    where, args = "id_shop = %s", [shop.id_shop]
    if since is not None:
        where += " AND date_upd >= %s"
        args.append(since)
    return [
        r["id_order"] for r in shop.query(f"SELECT id_order FROM {{p}}orders WHERE {where} ORDER BY id_order", args)
    ]


def current_state(shop: ShopConnection, order_id: int) -> int | None:
    row = shop.query_one("SELECT current_state FROM {p}orders WHERE id_order = %s", (order_id,))
    return None if row is None else int(row["current_state"])


def first_order_carrier(shop: ShopConnection, order_id: int) -> int | None:
    """The order's first order_carrier row (the one PrestaShop's getIdOrderCarrier gives), or None."""
    row = shop.query_one("SELECT MIN(id_order_carrier) AS id FROM {p}order_carrier WHERE id_order = %s", (order_id,))
    return int(row["id"]) if row and row["id"] else None


def carrier_reference(shop: ShopConnection, id_carrier: int) -> int | None:
    """carrier.id_reference (stable across carrier edits) of a carrier id."""
    row = shop.query_one("SELECT id_reference FROM {p}carrier WHERE id_carrier = %s", (id_carrier,))
    return None if row is None else int(row["id_reference"])


def carrier_for_reference(shop: ShopConnection, id_reference: int) -> int | None:
    """The current (not deleted) carrier id of a carrier id_reference."""
    row = shop.query_one(
        "SELECT id_carrier FROM {p}carrier WHERE id_reference = %s AND deleted = 0 ORDER BY id_carrier DESC LIMIT 1",
        (id_reference,),
    )
    return None if row is None else int(row["id_carrier"])


def order_payments(shop: ShopConnection, order_id: int) -> list[dict]:
    """The payments PrestaShop recorded for an order (order_payment, linked by the order's reference): amount,
    payment_method, transaction_id, date_add; oldest first."""
    return shop.query(
        "SELECT op.amount, op.payment_method, op.transaction_id, op.date_add FROM {p}order_payment op"
        " JOIN {p}orders o ON o.reference = op.order_reference WHERE o.id_order = %s"
        " ORDER BY op.date_add, op.id_order_payment",
        (order_id,),
    )
