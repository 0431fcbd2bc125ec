"""Write canonical changes into a PrestaShop database the way PrestaShop itself would.

Every public function runs in ONE transaction, uses only parameterised SQL, and accepts ``extra``: a callable
``extra(cursor)`` or a list of ``(sql, args)`` executed in the same transaction (the sync engine adds its ledger /
echo-marker row there).  What PrestaShop does in PHP hooks and mails is NOT emulated.  One module per domain:
stock, catalogue (products, combinations, new-row defaults, bulk creation), orders, customers, over the SQL helpers in
sql.py.
"""

from .bulk_products import BulkCreated, create_products_bulk
from .catalogue import find_product, tax_rules_group_for_rate, upsert_product
from .customers import country_and_state, main_address_id, update_customer
from .orders import (
    StateChange,
    change_order_state,
    record_invoice_payment,
    set_invoice,
    set_order_carrier,
    set_shipping_cost,
    set_tracking,
    validate_tracking,
)
from .sql import Extra, WriteError
from .stock import StockWrite, recompute_reserved, reserved_quantity, set_stock, set_stock_bulk

__all__ = [
    "BulkCreated",
    "Extra",
    "StateChange",
    "StockWrite",
    "WriteError",
    "change_order_state",
    "country_and_state",
    "create_products_bulk",
    "find_product",
    "main_address_id",
    "record_invoice_payment",
    "recompute_reserved",
    "reserved_quantity",
    "set_invoice",
    "set_order_carrier",
    "set_shipping_cost",
    "set_stock",
    "set_stock_bulk",
    "set_tracking",
    "tax_rules_group_for_rate",
    "update_customer",
    "upsert_product",
    "validate_tracking",
]
