"""Orders: every shop order becomes a FactuSOL customer order (F_PCL + F_LPC); its state then follows both ways.

Keys are ``ps:<id_order>``.  A FactuSOL pedido is traced back to its shop order through the id map (entity
``order``, FactuSOL key ``<TIPPCL>-<CODPCL>``), else by parsing REFPCL with the rule's template.

Exactly once: before any insert the pedido is looked up by REFPCL (the rule template, ``PS-<id>-<reference>``);
header and lines go in ONE FactuSOL transaction; then the id map link, then the baseline.  A crash anywhere
leaves either no pedido (transaction rolled back) or a pedido that the next run finds by REFPCL and links.

State after creation (baseline ``order``/key = ``{"fs": ESTPCL, "ps": canonical shop state}``, the last values
both sides agreed on; a side "moved" when it differs from its own baseline value, so nothing ping-pongs):
- FactuSOL moved → the shop order goes to the state the ``states`` value map gives, forward only (a partial
  delivery's ESTPCL 1 never drags a Shipped order back to Processing); cancellation and leaving cancellation
  always travel.
- Shop moved → only a cancellation travels to FactuSOL (ESTPCL = the map's cancelled code, 4 "Anulado", and the
  pending quantities released: ANULPC += PENLPC, PENLPC = 0).  FactuSOL owns the rest of the workflow.
- Both moved → the ``state`` field's policy (default ``factusol_wins``); ``manual`` parks a conflict.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterable

from replicator.factusol import reader as fs_reader
from replicator.factusol import writer as fs_writer
from replicator.factusol.connection import FactusolDuplicateKeyError
from replicator.factusol.schema import FactusolWidthError
from replicator.keys import doc_key, factusol_row_key, row_hash
from replicator.model import Order
from replicator.prestashop import reader as ps_reader
from replicator.store import APPLIED, CONFLICT, Change
from replicator.sync.base import NOOP, Outcome, SyncContext, SyncError, image, row_key, sync_each
from replicator.sync import shop_state
from replicator.sync.customers import ensure_factusol_customer
from replicator.sync.echo import FACTUSOL, factusol_echo_records, factusol_writes
from replicator.sync.followup import (
    ENTITY,
    linked_pedido,
    order_id_for_pedido,
    order_id_of,
    order_key,
    pedido_of_link,
    reference_for,
)
from replicator.sync.order_states import (
    CANCELLED,
    fs_canonical,
    is_cancel_state,
    progress,
    ps_canonical,
    state_id_for,
    states_map,
)
from replicator.sync.pedido import build_pedido, order_content
from replicator.sync.pedido_amounts import private_notes
from replicator.sync.pedido_terms import PAID_LABEL
from replicator.sync.shipments import push_tracking

log = logging.getLogger("replicator.sync.orders")

PS_TABLES = ("orders", "order_detail", "order_carrier", "order_history")


def _customer_code(ctx: SyncContext, key: str, order: Order, linked: dict[int, str] | None = None) -> int:
    """The order's F_CLI code: its customer's link (``linked``: read for the batch), else made or linked now."""
    customer = order.customer_prestashop_id
    if linked and customer is not None and int(customer) in linked:
        return int(linked[int(customer)])
    try:
        return int(ensure_factusol_customer(ctx, int(order.customer_prestashop_id)))
    except SyncError as exc:
        raise SyncError(
            ENTITY, key, f"customer ps:{order.customer_prestashop_id}: {exc.reason}", "customer_factusol_code"
        ) from None


def _record_pedido(ctx: SyncContext, series: str, number: int, positions: Iterable[int]) -> None:
    """Echo records of a pedido we wrote: its header and the lines at ``positions`` (a position without a line now is
    recorded as deleted), read back once per table and recorded in one store transaction."""
    ctx.store.record_applied_many(FACTUSOL, ENTITY, _pedido_echo(ctx, series, number, positions), "write")


def _pedido_echo(ctx: SyncContext, series: str, number: int, positions: Iterable[int]) -> list[tuple[str, str, str]]:
    head = {"TIPPCL": series, "CODPCL": number}
    lines = [{"TIPLPC": series, "CODLPC": number, "POSLPC": pos} for pos in positions]
    return factusol_echo_records(ctx, [("F_PCL", head, [head]), ("F_LPC", {"TIPLPC": series, "CODLPC": number}, lines)])


def read_shop_order(ctx: SyncContext, order_id: int) -> Order | None:
    found = ps_reader.read_orders(ctx.shop, [order_id], maps=ps_reader.SYNC_ORDER_MAPS)
    return found[0] if found else None


@dataclass
class _Batch:
    """What a batch of order keys reads up front: the shop orders and the id-map links of their pedidos."""

    orders: dict[int, Order]
    links: dict[int, str]  # shop order id -> the pedido's key in the id map
    customers: dict[int, str]  # shop customer id -> F_CLI code, for the customers already linked

    @classmethod
    def read(cls, ctx: SyncContext, keys: list[str]) -> "_Batch | None":
        ids = []
        for key in keys:
            try:
                ids.append(order_id_of(key))
            except SyncError:
                continue  # said by sync_one for that key
        if len(ids) < 2:
            return None  # one order: read as it is synced
        try:
            orders = ps_reader.read_orders(ctx.shop, ids, maps=ps_reader.SYNC_ORDER_MAPS)
        except Exception:  # noqa: BLE001 - a batch read that fails is read again key by key: the bad one says why
            return None
        links = {int(pid): fkey for pid, fkey in ctx.store.id_map_by_prestashop(ENTITY, ids).items()}
        customer_ids = {int(o.customer_prestashop_id) for o in orders if o.customer_prestashop_id}
        customers = {int(pid): code for pid, code in ctx.store.id_map_by_prestashop("customer", customer_ids).items()}
        return cls({int(o.prestashop_id): o for o in orders}, links, customers)


class OrderSync:
    entity = ENTITY

    # -- routing --------------------------------------------------------------------------------------------
    def keys_for_change(self, ctx: SyncContext, change: Change) -> list[str]:
        img = image(change)
        if change.side == "prestashop":
            if change.source_table in PS_TABLES and img.get("id_order"):
                return [order_key(img["id_order"])]
            return []
        if change.source_table not in ("F_PCL", "F_LPC"):
            return []
        pk = row_key(change)
        if change.source_table == "F_PCL":
            series, number, ref = pk.get("TIPPCL"), pk.get("CODPCL"), img.get("REFPCL")
        else:
            series, number, ref = pk.get("TIPLPC"), pk.get("CODLPC"), None
        if series is None or number is None:
            return []
        oid = order_id_for_pedido(ctx, str(series), int(number), ref, look_up=change.op != "delete" or ref is None)
        return [order_key(oid)] if oid else []

    def all_keys(self, ctx: SyncContext) -> Iterable[str]:
        return [order_key(i) for i in ps_reader.order_ids(ctx.shop)]

    def sync(self, ctx: SyncContext, keys: list[str]) -> dict[str, Outcome]:
        # per key: one bad order never holds the others back; the engine retries quarantined keys.  The shop orders
        # and their pedido links are read once for the batch (a query per key before).
        known = _Batch.read(ctx, keys)
        return sync_each(ctx, keys, lambda c, key: self.sync_one(c, key, known), "prestashop")

    # -- one order ------------------------------------------------------------------------------------------
    def sync_one(self, ctx: SyncContext, key: str, known: "_Batch | None" = None) -> Outcome:
        order_id = order_id_of(key)
        order = known.orders.get(order_id) if known else read_shop_order(ctx, order_id)
        if order is None:
            return Outcome(NOOP, "the order is not in the shop")
        rules = ctx.rules.entity(ENTITY)
        if order.is_guest and not rules.filters.get("include_guests", True):
            return Outcome(NOOP, "guest orders are filtered out (order.yaml filters.include_guests)")
        pedido = pedido_of_link(ctx, known.links.get(order_id)) if known else linked_pedido(ctx, order_id)
        if pedido is not None:
            header = fs_reader.order_header(ctx.factusol, *pedido)
            if header is None:
                # Deleted in FactuSOL, or the year file rolled over: never re-create (that would duplicate).
                log.warning("order %s: its pedido %s-%s is no longer in FactuSOL", key, *pedido)
                return Outcome(NOOP, f"pedido {pedido[0]}-{pedido[1]} not found in the current FactuSOL file")
            return self.follow_state(ctx, key, order, header)
        reference = reference_for(ctx, order_id, order.reference, key)
        found = fs_writer.find_order_by_ref(ctx.factusol, reference)
        if found is not None:  # written before a crash (or by an earlier install): link, never insert twice
            ctx.store.link(ENTITY, doc_key(found["TIPPCL"], found["CODPCL"], ctx.factusol_year), str(order_id))
            outcome = self.follow_state(ctx, key, order, found)
            detail = f"linked existing pedido {found['TIPPCL']}-{found['CODPCL']} ({reference})"
            return Outcome(
                APPLIED if outcome.status == NOOP else outcome.status,
                "; ".join(p for p in (detail, outcome.detail) if p),
            )
        return self.create(ctx, key, order, known.customers if known else None)

    def create(self, ctx: SyncContext, key: str, order: Order, linked: dict[int, str] | None = None) -> Outcome:
        code = _customer_code(ctx, key, order, linked)
        pedido = build_pedido(ctx, key, order, code)
        ps_state = ps_canonical(ctx, order.state_id)
        if ps_state == CANCELLED:  # an order already cancelled in the shop is recorded cancelled, nothing pending
            pedido.header["ESTPCL"] = int(states_map(ctx).to_side(CANCELLED, "factusol"))
            for ln in pedido.lines:
                ln["ANULPC"], ln["PENLPC"] = ln["CANLPC"], Decimal("0")
        echo: list[tuple[str, str, str]] = []
        positions = [ln["POSLPC"] for ln in pedido.lines]

        def read_back(series: str, number: int) -> None:  # in the pedido's transaction: a lock here rolls it back
            echo[:] = _pedido_echo(ctx, series, number, positions)

        try:
            series, number = fs_writer.insert_order(ctx.factusol, pedido.header, pedido.lines, inside=read_back)
        except FactusolWidthError as exc:
            raise SyncError(ENTITY, key, str(exc), exc.column) from None
        except FactusolDuplicateKeyError as exc:
            raise SyncError(
                ENTITY, key, f"no free order number in series {pedido.header['TIPPCL']}: {exc}", "factusol_number"
            ) from None
        # echo records, link and baseline in ONE store transaction: a crash before it leaves an unlinked pedido that
        # the next run finds by REFPCL (and links) instead of inserting it again
        with ctx.store.writes() as w:
            w.record_applied_many(FACTUSOL, ENTITY, echo, "write")
            w.link_many(ENTITY, [(doc_key(series, number, ctx.factusol_year), str(order.prestashop_id))])
            w.set_baselines(
                ENTITY,
                {
                    key: {
                        "fs": int(pedido.header["ESTPCL"]),
                        "ps": ps_state,
                        "content": order_content(order),
                        "lines": len(pedido.lines),
                        "pedido": doc_key(series, number, ctx.factusol_year),
                        "paid": pedido.paid,
                    }
                },
            )
        detail = (
            f"pedido {series}-{number} created ({pedido.header['REFPCL']}, {len(pedido.lines)} lines, "
            f"total {pedido.header['TOTPCL']})"
        )
        if pedido.notes:
            detail += "; " + "; ".join(pedido.notes)
        if pedido.difference:
            log.warning("order %s: %s", key, next(n for n in pedido.notes if n.startswith("total differs")))
        for note in pedido.notes:
            if note.startswith(("the shop's rows", "line ")):  # the shop's own rows disagree: said in the log too
                log.warning("order %s: %s", key, note)
        ctx.count("orders_created")
        return Outcome(APPLIED, detail)

    # -- state follow-up --------------------------------------------------------------------------------------
    def follow_state(self, ctx: SyncContext, key: str, order: Order, header: dict[str, Any]) -> Outcome:
        series, number = str(header["TIPPCL"]), int(header["CODPCL"])
        fs_value = int(header.get("ESTPCL") or 0)
        ps_state = ps_canonical(ctx, order.state_id)
        content = order_content(order)
        base = ctx.store.baseline(ENTITY, key)
        if base is None:  # linked without a baseline (crash between link and baseline): adopt today's values
            ctx.store.set_baseline(
                ENTITY,
                key,
                {
                    "fs": fs_value,
                    "ps": ps_state,
                    "content": content,
                    "pedido": doc_key(series, number, ctx.factusol_year),
                    "paid": PAID_LABEL in str(header.get("PRIPCL") or ""),
                },
            )
            return Outcome(NOOP, "baseline recorded")
        edited, rewritten = "", False
        if base.get("content") not in (None, content):
            edited, header, lines = self._shop_edit(ctx, key, order, header, base)
            fs_value = int(header.get("ESTPCL") or 0)
            if lines is not None:
                base, rewritten = {**base, "lines": lines}, True
        if base.get("content") != content:  # recorded now (pedidos made before this was kept adopt today's order)
            base = {**base, "content": content}
            ctx.store.set_baseline(ENTITY, key, base)
        paid_note = self._payment_note(ctx, key, order, header, base)
        if paid_note:
            base = {**base, "paid": True}
            ctx.store.set_baseline(ENTITY, key, base)
            edited, rewritten = "; ".join(p for p in (edited, paid_note) if p), True
        fs_moved = fs_value != base.get("fs")
        ps_moved = ps_state is not None and ps_state != base.get("ps")
        if not fs_moved and not ps_moved:
            return Outcome(APPLIED if rewritten else NOOP, edited)
        winner = "factusol" if fs_moved else "prestashop"
        if fs_moved and ps_moved:
            fs_state = fs_canonical(ctx, fs_value)
            if fs_state == ps_state:
                winner = ""  # both moved to the same place: agreed
            else:
                policy = ctx.rules.entity(ENTITY).fields["state"].policy
                if policy == "factusol_wins":
                    winner = "factusol"
                elif policy == "prestashop_wins":
                    winner = "prestashop"
                else:
                    ctx.store.open_conflict(ENTITY, key, "state", base, fs_state, ps_state)
                    return Outcome(CONFLICT, f"state changed on both sides: FactuSOL {fs_state}, shop {ps_state}")
        detail = ""
        if winner == "factusol":
            detail, ps_state = self._state_to_shop(ctx, key, order, fs_value, ps_state)
        elif winner == "prestashop":
            detail, fs_value = self._state_to_factusol(ctx, key, series, number, fs_value, ps_state)
        ctx.store.set_baseline(
            ENTITY,
            key,
            {
                **base,
                "fs": fs_value,
                "ps": ps_state if ps_state is not None else base.get("ps"),
                "content": content,
                "pedido": doc_key(series, number, ctx.factusol_year),
            },
        )
        return Outcome(APPLIED if detail or rewritten else NOOP, "; ".join(p for p in (detail, edited) if p))

    # -- the shop took the payment ---------------------------------------------------------------------------
    @staticmethod
    def _payment_note(ctx: SyncContext, key: str, order: Order, header: dict[str, Any], base: dict[str, Any]) -> str:
        """Once the shop order is in a paid state, its payment is noted in the pedido's PRIPCL (order.yaml
        payment.paid_note); '' when there is nothing (new) to note."""
        state = ctx.shop.order_states().get(order.state_id)
        if (
            base.get("paid")
            or not (state and state.paid)
            or not (ctx.rules.entity(ENTITY).options.get("payment") or {}).get("paid_note", True)
        ):
            return ""
        series, number = str(header["TIPPCL"]), int(header["CODPCL"])
        notes, paid = private_notes(
            ctx,
            order,
            str(header.get("FOPPCL") or ""),
            Decimal(str(header["TOTPCL"])),
            current=header.get("PRIPCL"),
            paid_state=True,
        )
        if not paid:
            return ""
        with factusol_writes(ctx, ENTITY) as wrote:
            fs_writer.update_fields(ctx.factusol, "F_PCL", {"TIPPCL": series, "CODPCL": number}, {"PRIPCL": notes})
            wrote("F_PCL", {"TIPPCL": series, "CODPCL": number})
        return f"payment taken in the shop noted in pedido {series}-{number}"

    # -- the shop order edited after its pedido was made ------------------------------------------------------
    def _shop_edit(
        self, ctx: SyncContext, key: str, order: Order, header: dict[str, Any], base: dict[str, Any]
    ) -> tuple[str, dict[str, Any], int | None]:
        """Bring an edited shop order (lines, quantities, vouchers) to its pedido if FactuSOL has not started on it;
        else say so.  Returns (detail, the pedido header now, its line count if rewritten)."""
        series, number = str(header["TIPPCL"]), int(header["CODPCL"])
        started = self._factusol_started(ctx, series, number, header, base)
        if started:
            detail = (
                f"the order was edited in the shop after pedido {series}-{number} was made, and {started}: "
                "FactuSOL keeps the pedido as it is; update its lines there by hand"
            )
            log.warning("order %s: %s", key, detail)
            return detail, header, None
        pedido = build_pedido(ctx, key, order, int(header["CLIPCL"]))
        kept = ("TIPPCL", "CODPCL", "REFPCL", "FECPCL", "HORPCL", "CLIPCL", "ESTPCL")
        fs_writer.replace_order_lines(
            ctx.factusol, series, number, {k: v for k, v in pedido.header.items() if k not in kept}, pedido.lines
        )
        # new rows, and the rows now gone
        _record_pedido(ctx, series, number, range(1, max(len(pedido.lines), int(base["lines"])) + 1))
        detail = (
            f"pedido {series}-{number} rewritten from the order edited in the shop ({len(pedido.lines)} lines, "
            f"total {pedido.header['TOTPCL']})"
        )
        log.info("order %s: %s", key, detail)
        return detail, fs_reader.order_header(ctx.factusol, series, number) or header, len(pedido.lines)

    @staticmethod
    def _factusol_started(
        ctx: SyncContext, series: str, number: int, header: dict[str, Any], base: dict[str, Any]
    ) -> str:
        """Why the pedido is no longer only what the replicator wrote ('' when it is): FactuSOL serves it, or a
        person changed it there, or it was made before its line count was kept."""
        if int(header.get("ESTPCL") or 0) != 0:
            return "FactuSOL has moved it on from pending"
        if base.get("lines") is None:
            return "it was made before this replicator version kept what it wrote"
        lines = fs_reader.order_lines(ctx.factusol, series, number)
        if [int(ln["POSLPC"]) for ln in lines] != list(range(1, int(base["lines"]) + 1)):
            return "its lines were changed in FactuSOL"
        keys = {factusol_row_key({"TIPLPC": series, "CODLPC": number, "POSLPC": int(ln["POSLPC"])}): ln for ln in lines}
        written = ctx.store.last_written_hashes(FACTUSOL, "F_LPC", list(keys))
        if any(written.get(k) != row_hash(ln) for k, ln in keys.items()):
            return "its lines were changed in FactuSOL"
        head_key = factusol_row_key({"TIPPCL": series, "CODPCL": number})
        if ctx.store.last_written_hash(FACTUSOL, "F_PCL", head_key) != row_hash(header):
            return "its header was changed in FactuSOL"
        return ""

    def _state_to_shop(
        self, ctx: SyncContext, key: str, order: Order, fs_value: int, ps_state: str | None
    ) -> tuple[str, str | None]:
        fs_state = fs_canonical(ctx, fs_value)
        if fs_state is None:
            raise SyncError(ENTITY, key, f"ESTPCL {fs_value} is missing from value map states", "state")
        if fs_state == ps_state:
            return "", ps_state
        target_key = str(states_map(ctx).to_side(fs_state, "prestashop"))
        target = state_id_for(ctx, key, target_key)
        states = ctx.shop.order_states()
        current = states.get(order.state_id)
        forward = progress(states.get(target)) > progress(current)
        if not (forward or is_cancel_state(states.get(target)) or is_cancel_state(current)):
            return "", ps_state  # a FactuSOL step back (e.g. partial delivery) never drags the shop order back
        how = shop_state.change_state(
            ctx,
            ENTITY,
            key,
            order.prestashop_id,
            target,
            target_key,
            f"order {key} state {target_key}",
            before_shipped=lambda: push_tracking(ctx, key, order.prestashop_id),
        )
        via = " through the shop's webservice" if how == "webservice" else ""
        return f"shop state -> {target_key}{via} (FactuSOL ESTPCL {fs_value})", fs_state

    def _state_to_factusol(
        self, ctx: SyncContext, key: str, series: str, number: int, fs_value: int, ps_state: str | None
    ) -> tuple[str, int]:
        if ps_state != CANCELLED or fs_canonical(ctx, fs_value) == CANCELLED:
            return "", fs_value  # FactuSOL owns the order workflow; only a shop cancellation travels back
        value = int(states_map(ctx).to_side(CANCELLED, "factusol"))
        fs_writer.set_order_state(ctx.factusol, series, number, value, release_pending=True)
        _record_pedido(
            ctx, series, number, [ln["POSLPC"] for ln in fs_reader.order_lines(ctx.factusol, series, number)]
        )
        return f"pedido {series}-{number} cancelled in FactuSOL (ESTPCL {value}, pending released)", value
