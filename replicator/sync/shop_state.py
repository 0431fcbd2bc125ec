"""Order states and tracking numbers into the shop: through PrestaShop's webservice when configured, else by SQL.

Through the webservice PrestaShop changes the state itself (the customer's mail, invoice and delivery numbers,
stock, hooks).  Its writes then come back through the binlog/poll as an ordinary shop transaction, without our
ledger row.  So, BEFORE each request, the change we are about to cause is recorded in the store as an
*expectation* (applied ledger, target ``prestashop``, source table ``ws:order_history`` / ``ws:order_carrier``, key =
the order id): the state asked for, the tracking number sent, until when it is expected.  After the answer the new
order_history id is added to it.  ``own_changes`` then recognises the captured rows that are that change (the
history row, the order's state/invoice/delivery columns, its invoice row, the carrier row's tracking number and
invoice link) and the engine marks them ``echo``: no trigger, no conflict, nothing written back.  A row outside
what the expectation explains (another state, another column, too late) is an ordinary shop change.  Even if one
slipped past, nothing would travel back: the order's baseline already holds the state we asked for.

Errors are the shop's own (401 bad key, 404 unknown id, 400 refused field, 500): the order is quarantined with a
sentence naming it and the cause, and retried every cycle like any quarantined key.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable

from replicator.prestashop import reader as ps_reader
from replicator.prestashop import write as ps_writer
from replicator.prestashop.webservice import WebserviceClient, WebserviceError
from replicator.store import Change, loads
from replicator.sync.base import SyncContext, SyncError
from replicator.sync.echo import shop_marker

log = logging.getLogger("replicator.sync.shop_state")

PRESTASHOP = "prestashop"
HISTORY, CARRIER = "ws:order_history", "ws:order_carrier"
EXPECT_MINUTES = 15  # how long after the request its rows are expected back (capture lag included)
# The columns PrestaShop's state change touches on each watched table (OrderHistory::changeIdOrderState,
# Order::setInvoice / setDeliverySlip / setDeliveryNumber, OrderCarrier update)
ORDER_COLUMNS = frozenset(
    {
        "current_state",
        "valid",
        "date_upd",
        "invoice_number",
        "invoice_date",
        "delivery_number",
        "delivery_date",
        "total_paid_real",
        "shipping_number",
    }
)
CARRIER_COLUMNS = frozenset({"id_order_invoice"})
DETAIL_COLUMNS = frozenset({"id_order_invoice"})
STATE_TABLES = ("orders", "order_history", "order_carrier", "order_detail", "order_invoice")


# ------------------------------------------------------------------------------------------------ configuration


def client(ctx: SyncContext) -> WebserviceClient | None:
    """The webservice client of this context's shop, or None without ``prestashop.webservice``."""
    ws = getattr(ctx.config.prestashop, "webservice", None)
    if ws is None or not ws.url or not ws.key:
        return None
    made = getattr(ctx.shop, "_webservice_client", None)
    if made is None:
        made = WebserviceClient(ws.url, ws.key)
        ctx.shop._webservice_client = made
    return made


def _order_rule(ctx: SyncContext) -> dict:
    try:
        return dict(ctx.rules.entity("order").options.get("shop_states") or {})
    except KeyError:
        return {}


def state_route(ctx: SyncContext, state_key: str) -> tuple[WebserviceClient | None, bool]:
    """(client to use or None for SQL, send the mail) for a state given by its PS_OS_* key."""
    ws = client(ctx)
    rule = _order_rule(ctx)
    if ws is None or rule.get("through", "webservice") != "webservice":
        return None, False
    states = rule.get("states", "all")
    if states != "all" and state_key not in set(states or ()):
        return None, False
    return ws, bool(rule.get("send_mail", True))


def tracking_route(ctx: SyncContext) -> WebserviceClient | None:
    ws = client(ctx)
    try:
        through = ctx.rules.entity("shipment").options.get("tracking_through", "webservice")
    except KeyError:
        through = "webservice"
    return ws if through == "webservice" else None


def mode_line(config) -> str:
    """One sentence for `status` (and doctor): how order states reach the shop and what the customer gets."""
    ws = getattr(config.prestashop, "webservice", None)
    if ws is None:
        return (
            "order states: written by SQL; the customer gets no e-mail from the shop (shipped with tracking,"
            " payment accepted, delivered) and modules no hook; set prestashop.webservice to have PrestaShop"
            " change them itself (docs/prestashop.md)"
        )
    return (
        f"order states: through PrestaShop's webservice at {ws.url} (the customer gets the state's e-mail,"
        " modules their hooks), as order.yaml shop_states says"
    )


# ------------------------------------------------------------------------------------------------ applying


def change_state(
    ctx: SyncContext,
    entity: str,
    key: str,
    order_id: int,
    target: int,
    state_key: str,
    note: str,
    before_shipped: Callable[[], Any] | None = None,
) -> str:
    """Move the shop order to ``target``; returns 'webservice' or 'sql' (how it was done).  ``before_shipped`` runs
    first when the state is a shipped one going through the webservice: the shipped mail carries the tracking
    number the order has at that moment (shipments.push_tracking)."""
    ws, send_mail = state_route(ctx, state_key)
    if ws is None:
        ps_writer.change_order_state(ctx.shop, order_id, target, extra=shop_marker(ctx, note))
        return "sql"
    state = ctx.shop.order_states().get(int(target))
    if state is not None and state.shipped and before_shipped is not None:
        before_shipped()
    expect(ctx, HISTORY, order_id, {"state": int(target)})
    try:
        row = ws.add_order_history(
            order_id,
            target,
            send_mail=send_mail,
            what=f"order {order_id}: state change to {state_key} through the shop's webservice",
        )
    except WebserviceError as exc:
        raise SyncError(entity, key, str(exc), "state") from None
    history = int(row.get("id") or 0)
    expect(ctx, HISTORY, order_id, {"state": int(target), "history": history})
    now = ps_reader.current_state(ctx.shop, order_id)
    if now != int(target):
        raise SyncError(
            entity,
            key,
            f"order {order_id}: the shop's webservice accepted the change to {state_key}"
            f" (history {history}) but the order's state is {now}",
            "state",
        )
    log.info(
        "order %s: state %s set through the shop's webservice (history %s, mail %s)",
        order_id,
        state_key,
        history,
        "sent" if send_mail else "not sent",
    )
    return "webservice"


def set_tracking(ctx: SyncContext, entity: str, key: str, order_id: int, tracking: str, note: str) -> str:
    """Store the tracking number on the order's carrier row; returns 'webservice' or 'sql'."""
    tracking = ps_writer.validate_tracking(tracking, ctx.shop, order_id)
    ws = tracking_route(ctx)
    carrier_id = ps_reader.first_order_carrier(ctx.shop, order_id)
    if ws is None or not carrier_id or ctx.shop.detect_version().has_shipping_number:
        # no webservice, no carrier row for PrestaShop to update, or 1.7.8 (orders.shipping_number, which its
        # order_carriers resource does not write): SQL, as PrestaShop's back office writes it
        ps_writer.set_tracking(ctx.shop, order_id, tracking, extra=shop_marker(ctx, note))
        return "sql"
    expect(ctx, CARRIER, order_id, {"tracking": tracking, "id_order_carrier": int(carrier_id)})
    try:
        ws.set_tracking(
            int(carrier_id),
            tracking,
            order_id,
            what=f"order {order_id}: tracking number {tracking} through the shop's webservice",
        )
    except WebserviceError as exc:
        raise SyncError(entity, key, str(exc), "tracking_number") from None
    return "webservice"


# ------------------------------------------------------------------------------------------------ expectations


def expect(ctx: SyncContext, kind: str, order_id: int, what: dict) -> None:
    until = datetime.now(timezone.utc) + timedelta(minutes=EXPECT_MINUTES)
    ctx.store.record_applied(
        PRESTASHOP,
        "order",
        kind,
        str(int(order_id)),
        json.dumps({**what, "until": until.isoformat()}, sort_keys=True),
        "expect",
    )


def _expectation(ctx: SyncContext, kind: str, order_id: int, cache: dict) -> dict | None:
    cache_key = (kind, order_id)
    if cache_key not in cache:
        cache[cache_key] = _still_due(ctx.store.last_written_hash(PRESTASHOP, kind, str(order_id)))
    return cache[cache_key]


def _read_expectations(ctx: SyncContext, changes: list[Change], cache: dict) -> None:
    """The expectations of every order these shop rows belong to, one store read per kind (not two per row)."""
    orders = {
        str(_int((loads(c.after) or {}).get("id_order")))
        for c in changes
        if c.side == PRESTASHOP and c.source_table in STATE_TABLES and c.op != "delete"
    } - {"0"}
    if not orders:
        return
    for kind in (HISTORY, CARRIER):
        found = ctx.store.last_written_hashes(PRESTASHOP, kind, sorted(orders))
        for order_id in orders:
            cache[(kind, int(order_id))] = _still_due(found.get(order_id))


def _still_due(raw: str | None) -> dict | None:
    """An expectation as stored (JSON with its `until`), or None when there is none or it has run out."""
    if not raw:
        return None
    try:
        found = json.loads(raw)
        return found if datetime.fromisoformat(found["until"]) >= datetime.now(timezone.utc) else None
    except (ValueError, KeyError, TypeError):
        return None


def _changed(change: Change) -> set[str]:
    before, after = loads(change.before) or {}, loads(change.after) or {}
    return {k for k in set(before) | set(after) if before.get(k) != after.get(k)}


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def is_own(ctx: SyncContext, change: Change, cache: dict) -> str:
    """Why this captured shop row is the replicator's own webservice write ('' when it is not)."""
    if change.side != PRESTASHOP or change.source_table not in STATE_TABLES or change.op == "delete":
        return ""
    after = loads(change.after) or {}
    order_id = _int(after.get("id_order"))
    if not order_id:
        return ""
    table = change.source_table
    state = _expectation(ctx, HISTORY, order_id, cache)
    tracking = _expectation(ctx, CARRIER, order_id, cache)
    if table == "order_carrier" and tracking and change.op == "update":
        changed = _changed(change)
        if (
            "tracking_number" in changed
            and after.get("tracking_number") == tracking["tracking"]
            and changed <= CARRIER_COLUMNS | {"tracking_number"}
        ):
            return f"order {order_id}: tracking number {tracking['tracking']} set through the webservice"
    if not state:
        return ""
    target = int(state["state"])
    what = f"order {order_id}: state {target} set through the webservice"
    if table == "order_history":
        history = _int(state.get("history"))
        if _int(after.get("id_order_state")) == target and (
            not history or _int(after.get("id_order_history")) == history
        ):
            return what
        return ""
    if table == "orders":
        changed = _changed(change)
        if (
            change.op == "update"
            and changed <= ORDER_COLUMNS
            and ("current_state" not in changed or _int(after.get("current_state")) == target)
        ):
            return what
        return ""
    if table == "order_invoice":
        return what  # the invoice / delivery slip the state's flags make
    if table in ("order_carrier", "order_detail") and change.op == "update" and _changed(change) <= DETAIL_COLUMNS:
        return what  # linked to that invoice
    return ""


def own_changes(ctx: SyncContext, changes: Iterable[Change]) -> dict[int, str]:
    """change id -> reason, for the captured shop rows that are our own webservice writes."""
    changes = list(changes)
    cache: dict = {}
    _read_expectations(ctx, changes, cache)
    out = {}
    for change in changes:
        why = is_own(ctx, change, cache)
        if why:
            out[change.id] = why
    return out


__all__ = [
    "change_state",
    "client",
    "expect",
    "is_own",
    "mode_line",
    "own_changes",
    "set_tracking",
    "state_route",
    "tracking_route",
]
