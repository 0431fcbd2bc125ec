"""Benchmark: set_stock throughput (rows/s) on a sandbox shop, one transaction per write, printed as JSON.

Usage: python bench/bench_prestashop_stock.py [--url mysql://root@127.0.0.1:3306/] [--products 500] [--rounds 2]
Without --url a throwaway local MariaDB is started (needs mariadb-server installed).
"""

from __future__ import annotations

import argparse
import json
import time

from replicator.prestashop import reader
from replicator.sandbox import mariadb
from replicator.sandbox import shop as ps_sandbox
from replicator.prestashop.connection import ShopConnection
from replicator.prestashop.write import set_stock


def run(url: str, products: int, rounds: int) -> dict:
    shop_url = ps_sandbox.create_shop(url, "bench_ps_stock", demo=True, products=products)
    shop = ShopConnection(shop_url)
    targets = [
        (r["id_product"], r["id_product_attribute"])
        for r in shop.query(
            "SELECT id_product, id_product_attribute FROM {p}stock_available WHERE id_product_attribute > 0"
            " OR id_product NOT IN (SELECT id_product FROM {p}product_attribute)"
        )
    ]
    results = {}
    for label, kwargs in (("available", {}), ("physical_no_mvt", {"physical": True, "movement": False})):
        start, writes = time.perf_counter(), 0
        for r in range(rounds):
            for i, (pid, pa) in enumerate(targets):
                set_stock(shop, pid, pa, (i * 7 + r * 3) % 100, **kwargs)
                writes += 1
        elapsed = time.perf_counter() - start
        results[label] = {"writes": writes, "seconds": round(elapsed, 3), "rows_per_s": round(writes / elapsed, 1)}
    start = time.perf_counter()
    stock = reader.read_stock(shop)
    results["read_stock"] = {"rows": len(stock), "seconds": round(time.perf_counter() - start, 3)}
    shop.close()
    ps_sandbox.drop_shop(url, "bench_ps_stock")
    return {"bench": "prestashop_set_stock", "products": products, "rounds": rounds, "results": results}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url")
    parser.add_argument("--products", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    server = None
    url = args.url
    if not url:
        server = mariadb.LocalMariaDB().start()
        url = server.url
    try:
        print(json.dumps(run(url, args.products, args.rounds)))
    finally:
        if server:
            server.stop()


if __name__ == "__main__":
    main()
