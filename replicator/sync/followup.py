"""What shipments and invoices share: their keys are the shop orders that have a pedido, and a key is followed
while its pedido is in the open FactuSOL file and the order is still in the shop; plus the links between a shop
order and its pedido (the id map, else REFPCL written from the rule's template)."""

from __future__ import annotations

import re
from typing import Iterable

from replicator.factusol import reader as fs_reader
from replicator.keys import doc_key, doc_year, shop_id, shop_key, split_doc_key
from replicator.prestashop import reader as ps_reader
from replicator.rules import MappingError
from replicator.rules.transforms import to_side_value
from replicator.sync.base import NOOP, Outcome, SyncContext, SyncError, sync_each

ENTITY = "order"


def order_key(order_id: int | str) -> str:
    return shop_key(order_id)


def order_id_of(key: str) -> int:
    try:
        return shop_id(key)
    except ValueError:
        raise SyncError(ENTITY, key, "order keys are ps:<id_order>") from None


def linked_order_keys(ctx: SyncContext) -> list[str]:
    """Keys of every shop order that has a pedido: what shipments and invoices follow."""
    return sorted((order_key(pid) for pid in ctx.store.id_map(ENTITY).values()), key=shop_id)


def _reference_rule(ctx: SyncContext):
    return ctx.rules.entity(ENTITY).fields["reference"]


def reference_for(ctx: SyncContext, order_id: int, reference: str, key: str = "") -> str:
    """REFPCL of a shop order: the rule's template (``PS-{prestashop_id}-{reference}``), fitted to width 50."""
    rules = ctx.rules.entity(ENTITY)
    try:
        return to_side_value(
            rules,
            _reference_rule(ctx),
            "factusol",
            {"prestashop_id": order_id, "reference": reference},
            key or order_key(order_id),
        )
    except MappingError as exc:
        raise SyncError(ENTITY, key or order_key(order_id), exc.reason, exc.field) from None


def order_id_from_reference(ctx: SyncContext, refpcl: str | None) -> int | None:
    """The shop order id a REFPCL was written for (None for pedidos that did not come from the shop)."""
    template = _reference_rule(ctx).factusol.template or ""
    if not refpcl or "{prestashop_id}" not in template:
        return None
    parts = re.split(r"\{(\w+)\}", template)
    rx = "".join(
        re.escape(p) if i % 2 == 0 else (r"(?P<prestashop_id>\d+)" if p == "prestashop_id" else ".*?")
        for i, p in enumerate(parts)
    )
    m = re.match(rx + "$", str(refpcl).strip())
    return int(m.group("prestashop_id")) if m else None


def order_id_for_pedido(
    ctx: SyncContext, series: str, number: int, refpcl: str | None = None, look_up: bool = True
) -> int | None:
    """Shop order id of a FactuSOL pedido: the id map first, else its REFPCL."""
    link = ctx.store.map_id(ENTITY, factusol_key=doc_key(series, number, ctx.factusol_year))
    if link is not None:
        return int(link.prestashop_id)
    if refpcl is None and look_up:
        header = fs_reader.order_header(ctx.factusol, str(series), int(number))
        refpcl = header.get("REFPCL") if header else None
    return order_id_from_reference(ctx, refpcl)


def linked_pedido(ctx: SyncContext, order_id: int) -> tuple[str, int] | None:
    link = ctx.store.map_id(ENTITY, prestashop_id=str(order_id))
    return pedido_of_link(ctx, link.factusol_key if link else None)


def pedido_of_link(ctx: SyncContext, factusol_key: str | None) -> tuple[str, int] | None:
    """(series, number) of a pedido's id-map key, when that pedido is in the FactuSOL file open now."""
    if factusol_key is None or doc_year(factusol_key) not in ("", ctx.factusol_year):
        return None  # the pedido lives in another fiscal-year file than the one open
    return split_doc_key(factusol_key)


class PedidoFollowUp:
    """What shipments and invoices share: their keys are linked shop orders, one key at a time, and a key is only
    followed while its pedido is in the open FactuSOL file and the order is still in the shop."""

    def all_keys(self, ctx: SyncContext) -> Iterable[str]:
        return linked_order_keys(ctx)

    def sync(self, ctx: SyncContext, keys: list[str]) -> dict[str, Outcome]:
        return sync_each(ctx, keys, self.sync_one, "factusol")

    def sync_one(self, ctx: SyncContext, key: str) -> Outcome:
        order_id = order_id_of(key)
        pedido = linked_pedido(ctx, order_id)
        if pedido is None:
            return Outcome(NOOP, "order not in FactuSOL yet")
        if ps_reader.current_state(ctx.shop, order_id) is None:
            return Outcome(NOOP, "the order is not in the shop")
        return self.follow(ctx, key, order_id, pedido)

    def follow(self, ctx: SyncContext, key: str, order_id: int, pedido: tuple[str, int]) -> Outcome:
        raise NotImplementedError
