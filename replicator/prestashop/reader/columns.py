"""What the shop readers select: the field mappings rule files may override (canonical field -> SQL over the
queries' aliases) and the small helpers every reader shares."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Iterable


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


def select_list(mapping: dict[str, str]) -> str:
    return ", ".join(f"{expr} AS `{name}`" for name, expr in mapping.items())


def in_marks(ids: Iterable[int]) -> tuple[str, tuple]:
    ids = tuple(ids)
    return ", ".join(["%s"] * len(ids)), ids


def as_text(value) -> str:
    return "" if value is None else str(value).strip()


def as_decimal(value) -> Decimal:
    return Decimal("0") if value is None else Decimal(value)
