"""Benchmark: create a 100,000-article FactuSOL stand-in and read it back through pyodbc; prints JSON."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from replicator.factusol import reader
from replicator.factusol.connection import open_factusol
from replicator.sandbox.factusol import create_sandbox


def main(articles: int = 100_000) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "0012025.sqlite"
        t0 = time.perf_counter()
        conn_str = create_sandbox(path, articles=articles, customers=2000, seed=0, year=2025)
        created = time.perf_counter() - t0
        conn = open_factusol(conn_str)
        t1 = time.perf_counter()
        raw = sum(1 for _ in conn.iter_rows("SELECT [CODART], [DESART], [PCOART], [FUMART] FROM [F_ART]"))
        raw_s = time.perf_counter() - t1
        t2 = time.perf_counter()
        products = reader.read_products(conn, tariff=1)
        products_s = time.perf_counter() - t2
        t3 = time.perf_counter()
        stock = reader.read_stock(conn, ["GEN", "AL2"], "available")
        stock_s = time.perf_counter() - t3
        conn.close()
        result = {
            "articles": articles,
            "create_sandbox_s": round(created, 2),
            "file_mb": round(path.stat().st_size / 1e6, 1),
            "read_f_art_rows_pyodbc_s": round(raw_s, 2),
            "f_art_rows": raw,
            "read_products_s": round(products_s, 2),
            "products": len(products),
            "combinations": sum(len(p.combinations) for p in products),
            "read_stock_s": round(stock_s, 2),
            "stock_rows": len(stock),
        }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
