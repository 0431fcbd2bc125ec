"""`replicator reconcile` for what FactuSOL's figures and documents give the shop: stock, shipments and invoices.

- stock: each shop stock row of a linked product (the product, or each combination FactuSOL has) against the
  quantity the stock rule's warehouses and formula give from FactuSOL's figures now (`StockSync.differences`);
- shipments: each linked shop order against its FactuSOL delivery notes: the newest tracking number, the newest
  note's carrier (through the `carriers` map), and the state the rule events about delivery notes give
  (shipped, delivered), forward only as the sync moves it;
- invoices: each linked shop order against its newest FactuSOL invoice that is not annulled: number, date, totals,
  the state the invoice events give and, on an order already that far along, its payment.

Only orders whose pedido is in the open FactuSOL file and that are still in the shop are followed, as the syncs do.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from replicator.factusol.reader import empty_date
from replicator.keys import doc_year, split_doc_key
from replicator.prestashop import reader as ps_reader
from replicator.rules.ruleset import writes
from replicator.sync.differences import Difference, ReconcileReport
from replicator.sync.followup import order_key
from replicator.sync.invoices import ANNULLED, invoice_image
from replicator.sync.order_states import is_cancel_state, progress
from replicator.sync.shipments import event_side, holds, order_documents, rule_events, tracking_column
from replicator.sync.stock import StockSync

CHUNK = 2000
CENT = Decimal("0.01")


def stock(ctx, report: ReconcileReport) -> None:
    sync = StockSync()
    keys = list(sync.all_keys(ctx))
    report.checked["stock"] = len(keys)
    for i in range(0, len(keys), CHUNK):
        for article, rows in sync.differences(ctx, keys[i : i + CHUNK]).items():
            for label, shop, wanted in rows:
                report.differences.append(
                    Difference(
                        "stock",
                        article,
                        "field",
                        "quantity",
                        wanted,
                        shop,
                        detail=f"{label}: the stock rule gives {wanted} from FactuSOL's figures",
                    )
                )


def _followed(ctx) -> list[tuple[str, int, tuple[str, int]]]:
    """(key, shop order id, pedido) of every linked order whose pedido is in the open file and that is in the shop."""
    present = set(ps_reader.order_ids(ctx.shop))
    out = []
    for code, order_id in ctx.store.id_map("order").items():
        if int(order_id) in present and doc_year(code) in ("", ctx.factusol_year):
            out.append((order_key(order_id), int(order_id), split_doc_key(code)))
    return sorted(out, key=lambda item: item[1])


def _writes_shop(ctx, entity: str, name: str) -> bool:
    rule = ctx.rules.entity(entity).fields.get(name)
    return rule is None or writes(rule.direction, "prestashop")


def _states(ctx, report: ReconcileReport, entity: str, key: str, order_id: int, facts: dict, paid: bool | None):
    """The rule events of this entity whose condition holds and whose state the shop order has not reached; for a
    paid state on an order already that far along, its invoice payment (``paid``: the shop invoice is paid)."""
    states = ctx.shop.order_states()
    current = states.get(ps_reader.current_state(ctx.shop, order_id))
    if is_cancel_state(current):
        return  # a cancelled order is left alone by the events
    for name, when, set_state in rule_events(ctx):
        if event_side(when) != entity or not holds(when, facts):
            continue
        target = states.get(ctx.shop.state_id(set_state))
        if target is None:
            report.differences.append(
                Difference(entity, key, "field", "state", set_state, None, f"the shop has no order state {set_state}")
            )
        elif progress(target) > progress(current):
            report.differences.append(
                Difference(
                    entity,
                    key,
                    "field",
                    "state",
                    set_state,
                    current.name if current else None,
                    f"event {name} holds in FactuSOL",
                    event=name,
                )
            )
        elif target.paid and paid is False:
            report.differences.append(
                Difference(entity, key, "field", "paid", True, False, f"event {name} holds in FactuSOL", event=name)
            )


def shipments(ctx, report: ReconcileReport) -> None:
    followed = _followed(ctx)
    report.checked["shipment"] = len(followed)
    shop = ps_reader.read_shipments(ctx.shop, [order_id for _, order_id, _ in followed])
    column = tracking_column(ctx)
    carriers = ctx.rules.entity("shipment").value_map("carriers")
    for key, order_id, pedido in followed:
        facts = order_documents(ctx, *pedido)
        notes, current = facts["F_ALB"], shop.get(order_id)
        if notes:
            tracking = next(
                (str(n.get(column) or "").strip() for n in reversed(notes) if str(n.get(column) or "").strip()), ""
            )
            in_shop = current.tracking_number if current else ""
            if tracking and tracking != in_shop and _writes_shop(ctx, "shipment", "tracking_number"):
                report.differences.append(
                    Difference("shipment", key, "field", "tracking_number", tracking, in_shop, f"{column} of the note")
                )
            trn = notes[-1].get("TRNALB")
            if trn not in (None, "") and _writes_shop(ctx, "shipment", "carrier"):
                problem = _carrier_problem(ctx, carriers, int(trn), current)
                if problem is not None:
                    shop_carrier = current.carrier if current else None
                    report.differences.append(
                        Difference("shipment", key, "field", "carrier", int(trn), shop_carrier, problem)
                    )
        _states(ctx, report, "shipment", key, order_id, facts, None)


def _carrier_problem(ctx, carriers, trn: int, current) -> str | None:
    """Why the shop order's carrier is not FactuSOL's (mapped as the shipment sync maps it), or None when it is."""
    try:
        canonical = carriers.from_side(trn, "factusol")
        id_reference = int(carriers.to_side(canonical, "prestashop"))
    except KeyError:
        return f"TRNALB {trn} is missing from value map carriers"
    if current is None or current.carrier_id is None:
        return f"the shop order has no carrier; FactuSOL's maps to id_reference {id_reference}"
    current_ref = ps_reader.carrier_reference(ctx.shop, current.carrier_id)
    try:
        same = current_ref == id_reference or carriers.from_side(current_ref, "prestashop") == canonical
    except KeyError:
        same = False
    return None if same else f"FactuSOL's carrier maps to id_reference {id_reference}, the shop's is {current_ref}"


def invoices(ctx, report: ReconcileReport) -> None:
    followed = _followed(ctx)
    report.checked["invoice"] = len(followed)
    shop = ps_reader.read_invoices(ctx.shop, [order_id for _, order_id, _ in followed])
    for key, order_id, pedido in followed:
        facts = order_documents(ctx, *pedido, with_invoices=True)
        live = [i for i in facts["F_FAC"] if int(i.get("ESTFAC") or 0) != ANNULLED]
        facts["F_FAC"] = live
        paid = None
        if live:
            want = invoice_image(live[-1])
            in_shop = shop.get(order_id, [])
            match = next((i for i in in_shop if i.number == want["number"]), None)
            if match is None:
                report.differences.append(
                    Difference(
                        "invoice",
                        key,
                        "field",
                        "number",
                        want["number"],
                        [i.number for i in in_shop] or None,
                        f"FactuSOL invoice {want['series']}-{want['number']} is not on the shop order",
                    )
                )
            else:
                paid = match.paid
                _invoice_fields(report, key, live[-1], want, match)
        _states(ctx, report, "invoice", key, order_id, facts, paid)


def _invoice_fields(report: ReconcileReport, key: str, row: dict, want: dict[str, Any], match) -> None:
    pairs = [
        ("total_tax_incl", Decimal(want["total_tax_incl"]), Decimal(match.total_tax_incl).quantize(CENT)),
        ("total_tax_excl", Decimal(want["total_tax_excl"]), Decimal(match.total_tax_excl).quantize(CENT)),
    ]
    if empty_date(row.get("FECFAC")) is not None:  # an invoice without a date is given the day it reached the shop
        shop_date = match.issued_at.replace(microsecond=0).isoformat(sep=" ") if match.issued_at else None
        pairs.insert(0, ("issued_at", want["date"], shop_date))
    for name, factusol, shop in pairs:
        if factusol != shop:
            report.differences.append(Difference("invoice", key, "field", name, str(factusol), str(shop)))
