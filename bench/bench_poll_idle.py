"""Benchmark: what one idle poll of the shop costs, the old poller (full re-reads) against the chunk-checksum one.

A shop of N products in 2 languages with 2 KB descriptions (product, product_shop, product_lang, stock_available)
and N customers.  For each poller: a first poll (the baseline, not measured), then idle polls measured by the
server's global Bytes_sent/Bytes_received (nothing else uses the throwaway server; the cost of reading the counters
is measured and taken off) and the replicator's CPU time.  Rows were last changed at different minutes (as
in a real shop), so a date_upd window holds the few rows of its overlap, not the whole table; then one changed
description, which must be captured by the next poll.  Prints one JSON object.

Usage: python bench/bench_poll_idle.py [--url mysql://root@127.0.0.1:3306/] [--products 20000] [--customers 20000]
       [--polls 3]
Without --url a throwaway local MariaDB is started (needs mariadb-server installed).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from replicator.prestashop.poller import PollCapture
from replicator.config import PrestashopConfig
from replicator.sandbox import mariadb as localserver
from replicator.prestashop.chunkpoll import ChunkPoller
from replicator.prestashop.connection import connect
from replicator.prestashop.schema import create_schema
from replicator.store import Store

DB = "bench_poll_idle"
BATCH = 1000


def _fill(conn, products: int, customers: int) -> int:
    text = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 40)[:2048]
    with conn.cursor() as cur:
        for lo in range(1, products + 1, BATCH):
            ids = range(lo, min(lo + BATCH, products + 1))
            cur.executemany(
                "INSERT INTO ps_product (id_product, id_tax_rules_group, reference, price, date_add, "
                "date_upd) VALUES (%s, 1, %s, 9.5, NOW() - INTERVAL 1 YEAR, NOW() - INTERVAL %s MINUTE)",
                [(i, f"REF{i}", 60 + i) for i in ids],
            )
            cur.executemany(
                "INSERT INTO ps_product_shop (id_product, id_shop, id_tax_rules_group, price, date_add, "
                "date_upd) VALUES (%s, 1, 1, 9.5, NOW() - INTERVAL 1 YEAR, NOW() - INTERVAL %s MINUTE)",
                [(i, 60 + i) for i in ids],
            )
            cur.executemany(
                "INSERT INTO ps_product_lang (id_product, id_shop, id_lang, description, "
                "description_short, link_rewrite, name) VALUES (%s, 1, %s, %s, '', %s, %s)",
                [
                    (i, lang, f"{i}-{lang} {text}"[:2048], f"product-{i}", f"Product {i}")
                    for i in ids
                    for lang in (1, 2)
                ],
            )
            cur.executemany(
                "INSERT INTO ps_stock_available (id_stock_available, id_product, id_product_attribute, "
                "id_shop, id_shop_group, quantity) VALUES (%s, %s, 0, 1, 0, 5)",
                [(i, i) for i in ids],
            )
        for lo in range(1, customers + 1, BATCH):
            cur.executemany(
                "INSERT INTO ps_customer (id_customer, id_gender, id_lang, firstname, lastname, email, passwd, "
                "last_passwd_gen, secure_key, date_add, date_upd) VALUES (%s, 1, 1, 'Ana', %s, %s, 'x', NOW(), 'k', "
                "NOW() - INTERVAL 1 YEAR, NOW() - INTERVAL %s MINUTE)",
                [(i, f"Ruiz {i}", f"c{i}@example.com", 60 + i) for i in range(lo, min(lo + BATCH, customers + 1))],
            )
        cur.execute(
            "SELECT (SELECT COUNT(*) FROM ps_product) + (SELECT COUNT(*) FROM ps_product_shop)"
            " + (SELECT COUNT(*) FROM ps_product_lang) + (SELECT COUNT(*) FROM ps_stock_available)"
            " + (SELECT COUNT(*) FROM ps_customer)"
        )
        return int(cur.fetchone()[0])


def _bytes(admin) -> int:
    with admin.cursor() as cur:
        cur.execute("SHOW GLOBAL STATUS WHERE Variable_name IN ('Bytes_sent', 'Bytes_received')")
        return sum(int(v) for _, v in cur.fetchall())


def _measure(admin, poll, polls: int, overhead: int) -> dict:
    sizes, cpus, walls = [], [], []
    for _ in range(polls):
        before, cpu, wall = _bytes(admin), time.process_time(), time.perf_counter()
        report = poll()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
        sizes.append(_bytes(admin) - before - overhead)
        assert report.changes == 0, report
    return {
        "bytes_per_poll": round(sum(sizes) / polls),
        "cpu_ms_per_poll": round(1000 * sum(cpus) / polls, 2),
        "seconds_per_poll": round(sum(walls) / polls, 3),
    }


def run(url: str, products: int, customers: int, polls: int) -> dict:
    admin = connect(url)
    with admin.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {DB}")
        cur.execute(f"CREATE DATABASE {DB} CHARACTER SET utf8mb4")
    shop = connect(url.rstrip("/") + "/" + DB)
    create_schema(shop, "8", "ps_")
    watched = _fill(shop, products, customers)
    cfg = PrestashopConfig(url=url.rstrip("/") + "/" + DB, prefix="ps_")
    overhead = min(-_bytes(admin) + _bytes(admin) for _ in range(3))  # reading the counters costs this
    out = {
        "bench": "poll_idle",
        "products": products,
        "languages": 2,
        "description_bytes": 2048,
        "customers": customers,
        "watched_rows": watched,
        "polls": polls,
    }
    with tempfile.TemporaryDirectory() as tmp:
        for label, make in (
            ("before_old_poller", lambda s: PollCapture(s, cfg)),
            ("after_chunk_checksums", lambda s: ChunkPoller(s, cfg)),
        ):
            store = Store(f"sqlite:///{Path(tmp) / (label + '.sqlite')}")
            poller = make(store)
            started = time.perf_counter()
            poller.poll()  # the baseline
            first = time.perf_counter() - started
            result = _measure(admin, poller.poll, polls, overhead)
            result["cpu_ms_per_1000_watched_rows"] = round(result["cpu_ms_per_poll"] * 1000 / watched, 3)
            result["first_poll_seconds"] = round(first, 2)
            with shop.cursor() as cur:  # one changed row: captured by the next poll
                cur.execute(
                    "UPDATE ps_product_lang SET description = CONCAT(%s, SUBSTRING(description, 2))"
                    " WHERE id_product = %s AND id_lang = 2",
                    (label[0], products // 2),
                )
            before = _bytes(admin)
            report = poller.poll()
            result["one_change"] = {
                "changes": report.changes,
                "bytes": _bytes(admin) - before - overhead,
                "rows_read": report.rows_read,
            }
            if hasattr(poller, "close"):
                poller.close()
            out[label] = result
    old, new = out["before_old_poller"], out["after_chunk_checksums"]
    out["idle_bytes_ratio_old_to_new"] = round(old["bytes_per_poll"] / max(new["bytes_per_poll"], 1), 1)
    out["idle_cpu_ratio_old_to_new"] = round(old["cpu_ms_per_poll"] / max(new["cpu_ms_per_poll"], 0.01), 1)
    out["targets_met"] = {
        "idle_bytes_le_50kb": new["bytes_per_poll"] <= 50_000,
        "cpu_le_5ms_per_1000_rows": new["cpu_ms_per_1000_watched_rows"] <= 5,
    }
    with admin.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {DB}")
    shop.close()
    admin.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url")
    parser.add_argument("--products", type=int, default=20000)
    parser.add_argument("--customers", type=int, default=20000)
    parser.add_argument("--polls", type=int, default=3)
    args, _ = parser.parse_known_args()
    server = None
    url = args.url
    if not url:
        server = localserver.LocalMariaDB().start()
        url = server.url
    try:
        print(json.dumps(run(url, args.products, args.customers, args.polls)))
    finally:
        if server:
            server.stop()


if __name__ == "__main__":
    main()
