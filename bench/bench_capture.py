"""Capture benchmark, printed as JSON: FactuSOL rescan vs a bare pyodbc read, and binlog capture vs a bare reader.

    python bench/bench_capture.py [--articles 100000] [--binlog-rows 20000] [--echo-rows 20000]
                                  [--mysql-url mysql://root@127.0.0.1:3306/]

Without --mysql-url (or REPLICATOR_TEST_MYSQL_URL) a throwaway local mariadbd is started for the binlog part.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pyodbc

from replicator.prestashop.binlog import BinlogCapture, current_position, ensure_ledger_table, ledger_insert_sql
from replicator.factusol.scanner import FactusolScanner
from replicator.config import FactusolConfig, PrestashopConfig
from replicator.factusol.schema import load_schema, table_ddl
from replicator.store import Store


PROFILE_DIR: Path | None = None  # --profile DIR: cProfile stats of the measured calls, one file per call


def _profiled(name: str, fn):
    if PROFILE_DIR is None:
        return fn()
    import cProfile

    prof = cProfile.Profile()
    try:
        return prof.runcall(fn)
    finally:
        PROFILE_DIR.mkdir(parents=True, exist_ok=True)
        prof.dump_stats(str(PROFILE_DIR / f"{name}.prof"))


def build_factusol(path: Path, n: int) -> None:
    c = pyodbc.connect(f"DRIVER={{SQLite3}};Database={path}", autocommit=False)
    cur = c.cursor()
    for t in ("F_ART", "F_STO", "F_CLI"):
        cur.execute(table_ddl(load_schema()[t]))
    cur.fast_executemany = False
    cur.executemany(
        "INSERT INTO [F_ART] ([CODART],[DESART],[FAMART],[PCOART],[FALART],[FUMART],[EANART]) VALUES (?,?,?,?,?,?,?)",
        [
            (
                f"A{i:06d}",
                f"Artículo de prueba número {i}",
                f"F{i % 50:02d}",
                Decimal(i % 997) / 4,
                datetime(2025, 1, 1),
                datetime(2026, 1, 1 + i % 28),
                f"84{i:011d}",
            )
            for i in range(n)
        ],
    )
    cur.executemany(
        "INSERT INTO [F_STO] ([ARTSTO],[ALMSTO],[ACTSTO],[DISSTO]) VALUES (?,?,?,?)",
        [(f"A{i:06d}", "GEN", Decimal(i % 300), Decimal(i % 300)) for i in range(n)],
    )
    c.commit()
    c.close()


def bare_read(path: Path) -> tuple[float, int]:
    started = time.perf_counter()
    # Streaming, as the scanner reads: StepAPI with autocommit (see FactusolConnection).
    c = pyodbc.connect(f"DRIVER={{SQLite3}};Database={path};StepAPI=1", autocommit=True)
    rows = 0
    for t in ("F_ART", "F_STO", "F_CLI"):
        cur = c.cursor()
        cur.execute(f"SELECT * FROM [{t}]")
        while True:
            chunk = cur.fetchmany(5000)
            if not chunk:
                break
            rows += len(chunk)
    c.close()
    return time.perf_counter() - started, rows


def bench_factusol(n: int, work: Path, repeats: int = 3) -> dict:
    path = work / "0012026.sqlite"
    t = time.perf_counter()
    build_factusol(path, n)
    build_s = time.perf_counter() - t
    store = Store(f"sqlite:///{work / 'fs-state.sqlite'}")
    cfg = FactusolConfig(file=path, connection="DRIVER={SQLite3};Database={file}")
    scanner = FactusolScanner(store, cfg)
    t = time.perf_counter()
    _profiled("baseline", scanner.scan)
    baseline_s = time.perf_counter() - t
    bare_s, rows = min(bare_read(path) for _ in range(repeats))
    c = pyodbc.connect(f"DRIVER={{SQLite3}};Database={path}", autocommit=True)

    def ten_changes(r: int) -> None:
        # 10 changes: 5 article edits (FUM bumped) and 5 stock edits; other values on every repeat.
        for i in range(5):
            c.execute(
                "UPDATE [F_ART] SET [DESART]=?, [FUMART]=? WHERE [CODART]=?",
                f"changed {i} {r}",
                datetime(2026, 2, 1 + r % 27),
                f"A{i * 1000:06d}",
            )
            c.execute("UPDATE [F_STO] SET [ACTSTO]=? WHERE [ARTSTO]=?", Decimal(9000 + r), f"A{i * 777:06d}")

    rescan_s = quiet_full_s = quiet_narrow_s = float("inf")
    for r in range(repeats):  # best of `repeats`: other processes on the machine make single runs noisy
        ten_changes(r)
        t = time.perf_counter()
        report = _profiled("rescan", lambda: scanner.scan(full=True)) if r == 0 else scanner.scan(full=True)
        rescan_s = min(rescan_s, time.perf_counter() - t)
        assert report.changes == 10, report
        # Quiet rescans: nothing changed.
        t = time.perf_counter()
        quiet_full = scanner.scan(full=True)
        quiet_full_s = min(quiet_full_s, time.perf_counter() - t)
        t = time.perf_counter()
        quiet_narrow = scanner.scan(full=False)
        quiet_narrow_s = min(quiet_narrow_s, time.perf_counter() - t)
        assert quiet_full.changes == quiet_narrow.changes == 0
    c.close()
    tracemalloc.start()
    fresh = FactusolScanner(store, cfg)  # cold: loads the snapshot hashes from the store too
    fresh.scan(full=True)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # The peak RSS of a cold rescan alone, in a fresh process (this one has built the file and holds the baseline).
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        cold_rss = pool.apply(cold_rescan_peak_rss, (str(work / "fs-state.sqlite"), str(path)))
    return {
        "articles": n,
        "stock_rows": n,
        "rows_read": rows,
        "build_seconds": round(build_s, 2),
        "baseline_scan_seconds": round(baseline_s, 2),
        "bare_pyodbc_read_seconds": round(bare_s, 3),
        "rescan_10_changes_seconds": round(rescan_s, 3),
        "rescan_vs_bare_ratio": round(rescan_s / bare_s, 2),
        "target_ratio": 1.5,
        "quiet_full_rescan_seconds": round(quiet_full_s, 3),
        "quiet_narrow_rescan_seconds": round(quiet_narrow_s, 3),
        "narrow_tables": {k: v for k, v in quiet_narrow.tables.items() if v != "missing"},
        "cold_rescan_peak_tracemalloc_mb": round(peak / 2**20, 1),
        "cold_rescan_process_peak_rss_mb": cold_rss,
        "target_peak_rss_mb": 256,
    }


def cold_rescan_peak_rss(store_path: str, fs_path: str) -> float:
    """Run in a fresh process: one cold full rescan, then that process's peak RSS in MB (imports included)."""
    scanner = FactusolScanner(
        Store(f"sqlite:///{store_path}"),
        FactusolConfig(file=Path(fs_path), connection="DRIVER={SQLite3};Database={file}"),
    )
    report = scanner.scan(full=True)
    assert report.changes == 0, report
    # VmHWM, not ru_maxrss: Linux carries the forking parent's peak into ru_maxrss across exec.
    hwm_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
    return round(hwm_kb / 1024, 1)


def _settle(conn, most_seconds: float = 15.0) -> None:
    """Wait for the server to flush the rows just written (its dirty pages stop falling): its background writes
    would take the second core from the capture's commit thread, and not from the single-threaded bare reader."""
    deadline, last = time.monotonic() + most_seconds, None
    with conn.cursor() as cur:
        while time.monotonic() < deadline:
            cur.execute("SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'")
            row = cur.fetchone()
            dirty = int(row[1]) if row else 0
            if dirty == 0 or dirty == last:
                break
            last = dirty
            time.sleep(0.5)


def bench_binlog(url: str, rows: int, per_txn: int = 100, repeats: int = 3) -> dict:
    from pymysqlreplication import BinLogStreamReader
    from pymysqlreplication.event import XidEvent
    from pymysqlreplication.row_event import DeleteRowsEvent, UpdateRowsEvent, WriteRowsEvent

    from replicator.config import parse_mysql_url
    from replicator.prestashop.connection import connect
    from replicator.prestashop.schema import create_schema

    db = f"bench_{os.getpid()}"
    conn = connect(url)
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{db}`")
        cur.execute(f"CREATE DATABASE `{db}`")
    conn.select_db(db)
    create_schema(conn, "8", "ps_")
    ensure_ledger_table(conn, "ps_")
    work = Path(tempfile.mkdtemp(prefix="bench-binlog-"))
    store = Store(f"sqlite:///{work / 'state.sqlite'}")
    cfg = PrestashopConfig(url=url.rstrip("/") + "/" + db, server_id=7301)
    cap = BinlogCapture(store, cfg)
    cap.capture()
    start = store.checkpoint("prestashop.binlog")
    with conn.cursor() as cur:
        for t in range(rows // per_txn):
            values = ", ".join(f"({t * per_txn + i + 1}, {t * per_txn + i + 1}, 0, 1, 0, {i})" for i in range(per_txn))
            cur.execute("START TRANSACTION")
            cur.execute(
                "INSERT INTO ps_stock_available (id_stock_available, id_product, id_product_attribute, "
                f"id_shop, id_shop_group, quantity) VALUES {values}"
            )
            cur.execute("COMMIT")
    _settle(conn)
    settings = parse_mysql_url(url)
    settings.pop("database", None)
    settings.pop("charset", None)

    def bare() -> tuple[float, int]:
        t = time.perf_counter()
        stream = BinLogStreamReader(
            connection_settings=dict(settings),
            server_id=7302,
            resume_stream=True,
            log_file=start["file"],
            log_pos=int(start["pos"]),
            blocking=False,
            only_events=[WriteRowsEvent, UpdateRowsEvent, DeleteRowsEvent, XidEvent],
            only_schemas=[db],
            only_tables=["ps_stock_available"],
            use_column_name_cache=True,
        )
        n = 0
        for event in stream:
            if isinstance(event, (WriteRowsEvent, UpdateRowsEvent, DeleteRowsEvent)):
                for _row in event.rows:
                    n += 1
        stream.close()
        return time.perf_counter() - t, n

    def captured(i: int) -> float:
        # Each repeat captures the same binlog range into a fresh store (same capture object, so the one-off
        # MariaDB detection done by the warm-up capture above is not timed, as in a running daemon).
        cap.store = Store(f"sqlite:///{work / f'state-{i}.sqlite'}")
        cap.store.set_checkpoint("prestashop.binlog", start)
        t = time.perf_counter()
        report = _profiled("binlog", cap.capture) if i == 0 else cap.capture()
        seconds = time.perf_counter() - t
        assert report.changes == rows, report
        return seconds

    # `repeats` pairs, each a capture and a bare read back to back (their order alternating): the machine's speed
    # drifts over seconds, so the median of the pairs' ratios is the steadier figure; best-of is given too.
    captures, bares, bare_rows = [], [], 0
    for i in range(repeats):
        if i % 2:
            bare_s, bare_rows = bare()
            capture_s = captured(i)
        else:
            capture_s = captured(i)
            bare_s, bare_rows = bare()
        captures.append(capture_s)
        bares.append(bare_s)
    capture_s, bare_s = min(captures), min(bares)
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE `{db}`")
    conn.close()
    return {
        "row_events": rows,
        "rows_per_transaction": per_txn,
        "best_of": repeats,
        "capture_seconds": round(capture_s, 3),
        "capture_rows_per_second": round(rows / capture_s),
        "target_rows_per_second": 1500,
        "bare_reader_seconds": round(bare_s, 3),
        "bare_rows_per_second": round(bare_rows / bare_s),
        "capture_vs_bare_ratio": round(capture_s / bare_s, 2),
        "capture_vs_bare_median_pair_ratio": round(statistics.median(c / b for c, b in zip(captures, bares)), 2),
        "target_ratio": 1.5,
    }


def bench_echo(url: str, rows: int, per_txn: int = 1000, repeats: int = 3) -> dict:
    """Our own writes (an initial sync): `rows` ps_product inserts in transactions of `per_txn`, each ending with the
    ledger row as the shop writers do.  Capture must drop them all (echoes); measured: rows/s skipped, against a
    bare reader that only receives the events (no row parsing) and a capture of the same rows without the ledger."""
    from pymysqlreplication import BinLogStreamReader
    from pymysqlreplication.event import XidEvent
    from pymysqlreplication.row_event import WriteRowsEvent

    from replicator.config import parse_mysql_url
    from replicator.prestashop.connection import connect
    from replicator.prestashop.schema import create_schema

    db = f"bench_echo_{os.getpid()}"
    conn = connect(url)
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{db}`")
        cur.execute(f"CREATE DATABASE `{db}`")
    conn.select_db(db)
    create_schema(conn, "8", "ps_")
    ensure_ledger_table(conn, "ps_")
    work = Path(tempfile.mkdtemp(prefix="bench-echo-"))
    cfg = PrestashopConfig(url=url.rstrip("/") + "/" + db, server_id=7303)
    cap = BinlogCapture(Store(f"sqlite:///{work / 'warm.sqlite'}"), cfg)
    cap.capture()

    def write(first_id: int, marker: bool) -> dict:
        """Write the rows; the binlog position they start at."""
        file, pos = current_position(conn)
        with conn.cursor() as cur:
            for t in range(rows // per_txn):
                base = first_id + t * per_txn
                values = ", ".join(
                    f"({base + i}, 1, 'REF-{base + i:07d}', {(base + i) % 997}.25, NOW(), NOW())"
                    for i in range(per_txn)
                )
                cur.execute("START TRANSACTION")
                cur.execute(
                    "INSERT INTO ps_product (id_product, id_tax_rules_group, reference, price, date_add, "
                    f"date_upd) VALUES {values}"
                )
                if marker:
                    cur.execute(ledger_insert_sql("ps_"), (t, "bench initial sync"))
                cur.execute("COMMIT")
        return {"file": file, "pos": pos, "txn": "", "at": ""}

    def captured(start: dict, i: int, tag: str) -> tuple[float, object]:
        cap.store = Store(f"sqlite:///{work / f'{tag}-{i}.sqlite'}")
        cap.store.set_checkpoint("prestashop.binlog", start)
        t = time.perf_counter()
        report = _profiled(tag, cap.capture) if i == 0 else cap.capture()
        return time.perf_counter() - t, report

    settings = parse_mysql_url(url)
    settings.pop("database", None)
    settings.pop("charset", None)

    def bare(start: dict) -> float:  # receive + frame the events, rows never parsed
        t = time.perf_counter()
        stream = BinLogStreamReader(
            connection_settings=dict(settings),
            server_id=7304,
            resume_stream=True,
            log_file=start["file"],
            log_pos=int(start["pos"]),
            blocking=False,
            only_events=[WriteRowsEvent, XidEvent],
            only_schemas=[db],
            only_tables=["ps_product", "ps_replicator_ledger"],
            use_column_name_cache=True,
        )
        for _ in stream:
            pass
        stream.close()
        return time.perf_counter() - t

    # Capture reads to the end of the binlog: the echo range is measured before the plain rows are written.
    echo_range = write(1, marker=True)
    echo_s = plain_s = bare_s = float("inf")
    for i in range(repeats):  # best of `repeats`, interleaved: other processes on the machine make runs noisy
        s, report = captured(echo_range, i, "echo")
        assert report.echoes == rows // per_txn and report.changes == 0, report
        echo_s = min(echo_s, s)
        bare_s = min(bare_s, bare(echo_range))
    plain_range = write(rows + 1, marker=False)  # the same kind of rows, no ledger: a person's bulk edit
    for i in range(repeats):
        s, report = captured(plain_range, i, "plain")
        assert report.changes == rows and report.echoes == 0, report
        plain_s = min(plain_s, s)
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE `{db}`")
    conn.close()
    return {
        "echo_rows": rows,
        "rows_per_transaction": per_txn,
        "table": "ps_product",
        "best_of": repeats,
        "echo_capture_seconds": round(echo_s, 3),
        "echo_rows_skipped_per_second": round(rows / echo_s),
        "same_rows_captured_seconds": round(plain_s, 3),
        "captured_rows_per_second": round(rows / plain_s),
        "bare_receive_seconds": round(bare_s, 3),
        "echo_vs_bare_receive_ratio": round(echo_s / bare_s, 2),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=100_000)
    ap.add_argument("--binlog-rows", type=int, default=20_000, help="0: skip the binlog throughput part")
    ap.add_argument(
        "--echo-rows",
        type=int,
        default=20_000,
        help="rows of our own writes (ledger-marked) to skip; 0: skip this part",
    )
    ap.add_argument("--mysql-url", default=os.environ.get("REPLICATOR_TEST_MYSQL_URL"))
    ap.add_argument("--skip-binlog", action="store_true")
    ap.add_argument("--skip-factusol", action="store_true")
    ap.add_argument("--repeats", type=int, default=3, help="timings are the best of this many runs")
    ap.add_argument(
        "--profile",
        metavar="DIR",
        help="write cProfile stats of the measured calls here "
        "(timings are then inflated: use for where, not for how much)",
    )
    args = ap.parse_args()
    global PROFILE_DIR
    PROFILE_DIR = Path(args.profile) if args.profile else None
    out: dict = {"python": sys.version.split()[0]}
    if not args.skip_factusol:
        with tempfile.TemporaryDirectory(prefix="bench-capture-") as tmp:
            out["factusol"] = bench_factusol(args.articles, Path(tmp), args.repeats)
    if not args.skip_binlog:
        server = None
        url = args.mysql_url
        if not url:
            from replicator.sandbox.mariadb import LocalMariaDB

            server = LocalMariaDB().start()
            url = server.url
        try:
            if args.binlog_rows:
                out["binlog"] = bench_binlog(url, args.binlog_rows, repeats=args.repeats)
            if args.echo_rows:
                out["binlog_echo"] = bench_echo(url, args.echo_rows, repeats=args.repeats)
        finally:
            if server:
                server.stop()
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
