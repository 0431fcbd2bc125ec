"""Benchmark: families and sections -> categories, products created and placed in them, and a resync dry run, on
the FactuSOL stand-in and a sandbox shop; printed as JSON.

Usage: python bench/bench_catalogue.py [--url mysql://root@127.0.0.1:3306/] [--articles 2000] [--families 850]
Without --url a throwaway local MariaDB is started (needs mariadb-server installed).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from replicator.config import Config, FactusolConfig, PrestashopConfig
from replicator.factusol import writer as fs_writer
from replicator.resync import plan
from replicator.rules import load_rules
from replicator.runtime import open_runtime
from replicator.sandbox import mariadb
from replicator.sandbox import shop as ps_sandbox
from replicator.sandbox.factusol import create_sandbox

DATABASE = "bench_catalogue"


def run(url: str, articles: int, families: int, work: Path) -> dict:
    shop_url = ps_sandbox.create_shop(url, DATABASE, demo=True)
    fs_path = work / "0012026.sqlite"
    create_sandbox(fs_path, articles=articles, customers=0, orders=0, year=2026)
    config = Config(
        path=work / "replicator.yaml",
        store=f"sqlite:///{work / 'state.sqlite'}",
        rules_dir=Path(load_rules().files[0]).parent,
        factusol=FactusolConfig(file=fs_path, connection="DRIVER={SQLite3};Database={file};Timeout=200"),
        prestashop=PrestashopConfig(url=shop_url),
        initial_sync_workers="thread",
    )
    runtime = open_runtime(config)
    engine, ctx = runtime.engine, runtime.ctx
    with ctx.factusol.transaction():
        for i in range(families):
            fs_writer.insert_row(
                ctx.factusol,
                "F_FAM",
                {
                    "CODFAM": f"B{i:02d}" if i < 100 else f"{i:03d}",
                    "DESFAM": f"Familia {i}",
                    "SECFAM": ("ROP", "HOG", "ELE")[i % 3],
                    "SUWFAM": 1,
                },
            )
    results = {}
    for entity in ("category", "product", "stock"):
        keys = list(engine.syncs[entity].all_keys(ctx))
        start = time.perf_counter()
        report = engine.initial_entity(ctx, entity, None, keys)
        results[entity] = {
            "keys": len(keys),
            "seconds": round(time.perf_counter() - start, 3),
            "outcomes": report.outcomes,
        }
    ctx.rules.entity("stock").options["warehouses"] = "all"  # a rule change for the dry run to find
    start = time.perf_counter()
    reports = plan(engine, ("category", "product", "stock"))
    results["resync_dry_run"] = {
        "seconds": round(time.perf_counter() - start, 3),
        "entities": {e: {"checked": r.checked, "would_change": len(r.changes)} for e, r in reports.items()},
    }
    runtime.close()
    ps_sandbox.drop_shop(url, DATABASE)
    return {"bench": "catalogue", "articles": articles, "families": families, "results": results}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url")
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--families", type=int, default=850)
    args = parser.parse_args()
    server = None
    url = args.url
    if not url:
        server = mariadb.LocalMariaDB().start()
        url = server.url
    try:
        with tempfile.TemporaryDirectory() as work:
            print(json.dumps(run(url, args.articles, args.families, Path(work))))
    finally:
        if server:
            server.stop()


if __name__ == "__main__":
    main()
