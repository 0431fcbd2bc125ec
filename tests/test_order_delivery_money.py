"""Delivery and invoice money FactuSOL -> shop, end to end: real MariaDB demo shop, FactuSOL stand-in via pyodbc.

The delivery note's shipping cost reaches the shop order by rule; the order's invoice row takes every amount from
the FactuSOL invoice (never FactuSOL's total beside the shop's shipping); a carrier missing from the map waits in
quarantine unless the rule sets a fallback, whose use is logged.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal

import pytest

from replicator.factusol import writer as fs_writer
from replicator.rules.ruleset import ValueMap
from replicator.sandbox.access_sql import access_sql_guard  # noqa: F401  (every statement must be Access SQL)

import test_sync_orders
from test_sync_orders import lines_of, pedidos, run, shop_order

pytestmark = pytest.mark.mysql
env = test_sync_orders.env  # the order tests' fixture: the demo shop, the FactuSOL stand-in, a store


def _note(ctx, header, number: int, *, trn=None, portes="0", rate="21") -> None:
    fs_writer.insert_row(
        ctx.factusol,
        "F_ALB",
        {
            "TIPALB": "1",
            "CODALB": number,
            "FECALB": datetime(2025, 3, 1),
            "CLIALB": header["CLIPCL"],
            "TRNALB": header["TRNPCL"] if trn is None else trn,
            "TOTALB": header["TOTPCL"],
            "IPOR1ALB": Decimal(portes),
            "PIVA1ALB": Decimal(rate),
        },
    )
    for ln in lines_of(ctx, header):
        fs_writer.insert_row(
            ctx.factusol,
            "F_LAL",
            {
                "TIPLAL": "1",
                "CODLAL": number,
                "POSLAL": ln["POSLPC"],
                "ARTLAL": ln["ARTLPC"],
                "CANLAL": ln["CANLPC"],
                "PRELAL": ln["PRELPC"],
                "TOTLAL": ln["TOTLPC"],
                "DOCLAL": "C",
                "DTPLAL": header["TIPPCL"],
                "DCOLAL": header["CODPCL"],
            },
        )


def test_the_delivery_note_shipping_cost_reaches_the_shop_and_the_invoice_row_is_factusol_s(env):
    ctx = env
    assert run(ctx, "ps:1")["order"].status == "applied"
    [h] = pedidos(ctx, 1)
    before = shop_order(ctx, 1)
    assert before["total_shipping_tax_excl"] == Decimal("4.958678")
    _note(ctx, h, 601, portes="6.00")
    out = run(ctx, "ps:1")["shipment"]
    assert out.status == "applied" and "shipping cost -> 6.00 (7.26 with VAT)" in out.detail, out.detail
    after = shop_order(ctx, 1)
    assert (after["total_shipping_tax_excl"], after["total_shipping_tax_incl"]) == (Decimal("6.00"), Decimal("7.26"))
    assert (
        after["total_paid_tax_incl"] - before["total_paid_tax_incl"]
        == Decimal("7.26") - before["total_shipping_tax_incl"]
    )
    carrier = ctx.shop.query_one(
        "SELECT shipping_cost_tax_excl AS e, shipping_cost_tax_incl AS i FROM {p}order_carrier WHERE id_order = 1"
    )
    assert (carrier["e"], carrier["i"]) == (Decimal("6.00"), Decimal("7.26"))
    assert run(ctx, "ps:1")["shipment"].status == "noop"
    # a later edit in the shop stays until FactuSOL's figure moves again
    ctx.shop.execute("UPDATE {p}orders SET total_shipping_tax_excl = 5 WHERE id_order = 1")
    assert run(ctx, "ps:1")["shipment"].status == "noop"
    # the invoice: every amount of order_invoice is FactuSOL's
    fs_writer.insert_row(
        ctx.factusol,
        "F_FAC",
        {
            "TIPFAC": "1",
            "CODFAC": 88,
            "FECFAC": datetime(2025, 3, 5),
            "CLIFAC": h["CLIPCL"],
            "TOTFAC": Decimal("100.00"),
            "BAS1FAC": Decimal("82.64"),
            "IPOR1FAC": Decimal("6.00"),
            "PIVA1FAC": Decimal("21"),
        },
    )
    fs_writer.insert_row(
        ctx.factusol, "F_LFA", {"TIPLFA": "1", "CODLFA": 88, "POSLFA": 1, "DOCLFA": "A", "DTPLFA": "1", "DCOLFA": 601}
    )
    run(ctx, "ps:1")
    inv = ctx.shop.query_one("SELECT * FROM {p}order_invoice WHERE id_order = 1 AND number = 88")
    assert (inv["total_paid_tax_incl"], inv["total_paid_tax_excl"]) == (Decimal("100.00"), Decimal("82.64"))
    assert (inv["total_shipping_tax_excl"], inv["total_shipping_tax_incl"]) == (Decimal("6.00"), Decimal("7.26"))
    assert (inv["total_products"], inv["total_products_wt"]) == (Decimal("76.64"), Decimal("92.74"))
    assert inv["total_discount_tax_incl"] == 0 and inv["total_wrapping_tax_incl"] == 0


def test_shipping_cost_direction_to_factusol_keeps_the_shop_s(env):
    ctx = env
    ctx.rules.entity("shipment").fields["shipping_cost"].direction = "to_factusol"
    run(ctx, "ps:1")
    [h] = pedidos(ctx, 1)
    _note(ctx, h, 602, portes="9.00")
    assert "shipping cost" not in run(ctx, "ps:1")["shipment"].detail
    assert shop_order(ctx, 1)["total_shipping_tax_excl"] == Decimal("4.958678")


def test_an_unmapped_carrier_waits_unless_the_rule_falls_back_and_says_so(env, caplog):
    ctx = env
    run(ctx, "ps:1")
    [h] = pedidos(ctx, 1)
    _note(ctx, h, 603, trn=5)  # Nacex: not in shipment.yaml carriers
    out = run(ctx, "ps:1")["shipment"]
    assert out.status == "quarantined" and "TRNALB 5" in out.detail
    assert any(q.field == "carrier" for q in ctx.store.quarantined() if q.entity == "shipment")
    carriers: ValueMap = ctx.rules.entity("shipment").value_map("carriers")
    carriers.fallback = {"factusol": 1, "canonical": "express"}
    with caplog.at_level(logging.INFO):
        out = run(ctx, "ps:1")["shipment"]
    assert out.status == "applied" and "carrier" in out.detail, out.detail
    assert "FactuSOL carrier 5 is not in shipment.yaml carriers: the fallback express is used" in caplog.text
