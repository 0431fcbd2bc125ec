"""ShopConnection against real databases: version detection, configuration lookup order, PS_OS_* states, zero
dates, stock scope, and that the password never shows up in repr or error messages."""

from __future__ import annotations

import warnings

import pytest

from replicator.sandbox import shop as ps_sandbox
from replicator.config import parse_mysql_url
from replicator.prestashop.connection import ShopConnection, ShopConnectionError, connect

pytestmark = pytest.mark.mysql


@pytest.fixture
def shop8(mysql_server, mysql_db):
    url = ps_sandbox.create_shop(mysql_server.url, mysql_db, demo=False)
    with ShopConnection(url) as shop:
        yield shop


@pytest.mark.parametrize("version,family,shipping", [("8.2.1", "8", False), ("1.7.8.11", "1.7.8", True)])
def test_detect_version(mysql_server, mysql_db, version, family, shipping):
    url = ps_sandbox.create_shop(mysql_server.url, mysql_db, version=version)
    with ShopConnection(url) as shop:
        info = shop.detect_version()
    assert info.version == version and info.family == family
    assert info.has_shipping_number is shipping
    assert info.has_product_attribute_quantity is shipping
    assert info.has_carrier_tax_rules_group is shipping
    assert info.has_product_attribute_lang is (not shipping)
    assert info.has_physical_quantity is True


def test_order_states_resolved_by_keys(shop8):
    states = shop8.order_states()
    assert len(states) == 13
    shipped = states[shop8.state_id("PS_OS_SHIPPING")]
    assert shipped.canonical == "shipped" and shipped.shipped and shipped.paid and shipped.invoice and shipped.logable
    assert shop8.state_id("payment_accepted") == 2
    assert set(states[9].keys) == {"PS_OS_OUTOFSTOCK", "PS_OS_OUTOFSTOCK_PAID"}
    canceled = states[shop8.state_id("PS_OS_CANCELED")]
    assert not canceled.logable and not canceled.paid
    # ids are install defaults, not constants: move the key and the lookup follows
    shop8.execute("UPDATE {p}configuration SET value = '5' WHERE name = 'PS_OS_SHIPPING'")
    shop8.clear_cache()
    assert shop8.state_id("PS_OS_SHIPPING") == 5


def test_config_lookup_order_shop_group_global(shop8):
    assert shop8.config_value("PS_TIMEZONE") == "Europe/Madrid"
    shop8.execute(
        "INSERT INTO {p}configuration (id_shop_group, id_shop, name, value, date_add, date_upd)"
        " VALUES (1, NULL, 'PS_TIMEZONE', 'Europe/Lisbon', NOW(), NOW())"
    )
    assert shop8.config_value("PS_TIMEZONE") == "Europe/Lisbon"
    assert shop8.config_value("PS_TIMEZONE", id_shop=None) == "Europe/Madrid"
    shop8.execute(
        "INSERT INTO {p}configuration (id_shop_group, id_shop, name, value, date_add, date_upd)"
        " VALUES (1, 1, 'PS_TIMEZONE', 'Atlantic/Canary', NOW(), NOW())"
    )
    assert shop8.config_value("PS_TIMEZONE") == "Atlantic/Canary"
    assert shop8.config_value("PS_INVOICE_PREFIX", id_lang=2) == "#FA"
    assert shop8.config_value("PS_INVOICE_PREFIX", id_lang=1) == "#IN"
    assert shop8.config_value("NO_SUCH_KEY", default="x") == "x"


def test_zero_dates_read_as_none(shop8):
    row = shop8.query_one("SELECT date_add, date_upd FROM {p}configuration WHERE name = 'PS_TIMEZONE'")
    assert row == {"date_add": None, "date_upd": None}
    shop8.execute(
        "INSERT INTO {p}customer (firstname, lastname, email, passwd, birthday, newsletter_date_add,"
        " date_add, date_upd) VALUES ('a', 'b', 'c@d.e', 'x', '0000-00-00', '0000-00-00 00:00:00', NOW(), NOW())"
    )
    row = shop8.query_one("SELECT birthday, newsletter_date_add, date_add FROM {p}customer ORDER BY id_customer DESC")
    assert row["birthday"] is None and row["newsletter_date_add"] is None and row["date_add"] is not None


def test_stock_scope_follows_share_stock(shop8):
    assert shop8.stock_scope() == (1, 0)
    shop8.execute("UPDATE {p}shop_group SET share_stock = 1")
    shop8.clear_cache()
    assert shop8.stock_scope() == (0, 1)


def test_lang_and_shop_context(shop8):
    assert shop8.id_shop == 1 and shop8.id_shop_group == 1
    assert shop8.id_lang == 2 and shop8.lang_ids == [1, 2]
    assert shop8.now().tzinfo is None


def test_password_never_in_messages(mysql_server):
    url = mysql_server.url.replace("mysql://", "mysql://nosuchuser:S3cretPassw0rd@", 1)
    if "@" in mysql_server.url.split("//", 1)[1]:
        host = mysql_server.url.split("@", 1)[1]
        url = "mysql://nosuchuser:S3cretPassw0rd@" + host
    with pytest.raises(ShopConnectionError) as info:
        connect(url + "x")
    assert "S3cretPassw0rd" not in str(info.value) and "S3cretPassw0rd" not in repr(info.value)
    assert info.value.__cause__ is None


# ------------------------------------------------------------------------------------------------ TLS options


def test_url_tls_options_map_to_the_driver():
    base = "mysql://shop:pw@db.example.com:3307/ps"
    assert "ssl_disabled" not in parse_mysql_url(base) and "ssl" not in parse_mysql_url(base)  # preferred
    assert parse_mysql_url(base + "?ssl_mode=disabled")["ssl_disabled"] is True
    assert parse_mysql_url(base + "?ssl-mode=REQUIRED")["ssl"] == {"verify_mode": False}
    full = parse_mysql_url(base + "?ssl_mode=verify_identity&ssl_ca=/etc/ca.pem&ssl_cert=/c.pem&ssl_key=/k.pem")
    assert (full["ssl_ca"], full["ssl_verify_cert"], full["ssl_verify_identity"]) == ("/etc/ca.pem", True, True)
    assert (full["ssl_cert"], full["ssl_key"], full["database"], full["port"]) == ("/c.pem", "/k.pem", "ps", 3307)
    ca = parse_mysql_url(base + "?ssl_mode=verify_ca&ssl_ca=/etc/ca.pem")
    assert (ca["ssl_verify_cert"], ca["ssl_verify_identity"]) == (True, False)


@pytest.mark.parametrize(
    "query, message",
    [
        ("?ssl_mode=verify_ca", "ssl_mode=verify_ca needs ssl_ca"),
        ("?ssl_mode=sometimes", "ssl_mode must be one of disabled, preferred, required, verify_ca, verify_identity"),
        ("?sslmode=require", "unknown option(s) sslmode"),
        ("?charset=latin1", "charset must be utf8mb4"),
    ],
)
def test_bad_url_options_are_named_in_the_config_check(tmp_path, query, message):
    from replicator.config import ConfigError, load_config

    path = tmp_path / "replicator.yaml"
    (tmp_path / "a.sqlite").touch()
    path.write_text(f"factusol:\n  file: a.sqlite\nprestashop:\n  url: mysql://shop:S3cret@db/ps{query}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert f"prestashop.url: {message}" in str(info.value) and "S3cret" not in str(info.value)


def test_tls_modes_against_the_test_server(mysql_server):
    plain = connect(mysql_server.url + "?ssl_mode=disabled")
    with plain.cursor() as cur:
        cur.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        assert cur.fetchone()[1] == ""  # not encrypted
        cur.execute("SELECT @@have_ssl")
        offers_tls = cur.fetchone()[0] == "YES"
    plain.close()
    if offers_tls:
        with connect(mysql_server.url + "?ssl_mode=required") as conn, conn.cursor() as cur:
            cur.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
            assert cur.fetchone()[1] != ""
    else:  # required means encrypted or nothing: a server without TLS is refused, with a clear message
        with pytest.raises(ShopConnectionError) as info:
            connect(mysql_server.url + "?ssl_mode=required")
        assert "SSL" in str(info.value) or "TLS" in str(info.value)


def test_an_id_shop_that_does_not_exist_stops_the_start(mysql_server, mysql_db):
    url = ps_sandbox.create_shop(mysql_server.url, mysql_db, demo=False)
    with pytest.raises(ShopConnectionError) as info:
        ShopConnection(url, id_shop=7)
    assert "prestashop.id_shop: shop 7 does not exist" in str(info.value) and "shops there: 1" in str(info.value)
    with ShopConnection(url, id_shop=1) as shop:
        assert shop.id_shop == 1


def test_a_connection_the_server_dropped_is_replaced_without_pymysql_s_deprecated_reconnect(shop8, mysql_server):
    assert shop8.ensure_connected() is False  # alive: nothing to do
    dropped = shop8.conn.thread_id()
    admin = connect(mysql_server.url)
    try:
        with admin.cursor() as cur:
            cur.execute("KILL %s", (dropped,))
    finally:
        admin.close()
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        assert shop8.ensure_connected() is True
    assert shop8.conn.thread_id() != dropped
    assert shop8.query_one("SELECT @@SESSION.sql_mode AS m")["m"] == ""  # the new session is set up like the first
    assert shop8.config_value("PS_SHOP_DEFAULT") == "1"
