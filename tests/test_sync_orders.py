"""Orders, delivery and invoices end to end: real MariaDB shop (demo data) and the FactuSOL ODBC stand-in.

Real databases only: the shop is replicator.sandbox.shop's demo shop, FactuSOL the SQLite stand-in through pyodbc with
the demo's articles inserted by the FactuSOL writer.  Documents FactuSOL would make itself (delivery notes,
invoices, state edits) are inserted here the way FactuSOL stores them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from replicator.config import Config
from replicator.engine import Engine
from replicator.factusol import writer as fs_writer
from replicator.factusol.connection import connection_string_for, open_factusol
from replicator.sandbox.factusol import create_sandbox
from replicator.sandbox.access_sql import access_sql_guard  # noqa: F401  (every statement must be Access SQL)
from replicator.model import Order, OrderDiscount, OrderLine
from replicator.sandbox import shop as ps_sandbox
from replicator.prestashop import write as ps_writer
from replicator.prestashop.connection import ShopConnection
from replicator.rules import load_rules
from replicator.store import Change, Store
from replicator.sync.base import SyncContext
from replicator.sync.invoices import InvoiceSync, due_dates
from replicator.sync.followup import order_id_from_reference
from replicator.sync.orders import OrderSync
from replicator.sync.pedido import discount_parts, resolve_article
from replicator.sync.shipments import ShipmentSync

# FactuSOL articles matching the demo shop: code, VAT selector, variants (CE1 talla, CE2 color: 3 letters of the
# Spanish attribute name, as the demo's combination references 'CAM001-S-BLA' are built)
ARTICLES = [
    ("CAM001", 0, [(s, c) for c in ("BLA", "NEG") for s in ("S", "M", "L")]),
    ("SUD002", 0, [("S", ""), ("M", ""), ("L", ""), ("XL", "")]),
    ("PAN004", 0, [("38", "AZU"), ("40", "AZU"), ("42", "AZU")]),
    ("GOR003", 0, [("", "ROJ"), ("", "AZU")]),
    ("TAZ010", 0, []),
    ("CUA040", 0, []),
    ("LIB020", 2, []),
    ("CAF030", 1, []),
    ("PORTES", 0, []),
]


def add_article(conn, code: str, selector: int = 0, variants=()) -> None:
    fs_writer.insert_row(conn, "F_ART", {"CODART": code, "DESART": f"Artículo {code}", "TIVART": selector})
    for ce1, ce2 in variants:
        fs_writer.insert_row(conn, "F_ARC", {"ARTARC": code, "CE1ARC": ce1, "CE2ARC": ce2})


def make_ctx(store_url: str, fs_path: str, shop_url: str, tmp: Path) -> SyncContext:
    rules = load_rules()
    config = Config(path=tmp / "replicator.yaml", store=store_url, rules_dir=Path(rules.files[0]).parent)
    return SyncContext(
        config, Store(store_url), rules, open_factusol(connection_string_for(fs_path)), ShopConnection(shop_url)
    )


@pytest.fixture
def env(mysql_server, mysql_db, tmp_path):
    shop_url = ps_sandbox.create_shop(mysql_server.url, mysql_db, demo=True)
    fs_path = tmp_path / "0012025.sqlite"
    create_sandbox(fs_path, articles=20, customers=3, orders=0, year=2025)
    store_url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    ctx = make_ctx(store_url, str(fs_path), shop_url, tmp_path)
    for code, selector, variants in ARTICLES:
        add_article(ctx.factusol, code, selector, variants)
    ctx.paths = {"shop": shop_url, "fs": str(fs_path), "store": store_url, "tmp": str(tmp_path)}
    yield ctx
    ctx.factusol.close()
    ctx.shop.close()


SYNCS = {"order": OrderSync(), "shipment": ShipmentSync(), "invoice": InvoiceSync()}


def run(ctx, key: str) -> dict:
    """One apply cycle for one order key through the engine (quarantine handled as in production)."""
    engine = Engine(ctx, SYNCS)
    return {entity: engine.sync_keys(entity, [key])[key] for entity in ("order", "shipment", "invoice")}


def pedidos(ctx, oid: int) -> list[dict]:
    return ctx.factusol.query("SELECT * FROM [F_PCL] WHERE [REFPCL] LIKE ?", [f"PS-{oid}-%"])


def lines_of(ctx, header) -> list[dict]:
    return ctx.factusol.query(
        "SELECT * FROM [F_LPC] WHERE [TIPLPC] = ? AND [CODLPC] = ? ORDER BY [POSLPC]",
        [header["TIPPCL"], header["CODPCL"]],
    )


def shop_order(ctx, oid: int) -> dict:
    return ctx.shop.query_one("SELECT * FROM {p}orders WHERE id_order = %s", (oid,))


def state_key(ctx, oid: int) -> str:
    return ctx.shop.order_states()[shop_order(ctx, oid)["current_state"]].keys[0]


# ------------------------------------------------------------------------------------------------ creation


def test_registered_order_becomes_one_pedido(env):
    ctx = env
    out = OrderSync().sync(ctx, ["ps:1"])["ps:1"]
    assert out.status == "applied", out.detail
    [h] = pedidos(ctx, 1)
    order = shop_order(ctx, 1)
    assert h["REFPCL"] == f"PS-1-{order['reference']}" and h["TIPPCL"] == "1" and h["ALMPCL"] == "GEN"
    assert h["FECPCL"].date() == order["date_add"].date() and h["HORPCL"].hour == order["date_add"].hour
    assert h["FOPPCL"] == "TAR" and h["TRNPCL"] == 1 and h["ESTPCL"] == 0  # ps_checkout, SEUR (id_reference 2)
    assert (h["CNOPCL"], h["CPOPCL"], h["CCPPCL"], h["CNIPCL"]) == (
        "María García López",
        "Madrid",
        "28013",
        "12345678Z",
    )
    assert h["CPAPCL"] == "ESPAÑA" and h["CLIPCL"] >= 10000  # registered range of customer.yaml
    lines = lines_of(ctx, h)
    assert [(l["ARTLPC"], l["CE1LPC"], l["CE2LPC"], l["CANLPC"]) for l in lines] == [
        ("CAM001", "M", "BLA", Decimal(2)),
        ("TAZ010", "", "", Decimal(1)),
    ]
    assert all(l["PENLPC"] == l["CANLPC"] and l["IVALPC"] == 0 for l in lines)
    assert h["IPOR1PCL"] == Decimal("4.96") and h["TOTPCL"] == order["total_paid_tax_incl"]
    assert ctx.store.map_id("order", prestashop_id="1").factusol_key == f"1-{h['CODPCL']}"
    assert order_id_from_reference(ctx, h["REFPCL"]) == 1
    # idempotence: syncing again (and again) writes nothing
    assert OrderSync().sync(ctx, ["ps:1"])["ps:1"].status == "noop"
    assert OrderSync().sync(ctx, ["ps:1"])["ps:1"].status == "noop"
    assert len(pedidos(ctx, 1)) == 1


def test_a_file_locked_while_a_new_pedido_is_read_back_rolls_the_pedido_back(env, monkeypatch):
    """The pedido's rows are read back (for the echo records) in the pedido's own transaction: when the file gets
    locked just then, no pedido is left behind without its echo records, and the retry makes exactly one."""
    from replicator.factusol.errors import FactusolLockedError

    from _sync_env import lock_the_file_once_on_read_back

    ctx = env
    calls = lock_the_file_once_on_read_back(monkeypatch, "F_PCL")
    with pytest.raises(FactusolLockedError):
        OrderSync().sync(ctx, ["ps:1"])
    assert calls and pedidos(ctx, 1) == []  # rolled back with the read-back
    out = OrderSync().sync(ctx, ["ps:1"])["ps:1"]
    assert out.status == "applied" and "created" in out.detail, out.detail
    assert len(pedidos(ctx, 1)) == 1
    assert OrderSync().sync(ctx, ["ps:1"])["ps:1"].status == "noop"


def test_guest_and_company_orders(env):
    ctx = env
    # Jordi's order goes to his warehouse address, which FactuSOL has no F_OBR row for: snapshot in OB1/OB2
    ctx.shop.execute(
        "UPDATE {p}orders SET id_address_delivery = (SELECT MAX(id_address) FROM {p}address"
        " WHERE id_customer = 2) WHERE id_order = 2"
    )
    out = OrderSync().sync(ctx, ["ps:3", "ps:2", "ps:5"])
    assert {k: o.status for k, o in out.items()} == {"ps:3": "applied", "ps:2": "applied", "ps:5": "applied"}
    [guest] = pedidos(ctx, 3)
    assert 90000 <= guest["CLIPCL"] <= 99999 and guest["CNOPCL"] == "Lucía Fernández"  # guest range
    [company] = pedidos(ctx, 2)
    assert company["CNOPCL"] == "Puig Serra SL" and company["FOPPCL"] == "TRF" and company["CNIPCL"] == "B12345674"
    assert [(l["ARTLPC"], l["CE1LPC"]) for l in lines_of(ctx, company) if l["DESLPC"] != "Ajuste por redondeo"] == [
        ("SUD002", "L"),
        ("CUA040", ""),
    ]
    assert company["TOTPCL"] == shop_order(ctx, 2)["total_paid_tax_incl"]
    # Jordi's second shop address became an F_OBR row when the customer was created: the pedido points at it
    obr = ctx.factusol.query_one(
        "SELECT * FROM [F_OBR] WHERE [CLIOBR] = ? AND [CODOBR] = ?", [company["CLIPCL"], company["OBRPCL"]]
    )
    assert obr["DIROBR"] == "Polígono Can Roca, nave 4" and obr["CPOOBR"] == "08100"
    [french] = pedidos(ctx, 5)
    assert french["CPAPCL"] == "FRANCIA" and [l["IVALPC"] for l in lines_of(ctx, french)] == [2]  # 4 % book


def test_thirty_lines_mixed_vat_with_surcharge_cent_exact(env):
    ctx = env
    from replicator.sync.customers import ensure_factusol_customer

    code = ensure_factusol_customer(ctx, 1)  # María
    fs_writer.update_customer_fields(ctx.factusol, code, {"REQCLI": 1})
    refs = [(p[0], size, color) for p in ps_sandbox.DEMO_PRODUCTS for size, color, *_ in (p[9] or [(0, 0)])]
    lines = [(ref, size, color, 1 + (i * 7) % 5) for i, (ref, size, color) in enumerate(refs)]
    oid = _insert_shop_order(ctx, customer=1, lines=lines, extra_lines=30 - len(lines))
    out = OrderSync().sync(ctx, [f"ps:{oid}"])[f"ps:{oid}"]
    assert out.status == "applied", out.detail
    [h] = pedidos(ctx, oid)
    got = lines_of(ctx, h)
    products = [l for l in got if l["DESLPC"] != "Ajuste por redondeo"]
    assert len(products) == 30 and h["REQPCL"] == 1
    assert len(got) - len(products) <= 4, "at most one rounding line per VAT type"
    shop_lines = ctx.shop.query(
        "SELECT total_price_tax_excl AS t, tax_rate, id_tax_rules_group AS g FROM"
        " {p}order_detail WHERE id_order = %s ORDER BY id_order_detail",
        (oid,),
    )
    # the product lines are the shop's, cent for cent, and each is consistent the way FactuSOL computes it
    assert [l["TOTLPC"] for l in products] == [Decimal(l["t"]).quantize(Decimal("0.01")) for l in shop_lines]
    for l in got:
        assert (l["CANLPC"] * l["PRELPC"] * (1 - Decimal(str(l["DT1LPC"])) / 100)).quantize(
            Decimal("0.01"), "ROUND_HALF_UP"
        ) == l["TOTLPC"]
    # FactuSOL's own formula over the stored rows: NET = its lines, BAS = NET + portes, IVA and RE per slot, TOT
    total = Decimal(0)
    rates, recs = (Decimal(21), Decimal(10), Decimal(4)), (Decimal("5.2"), Decimal("1.4"), Decimal("0.5"))
    for n in (1, 2, 3):
        assert h[f"NET{n}PCL"] == sum((l["TOTLPC"] for l in got if int(l["IVALPC"]) == n - 1), Decimal(0))
        base = h[f"NET{n}PCL"] + h[f"IPOR{n}PCL"]
        assert h[f"BAS{n}PCL"] == base
        assert h[f"IIVA{n}PCL"] == (base * rates[n - 1] / 100).quantize(Decimal("0.01"), "ROUND_HALF_UP")
        assert h[f"IREC{n}PCL"] == (base * recs[n - 1] / 100).quantize(Decimal("0.01"), "ROUND_HALF_UP")
        total += base + h[f"IIVA{n}PCL"] + h[f"IREC{n}PCL"]
    assert h["TOTPCL"] == total + h["BAS4PCL"]
    # against the shop, to the cent: what the customer paid plus the surcharge FactuSOL adds (the shop charged none)
    surcharge = sum(h[f"IREC{n}PCL"] for n in (1, 2, 3))
    assert surcharge > 0 and h["TOTPCL"] == shop_order(ctx, oid)["total_paid_tax_incl"] + surcharge
    assert "total differs" not in out.detail and f"surcharge {surcharge:.2f} added" in out.detail


def _catalogue(ctx) -> dict:
    """The demo products as the sandbox's order builder takes them (ref -> ids, price, tax group, name, combinations),
    read from the shop once per context."""
    if getattr(ctx, "catalogue", None) is None:
        catalogue = {}
        for ref, cat, tax_group, price, *_rest, es, combos, qty in [
            (*p[:8], p[8], p[9], p[10]) for p in ps_sandbox.DEMO_PRODUCTS
        ]:
            pid = ctx.shop.query_one("SELECT id_product FROM {p}product WHERE reference = %s", (ref,))["id_product"]
            pa_ids = {}
            for size, color, *_x in combos:
                ids = sorted(a for a in (size, color) if a)
                for r in ctx.shop.query(
                    "SELECT id_product_attribute AS pa FROM {p}product_attribute WHERE id_product = %s", (pid,)
                ):
                    attrs = sorted(
                        x["id_attribute"]
                        for x in ctx.shop.query(
                            "SELECT id_attribute FROM {p}product_attribute_combination WHERE id_product_attribute = %s",
                            (r["pa"],),
                        )
                    )
                    if attrs == ids:
                        pa_ids[(size, color)] = r["pa"]
            catalogue[ref] = (pid, pa_ids, price, tax_group, es, combos)
        ctx.catalogue = catalogue
    return ctx.catalogue


def _insert_shop_order(ctx, customer: int, lines, state: int = 2, carrier: int = 2, extra_lines: int = 0) -> int:
    """A shop order as the checkout writes it (the demo sandbox's own order builder, test-side); `extra_lines`
    repeats earlier lines with other quantities (a cart holds each product once, an edited order may not)."""
    catalogue = _catalogue(ctx)
    addr = ctx.shop.query_one(
        "SELECT id_address FROM {p}address WHERE id_customer = %s ORDER BY id_address", (customer,)
    )["id_address"]
    key = ctx.shop.query_one("SELECT secure_key FROM {p}customer WHERE id_customer = %s", (customer,))["secure_key"]
    with ctx.shop.transaction() as cur:
        cur = cur.connection.cursor()  # the sandbox builder uses plain tuples
        oid = ps_sandbox.add_order(
            cur, ctx.shop.prefix, 40, (customer, [addr]), addr, carrier, state, lines, "", False, catalogue, 500, key
        )
    details = ctx.shop.query("SELECT * FROM {p}order_detail WHERE id_order = %s ORDER BY id_order_detail", (oid,))
    cent = Decimal("0.01")
    with ctx.shop.transaction() as cur:
        for i in range(extra_lines):
            row = dict(details[i % len(details)])
            tax = ctx.shop.query_one(
                "SELECT id_tax FROM {p}order_detail_tax WHERE id_order_detail = %s",
                (row.pop("id_order_detail"),),
                cursor=cur,
            )["id_tax"]
            qty = row["product_quantity"] + 1 + i % 3
            row.update(
                product_quantity=qty,
                product_quantity_in_stock=qty,
                total_price_tax_excl=(row["unit_price_tax_excl"] * qty).quantize(cent, "ROUND_HALF_UP"),
                total_price_tax_incl=(row["unit_price_tax_incl"] * qty).quantize(cent, "ROUND_HALF_UP"),
            )
            new = ctx.shop.execute(
                f"INSERT INTO {{p}}order_detail ({', '.join(f'`{k}`' for k in row)}) VALUES"
                f" ({', '.join(['%s'] * len(row))})",
                list(row.values()),
                cursor=cur,
            )
            ctx.shop.execute(
                "INSERT INTO {p}order_detail_tax (id_order_detail, id_tax, unit_amount, total_amount)"
                " VALUES (%s, %s, %s, %s)",
                (
                    new,
                    tax,
                    row["unit_price_tax_incl"] - row["unit_price_tax_excl"],
                    row["total_price_tax_incl"] - row["total_price_tax_excl"],
                ),
                cursor=cur,
            )
        ctx.shop.execute(
            "UPDATE {p}orders o SET total_products = (SELECT SUM(total_price_tax_excl) FROM {p}order_detail d WHERE"
            " d.id_order = o.id_order), total_products_wt = (SELECT SUM(total_price_tax_incl) FROM {p}order_detail d"
            " WHERE d.id_order = o.id_order) WHERE id_order = %s",
            (oid,),
            cursor=cur,
        )
        ctx.shop.execute(
            "UPDATE {p}orders SET total_paid_tax_incl = total_products_wt + total_shipping_tax_incl,"
            " total_paid = total_products_wt + total_shipping_tax_incl, total_paid_tax_excl ="
            " total_products + total_shipping_tax_excl WHERE id_order = %s",
            (oid,),
            cursor=cur,
        )
    return oid


def _add_cart_rule(ctx, oid: int, name: str, value_tax_incl: str, value_tax_excl: str, free_shipping: int = 0) -> None:
    """A cart rule on an order as the checkout records it: an order_cart_rule row and the order's totals lowered."""
    incl, excl = Decimal(value_tax_incl), Decimal(value_tax_excl)
    with ctx.shop.transaction() as cur:
        ctx.shop.execute(
            "INSERT INTO {p}order_cart_rule (id_order, id_cart_rule, name, value, value_tax_excl,"
            " free_shipping) VALUES (%s, 1, %s, %s, %s, %s)",
            (oid, name, incl, excl, free_shipping),
            cursor=cur,
        )
        ctx.shop.execute(
            "UPDATE {p}orders SET total_discounts = total_discounts + %s, total_discounts_tax_incl ="
            " total_discounts_tax_incl + %s, total_discounts_tax_excl = total_discounts_tax_excl + %s,"
            " total_paid = total_paid - %s, total_paid_tax_incl = total_paid_tax_incl - %s,"
            " total_paid_tax_excl = total_paid_tax_excl - %s WHERE id_order = %s",
            (incl, incl, excl, incl, incl, excl, oid),
            cursor=cur,
        )


def test_a_voucher_becomes_a_negative_line_and_the_totals_match_the_shop(env):
    ctx = env
    oid = _insert_shop_order(ctx, customer=1, lines=[("CAM001", "M", "BLA", 2), ("TAZ010", 0, 0, 1)])
    _add_cart_rule(ctx, oid, "Cupón BIENVENIDA -5 €", "5.00", "4.13")
    _add_cart_rule(
        ctx,
        oid,
        "Envío gratis",
        str(shop_order(ctx, oid)["total_shipping_tax_incl"]),
        str(shop_order(ctx, oid)["total_shipping_tax_excl"]),
        free_shipping=1,
    )
    out = OrderSync().sync(ctx, [f"ps:{oid}"])[f"ps:{oid}"]
    assert out.status == "applied", out.detail
    [h] = pedidos(ctx, oid)
    lines = lines_of(ctx, h)
    voucher, shipping = lines[-2:]
    assert (voucher["ARTLPC"], voucher["DESLPC"], voucher["CANLPC"]) == ("", "Cupón BIENVENIDA -5 €", Decimal(1))
    assert (voucher["PRELPC"], voucher["TOTLPC"], voucher["TIVLPC"], voucher["IVALPC"]) == (
        Decimal("-4.13"),
        Decimal("-4.13"),
        Decimal("-5.00"),
        0,
    )
    assert shipping["DESLPC"] == "Envío gratis" and shipping["TOTLPC"] == -h["IPOR1PCL"]
    assert h["TOTPCL"] == shop_order(ctx, oid)["total_paid_tax_incl"]  # to the cent: what the customer paid
    assert "total differs" not in out.detail


def test_a_voucher_on_a_mixed_vat_cart_is_split_over_the_rates(env):
    ctx = env
    oid = _insert_shop_order(ctx, customer=1, lines=[("CAM001", "M", "BLA", 1), ("LIB020", 0, 0, 1)])
    goods = {
        r["g"]: r["t"]
        for r in ctx.shop.query(
            "SELECT id_tax_rules_group AS g, total_price_tax_incl AS t FROM {p}order_detail WHERE id_order = %s", (oid,)
        )
    }
    assert set(goods) == {1, 3}  # 21 % and 4 %
    # PrestaShop spreads a 10 € voucher over the goods by their price, and records its amount without VAT
    share_21 = (Decimal("10.00") * goods[1] / (goods[1] + goods[3])).quantize(Decimal("0.01"))
    excl = (share_21 / Decimal("1.21") + (Decimal("10.00") - share_21) / Decimal("1.04")).quantize(Decimal("0.01"))
    _add_cart_rule(ctx, oid, "-10 €", "10.00", str(excl))
    ctx.rules.entity("order").options["discounts"] = {"article": "DTO"}
    out = OrderSync().sync(ctx, [f"ps:{oid}"])[f"ps:{oid}"]
    assert out.status == "quarantined" and "discounts.article" in out.detail  # DTO is not in FactuSOL yet
    add_article(ctx.factusol, "DTO")
    out = OrderSync().sync(ctx, [f"ps:{oid}"])[f"ps:{oid}"]
    assert out.status == "applied", out.detail
    [h] = pedidos(ctx, oid)
    parts = [ln for ln in lines_of(ctx, h) if ln["ARTLPC"] == "DTO"]
    assert [ln["IVALPC"] for ln in parts] == [0, 2] and sum(ln["TOTLPC"] for ln in parts) == -excl
    assert abs(-parts[0]["TIVLPC"] - share_21) <= Decimal("0.01")  # each rate's part follows the goods at that rate
    assert sum(ln["TIVLPC"] for ln in parts) == Decimal("-10.00")
    difference = h["TOTPCL"] - shop_order(ctx, oid)["total_paid_tax_incl"]
    assert abs(difference) <= Decimal("0.01")  # FactuSOL's VAT per slot against the shop's per line: a cent at most
    assert ("total differs" in out.detail) is (difference != 0)


def _add_a_mug(ctx, oid: int) -> None:
    """The back office edits the order: one more mug, and the order's totals with it."""
    with ctx.shop.transaction() as cur:
        ctx.shop.execute(
            "UPDATE {p}order_detail SET product_quantity = product_quantity + 1, total_price_tax_excl ="
            " total_price_tax_excl + unit_price_tax_excl, total_price_tax_incl = total_price_tax_incl +"
            " unit_price_tax_incl WHERE id_order = %s AND product_reference = 'TAZ010'",
            (oid,),
            cursor=cur,
        )
        ctx.shop.execute(
            "UPDATE {p}orders o SET total_paid_tax_incl = total_shipping_tax_incl + (SELECT"
            " SUM(total_price_tax_incl) FROM {p}order_detail d WHERE d.id_order = o.id_order)"
            " WHERE id_order = %s",
            (oid,),
            cursor=cur,
        )


def test_an_order_edited_in_the_shop_rewrites_its_pedido_while_factusol_has_not_started_on_it(env):
    ctx = env
    oid = _insert_shop_order(ctx, customer=1, lines=[("CAM001", "M", "BLA", 2), ("TAZ010", 0, 0, 1)])
    assert OrderSync().sync(ctx, [f"ps:{oid}"])[f"ps:{oid}"].status == "applied"
    [h] = pedidos(ctx, oid)
    assert OrderSync().sync(ctx, [f"ps:{oid}"])[f"ps:{oid}"].detail == ""  # nothing changed, nothing done
    _add_a_mug(ctx, oid)
    out = OrderSync().sync(ctx, [f"ps:{oid}"])[f"ps:{oid}"]
    assert out.status == "applied" and f"pedido {h['TIPPCL']}-{h['CODPCL']} rewritten" in out.detail
    [after] = pedidos(ctx, oid)
    assert after["CODPCL"] == h["CODPCL"] and after["REFPCL"] == h["REFPCL"]  # the same pedido, not a new one
    mug = next(ln for ln in lines_of(ctx, after) if ln["ARTLPC"] == "TAZ010")
    assert mug["CANLPC"] == 2 and mug["PENLPC"] == 2
    shop_total = shop_order(ctx, oid)["total_paid_tax_incl"].quantize(Decimal("0.01"))
    assert after["TOTPCL"] == shop_total != h["TOTPCL"]
    # the rewrite is remembered as our own write, and a second edit is rewritten too
    assert OrderSync().sync(ctx, [f"ps:{oid}"])[f"ps:{oid}"].detail == ""
    _add_a_mug(ctx, oid)
    assert "rewritten" in OrderSync().sync(ctx, [f"ps:{oid}"])[f"ps:{oid}"].detail
    assert next(ln for ln in lines_of(ctx, after) if ln["ARTLPC"] == "TAZ010")["CANLPC"] == 3


def test_an_order_edited_in_the_shop_after_factusol_changed_its_pedido_is_said_once_and_the_pedido_kept(env, caplog):
    ctx = env
    oid = _insert_shop_order(ctx, customer=1, lines=[("CAM001", "M", "BLA", 2), ("TAZ010", 0, 0, 1)])
    assert OrderSync().sync(ctx, [f"ps:{oid}"])[f"ps:{oid}"].status == "applied"
    [h] = pedidos(ctx, oid)
    # someone in FactuSOL adjusts a line of the pedido
    fs_writer.update_fields(
        ctx.factusol,
        "F_LPC",
        {"TIPLPC": h["TIPPCL"], "CODLPC": h["CODPCL"], "POSLPC": 1},
        {"DESLPC": "Camiseta M blanca (sin logo)"},
    )
    before = lines_of(ctx, h)
    _add_a_mug(ctx, oid)
    with caplog.at_level("WARNING"):
        out = OrderSync().sync(ctx, [f"ps:{oid}"])[f"ps:{oid}"]
    assert f"edited in the shop after pedido {h['TIPPCL']}-{h['CODPCL']} was made" in out.detail
    assert "its lines were changed in FactuSOL" in out.detail
    assert [r for r in caplog.records if "edited in the shop" in r.getMessage()]
    assert lines_of(ctx, h) == before  # FactuSOL's pedido is left as it is
    assert "edited" not in OrderSync().sync(ctx, [f"ps:{oid}"])[f"ps:{oid}"].detail  # said once per edit
    # a pedido made by an earlier version has no fingerprint: today's order is adopted, nothing is said
    base = ctx.store.baseline("order", f"ps:{oid}")
    ctx.store.set_baseline("order", f"ps:{oid}", {k: v for k, v in base.items() if k != "content"})
    assert "edited" not in OrderSync().sync(ctx, [f"ps:{oid}"])[f"ps:{oid}"].detail
    assert ctx.store.baseline("order", f"ps:{oid}")["content"] == base["content"]


def _order(lines, discounts, shipping=("0", "0")) -> Order:
    return Order(
        lines=[OrderLine(vat_rate=Decimal(rate), total_tax_excl=Decimal(excl)) for rate, excl in lines],
        discounts=[
            OrderDiscount(name=n, value_tax_incl=Decimal(i), value_tax_excl=Decimal(e), free_shipping=f)
            for n, i, e, f in discounts
        ],
        shipping_tax_excl=Decimal(shipping[0]),
        shipping_tax_incl=Decimal(shipping[1]),
    )


def test_discount_parts_by_rate():
    D = Decimal
    # one rate on the cart: one part at that rate, whatever the amounts' own rounding
    assert discount_parts(_order([("21", "50")], [("A", "5.00", "4.13", 0)])) == [
        ("A", D("21.00"), D("4.13"), D("5.00"))
    ]
    # a mixed cart, but the amounts are exactly one of its rates (a voucher on 21 % goods only)
    assert discount_parts(_order([("21", "50"), ("4", "20")], [("B", "12.10", "10.00", 0)])) == [
        ("B", D("21.00"), D("10.00"), D("12.10"))
    ]
    # free shipping at the shipping's rate, even when no product has it
    assert discount_parts(_order([("4", "20")], [("C", "6.05", "5.00", 1)], shipping=("5.00", "6.05")))[0][1] == 21
    # three rates: split by the goods' base at each rate (PrestaShop takes a voucher off each product in proportion
    # to its price); the parts add up to the tax-excluded amount
    parts = discount_parts(_order([("21", "200"), ("10", "100"), ("4", "100")], [("E", "10.00", "9.10", 0)]))
    assert [p[1] for p in parts] == [D("21.00"), D("10.00"), D("4.00")] and sum(p[2] for p in parts) == D("9.10")
    assert parts[0][2] == D("4.55") and {parts[1][2], parts[2][2]} <= {D("2.27"), D("2.28")}
    # nothing to discount, nothing written
    assert discount_parts(_order([("21", "50")], [("F", "0", "0", 0)])) == []


# ------------------------------------------------------------------------------------------------ life of an order


def _delivery_note(ctx, header, number: int, tracking: str, invoiced: int = 0) -> None:
    """What FactuSOL writes when it serves a pedido: F_ALB + F_LAL lines with DOC='C' back to it."""
    fs_writer.insert_row(
        ctx.factusol,
        "F_ALB",
        {
            "TIPALB": "1",
            "CODALB": number,
            "FECALB": datetime(2025, 3, 1),
            "ESTALB": invoiced,
            "CLIALB": header["CLIPCL"],
            "TRNALB": header["TRNPCL"],
            "CISALB": tracking,
            "TOTALB": header["TOTPCL"],
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
    fs_writer.update_fields(
        ctx.factusol, "F_PCL", {"TIPPCL": header["TIPPCL"], "CODPCL": header["CODPCL"]}, {"ESTPCL": 2}
    )
    ctx.factusol.execute(
        "UPDATE [F_LPC] SET [PENLPC] = 0 WHERE [TIPLPC] = ? AND [CODLPC] = ?", [header["TIPPCL"], header["CODPCL"]]
    )


def _invoice(ctx, header, number: int, albaran: int, state: int = 0) -> None:
    fs_writer.insert_row(
        ctx.factusol,
        "F_FAC",
        {
            "TIPFAC": "1",
            "CODFAC": number,
            "FECFAC": datetime(2025, 3, 5),
            "HORFAC": datetime(1900, 1, 1, 12, 30),
            "ESTFAC": state,
            "CLIFAC": header["CLIPCL"],
            "TOTFAC": header["TOTPCL"],
            "BAS1FAC": header["BAS1PCL"],
            "VENFAC": "05/04/2025;123,45",
        },
    )
    fs_writer.insert_row(
        ctx.factusol,
        "F_LFA",
        {"TIPLFA": "1", "CODLFA": number, "POSLFA": 1, "DOCLFA": "A", "DTPLFA": "1", "DCOLFA": albaran},
    )
    fs_writer.update_fields(ctx.factusol, "F_ALB", {"TIPALB": "1", "CODALB": albaran}, {"ESTALB": 1})


def test_full_life_of_an_order(env):
    ctx = env
    key = "ps:2"  # Jordi's bank-wire order, awaiting payment
    assert run(ctx, key)["order"].status == "applied"
    [h] = pedidos(ctx, 2)
    # approved in the shop: still "pending" for FactuSOL; the payment is noted in the pedido, once
    assert "Pago aceptado" not in (h["PRIPCL"] or "") and "Vencimientos (TRF)" in h["PRIPCL"]
    ps_writer.change_order_state(ctx.shop, 2, ctx.shop.state_id("PS_OS_PAYMENT"))
    out = run(ctx, key)["order"]
    assert out.status == "applied" and "payment taken in the shop noted" in out.detail, out.detail
    assert "Pago aceptado en la tienda: " in pedidos(ctx, 2)[0]["PRIPCL"]
    assert {o.status for o in run(ctx, key).values()} == {"noop"}
    assert pedidos(ctx, 2)[0]["ESTPCL"] == 0
    # FactuSOL puts it "en almacén" -> Processing in the shop
    fs_writer.update_fields(ctx.factusol, "F_PCL", {"TIPPCL": "1", "CODPCL": h["CODPCL"]}, {"ESTPCL": 3})
    assert run(ctx, key)["order"].detail.startswith("shop state -> PS_OS_PREPARATION")
    assert state_key(ctx, 2) == "PS_OS_PREPARATION"
    # the delivery note: Shipped with the tracking number, routed from the captured F_LAL row
    _delivery_note(ctx, h, 501, "SEU0000001")
    change = Change(
        side="factusol",
        entity="shipment",
        source_table="F_LAL",
        op="insert",
        position="t",
        row_key=json.dumps({"TIPLAL": "1", "CODLAL": 501, "POSLAL": 1}),
        after=json.dumps({"DOCLAL": "C", "DTPLAL": "1", "DCOLAL": h["CODPCL"]}),
    )
    assert ShipmentSync().keys_for_change(ctx, change) == [key]
    outs = run(ctx, key)
    assert outs["shipment"].status == "applied", outs
    assert state_key(ctx, 2) == "PS_OS_SHIPPING"
    tracking = lambda: ctx.shop.query_one("SELECT tracking_number FROM {p}order_carrier WHERE id_order = 2")
    assert tracking()["tracking_number"] == "SEU0000001"
    assert {o.status for o in run(ctx, key).values()} == {"noop"}  # no ping-pong
    # a later tracking edit in FactuSOL follows
    fs_writer.update_fields(ctx.factusol, "F_ALB", {"TIPALB": "1", "CODALB": 501}, {"CISALB": "SEU0000002"})
    assert "tracking SEU0000002" in run(ctx, key)["shipment"].detail
    assert tracking()["tracking_number"] == "SEU0000002"
    # invoiced: the note becomes ESTALB 1 (-> Delivered) and the shop gets FactuSOL's invoice number and date
    _invoice(ctx, h, 77, 501)
    assert InvoiceSync().keys_for_change(
        ctx,
        Change(
            side="factusol",
            entity="invoice",
            source_table="F_FAC",
            op="insert",
            position="t",
            row_key=json.dumps({"TIPFAC": "1", "CODFAC": 77}),
            after=json.dumps({"REFFAC": ""}),
        ),
    ) == [key]
    outs = run(ctx, key)
    assert state_key(ctx, 2) == "PS_OS_DELIVERED", outs
    order = shop_order(ctx, 2)
    assert order["invoice_number"] == 77 and order["invoice_date"] == datetime(2025, 3, 5, 12, 30)
    inv = ctx.shop.query_one("SELECT * FROM {p}order_invoice WHERE id_order = 2 AND number = 77")
    assert inv["total_paid_tax_incl"] == h["TOTPCL"] and "05/04/2025" in inv["note"]
    assert due_dates("05/04/2025;123,45") == [("05/04/2025", "123,45")]
    # collected in FactuSOL: the paid event; the order stays Delivered (forward only), the payment is recorded
    fs_writer.update_fields(ctx.factusol, "F_FAC", {"TIPFAC": "1", "CODFAC": 77}, {"ESTFAC": 2})
    out = run(ctx, key)["invoice"]
    assert out.status == "applied" and "payment" in out.detail, out.detail
    assert state_key(ctx, 2) == "PS_OS_DELIVERED"
    paid = ctx.shop.query_one(
        "SELECT COALESCE(SUM(amount), 0) AS s FROM {p}order_payment WHERE order_reference = %s", (order["reference"],)
    )["s"]
    assert paid == inv["total_paid_tax_incl"]
    assert {o.status for o in run(ctx, key).values()} == {"noop"}
    assert len(pedidos(ctx, 2)) == 1


def test_paid_event_moves_a_pending_order(env):
    ctx = env
    run(ctx, "ps:5")  # cheque order, awaiting payment
    [h] = pedidos(ctx, 5)
    fs_writer.insert_row(
        ctx.factusol,
        "F_FAC",
        {
            "TIPFAC": "2",
            "CODFAC": 9,
            "FECFAC": datetime(2025, 4, 1),
            "ESTFAC": 2,
            "REFFAC": h["REFPCL"],
            "TOTFAC": h["TOTPCL"],
        },
    )
    out = run(ctx, "ps:5")["invoice"]
    assert "shop state -> PS_OS_PAYMENT" in out.detail and state_key(ctx, 5) == "PS_OS_PAYMENT"
    assert shop_order(ctx, 5)["invoice_number"] == 9


# ------------------------------------------------------------------------------------------------ cancellation


def test_cancellation_both_ways(env):
    ctx = env
    run(ctx, "ps:1")
    run(ctx, "ps:5")
    # shop -> FactuSOL
    ps_writer.change_order_state(ctx.shop, 1, ctx.shop.state_id("PS_OS_CANCELED"))
    out = run(ctx, "ps:1")["order"]
    assert out.status == "applied" and "cancelled in FactuSOL" in out.detail
    [h] = pedidos(ctx, 1)
    assert h["ESTPCL"] == 4
    assert all(l["PENLPC"] == 0 and l["ANULPC"] == l["CANLPC"] for l in lines_of(ctx, h))
    assert {o.status for o in run(ctx, "ps:1").values()} == {"noop"}
    # FactuSOL -> shop
    [h5] = pedidos(ctx, 5)
    fs_writer.set_order_state(ctx.factusol, "1", h5["CODPCL"], 4)
    out = run(ctx, "ps:5")["order"]
    assert out.status == "applied" and state_key(ctx, 5) == "PS_OS_CANCELED"
    assert {o.status for o in run(ctx, "ps:5").values()} == {"noop"}
    assert pedidos(ctx, 5)[0]["ESTPCL"] == 4
    # an order already cancelled in the shop is recorded cancelled, nothing pending
    run(ctx, "ps:4")
    [h4] = pedidos(ctx, 4)
    assert h4["ESTPCL"] == 4 and all(l["PENLPC"] == 0 for l in lines_of(ctx, h4))


# ------------------------------------------------------------------------------------------------ quarantine


def test_unknown_article_quarantines_then_goes_through(env):
    ctx = env
    ctx.factusol.execute("DELETE FROM [F_ART] WHERE [CODART] = ?", ["CAF030"])
    engine = Engine(ctx, SYNCS)
    out = engine.sync_keys("order", ["ps:3"])["ps:3"]
    assert out.status == "quarantined" and "CAF030" in out.detail
    [q] = ctx.store.quarantined()
    assert (q.entity, q.key, q.field) == ("order", "ps:3", "line.reference")
    assert pedidos(ctx, 3) == []
    engine.retry_quarantined()
    assert ctx.store.quarantined() != []  # still unknown
    add_article(ctx.factusol, "CAF030", 1)
    engine.retry_quarantined()
    assert ctx.store.quarantined() == []
    assert len(pedidos(ctx, 3)) == 1


def test_unmapped_vat_rate_quarantines(env):
    ctx = env
    ctx.shop.execute(
        "UPDATE {p}order_detail_tax SET id_tax = 99 WHERE id_order_detail IN"
        " (SELECT id_order_detail FROM {p}order_detail WHERE id_order = 5)"
    )
    ctx.shop.execute("INSERT INTO {p}tax (id_tax, rate, active, deleted) VALUES (99, 7.000, 1, 0)")
    out = OrderSync().sync(ctx, ["ps:5"])["ps:5"]
    assert out.status == "quarantined" and "7" in out.detail and "vat_rate" in out.detail


def test_resolve_article_codes():
    variants = {"CAM001": [("S", "BLA")], "GOR003": [("", "ROJ")], "TAZ010": [], "A-B": []}
    assert resolve_article("CAM001", "CAM001-S-BLA", variants) == ("CAM001", "S", "BLA")
    assert resolve_article("GOR003", "GOR003-ROJ", variants) == ("GOR003", "", "ROJ")
    assert resolve_article("TAZ010", "", variants) == ("TAZ010", "", "")
    assert resolve_article("A-B", "", variants) == ("A-B", "", "")
    assert resolve_article("CAM001", "CAM001-XL-BLA", variants) is None
    assert resolve_article("NOPE", "", variants) is None


# ------------------------------------------------------------------------------------------------ crash safety

CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from replicator.factusol.connection import STATEMENT_HOOKS
    sys.path.insert(0, {tests!r})
    from test_sync_orders import make_ctx
    from replicator.sync.orders import OrderSync

    def hook(rec):
        if rec.sql.startswith({trigger!r}):
            print("HOOK", flush=True)
            time.sleep(120)

    ctx = make_ctx({store!r}, {fs!r}, {shop!r}, Path({tmp!r}))
    if {trigger!r} == "store.writes":  # the store transaction of the link, after the pedido committed
        from replicator.store import Store

        def writes(self, *args, **kwargs):
            print("HOOK", flush=True)
            time.sleep(120)

        Store.writes = writes
    else:
        STATEMENT_HOOKS.append(hook)
    OrderSync().sync(ctx, ["ps:1"])
    print("DONE", flush=True)
""")


@pytest.mark.parametrize(
    "trigger",
    [
        "INSERT INTO [F_LPC]",  # killed inside the header+lines transaction: nothing committed
        "SELECT * FROM [F_PCL] WHERE [TIPPCL]",  # killed reading back the echo images, still inside it
        "store.writes",  # killed after the commit, before the id-map link
    ],
)
def test_kill_9_during_order_write_gives_exactly_one_pedido(env, trigger):
    ctx = env
    from replicator.sync.customers import ensure_factusol_customer

    ensure_factusol_customer(ctx, 1)  # the customer is not what this test is about
    code = CHILD.format(tests=str(Path(__file__).parent), trigger=trigger, **ctx.paths)
    child = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=str(Path(__file__).parents[1]),
    )
    try:
        line = child.stdout.readline()
        assert line.strip() == "HOOK", child.stderr.read()
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert ctx.store.map_id("order", prestashop_id="1") is None  # died before the link
    out = OrderSync().sync(ctx, ["ps:1"])["ps:1"]
    assert out.status == "applied", out.detail
    [h] = pedidos(ctx, 1)
    assert len(lines_of(ctx, h)) == 2
    if trigger == "store.writes":
        assert "linked existing pedido" in out.detail
    else:
        assert "created" in out.detail
    assert OrderSync().sync(ctx, ["ps:1"])["ps:1"].status == "noop"
    assert len(pedidos(ctx, 1)) == 1


def test_all_keys_and_routing(env):
    ctx = env
    keys = list(OrderSync().all_keys(ctx))
    assert keys == [f"ps:{i}" for i in range(1, 6)]
    run(ctx, "ps:1")
    [h] = pedidos(ctx, 1)
    fs_change = Change(
        side="factusol",
        entity="order",
        source_table="F_PCL",
        op="update",
        position="t",
        row_key=json.dumps({"TIPPCL": "1", "CODPCL": h["CODPCL"]}),
        after=json.dumps({"ESTPCL": 1}),
    )
    assert OrderSync().keys_for_change(ctx, fs_change) == ["ps:1"]
    ps_change = Change(
        side="prestashop",
        entity="order",
        source_table="order_history",
        op="insert",
        position="t",
        row_key=json.dumps({"id_order_history": 9}),
        after=json.dumps({"id_order": 4}),
    )
    assert OrderSync().keys_for_change(ctx, ps_change) == ["ps:4"]
    assert list(ShipmentSync().all_keys(ctx)) == ["ps:1"]


@pytest.mark.parametrize(
    "column, value, field, words",
    [
        ("unit_price_tax_excl", "-10.000000", "unit_price_tax_excl", "negative"),
        ("total_price_tax_incl", "-12.100000", "total_tax_incl", "negative"),
        ("product_quantity", "0", "quantity", "whole number above zero"),
    ],
)
def test_a_line_below_zero_or_without_units_is_quarantined_with_the_reason(env, column, value, field, words):
    ctx = env
    ctx.shop.execute(
        f"UPDATE {{p}}order_detail SET {column} = %s WHERE id_order = 3 ORDER BY id_order_detail LIMIT 1", (value,)
    )
    out = Engine(ctx, SYNCS).sync_keys("order", ["ps:3"])["ps:3"]
    assert out.status == "quarantined" and words in out.detail and field in out.detail
    [q] = ctx.store.quarantined()
    assert (q.entity, q.key) == ("order", "ps:3") and q.field.startswith("line 1")
    assert pedidos(ctx, 3) == []  # no pedido with a negative total
