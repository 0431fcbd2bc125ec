"""Pedido money: F_LPC amounts and F_PCL slot totals that add up, FactuSOL's way, to exactly what the shop charged.

Pure: the inputs are the shop order as read (``model.Order``) and FactuSOL's VAT types; the output is the money
columns of every pedido line and of the header, and notes for the change's detail.  No database is touched.

Why it is shaped so (docs/orders.md, "Totals to the cent"): PrestaShop rounds VAT per item, per line or on the
total (``PS_ROUND_TYPE``); FactuSOL computes it once per VAT slot from the slot's base (``IIVAn = BASn x PIVAn``,
FACTUSOL.md §4.2).  The same goods then differ by a cent or two.  The pedido keeps FactuSOL's own formula (a person
who re-saves it in FactuSOL gets the same figures) and every line consistent (``TOTLPC = CANLPC x PRELPC`` less its
discount): per VAT slot it takes the base whose base + VAT (+ surcharge the shop charged) is the amount the customer
paid at that rate, and the few cents between that base and the lines go into one rounding line of the slot.  A slot
whose amount no base reaches (FactuSOL's VAT jumps two cents there) hands its cent to another slot, else to an
exempt rounding line.  The customer's total (``orders.total_paid_tax_incl``) always wins over the shop's rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable, Sequence

from replicator.model import Order

ZERO, CENT, FOUR = Decimal("0"), Decimal("0.01"), Decimal("0.0001")
EXEMPT = 3  # IVALPC selector of "exento": header slot 4
PRODUCT, SHIPPING, WRAPPING, DISCOUNT, ROUNDING = "product", "shipping", "wrapping", "discount", "rounding"


def money(x: Any) -> Decimal:
    """Cents, half up (FactuSOL's Moneda shown with 2 decimals)."""
    return Decimal(x).quantize(CENT, ROUND_HALF_UP)


def price4(x: Any) -> Decimal:
    return Decimal(x).quantize(FOUR, ROUND_HALF_UP)


def line_total(quantity: Decimal, price: Decimal, discount: Decimal = ZERO) -> Decimal:
    """TOTLPC as FactuSOL computes it: CAN x PRE x (1 - DT1/100), in cents."""
    return money(Decimal(quantity) * Decimal(price) * (1 - Decimal(discount) / 100))


class MoneyError(Exception):
    """The order's money can't be mapped (a VAT rate FactuSOL has no type for): names the field."""

    def __init__(self, field_name: str, reason: str):
        super().__init__(reason)
        self.field, self.reason = field_name, reason


@dataclass(frozen=True)
class VatType:
    """One FactuSOL VAT type: the line selector (0 IVA1, 1 IVA2, 2 IVA3, 3 exento), its rate and the equivalence
    surcharge rate FactuSOL adds for a customer with REQCLI (0 for others)."""

    selector: int
    rate: Decimal
    surcharge: Decimal = ZERO

    @property
    def slot(self) -> int:
        return min(self.selector, EXEMPT) + 1


def vat_types(
    vat_rates: dict[int, Any], surcharge_rates: dict[int, Any] | None = None, surcharge: bool = False
) -> list[VatType]:
    """The VAT types of rule ``vat_rates`` (selector -> %) with FactuSOL's surcharge rates when the customer has RE."""
    rec = surcharge_rates or {}
    return [
        VatType(int(s), Decimal(str(r)), Decimal(str(rec.get(int(s), 0))) if surcharge and int(s) != EXEMPT else ZERO)
        for s, r in sorted(vat_rates.items())
    ]


@dataclass
class Amounts:
    """The money of one F_LPC line."""

    kind: str
    name: str
    quantity: Decimal
    price: Decimal
    total: Decimal
    selector: int
    price_incl: Decimal
    total_incl: Decimal
    discount: Decimal = ZERO
    source: int = 0  # 1-based shop line (products) or cart rule (discounts) it comes from

    def columns(self) -> dict[str, Any]:
        return {
            "CANLPC": self.quantity,
            "PRELPC": self.price,
            "DT1LPC": float(self.discount),
            "TOTLPC": self.total,
            "IVALPC": self.selector,
            "IINLPC": 0,
            "PIVLPC": self.price_incl,
            "TIVLPC": self.total_incl,
        }


@dataclass
class PedidoMoney:
    lines: list[Amounts]
    portes: dict[int, Decimal]  # header slot (1..4) -> IPORn
    totals: dict[str, Any]  # NETn, IPORn, BASn, PIVAn/IIVAn, PRECn/IRECn, TIVAn, TOTPCL
    paid: Decimal  # what the customer paid (orders.total_paid_tax_incl, in cents)
    expected: Decimal  # what the pedido totals: paid + the surcharge the shop did not charge
    notes: list[str] = field(default_factory=list)

    @property
    def surcharge_added(self) -> Decimal:
        return self.expected - self.paid


# ------------------------------------------------------------------------------------------------ FactuSOL's formula


def slot_totals(
    lines: Iterable[dict[str, Any]],
    types: Sequence[VatType],
    portes: dict[int, Decimal] | None = None,
    doc: str = "PCL",
    line: str = "LPC",
) -> dict[str, Any]:
    """Header totals from F_LPC rows, FactuSOL's layout (FACTUSOL.md §4.2): NETn = the slot's line totals,
    BASn = NETn + IPORn, IIVAn = BASn x PIVAn, IRECn = BASn x PRECn, TOT = sum of BAS + IIVA + IREC, plus BAS4."""
    portes = portes or {}
    by_slot = {t.slot: t for t in types}
    net = {n: ZERO for n in range(1, 5)}
    for ln in lines:
        net[min(int(ln[f"IVA{line}"]), EXEMPT) + 1] += Decimal(ln[f"TOT{line}"])
    out: dict[str, Any] = {}
    total = ZERO
    for n in range(1, 5):
        base = money(net[n] + portes.get(n, ZERO))
        out.update({f"NET{n}{doc}": money(net[n]), f"IPOR{n}{doc}": money(portes.get(n, ZERO)), f"BAS{n}{doc}": base})
        if n == 4:
            total += base
            continue
        vat = by_slot.get(n)
        rate = vat.rate if vat else ZERO
        rec = vat.surcharge if vat else ZERO
        iva, irec = money(base * rate / 100), money(base * rec / 100)
        out.update(
            {
                f"PIVA{n}{doc}": rate,
                f"IIVA{n}{doc}": iva,
                f"PREC{n}{doc}": rec,
                f"IREC{n}{doc}": irec,
                f"TIVA{n}{doc}": n - 1,
            }
        )
        total += base + iva + irec
    out[f"TOT{doc}"] = money(total)
    return out


def _slot_amount(vat: VatType, base: Decimal, charged: bool) -> Decimal:
    """What a customer pays for `base` at this VAT type, FactuSOL's way (the surcharge only if the shop charged it)."""
    return base + money(base * vat.rate / 100) + (money(base * vat.surcharge / 100) if charged else ZERO)


def fit_base(vat: VatType, target: Decimal, near: Decimal, charged: bool) -> Decimal | None:
    """The base nearest `near` whose amount (base + VAT, + surcharge if charged) is `target`; None when FactuSOL's
    rounding skips that amount (its VAT steps two cents there)."""
    rate = (vat.rate + (vat.surcharge if charged else ZERO)) / 100
    start = money(target / (1 + rate))
    found = [b for b in (start + CENT * k for k in range(-3, 4)) if _slot_amount(vat, b, charged) == target]
    return min(found, key=lambda b: (abs(b - near), b)) if found else None


def _base_around(vat: VatType, target: Decimal, near: Decimal, charged: bool) -> Decimal:
    """Where `target` itself is skipped: of the bases just below and just above it, the one nearer `near`."""
    rate = (vat.rate + (vat.surcharge if charged else ZERO)) / 100
    below = money(target / (1 + rate)) + CENT * 3
    while _slot_amount(vat, below, charged) >= target:
        below -= CENT
    return min((below, below + CENT), key=lambda b: (abs(b - near), b))


# ------------------------------------------------------------------------------------------------ lines


def fit_line(
    quantity: Decimal, total: Decimal, price: Decimal | None = None, discount: Decimal = ZERO
) -> list[tuple[Decimal, Decimal, Decimal]]:
    """(quantity, price, discount %) rows that give `total` FactuSOL's way: the shop's price (and reduction) when it
    does, else the total over the quantity; a quantity whose prices (4 decimals) can't reach the total is split in
    two rows (all units but one, then one)."""
    q, total = Decimal(quantity), money(total)
    if price is not None and discount and line_total(q, price, discount) == total:
        return [(q, price, discount)]
    if price is not None and line_total(q, price) == total:
        return [(q, price, ZERO)]
    if q == 0:
        return [(q, ZERO, ZERO)] if total == 0 else [(Decimal(1), total, ZERO)]
    unit = price4(total / q)
    if line_total(q, unit) == total:
        return [(q, unit, ZERO)]
    if q <= 1 or q != q.to_integral_value():
        return [(Decimal(1), total, ZERO)] if q == 1 else [(q, unit, ZERO)]  # unreachable for q <= 100
    first = line_total(q - 1, unit)
    return [(q - 1, unit, ZERO), (Decimal(1), total - first, ZERO)]


ROUND_ITEM, ROUND_LINE, ROUND_TOTAL = 1, 2, 3  # orders.round_type (PS_ROUND_TYPE when the order was placed)


def shop_row_consistent(quantity: Decimal, unit: Decimal, total: Decimal, round_type: int = 0) -> bool:
    """Whether a shop line total is its quantity times its unit price as PrestaShop rounds it, in any
    PS_PRICE_ROUND_MODE: per line or on the total, within a cent of the product; per item, a whole-cent unit price
    within a cent of the stored one, times the quantity.  An unknown round type (0) accepts either."""
    q, unit, total = Decimal(quantity), Decimal(unit), Decimal(total)
    if round_type != ROUND_ITEM and abs(q * unit - total) <= CENT + FOUR:
        return True
    if round_type in (ROUND_LINE, ROUND_TOTAL) or not q:
        return False
    per_unit = total / q
    return per_unit == per_unit.quantize(CENT) and abs(per_unit - unit) < CENT


def _vat_type(types: Sequence[VatType], rate: Any, what: str) -> tuple[VatType, bool]:
    """The FactuSOL VAT type of a shop rate, and whether the shop charged the equivalence surcharge with it (the rate
    is VAT + RE, as a shop whose tax rule combines both charges it)."""
    rate = Decimal(rate).quantize(CENT)
    for t in types:
        if t.rate.quantize(CENT) == rate:
            return t, False
    for t in types:
        if t.surcharge and (t.rate + t.surcharge).quantize(CENT) == rate:
            return t, True
    known = ", ".join(f"{t.selector}={t.rate}" + (f"+{t.surcharge}" if t.surcharge else "") for t in types)
    raise MoneyError(what, f"no FactuSOL VAT type has rate {rate}% (rules vat_rates: {known})")


def _nearest_type(types: Sequence[VatType], excl: Decimal, incl: Decimal, what: str) -> tuple[VatType, bool]:
    """The VAT type an amount was taxed at, from its two figures (shipping has no rate of its own in the order)."""
    best = None
    for t in types:
        for charged in (False, True) if t.surcharge else (False,):
            rate = t.rate + (t.surcharge if charged else ZERO)
            gap = abs(excl * (1 + rate / 100) - incl)
            if best is None or gap < best[0]:
                best = (gap, t, charged)
    if best is None or best[0] > CENT + abs(excl) * Decimal("0.0005"):
        rate = ((incl / excl - 1) * 100).quantize(CENT) if excl else ZERO
        raise MoneyError(what, f"no FactuSOL VAT type has rate {rate}% (amount {excl} without VAT, {incl} with it)")
    return best[1], best[2]


def discount_parts(order: Order, ship_rate: Decimal | None = None) -> list[tuple[str, Decimal, Decimal, Decimal]]:
    """(name, shop VAT rate, amount tax excluded, amount tax included) of the discount lines for the order's cart rules.

    A cart rule's amount carries one VAT rate when the order's products (and shipping, for free shipping) have one,
    or when its tax-included amount is its tax-excluded one at one of the order's rates, to the cent.  Otherwise
    (a voucher on a cart of 21% and 10% goods) it is split over the rates: with two rates, the one split whose
    parts add up to both of the shop's amounts; with more, by the goods' base at each rate, as PrestaShop spreads
    a voucher.  The slot fit then takes care of the cents."""
    bases: dict[Decimal, Decimal] = {}
    for ln in order.lines:
        rate = Decimal(ln.vat_rate).quantize(CENT)
        bases[rate] = bases.get(rate, ZERO) + Decimal(ln.total_tax_excl)
    ship_excl = Decimal(order.shipping_tax_excl or 0)
    if ship_rate is None and ship_excl > 0:
        ship_rate = ((Decimal(order.shipping_tax_incl) / ship_excl - 1) * 100).quantize(CENT)
    parts = []
    ship_left = (money(ship_excl), money(order.shipping_tax_incl or 0)) if ship_rate is not None else (ZERO, ZERO)
    for d in order.discounts:
        excl, incl = money(d.value_tax_excl), money(d.value_tax_incl)
        if d.free_shipping and ship_left[0] > 0 and excl >= ship_left[0]:
            # free shipping takes the shipping off at the shipping's rate; what is left of the rule discounts goods
            parts.append((d.name, ship_rate, *ship_left))
            excl, incl, ship_left = excl - ship_left[0], incl - ship_left[1], (ZERO, ZERO)
        if excl <= 0:
            if incl:  # a cent of VAT rounding left over: the goods' main rate carries it
                parts.append((d.name, max(bases, key=lambda r: bases[r], default=ship_rate or ZERO), excl, incl))
            continue
        rates = set(bases)
        exact = [r for r in sorted(rates) if money(excl * (1 + r / 100)) == incl]
        if exact or len(rates) <= 1:
            rate = exact[0] if exact else next(iter(rates), ((incl / excl - 1) * 100).quantize(CENT))
            parts.append((d.name, rate, excl, incl))
            continue
        shares = _two_rate_split(excl, incl, sorted(bases)) if len(bases) == 2 else None
        if shares is None:
            # PrestaShop takes a voucher off each product in proportion to its price: the part without VAT at each
            # rate follows the goods' base at that rate
            total, left, shares = sum(bases.values(), ZERO), excl, {}
            ordered = sorted(bases.items(), key=lambda item: -item[1])
            for n, (rate, amount) in enumerate(ordered):
                shares[rate] = left if n == len(ordered) - 1 or not total else money(excl * amount / total)
                left -= shares[rate]
        parts += [
            (d.name, rate, share, money(share * (1 + rate / 100)))
            for rate, share in sorted(shares.items(), reverse=True)
            if share
        ]
    return parts


def _two_rate_split(excl: Decimal, incl: Decimal, rates: list[Decimal]) -> dict[Decimal, Decimal] | None:
    """Tax-excluded parts at two rates that add up to `excl`, and to `incl` with their VAT; None if there are none."""
    low, high = rates
    if high == low:
        return None
    at_high = money((incl - excl * (1 + low / 100)) / ((high - low) / 100))
    if not ZERO <= at_high <= excl:
        return None
    return {high: at_high, low: excl - at_high}


# ------------------------------------------------------------------------------------------------ the pedido


def pedido_money(
    order: Order,
    types: Sequence[VatType],
    *,
    shipping_mode: str = "portes",
    shipping_name: str = "Portes",
    rounding_name: str = "Ajuste por redondeo",
    wrapping_name: str = "Envoltorio de regalo",
) -> PedidoMoney:
    """The money of the pedido for `order`: product lines (one per shop line, two when a quantity's 4-decimal prices
    can't reach its total), the shipping line or portes, cart-rule lines, rounding lines, header totals."""
    notes: list[str] = []
    lines: list[Amounts] = []
    shop_amount: dict[int, Decimal] = {}  # header slot -> what the customer paid at it (shop rows, unrounded)
    charged: dict[int, set[bool]] = {}
    by_slot: dict[int, VatType] = {}

    def book(vat: VatType, was_charged: bool, amount: Decimal) -> None:
        by_slot[vat.slot] = vat
        shop_amount[vat.slot] = shop_amount.get(vat.slot, ZERO) + amount
        charged.setdefault(vat.slot, set()).add(was_charged)

    for n, ln in enumerate(order.lines, start=1):
        vat, was_charged = _vat_type(types, ln.vat_rate, f"line {n} vat_rate")
        q = Decimal(ln.quantity)
        unit, excl, incl = Decimal(ln.unit_price_tax_excl), Decimal(ln.total_tax_excl), Decimal(ln.total_tax_incl)
        if not shop_row_consistent(q, unit, excl, order.round_type):
            notes.append(
                f"line {n} ({ln.name}): the shop's row says {q} x {money(unit)} but its total is "
                f"{money(excl)}; the pedido takes {money(excl)}, what the customer was charged"
            )
        discount = Decimal(ln.discount_percent or 0)
        listed = price4(unit / (1 - discount / 100)) if 0 < discount < 100 else None
        rows = fit_line(q, excl, listed, discount) if listed is not None else fit_line(q, excl, price4(unit))
        if listed is not None and rows[0][2] == 0:
            notes.append(
                f"line {n}: the shop's {discount}% reduction is in the price (no list price gives its "
                "total to the cent)"
            )
        total_incl, left_incl, left_excl = money(incl), money(incl), money(excl)
        for k, (qty, price, dto) in enumerate(rows):
            tot = line_total(qty, price, dto)
            part_incl = left_incl if k == len(rows) - 1 else money(total_incl * tot / left_excl if left_excl else 0)
            lines.append(
                Amounts(
                    PRODUCT,
                    ln.name,
                    qty,
                    price,
                    tot,
                    vat.selector,
                    price4(Decimal(ln.unit_price_tax_incl)),
                    part_incl,
                    dto,
                    n,
                )
            )
            left_incl, left_excl = left_incl - part_incl, left_excl - tot
        if len(rows) > 1:
            notes.append(f"line {n}: {q} units at 4-decimal prices can't make {money(excl)}: written as two lines")
        book(vat, was_charged, incl)

    portes: dict[int, Decimal] = {}
    ship_excl, ship_incl = money(order.shipping_tax_excl or 0), money(order.shipping_tax_incl or 0)
    ship_rate = None
    if ship_excl:
        vat, was_charged = _nearest_type(types, ship_excl, ship_incl, "shipping_tax_excl")
        ship_rate = vat.rate + (vat.surcharge if was_charged else ZERO)
        if shipping_mode == "line":
            lines.append(
                Amounts(SHIPPING, shipping_name, Decimal(1), ship_excl, ship_excl, vat.selector, ship_incl, ship_incl)
            )
        else:
            portes[vat.slot] = portes.get(vat.slot, ZERO) + ship_excl
        book(vat, was_charged, ship_incl)

    wrap_excl, wrap_incl = money(order.wrapping_tax_excl or 0), money(order.wrapping_tax_incl or 0)
    if wrap_excl or wrap_incl:  # gift wrapping: a line at the rate its two amounts show
        vat, was_charged = (
            _nearest_type(types, wrap_excl, wrap_incl, "wrapping_tax_excl")
            if wrap_excl
            else (_type_for_slot(types, 4), False)
        )
        lines.append(
            Amounts(WRAPPING, wrapping_name, Decimal(1), wrap_excl, wrap_excl, vat.selector, wrap_incl, wrap_incl)
        )
        book(vat, was_charged, wrap_incl)

    for k, (name, rate, excl, incl) in enumerate(discount_parts(order, ship_rate), start=1):
        vat, was_charged = _vat_type(types, rate, "discount vat_rate")
        lines.append(Amounts(DISCOUNT, name, Decimal(1), -excl, -excl, vat.selector, -incl, -incl, source=k))
        book(vat, was_charged, -incl)

    for slot, flags in charged.items():
        if len(flags) > 1:
            raise MoneyError(
                "vat_rate",
                f"the shop charged the equivalence surcharge on part of the {by_slot[slot].rate}"
                "% goods only: check the customer's tax rules in the shop",
            )
    is_charged = {slot: flags == {True} for slot, flags in charged.items()}

    # what the customer paid, per slot in cents: the shop's rows, their rounding left to the largest slot
    paid = money(order.total_tax_incl)
    targets = {slot: money(amount) for slot, amount in shop_amount.items()}
    raw = sum(shop_amount.values(), ZERO)
    if abs(paid - raw) > Decimal("0.005") * max(1, len(targets)):
        notes.append(f"the shop's rows add up to {money(raw)} but the customer paid {paid}: the pedido takes {paid}")
    if paid != sum(targets.values(), ZERO):
        if not targets:
            exempt = next((t for t in types if t.selector == EXEMPT), VatType(EXEMPT, ZERO))
            by_slot[exempt.slot], is_charged[exempt.slot], targets[exempt.slot] = exempt, False, ZERO
        largest = max(targets, key=lambda s: (abs(targets[s]), -s))
        targets[largest] += paid - sum(targets.values(), ZERO)

    # per slot, the base whose FactuSOL amount is the target; the cents a slot can't reach go to another, or exempt
    near = {
        slot: sum((a.total for a in lines if min(a.selector, EXEMPT) + 1 == slot), ZERO) + portes.get(slot, ZERO)
        for slot in targets
    }
    bases: dict[int, Decimal] = {}
    carry = ZERO
    order_of_slots = sorted(targets, key=lambda s: (-abs(targets[s]), s))
    for slot in order_of_slots:
        vat = by_slot[slot]
        base = fit_base(vat, targets[slot], near[slot], is_charged[slot])
        if base is None:
            base = _base_around(vat, targets[slot], near[slot], is_charged[slot])
            carry += targets[slot] - _slot_amount(vat, base, is_charged[slot])
        bases[slot] = base
    if carry:
        for slot in order_of_slots:
            vat = by_slot[slot]
            if slot == 4:
                continue
            target = _slot_amount(vat, bases[slot], is_charged[slot]) + carry
            base = fit_base(vat, target, near[slot], is_charged[slot])
            if base is not None:
                bases[slot], carry = base, ZERO
                break
    if carry:
        exempt = next((t for t in types if t.selector == EXEMPT), VatType(EXEMPT, ZERO))
        by_slot.setdefault(4, exempt)
        bases[4] = bases.get(4, near.get(4, ZERO)) + carry
        near.setdefault(4, ZERO)
        is_charged.setdefault(4, False)
    for slot in sorted(bases):
        adjust = bases[slot] - near[slot]
        if adjust:
            vat = by_slot[slot]
            incl_lines = sum((a.total_incl for a in lines if min(a.selector, EXEMPT) + 1 == slot), ZERO)
            incl_portes = ship_incl if portes.get(slot) else ZERO
            incl = _slot_amount(vat, bases[slot], is_charged[slot]) - incl_lines - incl_portes
            lines.append(Amounts(ROUNDING, rounding_name, Decimal(1), adjust, adjust, vat.selector, incl, incl))

    totals = slot_totals(
        (a.columns() for a in lines), [by_slot.get(s) or _type_for_slot(types, s) for s in range(1, 5)], portes
    )
    not_charged = sum((totals[f"IREC{s}PCL"] for s in range(1, 4) if not is_charged.get(s, False)), ZERO)
    return PedidoMoney(lines, portes, totals, paid, paid + not_charged, notes)


def _type_for_slot(types: Sequence[VatType], slot: int) -> VatType:
    return next((t for t in types if t.slot == slot), VatType(slot - 1, ZERO))


__all__ = [
    "Amounts",
    "MoneyError",
    "PedidoMoney",
    "VatType",
    "discount_parts",
    "fit_base",
    "fit_line",
    "line_total",
    "money",
    "pedido_money",
    "slot_totals",
    "vat_types",
    "PRODUCT",
    "SHIPPING",
    "WRAPPING",
    "DISCOUNT",
    "ROUNDING",
]
