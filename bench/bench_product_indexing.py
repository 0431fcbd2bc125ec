"""Benchmark: what keeping the shop's search and price indexes costs when products are created in bulk.

Creates the same articles (half with 4 combinations) with ``create_products_bulk`` twice in a sandbox shop with the
faceted-search tables, once with ``index=False`` (left to PrestaShop) and once with ``index=True`` (search words and
price rows written as PrestaShop's product save does); prints JSON.

Usage: python bench/bench_product_indexing.py [--url mysql://root@127.0.0.1:3306/] [--products 2000]
Without --url a throwaway local MariaDB is started (needs mariadb-server installed).
"""

from __future__ import annotations

import argparse
import json
import time
from decimal import Decimal

from replicator.model import Combination, Product
from replicator.prestashop.connection import ShopConnection
from replicator.prestashop.write import create_products_bulk
from replicator.sandbox import mariadb
from replicator.sandbox import shop as ps_sandbox

FACETED = (
    "CREATE TABLE `{p}layered_price_index` (id_product int(11) NOT NULL, id_currency int(11) NOT NULL,"
    " id_shop int(11) NOT NULL, price_min decimal(20,6) NOT NULL, price_max decimal(20,6) NOT NULL,"
    " id_country int(11) NOT NULL, PRIMARY KEY (id_product,id_currency,id_shop,id_country))",
    "CREATE TABLE `{p}layered_filter_block` (hash char(32) NOT NULL DEFAULT '', data text DEFAULT NULL,"
    " PRIMARY KEY (hash))",
)


def _articles(tag: str, n: int) -> list[Product]:
    out = []
    for i in range(n):
        combos = (
            [Combination(reference=f"{tag}{i:05d}-{s}", size=s, color="Azul") for s in ("S", "M", "L", "XL")]
            if i % 2
            else []
        )
        out.append(
            Product(
                reference=f"{tag}{i:05d}",
                name=f"Camiseta algodón orgánico modelo {i}",
                description=f"<p>Camiseta de manga corta, 100% algodón, lavable a 30º. Modelo {i}.</p>",
                price_tax_excl=Decimal("12.40") + i % 7,
                combinations=combos,
            )
        )
    return out


def run(url: str, products: int) -> dict:
    shop = ShopConnection(ps_sandbox.create_shop(url, "bench_ps_index", demo=True))
    for ddl in FACETED:
        shop.execute(ddl.replace("{p}", shop.prefix))
    results = {}
    for label, index in (("left_to_prestashop", False), ("indexed", True)):
        batch = _articles("N" if index else "P", products)
        start = time.perf_counter()
        create_products_bulk(shop, batch, index=index)
        elapsed = time.perf_counter() - start
        results[label] = {
            "products": products,
            "seconds": round(elapsed, 3),
            "products_per_s": round(products / elapsed, 1),
        }
    results["search_index_rows"] = shop.query_one("SELECT COUNT(*) AS n FROM {p}search_index")["n"]
    results["price_index_rows"] = shop.query_one("SELECT COUNT(*) AS n FROM {p}layered_price_index")["n"]
    shop.close()
    ps_sandbox.drop_shop(url, "bench_ps_index")
    return {"bench": "product_indexing", "languages": 2, "results": results}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url")
    parser.add_argument("--products", type=int, default=2000)
    args = parser.parse_args()
    server = None
    url = args.url
    if not url:
        server = mariadb.LocalMariaDB().start()
        url = server.url
    try:
        print(json.dumps(run(url, args.products)))
    finally:
        if server:
            server.stop()


if __name__ == "__main__":
    main()
