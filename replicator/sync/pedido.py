"""The pedido mapping: a shop order as the F_PCL header and F_LPC lines FactuSOL gets (no write here).

Its money (lines, shipping, cart rules, rounding lines, totals to the cent of what the customer paid) is
sync/pedido_totals.py's; its payment method, due dates and payment note sync/pedido_amounts.py's."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from replicator.factusol import reader as fs_reader
from replicator.factusol.schema import load_schema
from replicator.model import Order, OrderLine
from replicator.prestashop import reader as ps_reader
from replicator.rules.errors import MappingError
from replicator.rules.fit import check_order_lines
from replicator.sync.base import SyncContext, SyncError
from replicator.sync.combinations import variant_of_combination
from replicator.sync.followup import reference_for
from replicator.sync.pedido_amounts import line_rows, order_money, payment_code, private_notes
from replicator.sync.pedido_totals import PedidoMoney, discount_parts  # noqa: F401  (discount_parts: kept here)

ENTITY = "order"
log = logging.getLogger("replicator.sync.orders")
FS_USER = 1  # USUPCL/USMPCL: the FactuSOL user public writers use


@dataclass
class Pedido:
    """What will be written to FactuSOL for one shop order, plus what the mapping noticed."""

    header: dict[str, Any]
    lines: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    difference: Decimal = Decimal("0")
    paid: bool = False  # the shop's payment is noted in PRIPCL


def _fit(table: str, column: str, value: Any, notes: list[str]) -> str:
    """Header snapshots are copies of the customer's address: cut to width, but say so (never silently)."""
    text = "" if value is None else str(value).strip()
    width = load_schema()[table].column(column).size
    if width and len(text) > width:
        notes.append(f"{column} cut to {width} characters")
        text = text[:width].rstrip()
    return text


def _country_name(ctx: SyncContext, iso: str) -> str:
    try:
        return str(ctx.rules.entity("address").value_map("countries").to_side(iso or "ES", "factusol"))
    except KeyError:
        return iso or ""


def order_content(order: Order) -> str:
    """A fingerprint of what the shop order asks for (lines, cart rules, shipping, total), kept in the baseline: a
    different one later means the order was edited in the shop after its pedido was made."""
    lines = sorted(
        (
            ln.reference,
            ln.prestashop_product_id or 0,
            ln.prestashop_attribute_id or 0,
            str(ln.quantity),
            str(ln.total_tax_excl),
        )
        for ln in order.lines
    )
    discounts = sorted((d.name, str(d.value_tax_excl)) for d in order.discounts)
    text = json.dumps([lines, discounts, str(order.shipping_tax_excl), str(order.total_tax_incl)])
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def resolve_article(
    reference: str, combo_reference: str, variants: dict[str, list[tuple[str, str]]]
) -> tuple[str, str, str] | None:
    """(article, CE1, CE2) of a shop line: its combination reference 'ART-CE1-CE2' (or 'ART-CE'), else the product
    reference as a plain article.  None when FactuSOL has no such article/variant."""
    for candidate in (combo_reference, reference):
        if not candidate:
            continue
        if candidate in variants and (not variants[candidate] or candidate == reference and not combo_reference):
            return candidate, "", ""
        parts = candidate.split("-")
        for cut in range(len(parts) - 1, 0, -1):
            article, rest = "-".join(parts[:cut]), parts[cut:]
            if article not in variants or len(rest) > 2:
                continue
            for ce1, ce2 in variants[article]:
                if (len(rest) == 2 and (ce1, ce2) == tuple(rest)) or (
                    len(rest) == 1 and rest[0] in (ce1, ce2) and "" in (ce1, ce2)
                ):
                    return article, ce1, ce2
    return None


def _candidates(line: OrderLine, combo_ref: str) -> set[str]:
    out = {line.reference, combo_ref}
    for ref in (line.reference, combo_ref):
        parts = (ref or "").split("-")
        out.update("-".join(parts[:i]) for i in range(1, len(parts)))
    return {c for c in out if c}


def build_pedido(ctx: SyncContext, key: str, order: Order, customer_code: int) -> Pedido:
    """Map a shop order to F_PCL/F_LPC rows (no write).  Raises SyncError naming the field that can't be mapped."""
    opts = ctx.rules.entity(ENTITY).options
    try:
        check_order_lines(order.lines, order.total_tax_incl, key=key)  # never a pedido at -10 EUR or 2.5 units
    except MappingError as exc:
        raise SyncError(ENTITY, key, exc.reason, exc.field) from None
    notes: list[str] = []
    shipping_cfg = opts.get("shipping") or {}
    articles = {
        "shipping": shipping_cfg.get("article", "PORTES") if shipping_cfg.get("mode", "portes") == "line" else "",
        "discount": (opts.get("discounts") or {}).get("article", ""),
        "rounding": (opts.get("rounding") or {}).get("article", ""),
    }
    combos = ps_reader.combination_references(ctx.shop, [ln.prestashop_attribute_id for ln in order.lines])
    variants = fs_reader.article_variants(ctx.factusol, sorted(_wanted_articles(order, combos, articles)))
    resolved = _resolve_articles(ctx, key, order, combos, variants)
    money, _surcharge = order_money(ctx, key, order, customer_code)
    _check_articles(key, money, articles, variants)
    lines = line_rows(
        money, order, resolved.__getitem__, articles["shipping"], articles["discount"], articles["rounding"]
    )
    notes += money.notes
    if money.surcharge_added:
        notes.append(f"equivalence surcharge {money.surcharge_added} added by FactuSOL (the shop did not charge it)")
    tax = fs_reader.customer_tax(ctx.factusol, customer_code) or {}
    header, paid = _header(ctx, key, order, customer_code, tax, money, notes)
    difference = money.totals["TOTPCL"] - money.expected
    if difference:  # never expected: the money module makes them equal; said, not hidden, if it ever happens
        notes.append(
            f"total differs from the shop: FactuSOL {money.totals['TOTPCL']} vs {money.expected} "
            f"(difference {difference})"
        )
    return Pedido(header, lines, notes, difference, paid)


def _wanted_articles(order: Order, combos: dict[int, str], articles: dict[str, str]) -> set[str]:
    """Every FactuSOL article code the order's lines, shipping, cart rules and rounding may name."""
    wanted: set[str] = set()
    for ln in order.lines:
        wanted |= _candidates(ln, combos.get(ln.prestashop_attribute_id or 0, ""))
    return wanted | {a for a in articles.values() if a}


def _resolve_articles(
    ctx: SyncContext, key: str, order: Order, combos: dict[int, str], variants: dict[str, list[tuple[str, str]]]
) -> dict[int, tuple[str, str, str]]:
    """Shop line number -> (ARTLPC, CE1LPC, CE2LPC); SyncError for a line FactuSOL has no article for."""
    out = {}
    for n, ln in enumerate(order.lines, start=1):
        combo_ref = combos.get(ln.prestashop_attribute_id or 0, "")
        found = resolve_article(ln.reference, combo_ref, variants)
        if ln.prestashop_attribute_id and (found or (ln.reference, "", ""))[1:] == ("", ""):
            # a combination whose reference names no variant (the product's, or none): by its attribute names
            article = found[0] if found else ln.reference
            named = variant_of_combination(ctx, ln.prestashop_attribute_id, variants.get(article, []))
            found = (article, *named) if named else found
        if found is None:
            shown = combo_ref or ln.reference or "(empty)"
            raise SyncError(ENTITY, key, f"line {n}: unknown FactuSOL article {shown!r} ({ln.name})", "line.reference")
        out[n] = found
    return out


def _check_articles(key: str, money: PedidoMoney, articles: dict[str, str], variants: dict) -> None:
    """The rule's shipping, discount and rounding articles must exist in FactuSOL when the pedido has such lines."""
    kinds = {a.kind for a in money.lines}
    for kind, what in (
        ("shipping", "shipping.article"),
        ("discount", "discounts.article"),
        ("rounding", "rounding.article"),
    ):
        if articles[kind] and kind in kinds and articles[kind] not in variants:
            raise SyncError(
                ENTITY, key, f"{kind} article {articles[kind]!r} (order.yaml {what}) does not exist in FactuSOL", what
            )


def _carrier_code(ctx: SyncContext, key: str, order: Order, notes: list[str]) -> int:
    """TRNPCL: the shop carrier's id_reference through shipment.yaml carriers; a fallback is said, none quarantines."""
    carriers = ctx.rules.entity(ENTITY).value_map("shipment.carriers")
    try:
        trn = int(carriers.to_side(carriers.from_side(order.carrier_id, "prestashop"), "factusol"))
    except KeyError:
        raise SyncError(
            ENTITY,
            key,
            f"carrier id_reference {order.carrier_id!r} is missing from value map shipment.carriers",
            "carrier",
        ) from None
    if not carriers.knows(order.carrier_id, "prestashop"):
        said = f"carrier id_reference {order.carrier_id} is not in shipment.yaml carriers: the fallback {trn} is used"
        log.info("order %s: %s", key, said)
        notes.append(said)
    return trn


def _header(
    ctx: SyncContext,
    key: str,
    order: Order,
    customer_code: int,
    tax: dict[str, Any],
    money: PedidoMoney,
    notes: list[str],
) -> tuple[dict[str, Any], bool]:
    """The F_PCL header, and whether the shop's payment is noted in it."""
    rules = ctx.rules.entity(ENTITY)
    opts = rules.options
    totals = money.totals
    bill = order.billing or order.delivery
    if bill is None:
        raise SyncError(ENTITY, key, "the order has no invoice address", "billing")
    placed = order.placed_at or datetime.now()
    fop = payment_code(ctx, key, order, notes)
    trn = _carrier_code(ctx, key, order, notes)
    state = ctx.shop.order_states().get(order.state_id)
    private, paid = private_notes(ctx, order, fop, totals["TOTPCL"], paid_state=bool(state and state.paid))
    header: dict[str, Any] = {
        "TIPPCL": str(opts.get("series", "1")),
        "REFPCL": reference_for(ctx, order.prestashop_id, order.reference, key),
        "FECPCL": datetime(placed.year, placed.month, placed.day),
        "HORPCL": datetime(1900, 1, 1, placed.hour, placed.minute, placed.second),
        "CLIPCL": int(customer_code),
        "CNOPCL": _fit("F_PCL", "CNOPCL", bill.company or bill.name, notes),
        "CDOPCL": _fit("F_PCL", "CDOPCL", bill.street, notes),
        "CPOPCL": _fit("F_PCL", "CPOPCL", bill.city, notes),  # población
        "CCPPCL": _fit("F_PCL", "CCPPCL", bill.postcode, notes),  # código postal
        "CPRPCL": _fit("F_PCL", "CPRPCL", bill.province, notes),
        "CNIPCL": _fit("F_PCL", "CNIPCL", bill.nif, notes),
        "TELPCL": _fit("F_PCL", "TELPCL", bill.phone or bill.mobile, notes),
        "CEMPCL": _fit("F_PCL", "CEMPCL", order.customer_email, notes),
        "CPAPCL": _fit("F_PCL", "CPAPCL", _country_name(ctx, bill.country_iso), notes),
        "ESTPCL": 0,
        "ALMPCL": str(opts.get("warehouse", "GEN")),
        "FOPPCL": str(fop),
        "TIVPCL": int(tax.get("IVACLI") or 0),
        "REQPCL": int(bool(tax.get("REQCLI"))),
        "TRNPCL": trn,
        "PRTPCL": 0,
        "PRIPCL": private,
        "USUPCL": FS_USER,
        "USMPCL": FS_USER,
        "FUMPCL": datetime.now().replace(microsecond=0),
        **totals,
    }
    header.update(_delivery_address(ctx, customer_code, order, bill, notes))
    return header, paid


def _delivery_address(ctx: SyncContext, customer_code: int, order: Order, bill, notes: list[str]) -> dict[str, Any]:
    """A delivery address other than the invoice one: its F_OBR code, else a snapshot in the observations."""
    ship = order.delivery
    if (
        ship is None
        or bill is None
        or (ship.street, ship.postcode, ship.city) == (bill.street, bill.postcode, bill.city)
    ):
        return {}
    obr = fs_reader.delivery_address_code(ctx.factusol, customer_code, ship.street, ship.postcode)
    if obr:
        return {"OBRPCL": obr}
    # no F_OBR row for it: a snapshot in the observations, where the warehouse reads it
    return {
        "OB1PCL": _fit("F_PCL", "OB1PCL", f"Entrega: {ship.company or ship.name}, {ship.street}", notes),
        "OB2PCL": _fit(
            "F_PCL",
            "OB2PCL",
            " ".join(
                p for p in (ship.postcode, ship.city, f"({ship.province})" if ship.province else "", ship.phone) if p
            ),
            notes,
        ),
    }
