"""One module per entity: which keys a captured change touches, and how to bring a key in step on both sides.

`default_syncs(rules)` builds the set the engine runs, in dependency order: customers and products before
the stock, orders, shipments and invoices that refer to them.
"""

from __future__ import annotations

from typing import Any


def default_syncs(rules: Any) -> dict[str, Any]:
    from replicator.sync.categories import CategorySync
    from replicator.sync.customers import CustomerSync
    from replicator.sync.invoices import InvoiceSync
    from replicator.sync.orders import OrderSync
    from replicator.sync.products import ProductSync
    from replicator.sync.registry import ENTITY_ORDER
    from replicator.sync.shipments import ShipmentSync
    from replicator.sync.stock import StockSync

    classes = {
        "customer": CustomerSync,
        "category": CategorySync,
        "product": ProductSync,
        "stock": StockSync,
        "order": OrderSync,
        "shipment": ShipmentSync,
        "invoice": InvoiceSync,
    }
    return {name: classes[name]() for name in ENTITY_ORDER}
