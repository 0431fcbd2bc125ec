"""Read FactuSOL rows into the canonical entities of ``replicator.model`` (customers, products, stock, orders, VAT).

One import for the callers; the work is done per entity: `read_customers.py`, `read_articles.py` (products and
stock), `read_documents.py` (orders and the documents that follow them), on what `reading.py` shares.  Every column
a reader touches is named in a per-entity column map (``CUSTOMER_COLUMNS`` …) so rule files can override a mapping
without code changes: pass ``columns={"email": "EM1CLI"}`` to use another column.  SQL stays within what Access
accepts: brackets, ``?`` parameters, no JOIN chains (lookups are separate queries).
"""

from __future__ import annotations

from .reading import (
    CENT,
    COUNTRY_ISO,
    FileOrder,
    PRICE_PLACES,
    ZERO,
    article_codes,
    country_iso,
    empty_date,
    in_file_order,
    read_surcharge_rates,
    read_vat_rates,
)
from .read_customers import (
    ADDRESS_COLUMNS,
    CUSTOMER_COLUMNS,
    customer_tax,
    customers_from_rows,
    delivery_address_code,
    read_customers,
)
from .read_articles import (
    PRODUCT_COLUMNS,
    STOCK_FORMULAS,
    StockKey,
    article_variants,
    read_pending_order_units,
    read_products,
    read_stock,
    read_stock_detail,
    tariff_includes_vat,
)
from .read_documents import (
    ORDER_COLUMNS,
    ORDER_LINE_COLUMNS,
    ORDER_STATES,
    delivery_note_orders,
    document_article_lines,
    document_header,
    invoice_orders,
    order_delivery_notes,
    order_header,
    order_invoices,
    order_lines,
    read_orders,
)

__all__ = [
    "ADDRESS_COLUMNS",
    "CENT",
    "COUNTRY_ISO",
    "CUSTOMER_COLUMNS",
    "FileOrder",
    "ORDER_COLUMNS",
    "ORDER_LINE_COLUMNS",
    "ORDER_STATES",
    "PRICE_PLACES",
    "PRODUCT_COLUMNS",
    "STOCK_FORMULAS",
    "StockKey",
    "ZERO",
    "article_codes",
    "article_variants",
    "country_iso",
    "customer_tax",
    "customers_from_rows",
    "delivery_address_code",
    "delivery_note_orders",
    "document_article_lines",
    "document_header",
    "empty_date",
    "in_file_order",
    "invoice_orders",
    "order_delivery_notes",
    "order_header",
    "order_invoices",
    "order_lines",
    "read_customers",
    "read_orders",
    "read_pending_order_units",
    "read_products",
    "read_stock",
    "read_stock_detail",
    "read_surcharge_rates",
    "read_vat_rates",
    "tariff_includes_vat",
]
