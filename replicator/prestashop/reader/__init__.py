"""Read PrestaShop rows into canonical entities (Customer, Product, Stock, Order, Shipment, Invoice), one module per
entity family.

Simple field mappings live in ``COLUMN_MAPS`` (canonical field -> SQL expression over the aliases used in the
queries) so rule files can override them; derived values (names, NIF, state, sizes/colours) are computed by the readers.
"""

from .columns import COLUMN_MAPS, SYNC_ORDER_MAPS, column_maps
from .customers import read_customers, customer_ids, address_ids
from .products import tax_rates, read_products, read_stock, stock_targets, combination_references
from .orders import (
    read_orders,
    read_shipments,
    read_invoices,
    unsynced_order_units,
    order_ids,
    current_state,
    first_order_carrier,
    carrier_reference,
    carrier_for_reference,
    order_payments,
)

__all__ = [
    "COLUMN_MAPS",
    "SYNC_ORDER_MAPS",
    "address_ids",
    "carrier_for_reference",
    "carrier_reference",
    "column_maps",
    "combination_references",
    "current_state",
    "customer_ids",
    "first_order_carrier",
    "order_ids",
    "order_payments",
    "read_customers",
    "read_invoices",
    "read_orders",
    "read_products",
    "read_shipments",
    "read_stock",
    "stock_targets",
    "tax_rates",
    "unsynced_order_units",
]
