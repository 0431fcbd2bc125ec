"""Benchmark: the initial sync of a FactuSOL stand-in (articles with stock, customers) into an EMPTY shop, against
the bare cost of the same I/O in the same run, printed as JSON.

- ``initial_sync``: `replicator.daemon.run_once` on the fresh pair (capture baseline, initial sync, capture + apply).
- ``bare``: read the same F_ART/F_LTA/F_STO rows with pyodbc and write the same number of product, product_shop,
  product_lang and stock_available rows with PyMySQL ``executemany`` into a second empty shop schema.

Target (issue #5): initial sync < 60 s and within 2x of the bare time.

Usage: python bench/bench_initial_sync.py [--url mysql://root@127.0.0.1:3306/] [--articles 100000] [--customers 20000]
Without --url a throwaway local MariaDB is started (needs mariadb-server installed).
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from pathlib import Path

import pyodbc

from replicator.config import Config, FactusolConfig, PrestashopConfig
from replicator.factusol.connection import connection_string_for
from replicator.factusol.sandbox import create_sandbox
from replicator.prestashop import localserver, sandbox
from replicator.prestashop.connection import connect
from replicator.rules import load_rules

FS_CONN = "DRIVER={SQLite3};Database={file};Timeout=200"
PROFILE: Path | None = None  # --profile FILE: cProfile stats of run_once (the timing then includes the profiler)


def bare(fs_path: Path, shop_url: str) -> dict:
    """pyodbc read of the rows the sync needs + executemany of as many shop rows (the floor for this I/O)."""
    started = time.perf_counter()
    conn = pyodbc.connect(connection_string_for(fs_path), autocommit=True)
    cur = conn.cursor()
    arts = cur.execute("SELECT [CODART], [DESART], [DEWART], [EANART], [PESART], [TIVART], [SUWART] FROM [F_ART]"
                       " ORDER BY [CODART]").fetchall()
    prices = dict(cur.execute("SELECT [ARTLTA], [PRELTA] FROM [F_LTA] WHERE [TARLTA] = 1").fetchall())
    stock = {}
    for art, qty in cur.execute("SELECT [ARTSTO], [ACTSTO] FROM [F_STO] WHERE [ALMSTO] = 'GEN'").fetchall():
        stock[art] = qty
    customers = cur.execute("SELECT * FROM [F_CLI]").fetchall()
    conn.close()
    read_s = time.perf_counter() - started
    db = connect(shop_url)
    with db.cursor() as c:
        now = time.strftime("%Y-%m-%d %H:%M:%S")
        # Only %s placeholders in VALUES: PyMySQL packs such an executemany into multi-row INSERTs (a literal
        # in VALUES makes it fall back to one statement per row, ten times slower).
        rows = [(i + 1, a[0], str(a[3] or "")[:13], a[4] or 0, prices.get(a[0], 0) or 0, 2, 1, 1, now, now)
                for i, a in enumerate(arts)]
        c.executemany("INSERT INTO ps_product (id_product, reference, ean13, weight, price, id_category_default,"
                      " id_shop_default, state, date_add, date_upd) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                      rows)
        c.executemany("INSERT INTO ps_product_shop (id_product, id_shop, price, id_category_default, date_add,"
                      " date_upd) VALUES (%s, %s, %s, %s, %s, %s)", [(r[0], 1, r[4], 2, now, now) for r in rows])
        langs = [r[0] for r in (c.execute("SELECT id_lang FROM ps_lang") and c.fetchall())]
        c.executemany("INSERT INTO ps_product_lang (id_product, id_shop, id_lang, name, link_rewrite, description)"
                      " VALUES (%s, %s, %s, %s, %s, %s)",
                      [(i + 1, 1, lang, a[1] or a[0], a[0].lower(), a[2] or "") for i, a in enumerate(arts)
                       for lang in langs])
        c.executemany("INSERT INTO ps_stock_available (id_product, id_product_attribute, id_shop, id_shop_group,"
                      " quantity, out_of_stock) VALUES (%s, %s, %s, %s, %s, %s)",
                      [(i + 1, 0, 1, 0, int(stock.get(a[0], 0) or 0), 2) for i, a in enumerate(arts)])
    db.commit()
    db.close()
    return {"seconds": round(time.perf_counter() - started, 2), "read_seconds": round(read_s, 2),
            "articles": len(arts), "customers_read": len(customers)}


def run(url: str, articles: int, customers: int, workdir: Path) -> dict:
    fs_path = workdir / "0012025.sqlite"
    t = time.perf_counter()
    create_sandbox(fs_path, articles=articles, customers=customers, orders=0, year=2025)
    seed_s = time.perf_counter() - t
    # the FactuSOL customers reach the shop only through orders (new customers flow shop -> FactuSOL): the shop
    # side gets as many customers, which the initial sync creates in FactuSOL
    shop_url = sandbox.create_shop(url, "bench_initial_sync", demo=False, customers=customers)
    bare_url = sandbox.create_shop(url, "bench_initial_bare", demo=False)
    result = {"bare": bare(fs_path, bare_url)}
    from replicator.daemon import open_runtime, run_once

    config = Config(path=workdir / "replicator.yaml", store=f"sqlite:///{workdir / 'state.sqlite'}",
                    rules_dir=Path(load_rules().files[0]).parent,
                    factusol=FactusolConfig(file=fs_path, connection=FS_CONN),
                    prestashop=PrestashopConfig(url=shop_url, capture="binlog", server_id=9901))
    runtime = open_runtime(config)
    started = time.perf_counter()
    if PROFILE:
        import cProfile

        cProfile.runctx("run_once(runtime)", globals(), {"run_once": run_once, "runtime": runtime}, str(PROFILE))
    else:
        run_once(runtime)
    elapsed = time.perf_counter() - started
    shop = runtime.ctx.shop
    made = shop.query_one("SELECT COUNT(*) AS n FROM {p}product")["n"]
    stocked = shop.query_one("SELECT COUNT(*) AS n FROM {p}stock_available WHERE quantity <> 0")["n"]
    runtime.close()
    result["initial_sync"] = {"seconds": round(elapsed, 2), "products": made, "stock_rows_nonzero": stocked,
                              "customers_linked": len(runtime.store.id_map("customer"))}
    result.update(bench="initial_sync", articles=articles, customers=customers, seed_seconds=round(seed_s, 2),
                  ratio_to_bare=round(elapsed / max(result["bare"]["seconds"], 1e-9), 2),
                  target={"seconds": 60, "ratio_to_bare": 2},
                  meets_target=elapsed < 60 and elapsed <= 2 * result["bare"]["seconds"])
    for db in ("bench_initial_sync", "bench_initial_bare"):
        sandbox.drop_shop(url, db)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url")
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--profile", metavar="FILE", help="write cProfile stats of run_once to FILE")
    args = parser.parse_args()
    global PROFILE
    PROFILE = Path(args.profile) if args.profile else None
    logging.basicConfig(level=logging.WARNING)
    server = None
    url = args.url
    if not url:
        server = localserver.LocalMariaDB().start()
        url = server.url
    try:
        with tempfile.TemporaryDirectory(prefix="bench-initial-") as tmp:
            print(json.dumps(run(url, args.articles, args.customers, Path(tmp))))
    finally:
        if server:
            server.stop()


if __name__ == "__main__":
    main()
