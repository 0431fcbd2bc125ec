"""Read PrestaShop rows into canonical entities (Customer, Product, Stock, Order, Shipment, Invoice).

Simple field mappings live in ``COLUMN_MAPS`` (canonical field -> SQL expression over the aliases used in the
queries) so rule files can override them; derived values (names, NIF, state, sizes/colours) are computed here.
Combination attributes: values of colour groups (``attribute_group.is_color_group``) become ``color``, all other
groups (Size, Dimension, Paper Type, ...) become ``size``, joined with " " in group position order.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Callable, Iterable

from ..model import Address, Combination, Customer, Invoice, Order, OrderDiscount, OrderLine, Product, Shipment, Stock
from .connection import ShopConnection

COLUMN_MAPS: dict[str, dict[str, str]] = {
    "customer": {  # alias c = customer
        "prestashop_id": "c.id_customer",
        "firstname": "c.firstname",
        "lastname": "c.lastname",
        "email": "c.email",
        "company": "c.company",
        "is_guest": "c.is_guest",
        "active": "c.active",
        "deleted": "c.deleted",
        "updated_at": "c.date_upd",
    },
    "address": {  # a = address, co = country, st = state
        "alias": "a.alias",
        "company": "a.company",
        "street": "a.address1",
        "street2": "a.address2",
        "city": "a.city",
        "postcode": "a.postcode",
        "phone": "a.phone",
        "mobile": "a.phone_mobile",
        "province": "st.name",
        "country_iso": "co.iso_code",
        "firstname": "a.firstname",
        "lastname": "a.lastname",
        "dni": "a.dni",
        "vat_number": "a.vat_number",
    },
    "product": {  # p = product, ps = product_shop, pl = product_lang, cl = category_lang (default category)
        "prestashop_id": "p.id_product",
        "reference": "p.reference",
        "name": "pl.name",
        "description": "pl.description",
        "description_short": "pl.description_short",
        "ean13": "p.ean13",
        "weight": "p.weight",
        "active": "ps.active",
        "price_tax_excl": "ps.price",
        "cost_price": "ps.wholesale_price",
        "family": "cl.name",
        "updated_at": "ps.date_upd",
        "id_tax_rules_group": "ps.id_tax_rules_group",
    },
    "combination": {  # pa = product_attribute, pas = product_attribute_shop
        "prestashop_id": "pa.id_product_attribute",
        "reference": "pa.reference",
        "ean13": "pa.ean13",
        "price_impact": "pas.price",
    },
    "order": {  # o = orders
        "prestashop_id": "o.id_order",
        "reference": "o.reference",
        "customer_prestashop_id": "o.id_customer",
        "placed_at": "o.date_add",
        "state_id": "o.current_state",
        "payment_method": "o.payment",
        "carrier_id": "o.id_carrier",
        "shipping_tax_excl": "o.total_shipping_tax_excl",
        "shipping_tax_incl": "o.total_shipping_tax_incl",
        "total_products_tax_excl": "o.total_products",
        "total_tax_incl": "o.total_paid_tax_incl",
        "updated_at": "o.date_upd",
    },
    "order_line": {  # od = order_detail
        "reference": "od.product_reference",
        "name": "od.product_name",
        "quantity": "od.product_quantity",
        "unit_price_tax_excl": "od.unit_price_tax_excl",
        "unit_price_tax_incl": "od.unit_price_tax_incl",
        "discount_percent": "od.reduction_percent",
        "total_tax_excl": "od.total_price_tax_excl",
        "total_tax_incl": "od.total_price_tax_incl",
        "prestashop_product_id": "od.product_id",
        "prestashop_attribute_id": "od.product_attribute_id",
    },
}


# What the order sync maps: the payment MODULE (what payment_methods maps, not the display name) and the carrier's
# id_reference (stable across carrier edits, what shipment.carriers maps).
SYNC_ORDER_MAPS = {"order": {"payment_method": "o.module", "carrier_id": "ca.id_reference"}}


def column_maps(overrides: dict[str, dict[str, str]] | None = None) -> dict[str, dict[str, str]]:
    maps = copy.deepcopy(COLUMN_MAPS)
    for entity, fields in (overrides or {}).items():
        maps.setdefault(entity, {}).update(fields)
    return maps


def _select(mapping: dict[str, str]) -> str:
    return ", ".join(f"{expr} AS `{name}`" for name, expr in mapping.items())


def _in(ids: Iterable[int]) -> tuple[str, tuple]:
    ids = tuple(ids)
    return ", ".join(["%s"] * len(ids)), ids


def _s(value) -> str:
    return "" if value is None else str(value).strip()


def _dec(value) -> Decimal:
    return Decimal("0") if value is None else Decimal(value)


def _address(row: dict) -> Address:
    name = " ".join(p for p in (_s(row.get("firstname")), _s(row.get("lastname"))) if p)
    street = " ".join(p for p in (_s(row.get("street")), _s(row.get("street2"))) if p)
    return Address(
        alias=_s(row.get("alias")),
        name=name,
        company=_s(row.get("company")),
        street=street,
        city=_s(row.get("city")),
        postcode=_s(row.get("postcode")),
        province=_s(row.get("province")),
        country_iso=_s(row.get("country_iso")) or "ES",
        phone=_s(row.get("phone")),
        mobile=_s(row.get("mobile")),
        email=_s(row.get("email")),
        nif=_s(row.get("dni")) or _s(row.get("vat_number")),
    )  # dni is the Spanish NIF field


def _addresses_by_id(shop: ShopConnection, ids: Iterable[int], maps) -> dict[int, Address]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    marks, args = _in(ids)
    rows = shop.query(
        f"SELECT a.id_address AS _id, {_select(maps['address'])} FROM {{p}}address a"
        " LEFT JOIN {p}country co ON co.id_country = a.id_country"
        f" LEFT JOIN {{p}}state st ON st.id_state = a.id_state WHERE a.id_address IN ({marks})",
        args,
    )
    return {r["_id"]: _address(r) for r in rows}


# ---------------------------------------------------------------------------------------------------------------
def read_customers(
    shop: ShopConnection,
    ids: Iterable[int] | None = None,
    *,
    include_deleted_addresses: bool = False,
    maps: dict | None = None,
) -> list[Customer]:
    """Customers (registered and guests) of the shop, with their addresses; the first address fills the
    customer-level contact fields and the NIF (dni, else vat_number)."""
    maps = column_maps(maps)
    where, args = "1 = 1", ()
    if ids is not None:
        ids = list(ids)
        if not ids:
            return []
        marks, args = _in(ids)
        where = f"c.id_customer IN ({marks})"
    rows = shop.query(
        f"SELECT {_select(maps['customer'])} FROM {{p}}customer c WHERE {where} ORDER BY c.id_customer", args
    )
    if not rows:
        return []
    marks, cargs = _in(r["prestashop_id"] for r in rows)
    deleted = "" if include_deleted_addresses else " AND a.deleted = 0"
    addr_rows = shop.query(
        f"SELECT a.id_customer AS _customer, {_select(maps['address'])} FROM {{p}}address a"
        " LEFT JOIN {p}country co ON co.id_country = a.id_country"
        " LEFT JOIN {p}state st ON st.id_state = a.id_state"
        f" WHERE a.id_customer IN ({marks}){deleted} ORDER BY a.id_address",
        cargs,
    )
    by_customer: dict[int, list[Address]] = {}
    for r in addr_rows:
        by_customer.setdefault(r["_customer"], []).append(_address(r))
    customers = []
    for r in rows:
        addresses = by_customer.get(r["prestashop_id"], [])
        first = addresses[0] if addresses else Address()
        for a in addresses:
            a.email = _s(r["email"])
        full = " ".join(p for p in (_s(r["firstname"]), _s(r["lastname"])) if p)
        company = _s(r["company"]) or first.company
        customers.append(
            Customer(
                prestashop_id=r["prestashop_id"],
                is_guest=bool(r["is_guest"]),
                firstname=_s(r["firstname"]),
                lastname=_s(r["lastname"]),
                fiscal_name=company or full,
                commercial_name=full,
                company=company,
                nif=next((a.nif for a in addresses if a.nif), ""),
                email=_s(r["email"]),
                phone=first.phone,
                mobile=first.mobile,
                street=first.street,
                city=first.city,
                postcode=first.postcode,
                province=first.province,
                country_iso=first.country_iso if addresses else "ES",
                active=bool(r["active"]),
                deleted=bool(r["deleted"]),
                updated_at=r["updated_at"],
                addresses=addresses,
            )
        )
    return customers


# ---------------------------------------------------------------------------------------------------------------
def _attribute_names(shop: ShopConnection, pa_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """id_product_attribute -> (size, color) from its attribute values in the connection language."""
    pa_ids = list(pa_ids)
    if not pa_ids:
        return {}
    marks, args = _in(pa_ids)
    rows = shop.query(
        "SELECT pac.id_product_attribute AS pa, ag.is_color_group AS is_color, ag.position AS gpos,"
        " ag.id_attribute_group AS gid, COALESCE(al.name, '') AS name FROM {p}product_attribute_combination pac"
        " JOIN {p}attribute a ON a.id_attribute = pac.id_attribute"
        " JOIN {p}attribute_group ag ON ag.id_attribute_group = a.id_attribute_group"
        " LEFT JOIN {p}attribute_lang al ON al.id_attribute = a.id_attribute AND al.id_lang = %s"
        f" WHERE pac.id_product_attribute IN ({marks}) ORDER BY pac.id_product_attribute, ag.position, ag.id_attribute_group",
        (shop.id_lang, *args),
    )
    out: dict[int, tuple[list, list]] = {}
    for r in rows:
        size, color = out.setdefault(r["pa"], ([], []))
        (color if r["is_color"] else size).append(r["name"])
    return {pa: (" ".join(s), " ".join(c)) for pa, (s, c) in out.items()}


def tax_rates(shop: ShopConnection) -> dict[int, Decimal]:
    """id_tax_rules_group -> rate for the default country, state 0 (what the BO shows for prices)."""
    country = shop.config_int("PS_COUNTRY_DEFAULT", 0)
    rows = shop.query(
        "SELECT r.id_tax_rules_group AS g, t.rate FROM {p}tax_rule r JOIN {p}tax t ON t.id_tax = r.id_tax"
        " WHERE r.id_country = %s AND r.id_state = 0 ORDER BY r.zipcode_from DESC, r.id_tax_rule",
        (country,),
    )
    rates: dict[int, Decimal] = {}
    for r in rows:
        rates.setdefault(r["g"], Decimal(r["rate"]))
    return rates


def read_products(
    shop: ShopConnection,
    ids: Iterable[int] | None = None,
    references: Iterable[str] | None = None,
    *,
    maps: dict | None = None,
) -> list[Product]:
    """Products of the shop (product_shop row present, not temporary drafts) with combinations."""
    maps = column_maps(maps)
    where, args = "p.state = 1", []
    if ids is not None:
        ids = list(ids)
        if not ids:
            return []
        marks, a = _in(ids)
        where += f" AND p.id_product IN ({marks})"
        args += a
    if references is not None:
        refs = list(references)
        if not refs:
            return []
        marks, a = _in(refs)
        where += f" AND p.reference IN ({marks})"
        args += a
    rows = shop.query(
        f"SELECT {_select(maps['product'])} FROM {{p}}product p"
        " JOIN {p}product_shop ps ON ps.id_product = p.id_product AND ps.id_shop = %s"
        " LEFT JOIN {p}product_lang pl ON pl.id_product = p.id_product AND pl.id_shop = %s AND pl.id_lang = %s"
        " LEFT JOIN {p}category_lang cl ON cl.id_category = ps.id_category_default AND cl.id_shop = %s"
        f" AND cl.id_lang = %s WHERE {where} ORDER BY p.id_product",
        (shop.id_shop, shop.id_shop, shop.id_lang, shop.id_shop, shop.id_lang, *args),
    )
    if not rows:
        return []
    rates = tax_rates(shop)
    marks, pargs = _in(r["prestashop_id"] for r in rows)
    combo_rows = shop.query(
        f"SELECT pa.id_product AS _product, {_select(maps['combination'])} FROM {{p}}product_attribute pa"
        " LEFT JOIN {p}product_attribute_shop pas ON pas.id_product_attribute = pa.id_product_attribute"
        f" AND pas.id_shop = %s WHERE pa.id_product IN ({marks}) ORDER BY pa.id_product_attribute",
        (shop.id_shop, *pargs),
    )
    names = _attribute_names(shop, [r["prestashop_id"] for r in combo_rows])
    combos: dict[int, list[Combination]] = {}
    for r in combo_rows:
        size, color = names.get(r["prestashop_id"], ("", ""))
        combos.setdefault(r["_product"], []).append(
            Combination(
                size=size,
                color=color,
                reference=_s(r["reference"]),
                ean13=_s(r["ean13"]),
                price_impact=None if r["price_impact"] is None else Decimal(r["price_impact"]),
                prestashop_id=r["prestashop_id"],
            )
        )
    products = []
    for r in rows:
        rate = rates.get(r["id_tax_rules_group"])
        products.append(
            Product(
                reference=_s(r["reference"]),
                prestashop_id=r["prestashop_id"],
                name=_s(r["name"]),
                description=_s(r["description"]),
                description_short=_s(r["description_short"]),
                ean13=_s(r["ean13"]),
                weight=_dec(r["weight"]),
                active=bool(r["active"]),
                vat_rate=rate,
                family=_s(r["family"]),
                price_tax_excl=None if r["price_tax_excl"] is None else Decimal(r["price_tax_excl"]),
                cost_price=None if r["cost_price"] is None else Decimal(r["cost_price"]),
                updated_at=r["updated_at"],
                combinations=combos.get(r["prestashop_id"], []),
            )
        )
    return products


def read_stock(shop: ShopConnection, product_ids: Iterable[int] | None = None) -> list[Stock]:
    """One Stock per simple product (pa=0 row) and per combination (the pa=0 row of a product with combinations
    is PrestaShop's derived sum and is skipped), in the shop's stock scope."""
    id_shop, id_group = shop.stock_scope()
    where, args = "", ()
    if product_ids is not None:
        ids = list(product_ids)
        if not ids:
            return []
        marks, args = _in(ids)
        where = f" AND sa.id_product IN ({marks})"
    physical = "sa.physical_quantity" if shop.detect_version().has_physical_quantity else "sa.quantity"
    rows = shop.query(
        f"SELECT sa.id_product, sa.id_product_attribute, sa.quantity, {physical} AS physical, p.reference,"
        " (SELECT COUNT(*) FROM {p}product_attribute x WHERE x.id_product = sa.id_product) AS n_combos"
        " FROM {p}stock_available sa JOIN {p}product p ON p.id_product = sa.id_product"
        f" WHERE sa.id_shop = %s AND sa.id_shop_group = %s{where} ORDER BY sa.id_product, sa.id_product_attribute",
        (id_shop, id_group, *args),
    )
    names = _attribute_names(shop, [r["id_product_attribute"] for r in rows if r["id_product_attribute"]])
    out = []
    for r in rows:
        if r["id_product_attribute"] == 0 and r["n_combos"]:
            continue
        size, color = names.get(r["id_product_attribute"], ("", ""))
        q = Decimal(int(r["quantity"]))
        out.append(
            Stock(
                reference=_s(r["reference"]),
                size=size,
                color=color,
                quantity=q,
                physical=Decimal(int(r["physical"] or 0)),
                available=q,
            )
        )
    return out


# ---------------------------------------------------------------------------------------------------------------
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
        marks, a = _in(ids)
        where += f" AND o.id_order IN ({marks})"
        args += a
    if since is not None:
        where += " AND o.date_upd >= %s"
        args.append(since)
    rows = shop.query(
        f"SELECT {_select(maps['order'])}, o.id_address_invoice AS _inv, o.id_address_delivery AS _del,"
        " c.email AS _email, c.is_guest AS _guest, ca.name AS _carrier, o.round_type AS _round_type,"
        " o.total_wrapping_tax_excl AS _wrap_excl, o.total_wrapping_tax_incl AS _wrap_incl FROM {p}orders o"
        " LEFT JOIN {p}customer c ON c.id_customer = o.id_customer"
        f" LEFT JOIN {{p}}carrier ca ON ca.id_carrier = o.id_carrier WHERE {where} ORDER BY o.id_order",
        args,
    )
    if not rows:
        return []
    states = shop.order_states()
    addresses = _addresses_by_id(shop, [r["_inv"] for r in rows] + [r["_del"] for r in rows], maps)
    marks, oargs = _in(r["prestashop_id"] for r in rows)
    line_rows = shop.query(
        f"SELECT od.id_order AS _order, od.id_order_detail AS _id, {_select(maps['order_line'])},"
        " (SELECT COALESCE(SUM(t.rate), 0) FROM {p}order_detail_tax odt JOIN {p}tax t ON t.id_tax = odt.id_tax"
        "  WHERE odt.id_order_detail = od.id_order_detail) AS _rate"
        f" FROM {{p}}order_detail od WHERE od.id_order IN ({marks}) ORDER BY od.id_order, od.id_order_detail",
        oargs,
    )
    names = _attribute_names(shop, {r["prestashop_attribute_id"] for r in line_rows if r["prestashop_attribute_id"]})
    lines: dict[int, list[OrderLine]] = {}
    for r in line_rows:
        size, color = names.get(r["prestashop_attribute_id"] or 0, ("", ""))
        excl, incl = _dec(r["unit_price_tax_excl"]), _dec(r["unit_price_tax_incl"])
        rate = _dec(r["_rate"])
        if not rate and excl:  # legacy orders without order_detail_tax rows
            rate = ((incl / excl - 1) * 100).quantize(Decimal("0.01"))
        bucket = lines.setdefault(r["_order"], [])
        bucket.append(
            OrderLine(
                position=len(bucket) + 1,
                reference=_s(r["reference"]),
                size=size,
                color=color,
                name=_s(r["name"]),
                quantity=_dec(r["quantity"]),
                unit_price_tax_excl=excl,
                unit_price_tax_incl=incl,
                discount_percent=_dec(r["discount_percent"]),
                total_tax_excl=_dec(r["total_tax_excl"]),
                total_tax_incl=_dec(r["total_tax_incl"]),
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
                name=_s(r["name"]),
                value_tax_incl=_dec(r["value"]),
                value_tax_excl=_dec(r["value_tax_excl"]),
                free_shipping=bool(r["free_shipping"]),
            )
        )
    orders = []
    for r in rows:
        state = states.get(r["state_id"])
        orders.append(
            Order(
                prestashop_id=r["prestashop_id"],
                reference=_s(r["reference"]),
                customer_prestashop_id=r["customer_prestashop_id"],
                is_guest=bool(r["_guest"]),
                placed_at=r["placed_at"],
                state=state.canonical if state else f"ps_state_{r['state_id']}",
                state_id=r["state_id"],
                payment_method=_s(r["payment_method"]),
                carrier=_s(r["_carrier"]),
                carrier_id=r["carrier_id"],
                shipping_tax_excl=_dec(r["shipping_tax_excl"]),
                shipping_tax_incl=_dec(r["shipping_tax_incl"]),
                total_products_tax_excl=_dec(r["total_products_tax_excl"]),
                total_tax_incl=_dec(r["total_tax_incl"]),
                billing=addresses.get(r["_inv"]),
                delivery=addresses.get(r["_del"]),
                customer_email=_s(r["_email"]),
                lines=lines.get(r["prestashop_id"], []),
                discounts=discounts.get(r["prestashop_id"], []),
                updated_at=r["updated_at"],
                round_type=int(r["_round_type"] or 0),
                wrapping_tax_excl=_dec(r["_wrap_excl"]),
                wrapping_tax_incl=_dec(r["_wrap_incl"]),
            )
        )
    return orders


def read_shipments(shop: ShopConnection, order_ids: Iterable[int]) -> dict[int, Shipment]:
    """id_order -> Shipment: tracking from the first order_carrier row (orders.shipping_number on 1.7.8 when
    order_carrier has none); shipped/delivered from the current state's flags and PS_OS_DELIVERED."""
    ids = list(order_ids)
    if not ids:
        return {}
    marks, args = _in(ids)
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
            order_reference=_s(r["reference"]),
            carrier=_s(r["carrier"]),
            carrier_id=r["oc_carrier"] or r["id_carrier"],
            tracking_number=_s(r["tracking_number"]) or _s(r["legacy"]),
            shipped=bool(state and state.shipped),
            delivered=r["current_state"] == delivered,
            shipping_cost=_dec(
                r["shipping_cost_tax_incl"] if r["shipping_cost_tax_incl"] is not None else r["total_shipping_tax_incl"]
            ),
        )
    return out


def read_invoices(shop: ShopConnection, order_ids: Iterable[int]) -> dict[int, list[Invoice]]:
    """id_order -> invoices (order_invoice rows with number > 0; number-0 rows are delivery slips only)."""
    ids = list(order_ids)
    if not ids:
        return {}
    marks, args = _in(ids)
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
        total = _dec(r["total_paid_tax_incl"])
        out.setdefault(r["id_order"], []).append(
            Invoice(
                order_reference=_s(r["reference"]),
                series=series,
                number=r["number"],
                issued_at=r["date_add"],
                total_tax_incl=total,
                total_tax_excl=_dec(r["total_paid_tax_excl"]),
                paid=_dec(r["paid"]).quantize(Decimal("0.01")) >= total.quantize(Decimal("0.01")),
            )
        )
    return out


# ---------------------------------------------------------------------------------------------------------------
# Stock lookups for the stock sync


def stock_targets(shop: ShopConnection, product_ids: Iterable[int]) -> list[dict]:
    """Stock rows the replicator may write for these products: one per simple product (pa=0) and one per
    combination, as ``{id_product, id_product_attribute, combination_reference}`` (products not in the shop give
    none).  The quantities are not read here: ``writer.set_stock_bulk`` reads them under its lock."""
    ids = list(product_ids)
    if not ids:
        return []
    marks, args = _in(ids)
    return shop.query(
        "SELECT p.id_product, COALESCE(pa.id_product_attribute, 0) AS id_product_attribute,"
        " COALESCE(pa.reference, '') AS combination_reference"
        " FROM {p}product p LEFT JOIN {p}product_attribute pa ON pa.id_product = p.id_product"
        f" WHERE p.id_product IN ({marks}) ORDER BY p.id_product, id_product_attribute",
        args,
    )


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
    marks, args = _in(ids)
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


def combination_references(shop: ShopConnection, attribute_ids: Iterable[int]) -> dict[int, str]:
    """id_product_attribute -> product_attribute.reference (the variant code, e.g. 'CAM001-S-BLA')."""
    ids = sorted({int(i) for i in attribute_ids if i})
    if not ids:
        return {}
    marks, args = _in(ids)
    rows = shop.query(
        f"SELECT id_product_attribute AS pa, reference FROM {{p}}product_attribute"
        f" WHERE id_product_attribute IN ({marks})",
        args,
    )
    return {r["pa"]: _s(r["reference"]) for r in rows}


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


def customer_ids(shop: ShopConnection) -> list[int]:
    """Ids of the shop's customers not deleted, in id order."""
    return [
        int(r["id_customer"])
        for r in shop.query("SELECT id_customer FROM {p}customer WHERE deleted = 0 ORDER BY id_customer")
    ]


def address_ids(shop: ShopConnection, customer_ids: Iterable[int]) -> dict[int, list[int]]:
    """id_customer -> the ids of its addresses not deleted, in id order (chunks of 500 customers per query)."""
    ids = list(customer_ids)
    out: dict[int, list[int]] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        for r in shop.query(
            "SELECT id_customer, id_address FROM {p}address WHERE id_customer IN "
            f"({', '.join(['%s'] * len(chunk))}) AND deleted = 0 "
            "ORDER BY id_customer, id_address",
            chunk,
        ):
            out.setdefault(int(r["id_customer"]), []).append(int(r["id_address"]))
    return out


def order_payments(shop: ShopConnection, order_id: int) -> list[dict]:
    """The payments PrestaShop recorded for an order (order_payment, linked by the order's reference): amount,
    payment_method, transaction_id, date_add; oldest first."""
    return shop.query(
        "SELECT op.amount, op.payment_method, op.transaction_id, op.date_add FROM {p}order_payment op"
        " JOIN {p}orders o ON o.reference = op.order_reference WHERE o.id_order = %s"
        " ORDER BY op.date_add, op.id_order_payment",
        (order_id,),
    )
