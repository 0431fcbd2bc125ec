"""Benchmark: the initial sync of a FactuSOL stand-in (articles with stock, customers) into an EMPTY shop, against
the bare cost of the same I/O in the same run, printed as JSON.

- ``initial_sync``: `replicator.daemon.run_once` on the fresh pair (capture baseline, initial sync, capture + apply),
  with the default side worker (a child process) and the stand-in in WAL mode (one connection writes while another
  reads, as Access allows; ``--journal-mode delete`` for SQLite's whole-file lock, where the first sight is taken in
  one part before the side work starts).
- ``bare``: the same reads and writes with no logic (see `bare`): every watched FactuSOL row read with pyodbc, the
  shop's customers read with PyMySQL, the same product/stock/combination rows written with PyMySQL ``executemany``
  into a second empty shop schema, and the same F_CLI/F_OBR rows written with pyodbc ``executemany`` into a copy
  of the FactuSOL file.

Target (issue #5): initial sync < 60 s and within 2x of the bare time.

Usage: python bench/bench_initial_sync.py [--url mysql://root@127.0.0.1:3306/] [--articles 100000] [--customers 20000]
Without --url a throwaway local MariaDB is started (needs mariadb-server installed).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

import pymysql
import pyodbc

from replicator.config import Config, FactusolConfig, PrestashopConfig
from replicator.factusol.connection import connection_string_for
from replicator.sandbox.factusol import create_sandbox
from replicator.sandbox import mariadb
from replicator.sandbox import shop as ps_sandbox
from replicator.prestashop.connection import connect
from replicator.rules import load_rules

FS_CONN = "DRIVER={SQLite3};Database={file};Timeout=200"
SERVER_PID: int | None = None  # the throwaway mariadbd started by main (its CPU time is reported)
JOURNAL_MODE = "wal"  # --journal-mode: the stand-in's ("delete": a long read holds off writes; no overlap then)
PROFILE: Path | None = None  # --profile FILE: cProfile stats of run_once (the timing then includes the profiler)


WATCHED = ("F_CLI", "F_OBR", "F_ART", "F_LTA", "F_ARC", "F_EAN", "F_STO", "F_STC")
F_CLI_COLUMNS = (
    "CODCLI",
    "NOFCLI",
    "NOCCLI",
    "NIFCLI",
    "EMACLI",
    "TELCLI",
    "MOVCLI",
    "DOMCLI",
    "POBCLI",
    "CPOCLI",
    "PROCLI",
    "PAICLI",
    "ESTCLI",
    "DOCCLI",
)


def bare(fs_path: Path, source_shop_url: str, shop_url: str) -> dict:
    """The same I/O as the initial sync, with no logic: the floor for it.

    - reads (pyodbc): every row of the watched FactuSOL tables (the capture's first sight reads them all);
    - reads (PyMySQL): the shop's customers with their addresses;
    - writes (PyMySQL executemany, multi-row INSERTs) into an empty shop schema: for each published article
      (SUWART = 1) its product, product_shop, product_lang (every language), category_product and stock_available
      row, and for each of its F_ARC variants a product_attribute, product_attribute_shop,
      product_attribute_combination and stock_available row;
    - writes (pyodbc executemany, one transaction) into a copy of the FactuSOL file: one F_CLI row per shop
      customer (the columns the customer rule maps) and one F_OBR row per extra address.
    """
    fs_copy = fs_path.with_name("bare-" + fs_path.name)
    shutil.copyfile(fs_path, fs_copy)
    started = time.perf_counter()
    conn = pyodbc.connect(connection_string_for(fs_path), autocommit=True)
    cur = conn.cursor()
    tables: dict[str, tuple[list[str], list]] = {}
    for table in WATCHED:
        cur.execute(f"SELECT * FROM [{table}]")
        names = [d[0] for d in cur.description]
        rows = []
        while batch := cur.fetchmany(5000):
            rows.extend(batch)
        tables[table] = (names, rows)
    conn.close()
    src = connect(source_shop_url)
    with src.cursor(pymysql.cursors.DictCursor) as c:
        c.execute(
            "SELECT c.id_customer, c.firstname, c.lastname, c.email, a.id_address, a.address1, a.city,"
            " a.postcode, a.phone, a.dni FROM ps_customer c LEFT JOIN ps_address a"
            " ON a.id_customer = c.id_customer AND a.deleted = 0 ORDER BY c.id_customer, a.id_address"
        )
        shop_customers = c.fetchall()
    src.close()
    read_s = time.perf_counter() - started

    def col(table: str, name: str) -> int:
        return tables[table][0].index(name)

    art_names, arts = tables["F_ART"]
    code_i, name_i, desc_i, ean_i, weight_i, publish_i = (
        col("F_ART", n) for n in ("CODART", "DESART", "DEWART", "EANART", "PESART", "SUWART")
    )
    published = [a for a in arts if str(a[publish_i]) == "1"]
    prices = {
        r[col("F_LTA", "ARTLTA")]: r[col("F_LTA", "PRELTA")]
        for r in tables["F_LTA"][1]
        if r[col("F_LTA", "TARLTA")] == 1
    }
    stock: dict = {}
    for r in tables["F_STO"][1]:
        stock[r[col("F_STO", "ARTSTO")]] = stock.get(r[col("F_STO", "ARTSTO")], 0) + int(
            float(r[col("F_STO", "ACTSTO")] or 0)
        )
    variants: dict = {}
    for r in tables["F_ARC"][1]:
        variants.setdefault(r[col("F_ARC", "ARTARC")], []).append(r)
    t = time.perf_counter()
    db = connect(shop_url)
    now = time.strftime("%Y-%m-%d %H:%M:%S")
    with db.cursor() as c:
        # Only %s placeholders in VALUES: PyMySQL packs such an executemany into multi-row INSERTs.
        rows = [
            (
                i + 1,
                a[code_i],
                str(a[ean_i] or "")[:13],
                a[weight_i] or 0,
                prices.get(a[code_i], 0) or 0,
                2,
                1,
                1,
                now,
                now,
            )
            for i, a in enumerate(published)
        ]
        c.executemany(
            "INSERT INTO ps_product (id_product, reference, ean13, weight, price, id_category_default,"
            " id_shop_default, state, date_add, date_upd) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            rows,
        )
        c.executemany(
            "INSERT INTO ps_product_shop (id_product, id_shop, price, id_category_default, date_add,"
            " date_upd) VALUES (%s, %s, %s, %s, %s, %s)",
            [(r[0], 1, r[4], 2, now, now) for r in rows],
        )
        c.execute("SELECT id_lang FROM ps_lang")
        langs = [r[0] for r in c.fetchall()]
        c.executemany(
            "INSERT INTO ps_product_lang (id_product, id_shop, id_lang, name, link_rewrite, description)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            [
                (i + 1, 1, lang, a[name_i] or a[code_i], a[code_i].lower(), a[desc_i] or "")
                for i, a in enumerate(published)
                for lang in langs
            ],
        )
        c.executemany(
            "INSERT INTO ps_category_product (id_category, id_product, position) VALUES (%s, %s, %s)",
            [(2, i + 1, i) for i in range(len(published))],
        )
        stock_rows = [(i + 1, 0, 1, 0, stock.get(a[code_i], 0), 2) for i, a in enumerate(published)]
        attributes, attribute_shop, combination = [], [], []
        for i, a in enumerate(published):
            for n, _v in enumerate(variants.get(a[code_i], [])):
                pa = len(attributes) + 1
                attributes.append((pa, i + 1, f"{a[code_i]}-{n}", 1 if n == 0 else None))
                attribute_shop.append((pa, i + 1, 1, 1 if n == 0 else None))
                combination.append((1 + n % 2, pa))
                stock_rows.append((i + 1, pa, 1, 0, 0, 2))
        c.executemany(
            "INSERT INTO ps_product_attribute (id_product_attribute, id_product, reference, default_on)"
            " VALUES (%s, %s, %s, %s)",
            attributes,
        )
        c.executemany(
            "INSERT INTO ps_product_attribute_shop (id_product_attribute, id_product, id_shop, default_on)"
            " VALUES (%s, %s, %s, %s)",
            attribute_shop,
        )
        c.executemany(
            "INSERT IGNORE INTO ps_product_attribute_combination (id_attribute, id_product_attribute) VALUES (%s, %s)",
            combination,
        )
        c.executemany(
            "INSERT INTO ps_stock_available (id_product, id_product_attribute, id_shop, id_shop_group,"
            " quantity, out_of_stock) VALUES (%s, %s, %s, %s, %s, %s)",
            stock_rows,
        )
    db.commit()
    db.close()
    shop_write_s = time.perf_counter() - t
    t = time.perf_counter()
    fs = pyodbc.connect(connection_string_for(fs_copy), autocommit=False)
    cur = fs.cursor()
    first_code = 1 + max(r[col("F_CLI", "CODCLI")] for r in tables["F_CLI"][1])
    cli, obr, seen = [], [], {}
    for r in shop_customers:
        code = seen.setdefault(r["id_customer"], first_code + len(seen))
        if len(seen) > len(cli):
            cli.append(
                (
                    code,
                    f"{r['firstname']} {r['lastname']}"[:100],
                    f"{r['firstname']} {r['lastname']}"[:100],
                    (r["dni"] or "")[:18],
                    r["email"],
                    r["phone"] or "",
                    "",
                    r["address1"] or "",
                    (r["city"] or "")[:30],
                    r["postcode"] or "",
                    "",
                    "ESPAÑA",
                    1,
                    1,
                )
            )
        elif r["id_address"]:
            obr.append((code, len(obr) + 1, r["address1"] or "", (r["city"] or "")[:30], r["postcode"] or ""))
    cur.executemany(
        f"INSERT INTO [F_CLI] ({', '.join(F_CLI_COLUMNS)}) VALUES ({', '.join('?' * len(F_CLI_COLUMNS))})", cli
    )
    if obr:
        cur.executemany("INSERT INTO [F_OBR] (CLIOBR, CODOBR, DIROBR, POBOBR, CPOOBR) VALUES (?, ?, ?, ?, ?)", obr)
    fs.commit()
    fs.close()
    fs_write_s = time.perf_counter() - t
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "read_seconds": round(read_s, 2),
        "shop_write_seconds": round(shop_write_s, 2),
        "factusol_write_seconds": round(fs_write_s, 2),
        "factusol_rows_read": sum(len(r) for _, r in tables.values()),
        "products": len(published),
        "combinations": len(attributes),
        "customers_written": len(cli),
        "addresses_written": len(obr),
    }


def _server_cpu_seconds() -> float | None:
    """CPU time used so far by the throwaway mariadbd (user + system), or None with --url."""
    if SERVER_PID is None:
        return None
    try:
        fields = Path(f"/proc/{SERVER_PID}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def _children_cpu_seconds() -> float:
    """CPU time of this process's ended and waited-for children (the initial sync's side worker)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(url: str, articles: int, customers: int, workdir: Path) -> dict:
    fs_path = workdir / "0012025.sqlite"
    t = time.perf_counter()
    # WAL mode: one connection writes while another reads, as Access's page locks allow (the bare copy is in the
    # same mode, so its writes get the same journal)
    create_sandbox(fs_path, articles=articles, customers=customers, orders=0, year=2025, journal_mode=JOURNAL_MODE)
    seed_s = time.perf_counter() - t
    # the FactuSOL customers reach the shop only through orders (new customers flow shop -> FactuSOL): the shop
    # side gets as many customers, which the initial sync creates in FactuSOL
    shop_url = ps_sandbox.create_shop(url, "bench_initial_sync", demo=False, customers=customers)
    bare_url = ps_sandbox.create_shop(url, "bench_initial_bare", demo=False)
    result = {"bare": bare(fs_path, shop_url, bare_url)}
    from replicator.daemon import run_once
    from replicator.runtime import open_runtime

    config = Config(
        path=workdir / "replicator.yaml",
        store=f"sqlite:///{workdir / 'state.sqlite'}",
        rules_dir=Path(load_rules().files[0]).parent,
        factusol=FactusolConfig(file=fs_path, connection=FS_CONN),
        prestashop=PrestashopConfig(url=shop_url, capture="binlog", server_id=9901),
    )
    runtime = open_runtime(config)
    server_cpu = _server_cpu_seconds()
    own_cpu = time.process_time()
    children_cpu = _children_cpu_seconds()
    started = time.perf_counter()
    if PROFILE:
        import cProfile

        cProfile.runctx("run_once(runtime)", globals(), {"run_once": run_once, "runtime": runtime}, str(PROFILE))
    else:
        run_once(runtime)
    elapsed = time.perf_counter() - started
    own_cpu = time.process_time() - own_cpu
    children_cpu = _children_cpu_seconds() - children_cpu  # the side worker's child process, once it has ended
    server_cpu = _server_cpu_seconds() - server_cpu if server_cpu is not None else None
    shop = runtime.ctx.shop
    made = shop.query_one("SELECT COUNT(*) AS n FROM {p}product")["n"]
    stocked = shop.query_one("SELECT COUNT(*) AS n FROM {p}stock_available WHERE quantity <> 0")["n"]
    runtime.close()
    result["initial_sync"] = {
        "seconds": round(elapsed, 2),
        "products": made,
        "stock_rows_nonzero": stocked,
        "customers_linked": len(runtime.store.id_map("customer")),
        # CPU seconds (all threads) against 2 cores x the wall time: how busy the machine was
        "replicator_cpu_seconds": round(own_cpu, 1),
        "side_process_cpu_seconds": round(children_cpu, 1),
        "mariadb_cpu_seconds": None if server_cpu is None else round(server_cpu, 1),
    }
    result.update(
        bench="initial_sync",
        journal_mode=JOURNAL_MODE,
        articles=articles,
        customers=customers,
        seed_seconds=round(seed_s, 2),
        ratio_to_bare=round(elapsed / max(result["bare"]["seconds"], 1e-9), 2),
        target={"seconds": 60, "ratio_to_bare": 2},
        meets_target=elapsed < 60 and elapsed <= 2 * result["bare"]["seconds"],
    )
    for db in ("bench_initial_sync", "bench_initial_bare"):
        ps_sandbox.drop_shop(url, db)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url")
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--profile", metavar="FILE", help="write cProfile stats of run_once to FILE")
    parser.add_argument(
        "--journal-mode",
        choices=("wal", "delete"),
        default="wal",
        help="the stand-in's journal mode (default wal: reads do not hold off writes, as with Access)",
    )
    args = parser.parse_args()
    global PROFILE, SERVER_PID, JOURNAL_MODE
    JOURNAL_MODE = args.journal_mode
    PROFILE = Path(args.profile) if args.profile else None
    logging.basicConfig(
        level=getattr(logging, os.environ.get("BENCH_LOG", "WARNING")),  # BENCH_LOG=INFO: progress
        format="%(asctime)s %(name)s %(message)s",
    )
    server = None
    url = args.url
    if not url:
        server = mariadb.LocalMariaDB().start()
        url = server.url
        SERVER_PID = server.process.pid
    try:
        with tempfile.TemporaryDirectory(prefix="bench-initial-") as tmp:
            print(json.dumps(run(url, args.articles, args.customers, Path(tmp))))
    finally:
        if server:
            server.stop()


if __name__ == "__main__":
    main()
