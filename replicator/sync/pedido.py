"""The pedido mapping: a shop order as the F_PCL header and F_LPC lines FactuSOL gets (no write here)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from replicator.factusol import reader as fs_reader
from replicator.factusol import writer as fs_writer
from replicator.factusol.schema import load_schema
from replicator.model import Order, OrderLine
from replicator.prestashop import reader as ps_reader
from replicator.sync.base import SyncContext, SyncError
from replicator.sync.followup import reference_for

ENTITY = "order"
CENT, FOUR = Decimal("0.01"), Decimal("0.0001")
FS_USER = 1  # USUPCL/USMPCL: the FactuSOL user public writers use


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
    opts = ctx.rules.entity(ENTITY).options
    notes: list[str] = []
    shipping_cfg = opts.get("shipping") or {}
    discount_article = (opts.get("discounts") or {}).get("article", "")
    combos = ps_reader.combination_references(ctx.shop, [ln.prestashop_attribute_id for ln in order.lines])
    variants = fs_reader.article_variants(ctx.factusol, sorted(_wanted_articles(order, combos, shipping_cfg,
                                                                                discount_article)))
    lines = _product_lines(ctx, key, order, combos, variants)
    portes = _shipping(ctx, key, order, shipping_cfg, variants, lines, notes)
    lines += _discount_lines(ctx, key, order, discount_article, variants, len(lines))
    tax = fs_reader.customer_tax(ctx.factusol, customer_code) or {}
    totals, difference = _totals(ctx, order, lines, bool(tax.get("REQCLI")), portes, notes)
    header = _header(ctx, key, order, customer_code, tax, totals, notes)
    return Pedido(header, lines, notes, difference)


def _wanted_articles(order: Order, combos: dict[int, str], shipping_cfg: dict, discount_article: str) -> set[str]:
    """Every FactuSOL article code the order's lines, shipping and cart rules may name."""
    wanted: set[str] = set()
    for ln in order.lines:
        wanted |= _candidates(ln, combos.get(ln.prestashop_attribute_id or 0, ""))
    if shipping_cfg.get("mode", "portes") == "line":
        wanted.add(shipping_cfg.get("article", "PORTES"))
    if discount_article and order.discounts:
        wanted.add(discount_article)
    return wanted


def _product_lines(ctx: SyncContext, key: str, order: Order, combos: dict[int, str],
                   variants: dict[str, list[tuple[str, str]]]) -> list[dict[str, Any]]:
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
    return lines


def _shipping(ctx: SyncContext, key: str, order: Order, shipping_cfg: dict, variants: dict,
              lines: list[dict[str, Any]], notes: list[str]) -> Decimal:
    """Shipping as a line (``shipping.mode: line``, appended to ``lines``) or as the pedido's portes (returned)."""
    mode = shipping_cfg.get("mode", "portes")
    ship_excl = Decimal(order.shipping_tax_excl or 0).quantize(CENT, ROUND_HALF_UP)
    ship_incl = Decimal(order.shipping_tax_incl or 0).quantize(CENT, ROUND_HALF_UP)
    if ship_excl <= 0:
        return Decimal("0")
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
        return Decimal("0")
    if selector != 0:  # FactuSOL's portes live in VAT slot 1 in the public writers' practice
        notes.append(f"shipping VAT {rate}% is not slot 1's rate: consider shipping.mode: line")
    return ship_excl


def _discount_lines(ctx: SyncContext, key: str, order: Order, discount_article: str, variants: dict,
                    count: int) -> list[dict[str, Any]]:
    """The cart rules as negative lines, numbered after the ``count`` lines before them."""
    if order.discounts and discount_article and discount_article not in variants:
        raise SyncError(ENTITY, key, f"discount article {discount_article!r} (order.yaml discounts.article) does not "
                                     "exist in FactuSOL", "discounts.article")
    lines = []
    for name, rate, excl, incl in discount_parts(order):
        lines.append({"POSLPC": count + len(lines) + 1, "ARTLPC": discount_article, "CE1LPC": "", "CE2LPC": "",
                      "DESLPC": name, "CANLPC": Decimal("1"), "PRELPC": -excl, "DT1LPC": 0.0, "TOTLPC": -excl,
                      "IVALPC": _vat_selector(ctx, key, rate, "discount vat_rate"), "IINLPC": 0,
                      "PIVLPC": -incl, "TIVLPC": -incl})
    return lines


def _totals(ctx: SyncContext, order: Order, lines: list[dict[str, Any]], surcharge: bool, portes: Decimal,
            notes: list[str]) -> tuple[dict[str, Any], Decimal]:
    """The pedido's totals as FactuSOL computes them, and their difference from what the customer paid."""
    vat_rates = [Decimal(ctx.rules.entity(ENTITY).vat_rates.get(i, 0)) for i in range(3)]
    rec = fs_reader.read_surcharge_rates(ctx.factusol)
    rec_rates = [Decimal(rec.get(i, 0)) for i in range(3)]
    totals = fs_writer.order_totals(lines, vat_rates, rec_rates, surcharge=surcharge, shipping=portes)
    surcharge_total = sum((totals[f"IREC{n}PCL"] for n in range(1, 4)), Decimal("0"))
    expected = Decimal(order.total_tax_incl).quantize(CENT) + surcharge_total
    difference = totals["TOTPCL"] - expected
    if difference:
        notes.append(f"total differs from the shop: FactuSOL {totals['TOTPCL']} vs shop "
                     f"{Decimal(order.total_tax_incl).quantize(CENT)}"
                     + (f" + surcharge {surcharge_total}" if surcharge_total else "") + f" (difference {difference})")
    return totals, difference


def _header(ctx: SyncContext, key: str, order: Order, customer_code: int, tax: dict[str, Any],
            totals: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    rules = ctx.rules.entity(ENTITY)
    opts = rules.options
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
        "TIVPCL": int(tax.get("IVACLI") or 0), "REQPCL": int(bool(tax.get("REQCLI"))), "TRNPCL": trn, "PRTPCL": 0,
        "USUPCL": FS_USER, "USMPCL": FS_USER, "FUMPCL": datetime.now().replace(microsecond=0),
        **totals,
    }
    header.update(_delivery_address(ctx, customer_code, order, bill, notes))
    return header


def _delivery_address(ctx: SyncContext, customer_code: int, order: Order, bill, notes: list[str]) -> dict[str, Any]:
    """A delivery address other than the invoice one: its F_OBR code, else a snapshot in the observations."""
    ship = order.delivery
    if ship is None or bill is None or (ship.street, ship.postcode, ship.city) == (bill.street, bill.postcode,
                                                                                   bill.city):
        return {}
    obr = fs_reader.delivery_address_code(ctx.factusol, customer_code, ship.street, ship.postcode)
    if obr:
        return {"OBRPCL": obr}
    # no F_OBR row for it: a snapshot in the observations, where the warehouse reads it
    return {"OB1PCL": _fit("F_PCL", "OB1PCL", f"Entrega: {ship.company or ship.name}, {ship.street}", notes),
            "OB2PCL": _fit("F_PCL", "OB2PCL", " ".join(p for p in (
                ship.postcode, ship.city, f"({ship.province})" if ship.province else "", ship.phone) if p), notes)}
