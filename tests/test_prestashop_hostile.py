"""Hostile values written to the shop, one per row, through the writers against a real MariaDB (sql_mode '' as
PrestaShop runs it): each is stored verbatim, fitted by rule with a log line, or refused naming the column —
never cut or clamped by the server, never a traceback."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from replicator.model import Product
from replicator.prestashop import write as writer
from replicator.prestashop.connection import ShopConnection
from replicator.prestashop.fit import column_facts
from replicator.rules.fit import FitPolicy, ValueRejected, set_policies
from replicator.sandbox import shop as sandbox

pytestmark = pytest.mark.mysql

REJECT = FitPolicy(fit="reject", control_chars="strip")
TRUNCATE = FitPolicy(fit="truncate", control_chars="strip")
STRICT = FitPolicy(fit="reject", control_chars="reject")
V, FIT, NO = "verbatim", "fitted", "rejected"
EMOJI = "\U0001f6d2"

# (id, table, column, value, policy, outcome, what is stored when fitted)
CASES = [
    ("plain first name", "customer", "firstname", "Ana", REJECT, V, None),
    ("accents", "customer", "firstname", "Lucía Peña", REJECT, V, None),
    ("emoji (4 bytes)", "customer", "firstname", f"Ana {EMOJI}", REJECT, V, None),
    ("255 characters", "customer", "firstname", "a" * 255, REJECT, V, None),
    ("256 characters", "customer", "firstname", "a" * 256, REJECT, NO, None),
    ("empty first name", "customer", "firstname", "", REJECT, NO, None),
    ("NULL first name", "customer", "firstname", None, REJECT, NO, None),
    ("first name of control characters only", "customer", "firstname", "\x00\x01", REJECT, NO, None),
    ("NUL inside a name", "customer", "firstname", "Ana\x00Gil", REJECT, FIT, "AnaGil"),
    ("NUL inside, reject", "customer", "lastname", "Gil\x00Ruiz", STRICT, NO, None),
    ("NULL e-mail", "customer", "email", None, REJECT, NO, None),
    ("empty e-mail", "customer", "email", "", REJECT, NO, None),
    ("blank e-mail", "customer", "email", "   ", REJECT, NO, None),
    ("255-character e-mail", "customer", "email", "e" * 243 + "@example.com", REJECT, V, None),
    ("256-character e-mail", "customer", "email", "e" * 244 + "@example.com", REJECT, NO, None),
    ("escape in an e-mail", "customer", "email", "ana\x1b@example.com", REJECT, FIT, "ana@example.com"),
    ("long company, truncate", "customer", "company", "C" * 300, TRUNCATE, FIT, "C" * 255),
    ("NULL company", "customer", "company", None, REJECT, V, None),
    ("long note", "customer", "note", "n" * 100_000, REJECT, V, None),
    ("NUL in a note", "customer", "note", "a\x00b", REJECT, FIT, "ab"),
    ("newline in a note", "customer", "note", "a\nb\r\nc", REJECT, V, None),
    ("SQL in a last name", "customer", "lastname", "'; DROP TABLE ps_customer; --", REJECT, V, None),
    ("quotes", "customer", "lastname", 'O\'Brien "Jr"', REJECT, V, None),
    ("backslashes", "customer", "lastname", "Gil\\Ruiz\\", REJECT, V, None),
    ("active 1", "customer", "active", 1, REJECT, V, None),
    ("active 256", "customer", "active", 256, REJECT, NO, None),
    ("active -1", "customer", "active", -1, REJECT, NO, None),
    ("active 1.5", "customer", "active", Decimal("1.5"), REJECT, NO, None),
    ("16-character NIF", "address", "dni", "B1234567890123XY", REJECT, V, None),
    ("18-character NIF", "address", "dni", "ES-B12345678-XYZ9A", REJECT, NO, None),
    ("18-character NIF, truncate", "address", "dni", "ES-B12345678-XYZ9A", TRUNCATE, FIT, "ES-B12345678-XYZ"),
    ("32-digit phone", "address", "phone", "9" * 32, REJECT, V, None),
    ("50-digit phone", "address", "phone", "9" * 50, REJECT, NO, None),
    ("tab in a phone", "address", "phone_mobile", "600\t000", REJECT, V, None),
    ("12-character postcode", "address", "postcode", "P" * 12, REJECT, V, None),
    ("13-character postcode", "address", "postcode", "P" * 13, REJECT, NO, None),
    ("64-character city", "address", "city", "c" * 64, REJECT, V, None),
    (
        "65-character city, truncate",
        "address",
        "city",
        "Villa " * 10 + "del Río",
        TRUNCATE,
        FIT,
        ("Villa " * 10 + "del Río")[:64].rstrip(),
    ),
    ("empty city", "address", "city", "", REJECT, NO, None),
    ("NULL city", "address", "city", None, REJECT, NO, None),
    ("empty street", "address", "address1", "", REJECT, NO, None),
    ("129-character street", "address", "address1", "s" * 129, REJECT, NO, None),
    ("NULL second line", "address", "address2", None, REJECT, V, None),
    ("33-character VAT number", "address", "vat_number", "V" * 33, REJECT, NO, None),
    ("NUL in other", "address", "other", "x\x00y", REJECT, FIT, "xy"),
    ("state beyond int unsigned", "address", "id_state", 2**32, REJECT, NO, None),
    ("negative state", "address", "id_state", -1, REJECT, NO, None),
    ("emoji in a last name", "address", "lastname", f"Gil {EMOJI}{EMOJI}", REJECT, V, None),
    ("stock 25", "stock_available", "quantity", 25, REJECT, V, None),
    ("stock 3.0", "stock_available", "quantity", Decimal("3.0"), REJECT, V, None),
    ("stock negative", "stock_available", "quantity", -5, REJECT, V, None),
    ("stock 2.5", "stock_available", "quantity", Decimal("2.5"), REJECT, NO, None),
    ("stock 1e10", "stock_available", "quantity", Decimal("1e10"), REJECT, NO, None),
    ("stock 2^31", "stock_available", "quantity", 2**31, REJECT, NO, None),
    ("stock NaN", "stock_available", "quantity", Decimal("NaN"), REJECT, NO, None),
    ("stock as text", "stock_available", "quantity", "ten", REJECT, NO, None),
    # a product's UPDATE goes through the same check as its INSERT (the name used to be cut silently at 128)
    ("128-character product name", "product_lang", "name", "N" * 128, REJECT, V, None),
    ("200-character product name", "product_lang", "name", "N" * 200, REJECT, NO, None),
    (
        "200-character product name, truncate",
        "product_lang",
        "name",
        "Nombre " * 28 + "Fin",
        TRUNCATE,
        FIT,
        ("Nombre " * 28 + "Fin")[:128].rstrip(),
    ),
    ("price with the six places the column keeps", "product", "price", Decimal("1.234567"), REJECT, V, None),
    ("price with a seventh place", "product", "price", Decimal("0.1234567"), REJECT, FIT, Decimal("0.123457")),
    (
        "price with a seventh place, truncate",
        "product",
        "price",
        Decimal("0.1234567"),
        TRUNCATE,
        FIT,
        Decimal("0.123457"),
    ),
    ("price whose extra places are zeros", "product", "price", Decimal("2.50000000"), REJECT, V, None),
    ("negative price", "product", "price", Decimal("-1"), REJECT, NO, None),
    # ps_order_carrier.tracking_number is varchar(64)
    ("64-character tracking number", "order_carrier", "tracking_number", "1Z" * 32, REJECT, V, None),
    ("100-character tracking number", "order_carrier", "tracking_number", "1Z" * 50, REJECT, NO, None),
    (
        "100-character tracking number, truncate",
        "order_carrier",
        "tracking_number",
        "1Z" * 50,
        TRUNCATE,
        FIT,
        "1Z" * 32,
    ),
]


@pytest.fixture(scope="module")
def shop(mysql_server):
    name = "ps_hostile"
    with ShopConnection(sandbox.create_shop(mysql_server.url, name, demo=True)) as s:
        yield s


@pytest.fixture
def policy():
    yield lambda p: set_policies({e: p for e in ("customer", "address", "stock", "product", "shipment")})
    set_policies({})


def _simple_product(shop) -> int:
    return shop.query_one(
        "SELECT p.id_product FROM {p}product p WHERE NOT EXISTS (SELECT 1 FROM"
        " {p}product_attribute pa WHERE pa.id_product = p.id_product) ORDER BY p.id_product"
    )["id_product"]


def _customer(shop) -> int:
    return shop.query_one(
        "SELECT c.id_customer FROM {p}customer c JOIN {p}address a ON a.id_customer ="
        " c.id_customer AND a.deleted = 0 ORDER BY c.id_customer"
    )["id_customer"]


def _snapshot(shop, table: str) -> list:
    return shop.query(f"SELECT * FROM {{p}}{table} ORDER BY 1")


def _order(shop) -> int:
    return shop.query_one(
        "SELECT o.id_order FROM {p}orders o JOIN {p}order_carrier oc ON oc.id_order = o.id_order ORDER BY o.id_order"
    )["id_order"]


def _write_and_read(shop, table: str, column: str, value):
    if table in ("product", "product_lang"):  # an existing product: upsert_product's UPDATE path
        pid = _simple_product(shop)
        reference = shop.query_one("SELECT reference FROM {p}product WHERE id_product = %s", (pid,))["reference"]
        product = Product(reference=reference, prestashop_id=pid, name="Producto", price_tax_excl=Decimal("10"))
        setattr(product, {"name": "name", "price": "price_tax_excl"}[column], value)
        writer.upsert_product(shop, product, index=False)
        if table == "product":
            return shop.query_one(f"SELECT `{column}` AS v FROM {{p}}product WHERE id_product = %s", (pid,))["v"]
        return shop.query_one(
            f"SELECT `{column}` AS v FROM {{p}}product_lang WHERE id_product = %s AND id_lang = %s",
            (pid, shop.id_lang),
        )["v"]
    if table == "order_carrier":
        order_id = _order(shop)
        carrier = writer.set_tracking(shop, order_id, value)
        return shop.query_one(
            "SELECT tracking_number AS v FROM {p}order_carrier WHERE id_order_carrier = %s", (carrier,)
        )["v"]
    if table == "stock_available":
        pid = _simple_product(shop)
        writer.set_stock(shop, pid, 0, value)
        return shop.query_one(
            "SELECT quantity FROM {p}stock_available WHERE id_product = %s AND id_product_attribute = 0", (pid,)
        )["quantity"]
    cid = _customer(shop)
    if table == "customer":
        writer.update_customer(shop, cid, {column: value}, {})
        return shop.query_one(f"SELECT `{column}` AS v FROM {{p}}customer WHERE id_customer = %s", (cid,))["v"]
    address_id = writer.update_customer(shop, cid, {}, {column: value})
    return shop.query_one(f"SELECT `{column}` AS v FROM {{p}}address WHERE id_address = %s", (address_id,))["v"]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_hostile_value_is_stored_fitted_or_refused(shop, policy, caplog, case):
    name, table, column, value, rule, outcome, fitted = case
    policy(rule)
    caplog.set_level(logging.INFO)
    if outcome == NO:
        before = _snapshot(shop, table)
        with pytest.raises(ValueRejected) as info:
            _write_and_read(shop, table, column, value)
        assert info.value.field == f"{table}.{column}" and f"{table}.{column}" in str(info.value)
        assert _snapshot(shop, table) == before  # nothing written
        return
    stored = _write_and_read(shop, table, column, value)
    said = [r.getMessage() for r in caplog.records if f"{table}.{column}" in r.getMessage()]
    if outcome == V:
        assert stored == value, f"{name}: stored {stored!r}"
        assert said == [], said
    else:
        assert stored == fitted, f"{name}: stored {stored!r}, expected {fitted!r}"
        assert len(said) == 1 and any(w in said[0] for w in ("cut", "removed", "rounded")), said
        if rule.fit == "truncate" or table == "product":  # the line names the field and its limit
            facts = column_facts(shop, table)[column]
            limit = f"holds {facts.width} characters" if facts.kind == "text" else f"the {facts.scale} decimal places"
            assert limit in said[0], said


def test_the_table_has_at_least_fifty_inputs():
    assert len(CASES) >= 50
