"""Delivery: FactuSOL delivery notes (F_ALB/F_LAL) made from a shop order move it to Shipped, with tracking.

Keys are the order's ``ps:<id_order>``.  The delivery notes of an order are its F_LAL lines with DOC='C',
DTP/DCO = the pedido's series/number, plus any F_ALB whose REFALB equals the pedido's REFPCL
(FactuSOL copies it when converting).  The most recent note gives:
- the tracking number (``order.yaml shipping.tracking_source``: CISALB or TRCALB) → order_carrier.tracking_number
  (orders.shipping_number on 1.7.8 is the writer's job).  FactuSOL owns it: written when FactuSOL's value moved
  since the baseline, so a later FactuSOL edit follows and a shop-only edit is left alone;
- the carrier (TRNALB → ``shipment.carriers`` → carrier id_reference → the live carrier id), same rule;
- the events of the rule files whose ``when`` is about delivery notes (``delivery_note_created``,
  ``delivery_note_invoiced`` = ESTALB 1, or ``{column: F_ALB.X / F_PCL.X, equals: v}``) → ``set_state``.

Events fire once each (remembered in the baseline; re-armed if the condition stops holding) and only move the
order FORWARD (Shipped never goes back to Processing; a cancelled order is left alone).  A "paid" event on an
order already further along registers the payment of its invoices without changing the state.
"""

from __future__ import annotations

import logging
from typing import Any

from replicator.factusol import reader as fs_reader
from replicator.prestashop import reader as ps_reader
from replicator.prestashop import write as ps_writer
from replicator.store import APPLIED, Change
from replicator.sync.base import NOOP, Outcome, SyncContext, SyncError, image, row_key
from replicator.sync import shop_state
from replicator.sync.echo import shop_marker
from replicator.sync.followup import (
    PedidoFollowUp,
    linked_pedido,
    order_id_for_pedido,
    order_id_from_reference,
    order_key,
)
from replicator.sync.order_states import is_cancel_state, progress
from replicator.sync.shipping_cost import follow_shipping_cost

log = logging.getLogger("replicator.sync.shipments")

ENTITY = "shipment"
DELIVERY_WHENS = ("delivery_note_created", "delivery_note_invoiced")
INVOICE_WHENS = ("invoice_created",)


# ------------------------------------------------------------------------------------------------ events


def rule_events(ctx: SyncContext) -> list[tuple[str, Any, str]]:
    """(name, when, set_state) of every event in order.yaml, shipment.yaml and invoice.yaml."""
    out = []
    for entity in ("order", "shipment", "invoice"):
        try:
            events = ctx.rules.entity(entity).options.get("events") or {}
        except KeyError:
            continue
        for name, ev in events.items():
            out.append((f"{entity}.{name}", ev.get("when"), ev.get("set_state")))
    return out


def event_side(when: Any) -> str:
    """Which sync evaluates an event: 'invoice' for invoice facts, 'shipment' for the rest, '' for never."""
    if when == "never" or not when:
        return ""
    if isinstance(when, dict):
        return "invoice" if str(when.get("column", "")).startswith("F_FAC.") else "shipment"
    return "invoice" if when in INVOICE_WHENS else "shipment"


def holds(when: Any, facts: dict[str, Any]) -> bool:
    """Is an event's condition true for the documents of one order?"""
    if isinstance(when, dict):
        table, _, column = str(when["column"]).partition(".")
        want = str(when["equals"]).strip()
        return any(
            str(row.get(column) if row.get(column) is not None else "").strip() == want for row in facts.get(table, [])
        )
    if when == "delivery_note_created":
        return bool(facts.get("F_ALB"))
    if when == "delivery_note_invoiced":
        return any(int(r.get("ESTALB") or 0) == 1 for r in facts.get("F_ALB", []))
    if when == "invoice_created":
        return bool(facts.get("F_FAC"))
    return False


def fire_events(
    ctx: SyncContext, key: str, order_id: int, side: str, facts: dict[str, Any], fired: list[str]
) -> tuple[list[str], list[str]]:
    """Apply the events of `side` whose condition newly holds; returns (events now fired, what was done)."""
    now_fired, done = [], []
    pending = []
    for name, when, set_state in rule_events(ctx):
        if event_side(when) != side:
            continue
        if not holds(when, facts):
            continue  # not (or no longer) true: dropped from `fired`, so it fires again when it holds again
        now_fired.append(name)
        if name not in fired:
            pending.append((name, set_state))
    states = ctx.shop.order_states()
    # the furthest target last, so a burst (note made and invoiced at once) ends in the furthest state
    for name, set_state in sorted(pending, key=lambda p: progress(states.get(ctx.shop.state_id(p[1])))):
        target = ctx.shop.state_id(set_state)
        if target is None:
            raise SyncError(ENTITY, key, f"event {name}: the shop has no order state {set_state}", "events")
        current = states.get(ps_reader.current_state(ctx.shop, order_id))
        if is_cancel_state(current):
            done.append(f"{name}: order is cancelled in the shop, state kept")
            continue
        if progress(states.get(target)) > progress(current):
            how = shop_state.change_state(
                ctx,
                ENTITY,
                key,
                order_id,
                target,
                set_state,
                f"{name} {key} -> {set_state}",
                before_shipped=lambda: push_tracking(ctx, key, order_id),
            )
            via = " through the shop's webservice" if how == "webservice" else ""
            done.append(f"{name}: shop state -> {set_state}{via}")
        elif states[target].paid:
            paid = ps_writer.record_invoice_payment(ctx.shop, order_id, extra=shop_marker(ctx, f"{name} {key} payment"))
            done.append(f"{name}: order already {current.name}; {paid} payment(s) registered")
        elif target != (current.id if current else None):
            done.append(f"{name}: order already further along ({current.name if current else '?'}), state kept")
    return now_fired, done


def order_documents(ctx: SyncContext, series: str, number: int, with_invoices: bool = False) -> dict[str, Any]:
    """The pedido, its delivery notes and (optionally) its invoices, keyed by table name for `holds`."""
    pedido = fs_reader.order_header(ctx.factusol, series, number)
    ref = (pedido or {}).get("REFPCL") or None
    notes = fs_reader.order_delivery_notes(ctx.factusol, series, number, ref)
    facts: dict[str, Any] = {"F_PCL": [pedido] if pedido else [], "F_ALB": notes}
    if with_invoices:
        facts["F_FAC"] = fs_reader.order_invoices(ctx.factusol, series, number, notes, ref)
    return facts


def orders_of_document(ctx: SyncContext, table: str, pk: dict[str, Any], img: dict[str, Any]) -> list[str]:
    """Shop order keys a captured F_ALB/F_LAL/F_FAC/F_LFA row belongs to."""
    suffix = table[2:]
    pedidos: set[tuple[str, int]] = set()
    refs: set[str] = set()
    if table in ("F_LAL", "F_LFA"):
        doc = str(img.get(f"DOC{suffix}") or "").strip().upper()
        dtp, dco = str(img.get(f"DTP{suffix}") or "").strip(), int(img.get(f"DCO{suffix}") or 0)
        if doc == "C" and dco:
            pedidos.add((dtp, dco))
        elif doc == "A" and dco:
            pedidos.update(fs_reader.delivery_note_orders(ctx.factusol, dtp, dco))
        header_table = "F_ALB" if table == "F_LAL" else "F_FAC"
        series, number = pk.get(f"TIP{suffix}"), pk.get(f"COD{suffix}")
        header = (
            fs_reader.document_header(ctx.factusol, header_table, str(series), int(number))
            if series is not None and number is not None
            else None
        )
        if header and header.get(f"REF{header_table[2:]}"):
            refs.add(str(header[f"REF{header_table[2:]}"]))
    else:
        series, number = pk.get(f"TIP{suffix}"), pk.get(f"COD{suffix}")
        if series is not None and number is not None:
            finder = fs_reader.delivery_note_orders if table == "F_ALB" else fs_reader.invoice_orders
            pedidos.update(finder(ctx.factusol, str(series), int(number)))
        if img.get(f"REF{suffix}"):
            refs.add(str(img[f"REF{suffix}"]))
    ids = {order_id_for_pedido(ctx, s, n) for s, n in pedidos}
    ids |= {order_id_from_reference(ctx, r) for r in refs}
    return sorted(order_key(i) for i in ids if i)


def push_tracking(ctx: SyncContext, key: str, order_id: int) -> str:
    """Set the order's tracking number from its newest FactuSOL delivery note now, if the shop lacks it: before a
    "shipped" state goes through the webservice, so that the mail PrestaShop sends carries it.  Returns it, or ''
    when there was nothing to set."""
    pedido = linked_pedido(ctx, order_id)
    if pedido is None:
        return ""
    notes = order_documents(ctx, *pedido)["F_ALB"]
    column = tracking_column(ctx)
    tracking = next((str(n.get(column) or "").strip() for n in reversed(notes) if str(n.get(column) or "").strip()), "")
    current = ps_reader.read_shipments(ctx.shop, [order_id]).get(order_id)
    if not tracking or (current is not None and current.tracking_number == tracking):
        return ""
    try:
        shop_state.set_tracking(ctx, ENTITY, key, order_id, tracking, f"shipment {key} tracking")
    except ps_writer.WriteError as exc:
        raise SyncError(ENTITY, key, f"{column} {tracking!r}: {exc}", "tracking_number") from None
    return tracking


# ------------------------------------------------------------------------------------------------ the sync


def tracking_column(ctx: SyncContext) -> str:
    col = (ctx.rules.entity("order").options.get("shipping") or {}).get("tracking_source")
    if not col:
        field = ctx.rules.entity(ENTITY).fields.get("tracking_number")
        col = field.factusol.column.split(".")[-1] if field and field.factusol else "CISALB"
    return col


class ShipmentSync(PedidoFollowUp):
    entity = ENTITY

    def keys_for_change(self, ctx: SyncContext, change: Change) -> list[str]:
        if change.side != "factusol" or change.source_table not in ("F_ALB", "F_LAL"):
            return []  # tracking, carrier and shipped flow FactuSOL -> shop only
        return orders_of_document(ctx, change.source_table, row_key(change), image(change))

    def follow(self, ctx: SyncContext, key: str, order_id: int, pedido: tuple[str, int]) -> Outcome:
        facts = order_documents(ctx, *pedido)
        notes = facts["F_ALB"]
        base = ctx.store.baseline(ENTITY, key) or {}
        done: list[str] = []
        new_base = dict(base)
        if notes:
            latest = notes[-1]
            shop_view = ps_reader.read_shipments(ctx.shop, [order_id]).get(order_id)
            # -- tracking: newest non-empty number of the notes
            column = tracking_column(ctx)
            tracking = next(
                (str(n.get(column) or "").strip() for n in reversed(notes) if str(n.get(column) or "").strip()), ""
            )
            if tracking and tracking != base.get("tracking"):
                if shop_view is None or shop_view.tracking_number != tracking:
                    try:
                        shop_state.set_tracking(ctx, ENTITY, key, order_id, tracking, f"shipment {key} tracking")
                    except ps_writer.WriteError as exc:
                        raise SyncError(ENTITY, key, f"{column} {tracking!r}: {exc}", "tracking_number") from None
                    done.append(f"tracking {tracking}")
                new_base["tracking"] = tracking
            # -- carrier: FactuSOL's transportista of the newest note
            trn = latest.get("TRNALB")
            if trn not in (None, "") and trn != base.get("carrier"):
                done += self._carrier(ctx, key, order_id, int(trn))
                new_base["carrier"] = trn
            # -- shipping cost: what the notes charge (shipment.yaml fields.shipping_cost)
            done += follow_shipping_cost(ctx, key, order_id, notes, base, new_base)
        fired, events_done = fire_events(ctx, key, order_id, "shipment", facts, base.get("events", []))
        done += events_done
        new_base["events"] = fired
        new_base["notes"] = [f"{n['TIPALB']}-{n['CODALB']}" for n in notes]
        if new_base != base:
            ctx.store.set_baseline(ENTITY, key, new_base)
        return Outcome(APPLIED if done else NOOP, "; ".join(done))

    def _carrier(self, ctx: SyncContext, key: str, order_id: int, trn: int) -> list[str]:
        carriers = ctx.rules.entity(ENTITY).value_map("carriers")
        try:
            canonical = carriers.from_side(trn, "factusol")
            id_reference = int(carriers.to_side(canonical, "prestashop"))
        except KeyError:
            raise SyncError(ENTITY, key, f"TRNALB {trn} is missing from value map carriers", "carrier") from None
        if not carriers.knows(trn, "factusol"):
            log.info(
                "shipment %s: FactuSOL carrier %s is not in shipment.yaml carriers: the fallback %s is used",
                key,
                trn,
                canonical,
            )
        current = ps_reader.read_shipments(ctx.shop, [order_id]).get(order_id)
        if current and current.carrier_id is not None:
            current_ref = ps_reader.carrier_reference(ctx.shop, current.carrier_id)
            try:
                same = current_ref == id_reference or carriers.from_side(current_ref, "prestashop") == canonical
            except KeyError:
                same = False
            if same:  # the same carrier as far as the map can tell: a lossy map must not flip the shop's carrier
                return []
        id_carrier = ps_reader.carrier_for_reference(ctx.shop, id_reference)
        if id_carrier is None:
            raise SyncError(ENTITY, key, f"the shop has no carrier with id_reference {id_reference}", "carrier")
        if ps_writer.set_order_carrier(
            ctx.shop, order_id, id_carrier, extra=shop_marker(ctx, f"shipment {key} carrier")
        ):
            return [f"carrier -> {id_carrier} (FactuSOL {trn})"]
        return []


__all__ = [
    "ShipmentSync",
    "ENTITY",
    "fire_events",
    "push_tracking",
    "holds",
    "event_side",
    "rule_events",
    "order_documents",
    "orders_of_document",
    "tracking_column",
]
