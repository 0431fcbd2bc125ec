"""Order states: the rule's `states` value map between ESTPCL and the shop's PS_OS_* states, and how far along
an order in a shop state is."""

from __future__ import annotations

from typing import Any

from replicator.sync.base import SyncContext, SyncError

ENTITY = "order"
CANCELLED = "cancelled"
CANCEL_KEYS = ("PS_OS_CANCELED", "PS_OS_ERROR", "PS_OS_REFUND")


def states_map(ctx: SyncContext):
    return ctx.rules.entity(ENTITY).value_map("states")


def fs_canonical(ctx: SyncContext, estpcl: Any) -> str | None:
    try:
        return str(states_map(ctx).from_side(int(estpcl or 0), "factusol"))
    except KeyError:
        return None


def ps_canonical(ctx: SyncContext, state_id: int | None) -> str | None:
    """The rule's canonical state of a shop state id; None for a state no PS_OS_* key of the map names."""
    state = ctx.shop.order_states().get(state_id)
    if state is None:
        return None
    for k in state.keys:
        try:
            return str(states_map(ctx).from_side(k, "prestashop"))
        except KeyError:
            continue
    return None


def is_cancel_state(state) -> bool:
    return bool(state and set(state.keys) & set(CANCEL_KEYS))


def progress(state) -> int:
    """How far along an order in this shop state is: states only ever move forward by FactuSOL events."""
    if state is None:
        return 0
    if "PS_OS_DELIVERED" in state.keys:
        return 4
    if state.shipped:
        return 3
    if "PS_OS_PREPARATION" in state.keys or state.delivery:
        return 2
    if state.paid or state.logable:
        return 1
    return 0


def state_id_for(ctx: SyncContext, key: str, ps_state_key: str, what: str = "state") -> int:
    state_id = ctx.shop.state_id(ps_state_key)
    if state_id is None:
        raise SyncError(ENTITY, key, f"the shop has no order state {ps_state_key}", what)
    return state_id
