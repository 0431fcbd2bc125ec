"""The entities the replicator syncs, in dependency order, with the traits the engine and initial sync ask of them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entity:
    name: str
    quiet_initial: bool = False  # the initial sync logs each key at DEBUG (a catalogue is thousands of lines)
    on_helper: bool = False  # its initial sync runs on the helper: it touches tables no other entity touches
    split_initial: bool = False  # its initial sync runs in two halves at once (its keys touch disjoint rows)


# Customers, categories and products before the stock, orders, shipments and invoices that refer to them.  Documents are
# still logged one by one at INFO in the initial sync.
ENTITIES = (
    Entity("customer", quiet_initial=True, on_helper=True),
    Entity("category"),  # families and sections: a few hundred at most, each said once
    Entity("product", quiet_initial=True),
    Entity("stock", quiet_initial=True, split_initial=True),
    Entity("order"),
    Entity("shipment"),
    Entity("invoice"),
)

ENTITY_ORDER = tuple(e.name for e in ENTITIES)
QUIET_INITIAL = frozenset(e.name for e in ENTITIES if e.quiet_initial)
SPLIT_INITIAL = frozenset(e.name for e in ENTITIES if e.split_initial)
HELPER_ENTITY = next(e.name for e in ENTITIES if e.on_helper)
