"""Canonical entities: the side-neutral shape every change passes through.

Readers on each side turn rows into these dataclasses, the rules engine merges them field by field, and
writers turn them back into rows.  Field names here are the *canonical field names* that rule files use.

Money is ``Decimal``; quantities are ``Decimal`` too (FactuSOL stores them as Moneda).  ``None`` means
"unknown / not provided by this side", which the merge treats as "no opinion", never as "erase".
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar


@dataclass
class Entity:
    """Base class: every canonical entity has a name and a stable key per side."""

    ENTITY: ClassVar[str] = ""

    def fields(self) -> dict[str, Any]:
        """The entity as a plain dict of canonical fields (nested entities as lists of dicts)."""
        return dataclasses.asdict(self)


@dataclass
class Address(Entity):
    ENTITY: ClassVar[str] = "address"
    alias: str = ""
    name: str = ""
    company: str = ""
    street: str = ""
    city: str = ""
    postcode: str = ""
    province: str = ""
    country_iso: str = "ES"
    phone: str = ""
    mobile: str = ""
    email: str = ""
    nif: str = ""


@dataclass
class Customer(Entity):
    ENTITY: ClassVar[str] = "customer"
    factusol_code: int | None = None  # F_CLI.CODCLI
    prestashop_id: int | None = None  # customer.id_customer
    is_guest: bool = False
    firstname: str = ""
    lastname: str = ""
    fiscal_name: str = ""  # NOFCLI
    commercial_name: str = ""  # NOCCLI
    company: str = ""
    nif: str = ""
    email: str = ""
    phone: str = ""
    mobile: str = ""
    street: str = ""
    city: str = ""
    postcode: str = ""
    province: str = ""
    country_iso: str = "ES"
    country_name: str = ""
    payment_method: str = ""
    tariff: int | None = None
    surcharge: bool = False  # recargo de equivalencia
    active: bool = True
    deleted: bool = False
    updated_at: datetime | None = None
    addresses: list[Address] = field(default_factory=list)


@dataclass
class Combination(Entity):
    ENTITY: ClassVar[str] = "combination"
    size: str = ""  # FactuSOL CE1 (talla)
    color: str = ""  # FactuSOL CE2 (color)
    reference: str = ""
    ean13: str = ""
    price_impact: Decimal | None = None
    prestashop_id: int | None = None  # product_attribute.id_product_attribute
    size_attribute: int | None = None  # shop attribute value (id_attribute) of the talla, when already resolved
    color_attribute: int | None = None  # ... of the colour


@dataclass
class Product(Entity):
    ENTITY: ClassVar[str] = "product"
    reference: str = ""  # F_ART.CODART == product.reference
    prestashop_id: int | None = None
    name: str = ""
    description: str = ""
    description_short: str = ""
    ean13: str = ""
    weight: Decimal = Decimal("0")
    active: bool = True
    publish: bool = True  # F_ART.SUWART "subir a internet"
    vat_selector: int = 0  # 0 IVA1, 1 IVA2, 2 IVA3, 3 exento
    vat_rate: Decimal | None = None
    family: str = ""
    section: str = ""
    price_tax_excl: Decimal | None = None
    cost_price: Decimal | None = None
    updated_at: datetime | None = None
    combinations: list[Combination] = field(default_factory=list)


@dataclass
class Stock(Entity):
    """Stock of one product or one combination, already reduced to one number by the stock formula."""

    ENTITY: ClassVar[str] = "stock"
    reference: str = ""
    size: str = ""
    color: str = ""
    quantity: Decimal = Decimal("0")
    physical: Decimal = Decimal("0")  # ACTSTO summed over chosen warehouses
    available: Decimal = Decimal("0")  # DISSTO summed over chosen warehouses

    @property
    def key(self) -> str:
        return (
            "/".join(p for p in (self.reference, self.size, self.color) if p)
            if (self.size or self.color)
            else self.reference
        )


@dataclass
class OrderLine(Entity):
    ENTITY: ClassVar[str] = "order_line"
    position: int = 0
    reference: str = ""
    size: str = ""
    color: str = ""
    name: str = ""
    quantity: Decimal = Decimal("0")
    unit_price_tax_excl: Decimal = Decimal("0")
    unit_price_tax_incl: Decimal = Decimal("0")
    discount_percent: Decimal = Decimal("0")
    total_tax_excl: Decimal = Decimal("0")
    total_tax_incl: Decimal = Decimal("0")
    vat_rate: Decimal = Decimal("0")
    prestashop_product_id: int | None = None
    prestashop_attribute_id: int | None = None


@dataclass
class OrderDiscount:
    """A cart rule applied to a shop order (`order_cart_rule`): a voucher, a promotion, free shipping."""

    name: str = ""
    value_tax_incl: Decimal = Decimal("0")
    value_tax_excl: Decimal = Decimal("0")
    free_shipping: bool = False


@dataclass
class Order(Entity):
    ENTITY: ClassVar[str] = "order"
    prestashop_id: int | None = None
    reference: str = ""  # orders.reference (9 letters, not unique) -> REFPCL with the id
    factusol_series: str = ""
    factusol_number: int | None = None
    customer_prestashop_id: int | None = None
    customer_factusol_code: int | None = None
    is_guest: bool = False
    placed_at: datetime | None = None
    state: str = ""  # canonical state name, e.g. "payment_accepted", "shipped"
    state_id: int | None = None  # side-specific id/code of the state
    payment_method: str = ""
    carrier: str = ""
    carrier_id: int | None = None
    shipping_tax_excl: Decimal = Decimal("0")
    shipping_tax_incl: Decimal = Decimal("0")
    total_products_tax_excl: Decimal = Decimal("0")
    total_tax_incl: Decimal = Decimal("0")
    billing: Address | None = None
    delivery: Address | None = None
    customer_email: str = ""
    lines: list[OrderLine] = field(default_factory=list)
    discounts: list[OrderDiscount] = field(default_factory=list)
    updated_at: datetime | None = None
    round_type: int = 0  # orders.round_type: PS_ROUND_TYPE at order time (1 per item, 2 per line, 3 total; 0 unknown)
    wrapping_tax_excl: Decimal = Decimal("0")  # gift wrapping (orders.total_wrapping_tax_*)
    wrapping_tax_incl: Decimal = Decimal("0")


@dataclass
class Shipment(Entity):
    ENTITY: ClassVar[str] = "shipment"
    order_reference: str = ""
    carrier: str = ""
    carrier_id: int | None = None
    tracking_number: str = ""
    shipped: bool = False
    delivered: bool = False
    shipping_cost: Decimal = Decimal("0")


@dataclass
class Invoice(Entity):
    ENTITY: ClassVar[str] = "invoice"
    order_reference: str = ""
    series: str = ""
    number: int | None = None
    issued_at: datetime | None = None
    due_at: datetime | None = None
    total_tax_incl: Decimal = Decimal("0")
    total_tax_excl: Decimal = Decimal("0")
    paid: bool = False


ENTITIES: dict[str, type[Entity]] = {
    cls.ENTITY: cls for cls in (Customer, Address, Product, Combination, Stock, Order, OrderLine, Shipment, Invoice)
}


def canonical_fields(entity: str) -> set[str]:
    """Names of the canonical fields of an entity (used by the rules validator)."""
    return {f.name for f in dataclasses.fields(ENTITIES[entity])}
