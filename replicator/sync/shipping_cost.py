"""Shipping cost of FactuSOL documents: what a delivery note (or invoice) charges for shipping, and FactuSOL's
delivery note → the shop order's shipping, by rule (``shipment.yaml fields.shipping_cost``).

A document's shipping is its portes (``IPOR1..4<x>``, each at its slot's VAT ``PIVAn``) plus its lines of the
shipping article (``order.yaml shipping.article``, with ``shipping.mode: line``), at their line's VAT.  The shop order
gets the sum over the order's delivery notes when that sum changed in FactuSOL since it was last pushed (the
baseline), and differs from the shop's: a later FactuSOL edit follows, a shop-only edit stays.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable

from replicator.factusol import reader as fs_reader
from replicator.prestashop import write as ps_writer
from replicator.rules.ruleset import writes
from replicator.sync.echo import shop_marker

CENT = Decimal("0.01")


def _dec(value: Any) -> Decimal:
    return Decimal(str(value or 0))


def document_shipping(
    header: dict[str, Any], suffix: str, lines: Iterable[dict[str, Any]] = (), line_suffix: str = "LAL"
) -> tuple[Decimal, Decimal]:
    """(without VAT, with VAT) of a document's shipping: portes per slot at the slot's rate, plus shipping lines."""
    excl = incl = Decimal(0)
    for n in range(1, 5):
        amount = _dec(header.get(f"IPOR{n}{suffix}"))
        rate = _dec(header.get(f"PIVA{n}{suffix}")) if n < 4 else Decimal(0)
        excl += amount
        incl += (amount * (1 + rate / 100)).quantize(CENT, ROUND_HALF_UP)
    for ln in lines:
        amount = _dec(ln.get(f"TOT{line_suffix}"))
        selector = int(ln.get(f"IVA{line_suffix}") or 0)
        rate = _dec(header.get(f"PIVA{selector + 1}{suffix}")) if selector < 3 else Decimal(0)
        excl += amount
        incl += (amount * (1 + rate / 100)).quantize(CENT, ROUND_HALF_UP)
    return excl.quantize(CENT, ROUND_HALF_UP), incl


def notes_shipping(ctx, notes: list[dict[str, Any]]) -> tuple[Decimal, Decimal]:
    """The shipping of an order's delivery notes, summed."""
    shipping = ctx.rules.entity("order").options.get("shipping") or {}
    article = shipping.get("article", "PORTES") if shipping.get("mode", "portes") == "line" else ""
    excl = incl = Decimal(0)
    for note in notes:
        lines = (
            fs_reader.document_article_lines(ctx.factusol, "F_LAL", note["TIPALB"], int(note["CODALB"]), article)
            if article
            else []
        )
        e, i = document_shipping(note, "ALB", lines)
        excl, incl = excl + e, incl + i
    return excl, incl


def follow_shipping_cost(
    ctx, key: str, order_id: int, notes: list[dict[str, Any]], base: dict[str, Any], new_base: dict[str, Any]
) -> list[str]:
    """Bring FactuSOL's shipping cost of the order's notes to the shop order when it moved; what was done."""
    field = ctx.rules.entity("shipment").fields.get("shipping_cost")
    if field is None or not writes(field.direction, "prestashop") or not notes:
        return []
    excl, incl = notes_shipping(ctx, notes)
    figure = f"{excl}|{incl}"
    if figure == base.get("shipping"):
        return []
    new_base["shipping"] = figure
    if "shipping" not in base and not excl:
        return []  # a note without portes (the cost is in the order as the shop took it): nothing to say
    if ps_writer.set_shipping_cost(ctx.shop, order_id, excl, incl, extra=shop_marker(ctx, f"shipment {key} cost")):
        return [f"shipping cost -> {excl} ({incl} with VAT) from the delivery notes"]
    return []


__all__ = ["document_shipping", "follow_shipping_cost", "notes_shipping"]
