"""Invoices: a FactuSOL invoice (F_FAC) of a shop order gives the shop order its number, date, totals and paid state.

Keys are the order's ``ps:<id_order>``.  An order's invoices are found three ways, all used:
F_LFA lines with DOC='A' pointing at one of the order's delivery notes (the usual pedido → albarán → factura
path), DOC='C' pointing at the pedido itself (pedido invoiced directly), and F_FAC.REFFAC = the pedido's REFPCL.
The most recent invoice that is not annulled (ESTFAC 4) is the one the shop shows: ``writer.set_invoice`` puts
CODFAC/FECFAC(+HORFAC) in order_invoice and orders.invoice_number/invoice_date, TOTFAC and the bases in the
order_invoice totals, and the due dates (VENFAC) in order_invoice.note.  The FactuSOL series is not kept
(PrestaShop numbers have no series; PS_INVOICE_PREFIX is global).

FactuSOL is the legal invoicing system: nothing flows shop → FactuSOL here.  The events of the rule files about
invoices (``invoice_created``, ``{column: F_FAC.ESTFAC, equals: 2}`` = cobrada → ``PS_OS_PAYMENT``) run after the
invoice is recorded, forward only (see replicator.sync.shipments).
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from typing import Any

from replicator.factusol import reader as fs_reader
from replicator.factusol.reader import empty_date
from replicator.prestashop import reader as ps_reader
from replicator.prestashop import write as ps_writer
from replicator.store import APPLIED, Change
from replicator.sync.base import NOOP, Outcome, SyncContext, SyncError, image, row_key
from replicator.sync.echo import shop_marker
from replicator.sync.followup import PedidoFollowUp, order_key
from replicator.sync.shipments import fire_events, order_documents, orders_of_document
from replicator.sync.shipping_cost import document_shipping

log = logging.getLogger("replicator.sync.invoices")

ENTITY = "invoice"
ANNULLED = 4  # ESTFAC 4 Anulada


def due_dates(venfac: str | None) -> list[tuple[str, str]]:
    """VENFAC 'dd/mm/yyyy;importe;dd/mm/yyyy;importe…' (decimal comma) -> [(date, amount)]."""
    parts = [p.strip() for p in str(venfac or "").split(";")]
    return [(parts[i], parts[i + 1] if i + 1 < len(parts) else "") for i in range(0, len(parts), 2) if parts[i]]


def invoice_image(inv: dict[str, Any]) -> dict[str, Any]:
    """What the shop gets from one F_FAC row (JSON-safe, also the baseline)."""
    date = empty_date(inv.get("FECFAC")) or datetime.now()
    hour = inv.get("HORFAC")
    if hour is not None and hasattr(hour, "hour"):
        date = date.replace(hour=hour.hour, minute=hour.minute, second=hour.second)
    bases = sum((Decimal(str(inv.get(f"BAS{n}FAC") or 0)) for n in range(1, 5)), Decimal("0"))
    dues = due_dates(inv.get("VENFAC"))
    return {
        "series": str(inv["TIPFAC"]).strip(),
        "number": int(inv["CODFAC"]),
        "date": date.replace(microsecond=0).isoformat(sep=" "),
        "total_tax_incl": str(Decimal(str(inv.get("TOTFAC") or 0)).quantize(Decimal("0.01"))),
        "total_tax_excl": str(bases.quantize(Decimal("0.01"))),
        "due": "; ".join(f"{d} {a}".strip() for d, a in dues),
    }


def _invoice_shipping(ctx: SyncContext, inv: dict[str, Any]) -> tuple[Decimal, Decimal]:
    """What the FactuSOL invoice charges for shipping: its portes and its lines of the shipping article."""
    shipping = ctx.rules.entity("order").options.get("shipping") or {}
    article = shipping.get("article", "PORTES") if shipping.get("mode", "portes") == "line" else ""
    lines = (
        fs_reader.document_article_lines(ctx.factusol, "F_LFA", str(inv["TIPFAC"]), int(inv["CODFAC"]), article)
        if article
        else []
    )
    return document_shipping(inv, "FAC", lines, "LFA")


def invoice_totals(want: dict[str, Any]) -> dict[str, Decimal]:
    """order_invoice totals all from the FactuSOL invoice (never its total beside the shop's shipping): shipping as
    the invoice charges it, products the rest (its discounts are negative lines there, so no discount column)."""
    paid_incl, paid_excl = Decimal(want["total_tax_incl"]), Decimal(want["total_tax_excl"])
    ship_incl, ship_excl = Decimal(want.get("shipping_tax_incl", 0)), Decimal(want.get("shipping_tax_excl", 0))
    return {
        "total_paid_tax_incl": paid_incl,
        "total_paid_tax_excl": paid_excl,
        "total_shipping_tax_incl": ship_incl,
        "total_shipping_tax_excl": ship_excl,
        "total_products_wt": paid_incl - ship_incl,
        "total_products": paid_excl - ship_excl,
        "total_discount_tax_incl": Decimal(0),
        "total_discount_tax_excl": Decimal(0),
        "total_wrapping_tax_incl": Decimal(0),
        "total_wrapping_tax_excl": Decimal(0),
    }


class InvoiceSync(PedidoFollowUp):
    entity = ENTITY

    def keys_for_change(self, ctx: SyncContext, change: Change) -> list[str]:
        if change.side == "factusol" and change.source_table in ("F_FAC", "F_LFA"):
            return orders_of_document(ctx, change.source_table, row_key(change), image(change))
        if change.side == "prestashop" and change.source_table == "order_invoice":
            oid = image(change).get("id_order")
            # a shop-made invoice of a linked order: re-assert FactuSOL's number (a no-op when none exists)
            if oid and ctx.store.map_id("order", prestashop_id=str(oid)):
                return [order_key(oid)]
        return []

    def follow(self, ctx: SyncContext, key: str, order_id: int, pedido: tuple[str, int]) -> Outcome:
        facts = order_documents(ctx, *pedido, with_invoices=True)
        live = [i for i in facts["F_FAC"] if int(i.get("ESTFAC") or 0) != ANNULLED]
        facts["F_FAC"] = live
        base = ctx.store.baseline(ENTITY, key) or {}
        new_base = dict(base)
        done: list[str] = []
        if live:
            want = invoice_image(live[-1])
            want["shipping_tax_excl"], want["shipping_tax_incl"] = (str(v) for v in _invoice_shipping(ctx, live[-1]))
            shop_invoices = ps_reader.read_invoices(ctx.shop, [order_id]).get(order_id, [])
            in_shop = any(i.number == want["number"] for i in shop_invoices)
            if want != base.get("invoice") or not in_shop:
                totals = invoice_totals(want)
                note = f"FactuSOL {want['series']}-{want['number']}" + (
                    f"; vencimientos: {want['due']}" if want["due"] else ""
                )
                try:
                    ps_writer.set_invoice(
                        ctx.shop,
                        order_id,
                        want["number"],
                        datetime.fromisoformat(want["date"]),
                        totals,
                        note=note,
                        extra=shop_marker(ctx, f"invoice {key}"),
                    )
                except ps_writer.WriteError as exc:
                    raise SyncError(ENTITY, key, str(exc), "number") from None
                done.append(f"invoice {want['series']}-{want['number']} of {want['date'][:10]}")
            new_base["invoice"] = want
        fired, events_done = fire_events(ctx, key, order_id, "invoice", facts, base.get("events", []))
        done += events_done
        new_base["events"] = fired
        if new_base != base:
            ctx.store.set_baseline(ENTITY, key, new_base)
        return Outcome(APPLIED if done else NOOP, "; ".join(done))


__all__ = ["InvoiceSync", "ENTITY", "due_dates", "invoice_image"]
