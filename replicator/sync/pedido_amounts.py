"""What the pedido mapping needs from both sides around the pure money (sync/pedido_totals.py) and terms
(sync/pedido_terms.py): FactuSOL's VAT types for the customer, the F_LPC money rows with their articles, the payment
method's code (checked against F_FPA, a rule fallback said), and the private notes with due dates and payment."""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from typing import Any, Callable

from replicator.factusol import masters
from replicator.factusol import reader as fs_reader
from replicator.model import Order
from replicator.prestashop import reader as ps_reader
from replicator.sync.base import SyncError
from replicator.sync.pedido_terms import DUE_LABEL, PAID_LABEL, due_line, paid_line, with_line
from replicator.sync.pedido_totals import (
    DISCOUNT,
    PRODUCT,
    ROUNDING,
    SHIPPING,
    WRAPPING,
    MoneyError,
    PedidoMoney,
    pedido_money,
    vat_types,
)

log = logging.getLogger("replicator.sync.orders")
ENTITY = "order"


def order_money(ctx, key: str, order: Order, customer_code: int) -> tuple[PedidoMoney, bool]:
    """The pedido's money for a FactuSOL customer (its surcharge flag decides RE); SyncError naming the field."""
    rules = ctx.rules.entity(ENTITY)
    opts = rules.options
    tax = fs_reader.customer_tax(ctx.factusol, customer_code) or {}
    surcharge = bool(tax.get("REQCLI"))
    types = vat_types(rules.vat_rates, fs_reader.read_surcharge_rates(ctx.factusol) if surcharge else {}, surcharge)
    shipping = opts.get("shipping") or {}
    rounding = opts.get("rounding") or {}
    try:
        money = pedido_money(
            order,
            types,
            shipping_mode=shipping.get("mode", "portes"),
            shipping_name=order.carrier or "Portes",
            rounding_name=rounding.get("name", "Ajuste por redondeo"),
        )
    except MoneyError as exc:
        raise SyncError(ENTITY, key, exc.reason, exc.field) from None
    return money, surcharge


def line_rows(
    money: PedidoMoney,
    order: Order,
    article_of: Callable[[int], tuple[str, str, str]],
    shipping_article: str,
    discount_article: str,
    rounding_article: str,
) -> list[dict[str, Any]]:
    """F_LPC rows: each money line with its article (products: `article_of(shop line number)`) and description."""
    rows = []
    for n, a in enumerate(money.lines, start=1):
        if a.kind == PRODUCT:
            article, ce1, ce2 = article_of(a.source)
            name = order.lines[a.source - 1].name
        else:
            article = {
                SHIPPING: shipping_article,
                DISCOUNT: discount_article,
                ROUNDING: rounding_article,
                WRAPPING: "",
            }[a.kind]
            ce1 = ce2 = ""
            name = a.name
        rows.append({"POSLPC": n, "ARTLPC": article, "CE1LPC": ce1, "CE2LPC": ce2, "DESLPC": name, **a.columns()})
    return rows


def payment_code(ctx, key: str, order: Order, notes: list[str]) -> str:
    """FOPPCL for the shop's payment module: the rule's F_FPA code, which FactuSOL must have; a rule fallback is
    used with a log line and a note, a module without one quarantines the order."""
    vm = ctx.rules.entity(ENTITY).value_map("payment_methods")
    try:
        code = str(vm.to_side(vm.from_side(order.payment_method, "prestashop"), "factusol"))
    except KeyError:
        raise SyncError(
            ENTITY,
            key,
            f"payment module {order.payment_method!r} is missing from value map payment_methods",
            "payment_method",
        ) from None
    if not vm.knows(order.payment_method, "prestashop"):
        said = (
            f"payment module {order.payment_method!r} is not in order.yaml payment_methods: the fallback {code} is used"
        )
        log.info("order %s: %s", key, said)
        notes.append(said)
    known = ctx.cache.setdefault("pedido_amounts.fpa", None)
    if known is None:
        known = ctx.cache["pedido_amounts.fpa"] = masters.codes(ctx.factusol, "payment_method")
    if code.strip() not in known:
        raise SyncError(
            ENTITY,
            key,
            f"payment method {code!r} (order.yaml payment_methods) is not in FactuSOL's "
            "F_FPA: add it there or correct the map",
            "payment_method",
        )
    return code


def private_notes(
    ctx, order: Order, fop: str, total: Decimal, current: str | None = None, paid_state: bool = False
) -> tuple[str, bool]:
    """PRIPCL with the due dates of `fop` and, when the shop has taken the payment, a line saying so (order.yaml
    payment.due_dates / payment.paid_note); (notes, whether the paid line is in)."""
    opts = ctx.rules.entity(ENTITY).options.get("payment") or {}
    notes = current or ""
    if opts.get("due_dates", True):
        known = ctx.cache.setdefault("pedido_amounts.terms", {})  # per batch: most orders share a few methods
        if fop not in known:
            known[fop] = masters.payment_terms(ctx.factusol, fop)
        terms = known[fop]
        if terms is not None:
            placed = (order.placed_at or datetime.now()).date()
            notes = with_line(notes, due_line(terms, placed, total), DUE_LABEL)
    paid = False
    if opts.get("paid_note", True) and paid_state:
        payments = ps_reader.order_payments(ctx.shop, int(order.prestashop_id))
        if payments:
            last = payments[-1]
            amount = sum((Decimal(p["amount"]) for p in payments), Decimal(0))
            line = paid_line(
                last["date_add"],
                amount,
                str(last["payment_method"] or order.payment_method),
                str(last["transaction_id"] or ""),
            )
        else:
            line = paid_line(order.updated_at or datetime.now(), Decimal(order.total_tax_incl), order.payment_method)
        notes, paid = with_line(notes, line, PAID_LABEL), True
    return notes, paid


__all__ = ["line_rows", "order_money", "payment_code", "private_notes"]
