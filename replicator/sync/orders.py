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

import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable

from replicator.capture.snapshot import row_hash
from replicator.factusol import reader as fs_reader
from replicator.factusol import writer as fs_writer
from replicator.factusol.connection import FactusolDuplicateKeyError
from replicator.factusol.schema import FactusolWidthError, load_schema
from replicator.model import Order, OrderLine
from replicator.prestashop import reader as ps_reader
from replicator.prestashop import write as ps_writer
from replicator.rules import MappingError
from replicator.rules.transforms import to_side_value
from replicator.store import APPLIED, CONFLICT, Change
from replicator.sync.base import NOOP, Outcome, SyncContext, SyncError, image, row_key, sync_each
from replicator.sync.common import FACTUSOL, factusol_key, record_factusol_write, shop_marker

log = logging.getLogger("replicator.sync.orders")

ENTITY = "order"
PS_TABLES = ("orders", "order_detail", "order_carrier", "order_history")
CANCELLED = "cancelled"
CANCEL_KEYS = ("PS_OS_CANCELED", "PS_OS_ERROR", "PS_OS_REFUND")
# The shop order's columns the reader must give us: the payment MODULE (what payment_methods maps, not the
# display name) and the carrier's id_reference (stable across carrier edits, what shipment.carriers maps).
PS_ORDER_MAPS = {"order": {"payment_method": "o.module", "carrier_id": "ca.id_reference"}}
CENT, FOUR = Decimal("0.01"), Decimal("0.0001")
FS_USER = 1  # USUPCL/USMPCL: the FactuSOL user public writers use


# ------------------------------------------------------------------------------------------------ keys


def order_key(order_id: int | str) -> str:
    return f"ps:{int(order_id)}"


def linked_order_keys(ctx: SyncContext) -> list[str]:
    """Keys of every shop order that has a pedido: what shipments and invoices follow."""
    return sorted((order_key(pid) for pid in ctx.store.id_map(ENTITY).values()), key=lambda k: int(k[3:]))


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


def order_id_of(key: str) -> int:
    if not key.startswith("ps:") or not key[3:].isdigit():
        raise SyncError(ENTITY, key, "order keys are ps:<id_order>")
    return int(key[3:])


def doc_key(series: str, number: int, year: str = "") -> str:
    """The id-map FactuSOL key of a pedido: "<year>/<series>-<number>" (numbers restart in each year file)."""
    return (f"{year}/" if year else "") + f"{str(series).strip()}-{int(number)}"


def split_doc_key(value: str) -> tuple[str, int]:
    series, _, number = value.rpartition("/")[2].partition("-")
    return series, int(number)


def doc_year(value: str) -> str:
    return value.partition("/")[0] if "/" in value else ""


def _reference_rule(ctx: SyncContext):
    return ctx.rules.entity(ENTITY).fields["reference"]


def reference_for(ctx: SyncContext, order_id: int, reference: str, key: str = "") -> str:
    """REFPCL of a shop order: the rule's template (``PS-{prestashop_id}-{reference}``), fitted to width 50."""
    rules = ctx.rules.entity(ENTITY)
    try:
        return to_side_value(rules, _reference_rule(ctx), "factusol",
                             {"prestashop_id": order_id, "reference": reference}, key or order_key(order_id))
    except MappingError as exc:
        raise SyncError(ENTITY, key or order_key(order_id), exc.reason, exc.field) from None


def order_id_from_reference(ctx: SyncContext, refpcl: str | None) -> int | None:
    """The shop order id a REFPCL was written for (None for pedidos that did not come from the shop)."""
    template = _reference_rule(ctx).factusol.template or ""
    if not refpcl or "{prestashop_id}" not in template:
        return None
    parts = re.split(r"\{(\w+)\}", template)
    rx = "".join(re.escape(p) if i % 2 == 0 else (r"(?P<prestashop_id>\d+)" if p == "prestashop_id" else ".*?")
                 for i, p in enumerate(parts))
    m = re.match(rx + "$", str(refpcl).strip())
    return int(m.group("prestashop_id")) if m else None


def order_id_for_pedido(ctx: SyncContext, series: str, number: int, refpcl: str | None = None,
                        look_up: bool = True) -> int | None:
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
    if link is None or doc_year(link.factusol_key) not in ("", ctx.factusol_year):
        return None  # the pedido lives in another fiscal-year file than the one open
    return split_doc_key(link.factusol_key)


# ------------------------------------------------------------------------------------------------ states


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


# ------------------------------------------------------------------------------------------------ mapping


@dataclass
class Pedido:
    """What will be written to FactuSOL for one shop order, plus what the mapping noticed."""

    header: dict[str, Any]
    lines: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    difference: Decimal = Decimal("0")


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


def _vat_selector(ctx: SyncContext, key: str, rate: Decimal, what: str) -> int:
    rates = ctx.rules.entity(ENTITY).vat_rates
    for selector, value in sorted(rates.items()):
        if Decimal(value) == Decimal(rate).quantize(CENT):
            return int(selector)
    raise SyncError(ENTITY, key, f"no FactuSOL VAT type has rate {rate}% (rules vat_rates: "
                                 f"{', '.join(f'{k}={v}' for k, v in sorted(rates.items()))})", what)


def order_content(order: Order) -> str:
    """A fingerprint of what the shop order asks for (lines, cart rules, shipping, total), kept in the baseline: a
    different one later means the order was edited in the shop after its pedido was made."""
    lines = sorted((ln.reference, ln.prestashop_product_id or 0, ln.prestashop_attribute_id or 0, str(ln.quantity),
                    str(ln.total_tax_excl)) for ln in order.lines)
    discounts = sorted((d.name, str(d.value_tax_excl)) for d in order.discounts)
    text = json.dumps([lines, discounts, str(order.shipping_tax_excl), str(order.total_tax_incl)])
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def discount_parts(order: Order) -> list[tuple[str, Decimal, Decimal, Decimal]]:
    """(name, VAT rate, amount tax excluded, amount tax included) of the discount lines for the order's cart rules.

    A cart rule's amount carries one VAT rate when the order's products (and shipping, for free shipping) have one,
    or when its tax-included amount is its tax-excluded one at one of the order's rates, to the cent.  Otherwise
    (a voucher on a cart of 21% and 10% goods) it is split over the rates: with two rates, the one split whose
    parts add up to both of the shop's amounts; with more, by the products' tax-included amounts at each rate, as
    PrestaShop spreads a voucher.  A cent of rounding then shows in the total check."""
    bases: dict[Decimal, Decimal] = {}
    for ln in order.lines:
        rate = Decimal(ln.vat_rate).quantize(CENT)
        bases[rate] = bases.get(rate, Decimal("0")) + Decimal(ln.total_tax_excl)
    ship_excl = Decimal(order.shipping_tax_excl or 0)
    ship_rate = ((Decimal(order.shipping_tax_incl) / ship_excl - 1) * 100).quantize(CENT) if ship_excl > 0 else None
    parts = []
    for d in order.discounts:
        excl, incl = Decimal(d.value_tax_excl).quantize(CENT), Decimal(d.value_tax_incl).quantize(CENT)
        if excl <= 0:
            continue
        rates = set(bases) | ({ship_rate} if ship_rate is not None and d.free_shipping else set())
        exact = [r for r in sorted(rates) if (excl * (1 + r / 100)).quantize(CENT, ROUND_HALF_UP) == incl]
        if exact or len(rates) <= 1:
            rate = exact[0] if exact else next(iter(rates), ((incl / excl - 1) * 100).quantize(CENT))
            parts.append((d.name, rate, excl, incl))
            continue
        shares = _two_rate_split(excl, incl, sorted(bases)) if len(bases) == 2 else None
        if shares is None:
            with_tax = {rate: base * (1 + rate / 100) for rate, base in bases.items()}
            total, left, shares = sum(with_tax.values(), Decimal("0")), excl, {}
            ordered = sorted(with_tax.items(), key=lambda item: -item[1])
            for n, (rate, amount) in enumerate(ordered):
                shares[rate] = left if n == len(ordered) - 1 else (excl * amount / total).quantize(CENT, ROUND_HALF_UP)
                left -= shares[rate]
        parts += [(d.name, rate, share, (share * (1 + rate / 100)).quantize(CENT, ROUND_HALF_UP))
                  for rate, share in sorted(shares.items(), reverse=True) if share]
    return parts


def _two_rate_split(excl: Decimal, incl: Decimal, rates: list[Decimal]) -> dict[Decimal, Decimal] | None:
    """Tax-excluded parts at two rates that add up to `excl`, and to `incl` with their VAT; None if there are none."""
    low, high = rates
    at_high = ((incl - excl * (1 + low / 100)) / ((high - low) / 100)).quantize(CENT, ROUND_HALF_UP)
    if not Decimal("0") <= at_high <= excl:
        return None
    return {high: at_high, low: excl - at_high}


def resolve_article(reference: str, combo_reference: str, variants: dict[str, list[tuple[str, str]]]
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
                if (len(rest) == 2 and (ce1, ce2) == tuple(rest)) or \
                        (len(rest) == 1 and rest[0] in (ce1, ce2) and "" in (ce1, ce2)):
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
    rules = ctx.rules.entity(ENTITY)
    opts = rules.options
    notes: list[str] = []
    conn = ctx.factusol
    # -- lines --------------------------------------------------------------------------------------------
    combos = ps_reader.combination_references(ctx.shop, [ln.prestashop_attribute_id for ln in order.lines])
    wanted: set[str] = set()
    for ln in order.lines:
        wanted |= _candidates(ln, combos.get(ln.prestashop_attribute_id or 0, ""))
    shipping_cfg = opts.get("shipping") or {}
    mode = shipping_cfg.get("mode", "portes")
    if mode == "line":
        wanted.add(shipping_cfg.get("article", "PORTES"))
    discount_article = (opts.get("discounts") or {}).get("article", "")
    if discount_article and order.discounts:
        wanted.add(discount_article)
    variants = fs_reader.article_variants(conn, sorted(wanted))
    lines: list[dict[str, Any]] = []
    for n, ln in enumerate(order.lines, start=1):
        combo_ref = combos.get(ln.prestashop_attribute_id or 0, "")
        found = resolve_article(ln.reference, combo_ref, variants)
        if found is None:
            shown = combo_ref or ln.reference or "(empty)"
            raise SyncError(ENTITY, key, f"line {n}: unknown FactuSOL article {shown!r} ({ln.name})",
                            "line.reference")
        article, ce1, ce2 = found
        price = ln.unit_price_tax_excl
        discount = Decimal(ln.discount_percent or 0)
        if 0 < discount < 100:  # the shop's unit price is already reduced; FactuSOL applies DT1 to PRE itself
            price = price / (1 - discount / 100)
        else:
            discount = Decimal("0")
        lines.append({
            "POSLPC": n, "ARTLPC": article, "CE1LPC": ce1, "CE2LPC": ce2, "DESLPC": ln.name,
            "CANLPC": Decimal(ln.quantity), "PRELPC": price.quantize(FOUR, ROUND_HALF_UP), "DT1LPC": float(discount),
            # the shop's own line total (cent-exact with its order total), not a recomputation from 4-decimal prices
            "TOTLPC": Decimal(ln.total_tax_excl).quantize(CENT, ROUND_HALF_UP),
            "IVALPC": _vat_selector(ctx, key, ln.vat_rate, f"line {n} vat_rate"), "IINLPC": 0,
            "PIVLPC": Decimal(ln.unit_price_tax_incl).quantize(FOUR, ROUND_HALF_UP),
            "TIVLPC": Decimal(ln.total_tax_incl).quantize(CENT, ROUND_HALF_UP),
        })
    # -- shipping -----------------------------------------------------------------------------------------
    ship_excl = Decimal(order.shipping_tax_excl or 0).quantize(CENT, ROUND_HALF_UP)
    ship_incl = Decimal(order.shipping_tax_incl or 0).quantize(CENT, ROUND_HALF_UP)
    portes = Decimal("0")
    if ship_excl > 0:
        rate = ((ship_incl / ship_excl - 1) * 100).quantize(Decimal("1"), ROUND_HALF_UP)
        selector = _vat_selector(ctx, key, rate, "shipping_tax_excl")
        if mode == "line":
            article = shipping_cfg.get("article", "PORTES")
            if article not in variants:
                raise SyncError(ENTITY, key, f"shipping article {article!r} (order.yaml shipping.article) does not "
                                             "exist in FactuSOL", "shipping.article")
            lines.append({"POSLPC": len(lines) + 1, "ARTLPC": article, "CE1LPC": "", "CE2LPC": "",
                          "DESLPC": order.carrier or "Portes", "CANLPC": Decimal("1"), "PRELPC": ship_excl,
                          "DT1LPC": 0.0, "TOTLPC": ship_excl, "IVALPC": selector, "IINLPC": 0,
                          "PIVLPC": ship_incl, "TIVLPC": ship_incl})
        else:
            if selector != 0:  # FactuSOL's portes live in VAT slot 1 in the public writers' practice
                notes.append(f"shipping VAT {rate}% is not slot 1's rate: consider shipping.mode: line")
            portes = ship_excl
    # -- cart rules -------------------------------------------------------------------------------------------
    if order.discounts and discount_article and discount_article not in variants:
        raise SyncError(ENTITY, key, f"discount article {discount_article!r} (order.yaml discounts.article) does not "
                                     "exist in FactuSOL", "discounts.article")
    for name, rate, excl, incl in discount_parts(order):
        lines.append({"POSLPC": len(lines) + 1, "ARTLPC": discount_article, "CE1LPC": "", "CE2LPC": "",
                      "DESLPC": name, "CANLPC": Decimal("1"), "PRELPC": -excl, "DT1LPC": 0.0, "TOTLPC": -excl,
                      "IVALPC": _vat_selector(ctx, key, rate, "discount vat_rate"), "IINLPC": 0,
                      "PIVLPC": -incl, "TIVLPC": -incl})
    # -- customer, tax --------------------------------------------------------------------------------------
    tax = fs_reader.customer_tax(conn, customer_code) or {}
    surcharge = bool(tax.get("REQCLI"))
    vat_rates = [Decimal(rules.vat_rates.get(i, 0)) for i in range(3)]
    rec = fs_reader.read_surcharge_rates(conn)
    rec_rates = [Decimal(rec.get(i, 0)) for i in range(3)]
    totals = fs_writer.order_totals(lines, vat_rates, rec_rates, surcharge=surcharge, shipping=portes)
    surcharge_total = sum((totals[f"IREC{n}PCL"] for n in range(1, 4)), Decimal("0"))
    expected = Decimal(order.total_tax_incl).quantize(CENT) + surcharge_total
    difference = totals["TOTPCL"] - expected
    if difference:
        notes.append(f"total differs from the shop: FactuSOL {totals['TOTPCL']} vs shop "
                     f"{Decimal(order.total_tax_incl).quantize(CENT)}"
                     + (f" + surcharge {surcharge_total}" if surcharge_total else "") + f" (difference {difference})")
    # -- header ---------------------------------------------------------------------------------------------
    bill = order.billing or order.delivery
    if bill is None:
        raise SyncError(ENTITY, key, "the order has no invoice address", "billing")
    placed = order.placed_at or datetime.now()
    try:
        payment = rules.value_map("payment_methods").from_side(order.payment_method, "prestashop")
        fop = rules.value_map("payment_methods").to_side(payment, "factusol")
    except KeyError:
        raise SyncError(ENTITY, key, f"payment module {order.payment_method!r} is missing from value map "
                                     "payment_methods", "payment_method") from None
    try:
        carriers = rules.value_map("shipment.carriers")
        trn = int(carriers.to_side(carriers.from_side(order.carrier_id, "prestashop"), "factusol"))
    except KeyError:
        raise SyncError(ENTITY, key, f"carrier id_reference {order.carrier_id!r} is missing from value map "
                                     "shipment.carriers", "carrier") from None
    header: dict[str, Any] = {
        "TIPPCL": str(opts.get("series", "1")), "REFPCL": reference_for(ctx, order.prestashop_id, order.reference, key),
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
        "ESTPCL": 0, "ALMPCL": str(opts.get("warehouse", "GEN")), "FOPPCL": str(fop),
        "TIVPCL": int(tax.get("IVACLI") or 0), "REQPCL": int(surcharge), "TRNPCL": trn, "PRTPCL": 0,
        "USUPCL": FS_USER, "USMPCL": FS_USER, "FUMPCL": datetime.now().replace(microsecond=0),
        **totals,
    }
    ship = order.delivery
    if ship is not None and bill is not None and (ship.street, ship.postcode, ship.city) != (bill.street, bill.postcode, bill.city):
        obr = fs_reader.delivery_address_code(conn, customer_code, ship.street, ship.postcode)
        if obr:
            header["OBRPCL"] = obr
        else:  # no F_OBR row for it: a snapshot in the observations, where the warehouse reads it
            header["OB1PCL"] = _fit("F_PCL", "OB1PCL", f"Entrega: {ship.company or ship.name}, {ship.street}", notes)
            header["OB2PCL"] = _fit("F_PCL", "OB2PCL", " ".join(p for p in (
                ship.postcode, ship.city, f"({ship.province})" if ship.province else "", ship.phone) if p), notes)
    return Pedido(header, lines, notes, difference)


# ------------------------------------------------------------------------------------------------ the sync


def _customer_code(ctx: SyncContext, key: str, order: Order) -> int:
    from replicator.sync.customers import ensure_factusol_customer  # lazily: the customer module is optional here

    try:
        return int(ensure_factusol_customer(ctx, int(order.customer_prestashop_id)))
    except SyncError as exc:
        raise SyncError(ENTITY, key, f"customer ps:{order.customer_prestashop_id}: {exc.reason}",
                        "customer_factusol_code") from None


def read_shop_order(ctx: SyncContext, order_id: int) -> Order | None:
    found = ps_reader.read_orders(ctx.shop, [order_id], maps=PS_ORDER_MAPS)
    return found[0] if found else None


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
        # per key: one bad order never holds the others back; the engine retries quarantined keys
        return sync_each(ctx, keys, self.sync_one, "prestashop")

    # -- one order ------------------------------------------------------------------------------------------
    def sync_one(self, ctx: SyncContext, key: str) -> Outcome:
        order_id = order_id_of(key)
        order = read_shop_order(ctx, order_id)
        if order is None:
            return Outcome(NOOP, "the order is not in the shop")
        rules = ctx.rules.entity(ENTITY)
        if order.is_guest and not rules.filters.get("include_guests", True):
            return Outcome(NOOP, "guest orders are filtered out (order.yaml filters.include_guests)")
        pedido = linked_pedido(ctx, order_id)
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
            return Outcome(APPLIED if outcome.status == NOOP else outcome.status,
                           "; ".join(p for p in (detail, outcome.detail) if p))
        return self.create(ctx, key, order)

    def create(self, ctx: SyncContext, key: str, order: Order) -> Outcome:
        code = _customer_code(ctx, key, order)
        pedido = build_pedido(ctx, key, order, code)
        ps_state = ps_canonical(ctx, order.state_id)
        if ps_state == CANCELLED:  # an order already cancelled in the shop is recorded cancelled, nothing pending
            pedido.header["ESTPCL"] = int(states_map(ctx).to_side(CANCELLED, "factusol"))
            for ln in pedido.lines:
                ln["ANULPC"], ln["PENLPC"] = ln["CANLPC"], Decimal("0")
        try:
            series, number = fs_writer.insert_order(ctx.factusol, pedido.header, pedido.lines)
        except FactusolWidthError as exc:
            raise SyncError(ENTITY, key, str(exc), exc.column) from None
        except FactusolDuplicateKeyError as exc:
            raise SyncError(ENTITY, key, f"no free order number in series {pedido.header['TIPPCL']}: {exc}",
                            "factusol_number") from None
        # echo records first, then the link: a crash in between leaves an unlinked pedido that the next run
        # finds by REFPCL (and links) instead of inserting it again
        record_factusol_write(ctx, ENTITY, "F_PCL", {"TIPPCL": series, "CODPCL": number})
        for ln in pedido.lines:
            record_factusol_write(ctx, ENTITY, "F_LPC", {"TIPLPC": series, "CODLPC": number, "POSLPC": ln["POSLPC"]})
        ctx.store.link(ENTITY, doc_key(series, number, ctx.factusol_year), str(order.prestashop_id))
        ctx.store.set_baseline(ENTITY, key, {"fs": int(pedido.header["ESTPCL"]), "ps": ps_state,
                                             "content": order_content(order), "lines": len(pedido.lines),
                                             "pedido": doc_key(series, number, ctx.factusol_year)})
        detail = f"pedido {series}-{number} created ({pedido.header['REFPCL']}, {len(pedido.lines)} lines, " \
                 f"total {pedido.header['TOTPCL']})"
        if pedido.notes:
            detail += "; " + "; ".join(pedido.notes)
        if pedido.difference:
            log.warning("order %s: %s", key, next(n for n in pedido.notes if n.startswith("total differs")))
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
            ctx.store.set_baseline(ENTITY, key, {"fs": fs_value, "ps": ps_state, "content": content,
                                                 "pedido": doc_key(series, number, ctx.factusol_year)})
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
        ctx.store.set_baseline(ENTITY, key, {**base, "fs": fs_value,
                                             "ps": ps_state if ps_state is not None else base.get("ps"),
                                             "content": content, "pedido": doc_key(series, number, ctx.factusol_year)})
        return Outcome(APPLIED if detail or rewritten else NOOP, "; ".join(p for p in (detail, edited) if p))

    # -- the shop order edited after its pedido was made ------------------------------------------------------
    def _shop_edit(self, ctx: SyncContext, key: str, order: Order, header: dict[str, Any], base: dict[str, Any]
                   ) -> tuple[str, dict[str, Any], int | None]:
        """Bring an edited shop order (lines, quantities, vouchers) to its pedido if FactuSOL has not started on it;
        else say so.  Returns (detail, the pedido header now, its line count if rewritten)."""
        series, number = str(header["TIPPCL"]), int(header["CODPCL"])
        started = self._factusol_started(ctx, series, number, header, base)
        if started:
            detail = (f"the order was edited in the shop after pedido {series}-{number} was made, and {started}: "
                      "FactuSOL keeps the pedido as it is; update its lines there by hand")
            log.warning("order %s: %s", key, detail)
            return detail, header, None
        pedido = build_pedido(ctx, key, order, int(header["CLIPCL"]))
        kept = ("TIPPCL", "CODPCL", "REFPCL", "FECPCL", "HORPCL", "CLIPCL", "ESTPCL")
        fs_writer.replace_order_lines(ctx.factusol, series, number,
                                      {k: v for k, v in pedido.header.items() if k not in kept}, pedido.lines)
        record_factusol_write(ctx, ENTITY, "F_PCL", {"TIPPCL": series, "CODPCL": number})
        for pos in range(1, max(len(pedido.lines), int(base["lines"])) + 1):  # new rows, and the rows now gone
            record_factusol_write(ctx, ENTITY, "F_LPC", {"TIPLPC": series, "CODLPC": number, "POSLPC": pos})
        detail = (f"pedido {series}-{number} rewritten from the order edited in the shop ({len(pedido.lines)} lines, "
                  f"total {pedido.header['TOTPCL']})")
        log.info("order %s: %s", key, detail)
        return detail, fs_reader.order_header(ctx.factusol, series, number) or header, len(pedido.lines)

    @staticmethod
    def _factusol_started(ctx: SyncContext, series: str, number: int, header: dict[str, Any],
                          base: dict[str, Any]) -> str:
        """Why the pedido is no longer only what the replicator wrote ('' when it is): FactuSOL serves it, or a
        person changed it there, or it was made before its line count was kept."""
        if int(header.get("ESTPCL") or 0) != 0:
            return "FactuSOL has moved it on from pending"
        if base.get("lines") is None:
            return "it was made before this replicator version kept what it wrote"
        lines = fs_reader.order_lines(ctx.factusol, series, number)
        if [int(ln["POSLPC"]) for ln in lines] != list(range(1, int(base["lines"]) + 1)):
            return "its lines were changed in FactuSOL"
        keys = {factusol_key({"TIPLPC": series, "CODLPC": number, "POSLPC": int(ln["POSLPC"])}): ln for ln in lines}
        written = ctx.store.last_written_hashes(FACTUSOL, "F_LPC", list(keys))
        if any(written.get(k) != row_hash(ln) for k, ln in keys.items()):
            return "its lines were changed in FactuSOL"
        head_key = factusol_key({"TIPPCL": series, "CODPCL": number})
        if ctx.store.last_written_hash(FACTUSOL, "F_PCL", head_key) != row_hash(header):
            return "its header was changed in FactuSOL"
        return ""

    def _state_to_shop(self, ctx: SyncContext, key: str, order: Order, fs_value: int,
                       ps_state: str | None) -> tuple[str, str | None]:
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
        ps_writer.change_order_state(ctx.shop, order.prestashop_id, target,
                                     extra=shop_marker(ctx, f"order {key} state {target_key}"))
        return f"shop state -> {target_key} (FactuSOL ESTPCL {fs_value})", fs_state

    def _state_to_factusol(self, ctx: SyncContext, key: str, series: str, number: int, fs_value: int,
                           ps_state: str | None) -> tuple[str, int]:
        if ps_state != CANCELLED or fs_canonical(ctx, fs_value) == CANCELLED:
            return "", fs_value  # FactuSOL owns the order workflow; only a shop cancellation travels back
        value = int(states_map(ctx).to_side(CANCELLED, "factusol"))
        fs_writer.set_order_state(ctx.factusol, series, number, value, release_pending=True)
        record_factusol_write(ctx, ENTITY, "F_PCL", {"TIPPCL": series, "CODPCL": number})
        for ln in fs_reader.order_lines(ctx.factusol, series, number):
            record_factusol_write(ctx, ENTITY, "F_LPC", {"TIPLPC": series, "CODLPC": number, "POSLPC": ln["POSLPC"]})
        return f"pedido {series}-{number} cancelled in FactuSOL (ESTPCL {value}, pending released)", value


__all__ = ["OrderSync", "PedidoFollowUp", "ENTITY", "order_key", "linked_order_keys", "order_id_of", "doc_key", "split_doc_key", "doc_year", "reference_for",
           "order_id_from_reference", "order_id_for_pedido", "linked_pedido", "build_pedido", "resolve_article",
           "progress", "is_cancel_state", "ps_canonical", "fs_canonical", "read_shop_order", "Pedido"]
