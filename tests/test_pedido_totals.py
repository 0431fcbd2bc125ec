"""Pedido money without a database: thousands of random shop carts, every PrestaShop rounding mode, zero cents off.

The carts are priced here the way PrestaShop prices them (PS_ROUND_TYPE per item / per line / on the total, every
PS_PRICE_ROUND_MODE, cart rules spread over the VAT rates, equivalence surcharge charged by a combined tax rule or not
at all), sometimes with rows that don't add up, as real shops have.  The pedido must total exactly what the customer
paid (plus the surcharge FactuSOL adds when the shop did not charge it), every line must be consistent, and the header
must be what FactuSOL's own formula gives from the lines.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replicator.model import Order, OrderDiscount, OrderLine
from replicator.sync.pedido_totals import (
    DISCOUNT,
    EXEMPT,
    ROUNDING,
    MoneyError,
    VatType,
    fit_base,
    fit_line,
    line_total,
    pedido_money,
    vat_types,
)

D = Decimal
CENT, SIX = D("0.01"), D("0.000001")
VAT = {0: 21, 1: 10, 2: 4, 3: 0}
RE = {0: D("5.2"), 1: D("1.4"), 2: D("0.5")}


def ps_round(value: Decimal, mode: int, places: Decimal = CENT) -> Decimal:
    """Tools::ps_round with PS_PRICE_ROUND_MODE 0 up, 1 down, 2 half up, 3 half down, 4 half even, 5 half odd."""
    if mode == 5:  # half odd: like half even, towards the odd neighbour
        even = value.quantize(places, ROUND_HALF_EVEN)
        if abs(value - even) * 2 == places:
            return even + places if value > even else even - places
        return even
    return value.quantize(
        places, {0: ROUND_CEILING, 1: ROUND_FLOOR, 2: ROUND_HALF_UP, 3: ROUND_HALF_DOWN, 4: ROUND_HALF_EVEN}[mode]
    )


@st.composite
def shop_orders(draw):
    """(order, surcharge case, rows made inconsistent) priced as PrestaShop would."""
    round_type = draw(st.sampled_from(["item", "line", "total"]))
    mode = draw(st.integers(0, 5))
    re_case = draw(st.sampled_from(["none", "none", "charged", "added"]))
    sel_rate = {s: D(r) for s, r in VAT.items()}

    def shop_rate(sel: int) -> Decimal:
        return sel_rate[sel] + (RE.get(sel, D(0)) if re_case == "charged" else D(0))

    def rnd(x: Decimal) -> Decimal:
        return ps_round(x, mode)

    lines, incl_by_rate = [], {}
    for n in range(draw(st.integers(1, 8))):
        sel = draw(st.sampled_from([0, 0, 0, 1, 1, 2, 3]))
        rate = shop_rate(sel)
        if draw(st.booleans()):  # a price entered with VAT in the back office, stored without it
            price = (D(draw(st.integers(1, 30000))) / 100 / (1 + sel_rate[sel] / 100)).quantize(SIX)
        else:
            price = (D(draw(st.integers(1, 500_000_000))) / 1_000_000).quantize(SIX)
        qty = D(draw(st.one_of(st.integers(1, 12), st.integers(13, 400))))
        reduction = D(draw(st.sampled_from([0, 0, 0, 5, 10, 12.5, 15, 33.33, 50])))
        unit = (price * (1 - reduction / 100)).quantize(SIX)
        unit_incl = (unit * (1 + rate / 100)).quantize(SIX)
        if round_type == "item":
            excl, incl = rnd(unit) * qty, rnd(unit_incl) * qty
        elif round_type == "line":
            excl, incl = rnd(unit * qty), rnd(unit_incl * qty)
        else:
            excl, incl = (unit * qty).quantize(SIX), (unit_incl * qty).quantize(SIX)
        lines.append(
            OrderLine(
                position=n + 1,
                reference=f"A{n}",
                name=f"Artículo {n}",
                quantity=qty,
                unit_price_tax_excl=unit,
                unit_price_tax_incl=unit_incl,
                discount_percent=reduction,
                total_tax_excl=excl,
                total_tax_incl=incl,
                vat_rate=rate,
            )
        )
        incl_by_rate[rate] = incl_by_rate.get(rate, D(0)) + incl
    ship_rate = shop_rate(draw(st.sampled_from([0, 0, 1])))
    ship_excl = D(draw(st.sampled_from([0, 0, 395, 495, 650, 1239, 2000]))) / 100
    ship_incl = rnd(ship_excl * (1 + ship_rate / 100))
    products_incl = sum(incl_by_rate.values(), D(0))
    discounts = []
    for _ in range(draw(st.integers(0, 2))):
        kind = draw(st.sampled_from(["amount", "percent", "free_shipping"]))
        if kind == "free_shipping":
            if ship_excl and not any(d.free_shipping for d in discounts):
                discounts.append(OrderDiscount("Envío gratis", ship_incl, ship_excl, True))
            continue
        if kind == "amount":
            value = min(D(draw(st.integers(1, 5000))) / 100, (products_incl / 2).quantize(CENT))
        else:
            value = products_incl * D(draw(st.sampled_from([5, 10, 15, 20]))) / 100
        if value <= 0:
            continue
        excl = sum((value * amount / products_incl / (1 + rate / 100) for rate, amount in incl_by_rate.items()), D(0))
        if round_type != "total":
            value, excl = rnd(value), rnd(excl)
        discounts.append(OrderDiscount(f"Vale {kind}", value.quantize(SIX), excl.quantize(SIX), False))
    wrap_excl = D(draw(st.sampled_from([0, 0, 0, 200, 350]))) / 100  # gift wrapping, at the general rate
    wrap_incl = rnd(wrap_excl * (1 + shop_rate(0) / 100))
    paid = rnd(products_incl + ship_incl + wrap_incl - sum((d.value_tax_incl for d in discounts), D(0)))
    broken = draw(st.sampled_from([None] * 8 + ["line", "total"]))
    if broken == "line":  # a row whose total is not its quantity times its price (seen in real shops)
        k = draw(st.integers(0, len(lines) - 1))
        delta = D(draw(st.integers(-500, 500))) / 100
        lines[k].total_tax_excl += delta
        lines[k].total_tax_incl += delta
        paid += delta
    elif broken == "total":
        paid += D(draw(st.integers(-300, 300))) / 100
    order = Order(
        prestashop_id=1,
        reference="ABCDEFGHI",
        lines=lines,
        discounts=discounts,
        shipping_tax_excl=ship_excl,
        shipping_tax_incl=ship_incl,
        total_tax_incl=paid.quantize(SIX),
        wrapping_tax_excl=wrap_excl,
        wrapping_tax_incl=wrap_incl,
        round_type={"item": 1, "line": 2, "total": 3}[round_type],
    )
    return order, re_case, broken, round_type


def factusol_header(lines: list[dict], types: list[VatType], portes: dict[int, Decimal]) -> dict[str, Decimal]:
    """FactuSOL's totals formula, written out again independently of the module under test."""
    net = {n: D(0) for n in range(1, 5)}
    for ln in lines:
        net[min(int(ln["IVALPC"]), 3) + 1] += ln["TOTLPC"]
    out, total = {}, D(0)
    for n in range(1, 5):
        base = net[n] + portes.get(n, D(0))
        out[f"BAS{n}"] = base
        if n < 4:
            t = types[n - 1]
            out[f"IIVA{n}"] = (base * t.rate / 100).quantize(CENT, ROUND_HALF_UP)
            out[f"IREC{n}"] = (base * t.surcharge / 100).quantize(CENT, ROUND_HALF_UP)
            total += base + out[f"IIVA{n}"] + out[f"IREC{n}"]
        else:
            total += base
    out["TOT"] = total
    return out


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shop_orders(), st.sampled_from(["portes", "line"]))
def test_pedido_totals_what_the_customer_paid(case, shipping_mode):
    order, re_case, broken, round_type = case
    types = vat_types(VAT, RE, surcharge=re_case != "none")
    money = pedido_money(order, types, shipping_mode=shipping_mode)
    rows = [a.columns() for a in money.lines]
    paid = order.total_tax_incl.quantize(CENT, ROUND_HALF_UP)
    # every line is what FactuSOL computes from it
    for row in rows:
        assert line_total(row["CANLPC"], row["PRELPC"], D(str(row["DT1LPC"]))) == row["TOTLPC"], row
        assert row["TOTLPC"] == row["TOTLPC"].quantize(CENT) and row["PRELPC"] == row["PRELPC"].quantize(D("0.0001"))
    # the header is FactuSOL's formula over the lines
    header = factusol_header(rows, types, money.portes)
    for n in range(1, 5):
        assert money.totals[f"BAS{n}PCL"] == header[f"BAS{n}"]
    for n in range(1, 4):
        assert money.totals[f"IIVA{n}PCL"] == header[f"IIVA{n}"]
        assert money.totals[f"IREC{n}PCL"] == header[f"IREC{n}"]
    assert money.totals["TOTPCL"] == header["TOT"]
    # and it totals what the customer paid, to the cent (plus the surcharge the shop did not charge)
    surcharge = sum((header[f"IREC{n}"] for n in range(1, 4)), D(0))
    assert money.paid == paid
    if re_case == "added":
        assert money.totals["TOTPCL"] == paid + surcharge
    else:
        assert money.totals["TOTPCL"] == paid
    # a consistent shop needs only rounding cents; broken rows are said in the notes
    adjust = sum((abs(a.total) for a in money.lines if a.kind == ROUNDING), D(0))
    # per item, each unit's price with VAT is rounded: up to a cent per unit
    units = sum((ln.quantity for ln in order.lines), D(0)) if round_type == "item" else len(order.lines)
    rounding_only = adjust <= CENT * (units + len(order.discounts) * 3 + 3)
    assert rounding_only if broken is None else rounding_only or any("the customer" in n for n in money.notes)


def _line(rate, qty, unit, excl, incl, reduction=0):
    return OrderLine(
        name="x",
        quantity=D(qty),
        unit_price_tax_excl=D(unit),
        unit_price_tax_incl=D(unit) * (1 + D(rate) / 100),
        discount_percent=D(reduction),
        total_tax_excl=D(excl),
        total_tax_incl=D(incl),
        vat_rate=D(rate),
    )


def test_a_cent_of_vat_rounding_becomes_a_rounding_line():
    # three lines of 1.02 at 21%, VAT per line: 3 x 1.23 = 3.69; FactuSOL's slot: 3.06 + 0.64 = 3.70.  The base of
    # 3.05 gives 3.05 + 0.64 = 3.69: one rounding line of -0.01 at 21%
    lines = [_line(21, 1, "1.02", "1.02", "1.23")] * 3
    order = Order(lines=lines, total_tax_incl=D("3.69"))
    money = pedido_money(order, vat_types(VAT), rounding_name="Redondeo")
    assert money.totals["TOTPCL"] == D("3.69") and money.totals["IIVA1PCL"] == D("0.64")
    rounding = [a for a in money.lines if a.kind == ROUNDING]
    assert [(a.total, a.selector, a.name) for a in rounding] == [(D("-0.01"), 0, "Redondeo")]


def test_a_slot_amount_no_base_reaches_leaves_its_cent_exempt():
    # three lines of 1.01 at 21%: 3 x 1.22 = 3.66, but FactuSOL's slot skips it: a base of 3.02 gives 3.65, 3.03 3.67
    order = Order(lines=[_line(21, 1, "1.01", "1.01", "1.22")] * 3, total_tax_incl=D("3.66"))
    money = pedido_money(order, vat_types(VAT))
    assert money.totals["TOTPCL"] == D("3.66")
    # the base stays 3.03 (VAT 0.64) and the cent the shop did not charge is an exempt rounding line
    assert [(a.selector, a.total) for a in money.lines if a.kind == ROUNDING] == [(EXEMPT, D("-0.01"))]


def test_the_customer_total_wins_over_inconsistent_rows_and_is_said():
    # the row says 2 x 10.00 but its total is 18.00 (and the customer paid 18.00 + VAT)
    order = Order(lines=[_line(21, 2, "10.00", "18.00", "21.78")], total_tax_incl=D("21.78"))
    money = pedido_money(order, vat_types(VAT))
    (line,) = money.lines
    assert (line.quantity, line.price, line.total) == (D(2), D("9.0000"), D("18.00"))
    assert money.totals["TOTPCL"] == D("21.78")
    assert any("2 x 10.00 but its total is 18.00" in n for n in money.notes)


def test_quantities_no_four_decimal_price_reaches_are_split():
    rows = fit_line(D(301), D("100.00"))
    assert len(rows) == 2 and sum(q for q, _, _ in rows) == 301
    assert sum(line_total(q, p, d) for q, p, d in rows) == D("100.00")


def test_unreachable_slot_amount_hands_its_cent_on():
    t21 = VatType(0, D(21))
    # 0.02 -> 0.02, 0.03 -> 0.04: an amount of 0.03 at 21% has no base
    assert fit_base(t21, D("0.03"), D("0.03"), False) is None
    order = Order(lines=[_line(21, 1, "0.025", "0.03", "0.03")], total_tax_incl=D("0.03"))
    money = pedido_money(order, vat_types(VAT))
    assert money.totals["TOTPCL"] == D("0.03")
    assert [a.selector for a in money.lines if a.kind == ROUNDING] == [EXEMPT]


def test_surcharge_charged_by_the_shop_is_kept_and_not_added_again():
    # 10.00 at 21% + 5.2% RE = 12.62, charged by a combined tax rule
    order = Order(lines=[_line("26.2", 1, "10", "10.00", "12.62")], total_tax_incl=D("12.62"))
    money = pedido_money(order, vat_types(VAT, RE, surcharge=True))
    assert money.totals["TOTPCL"] == D("12.62") == money.expected
    assert (money.totals["IIVA1PCL"], money.totals["IREC1PCL"]) == (D("2.10"), D("0.52"))


def test_surcharge_the_shop_did_not_charge_is_added_and_counted():
    order = Order(lines=[_line(21, 1, "10", "10.00", "12.10")], total_tax_incl=D("12.10"))
    money = pedido_money(order, vat_types(VAT, RE, surcharge=True))
    assert money.totals["TOTPCL"] == D("12.62") and money.surcharge_added == D("0.52")


def test_a_rate_without_a_factusol_type_names_the_line():
    order = Order(lines=[_line(7, 1, "10", "10.00", "10.70")], total_tax_incl=D("10.70"))
    with pytest.raises(MoneyError) as err:
        pedido_money(order, vat_types(VAT))
    assert err.value.field == "line 1 vat_rate" and "7.00%" in err.value.reason


def test_cart_rule_lines_are_negative_and_consistent():
    order = Order(
        lines=[_line(21, 2, "10", "20.00", "24.20"), _line(10, 1, "5", "5.00", "5.50")],
        discounts=[OrderDiscount("Vale", D("5.00"), D("4.21"), False)],
        total_tax_incl=D("24.70"),
    )
    money = pedido_money(order, vat_types(VAT))
    assert money.totals["TOTPCL"] == D("24.70")
    assert all(a.total < 0 for a in money.lines if a.kind == DISCOUNT)
