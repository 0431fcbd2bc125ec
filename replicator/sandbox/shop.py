"""Create a throwaway PrestaShop database from our schema fixture and seed it like a fresh (Spanish) shop.

``create_shop(...)`` always loads the reference data a real install has (shop, languages en+es, countries,
Spanish provinces, EUR, groups, carriers, the 13 order states with their PS_OS_* keys, stock movement reasons,
configuration keys, Spanish VAT 21/10/4 with tax rule groups).  ``demo=True`` adds a small catalogue (simple
products and products with Size/Color combinations), customers with addresses, and orders with lines, carriers,
history and invoices.  ``products=N`` / ``customers=N`` add N generated ones.  Everything is deterministic.
"""

from __future__ import annotations

from decimal import Decimal

from replicator.prestashop import schema
from replicator.config import parse_mysql_url
from replicator.prestashop.connection import ShopConnection, connect
from .shop_base import seed_base
from .shop_catalogue import add_customer, add_product, cid_key
from .shop_data import COUNTRIES, DEMO_CUSTOMERS, DEMO_ORDERS, DEMO_PRODUCTS, ES_PROVINCES
from .shop_orders import add_order, seed_invoice
from .shop_sql import ts, version_string


def create_shop(
    mysql_url: str,
    database: str,
    demo: bool = False,
    products: int = 0,
    customers: int = 0,
    prefix: str = "ps_",
    version: str = "8.2.1",
) -> str:
    """Create ``database`` (dropped first if it exists) on the server of ``mysql_url``, load the schema, seed it.

    Returns the database URL.  ``version`` picks the schema family ('8.2.1', '1.7.8.11', ...).
    """
    if not all(c.isalnum() or c == "_" for c in database):
        raise ValueError("database name may only contain letters, digits and '_'")
    family = schema.normalise_version(version)
    server_url = mysql_url.rsplit("/", 1)[0] + "/" if parse_mysql_url(mysql_url).get("database") else mysql_url
    admin = connect(server_url)
    try:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{database}`")
            cur.execute(f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci")
    finally:
        admin.close()
    url = server_url.rstrip("/") + "/" + database
    conn = connect(url)
    try:
        schema.create_schema(conn, family, prefix)
        conn.begin()
        with conn.cursor() as cur:
            seed_base(cur, prefix, family)
            if family == "8" and version.count(".") >= 1:
                cur.execute(
                    f"UPDATE `{prefix}configuration` SET value = %s WHERE name IN ('PS_VERSION_DB',"
                    " 'PS_INSTALL_VERSION')",
                    (version_string(version),),
                )
            cur.execute(f"SELECT iso_code, id_state FROM `{prefix}state`")
            states = dict(cur.fetchall())
            countries = {c[2]: c[0] for c in COUNTRIES}
            minute = 0
            catalogue: dict = {}
            if demo:
                for item in DEMO_PRODUCTS:
                    ref, cat, tax_group, price, cost, weight, ean, en, es, combos, qty = item
                    minute += 1
                    pid, pa_ids = add_product(
                        cur, prefix, family, ref, cat, tax_group, price, cost, weight, ean, en, es, combos, qty, minute
                    )
                    catalogue[ref] = (pid, pa_ids, price, tax_group, es, combos)
            for i in range(products):
                minute += 1
                ref = f"ART{i + 1:05d}"
                price = Decimal(100 + (i * 37) % 9000) / 100
                add_product(
                    cur,
                    prefix,
                    family,
                    ref,
                    3 + i % 4,
                    1 + i % 3,
                    str(price),
                    str(price / 2),
                    "0.5",
                    "",
                    f"Article {i + 1}",
                    f"Artículo {i + 1}",
                    [],
                    (i * 13) % 50,
                    minute,
                )
            made = []
            if demo:
                for first, last, email, company, guest, addresses in DEMO_CUSTOMERS:
                    minute += 1
                    made.append(
                        (
                            add_customer(
                                cur, prefix, first, last, email, company, guest, addresses, minute, states, countries
                            ),
                            cid_key(email),
                        )
                    )
            provinces = [iso for iso, _ in ES_PROVINCES]
            for i in range(customers):
                minute += 1
                prov = provinces[i % len(provinces)]
                nif = f"{10000000 + i * 7919:08d}"
                nif += "TRWAGMYFPDXBNJZSQVHLCKE"[int(nif) % 23]
                add_customer(
                    cur,
                    prefix,
                    f"Cliente{i + 1}",
                    f"Apellido{i + 1}",
                    f"cliente{i + 1}@example.com",
                    "",
                    0,
                    [
                        (
                            "Principal",
                            f"Calle {i + 1}",
                            f"{28000 + i % 900:05d}",
                            "Ciudad",
                            prov,
                            "ES",
                            f"6{i:08d}",
                            nif,
                            "",
                        )
                    ],
                    minute,
                    states,
                    countries,
                )
            if demo:
                for n, (ci, ai, carrier, state, lines, tracking, invoiced) in enumerate(DEMO_ORDERS, start=1):
                    minute += 5
                    (cid, addr_ids), key = made[ci]
                    oid = add_order(
                        cur,
                        prefix,
                        n,
                        (cid, addr_ids),
                        addr_ids[ai],
                        carrier,
                        state,
                        lines,
                        tracking,
                        invoiced,
                        catalogue,
                        minute,
                        key,
                    )
                    if invoiced:
                        seed_invoice(cur, prefix, oid, ts(minute + 2), state)
        conn.commit()
        if demo:
            from replicator.prestashop.write.stock import recompute_reserved

            shop = ShopConnection(url, prefix=prefix, conn=conn)
            with shop.transaction() as cur:
                recompute_reserved(shop, cur)
    except Exception:
        if conn.open:
            conn.rollback()
        raise
    finally:
        conn.close()
    return url


def drop_shop(mysql_url: str, database: str) -> None:
    conn = connect(mysql_url.rsplit("/", 1)[0] + "/" if parse_mysql_url(mysql_url).get("database") else mysql_url)
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{database}`")
    finally:
        conn.close()


# The seed data and the row writers live in their own modules; tests and the demo take these from here.
__all__ = ["DEMO_PRODUCTS", "add_order", "create_shop", "drop_shop", "version_string"]
