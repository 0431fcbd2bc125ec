"""End-to-end latency of `replicator run`, printed as JSON: how long a change on one side takes to show on the other.

    python bench/bench_latency.py [--articles 2000] [--rate 20] [--changes 200] [--max-seconds 60]
                                  [--modes binlog,poll] [--poll-seconds 1] [--poll-checksum-seconds S]
                                  [--log-level DEBUG] [--keep] [--profile DIR]

For each capture mode: a throwaway local mariadbd with the demo shop, a FactuSOL stand-in, the first run, then
`replicator run` as a service.  A steady mixed load (`--rate` changes a second, `--changes` in all, at most
`--max-seconds`) cycles through: a FactuSOL stock edit, a FactuSOL article edit (FUMART stamped, as FactuSOL's own
screens do), a shop customer edit (what the back office writes) and a new shop order (written as the sandbox shop
writes its demo orders, in one transaction), seen when its pedido is in F_PCL.  An observer thread watches the other
side every 10 ms and records when each change shows; a change not seen within `--timeout` counts as missed.  After the
load, one article edit that does NOT stamp FUMART (a bulk update by another program) is timed on its own.  The service's
CPU (user + system, from /proc: Linux only) from the start of the load until every change was seen or missed is
reported as a share of one core.  With `--keep`, the work folder is kept and one `trace` line per change seen goes to
stderr.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pymysql

from replicator.config import default_rules_dir, parse_mysql_url, render_config
from replicator.sandbox.factusol import create_sandbox
from replicator.sandbox.mariadb import LocalMariaDB
from replicator.sandbox.shop import add_order, create_shop
from replicator.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_daemon_idle import cpu_seconds  # noqa: E402


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return round(s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))], 3)


def summary(values: list[float], missed: int) -> dict:
    return {
        "n": len(values),
        "missed": missed,
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": round(max(values), 3) if values else None,
    }


class Probe:
    """Connections the load and the observer use: sqlite3 on the stand-in file, pymysql on the shop."""

    def __init__(self, fs_path: Path, shop_url: str):
        self.fs = sqlite3.connect(fs_path, timeout=30, isolation_level=None, check_same_thread=False)
        params = parse_mysql_url(shop_url)
        params.pop("charset", None)
        self.shop = pymysql.connect(**params, autocommit=True, charset="utf8mb4")
        self.lock = threading.Lock()

    def fs_one(self, sql: str, args=()):
        with self.lock:
            row = self.fs.execute(sql, args).fetchone()
        return row[0] if row else None

    def shop_one(self, sql: str, args=()):
        with self.lock, self.shop.cursor() as cur:
            cur.execute(sql, args)
            row = cur.fetchone()
        return row[0] if row else None


def run_mode(mode: str, args, server: LocalMariaDB) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"bench-latency-{mode}-"))
    service = None
    try:
        fs_path = work / "FS" / "0012026.sqlite"
        fs_path.parent.mkdir()
        connection = create_sandbox(str(fs_path), articles=args.articles, customers=20, seed=5)
        # WAL by default: readers do not block writers there, as in Access (page locks), so the numbers measure the
        # replicator rather than SQLite's rollback-journal lock (a scan's read holding off every write until it ends).
        with sqlite3.connect(fs_path) as c:
            c.execute(f"PRAGMA journal_mode={args.journal}")
        shop_url = create_shop(server.url, f"bench_latency_{mode}", demo=True, customers=args.customers)
        text = render_config(connection, shop_url, store=f"sqlite:///{work / 'state.sqlite'}")
        text = (
            text.replace("capture: auto", f"capture: {mode}")
            .replace("poll_seconds: 5", f"poll_seconds: {args.poll_seconds}")
            .replace("  level: INFO", f"  level: {args.log_level}")
        )
        if args.poll_checksum_seconds:
            text = text.replace(
                "  # poll_checksum_seconds: 60", f"  poll_checksum_seconds: {args.poll_checksum_seconds}  #"
            )
            assert f"poll_checksum_seconds: {args.poll_checksum_seconds}" in text
        config = work / "replicator.yaml"
        config.write_text(text, encoding="utf-8")
        shutil.copytree(default_rules_dir(), work / "rules")
        cli = [sys.executable, "-m", "replicator.cli"]
        first = subprocess.run([*cli, "run", "--config", str(config), "--once"], capture_output=True, text=True)
        if first.returncode:
            raise SystemExit("the first run failed:\n" + (first.stdout + first.stderr)[-2000:])
        log_path = work / "service.log"
        # --profile: cProfile of the service's main thread (the apply loop; the watchers run on other threads),
        # written when the service stops
        profiler = ["-m", "cProfile", "-o", str(Path(args.profile) / f"{mode}.prof")] if args.profile else []
        with open(log_path, "w") as log:
            service = subprocess.Popen(
                [sys.executable, *profiler, "-m", "replicator.cli", "run", "--config", str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 300
        while "replicator running" not in log_path.read_text() and time.monotonic() < deadline:
            if service.poll() is not None:
                raise SystemExit("the service stopped:\n" + log_path.read_text()[-2000:])
            time.sleep(0.2)
        # The service's first FactuSOL scan is a full one (seconds with 100,000 articles): the load starts after it,
        # so the figures are the steady state's, not the start's
        store = Store(f"sqlite:///{work / 'state.sqlite'}")
        while time.monotonic() < deadline:
            watcher = ((store.checkpoint("service") or {}).get("capture") or {}).get("factusol") or {}
            if watcher.get("scans", 0) >= 1:
                break
            time.sleep(0.5)
        time.sleep(args.settle)
        return measure(service, Probe(fs_path, shop_url), Probe(fs_path, shop_url), args) | {"mode": mode}
    finally:
        if service is not None:
            service.terminate()
            service.wait(60)
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


@dataclass
class ShopCheck:
    """A FactuSOL change seen in the shop: product `pid`'s quantity is no longer `before`, or its name holds `token`.
    The observer looks for all of them in two queries a round (`shop_seen`): one query per pending change, 100 times
    a second, cost the machine about as much as the service's own work."""

    pid: int
    before: object = None
    token: str = ""


def shop_seen(probe: Probe, checks: list[ShopCheck]) -> set[int]:
    """The product ids whose pending check is met now."""
    seen: set[int] = set()
    for want_name, sql in (
        (False, "SELECT id_product, quantity FROM ps_stock_available WHERE id_product_attribute = 0 AND id_product IN"),
        (True, "SELECT id_product, name FROM ps_product_lang WHERE id_product IN"),
    ):
        ids = sorted({c.pid for c in checks if bool(c.token) == want_name})
        if not ids:
            continue
        with probe.lock, probe.shop.cursor() as cur:
            cur.execute(f"{sql} ({', '.join(['%s'] * len(ids))})", ids)
            rows = cur.fetchall()
        for c in checks:
            if bool(c.token) != want_name:
                continue
            values = [v for pid, v in rows if pid == c.pid]
            if (want_name and any(c.token in v for v in values)) or (not want_name and values != [c.before]):
                seen.add(c.pid)
    return seen


def _customer_named(probe: Probe, token: str):
    def check() -> bool:
        return bool(
            probe.fs_one(
                "SELECT COUNT(*) FROM F_CLI WHERE NOFCLI LIKE ? OR NOCCLI LIKE ?", (f"%{token}%", f"%{token}%")
            )
        )

    return check


def _pedido_for(probe: Probe, token: str):
    def check() -> bool:
        return bool(probe.fs_one("SELECT COUNT(*) FROM F_PCL WHERE REFPCL LIKE ?", (f"%-{token}",)))

    return check


def new_order(probe: Probe, n: int, token: str, pid: int, ref: str, cid: int) -> None:
    """A shop order as the sandbox shop writes its demo orders (one transaction), its reference the token."""
    with probe.lock, probe.shop.cursor() as cur:
        cur.execute(
            "SELECT p.price, p.id_tax_rules_group, l.name FROM ps_product p JOIN ps_product_lang l"
            " ON l.id_product = p.id_product WHERE p.id_product = %s LIMIT 1",
            (pid,),
        )
        price, tax_group, name = cur.fetchone()
        cur.execute("SELECT id_address FROM ps_address WHERE id_customer = %s AND deleted = 0 LIMIT 1", (cid,))
        address = cur.fetchone()
        cur.execute("START TRANSACTION")
        oid = add_order(
            cur,
            "ps_",
            n,
            (cid, None),
            address[0] if address else 0,
            1,
            2,
            [(ref, None, None, 1)],
            "",
            False,
            {ref: (pid, {}, str(price), int(tax_group) if tax_group in (1, 2, 3) else 1, name, [])},
            0,
            "0" * 32,
        )
        # dated now, as PrestaShop dates a new order (the sandbox's demo orders carry their seed dates)
        cur.execute(
            "UPDATE ps_orders SET reference = %s, date_add = NOW(), date_upd = NOW() WHERE id_order = %s", (token, oid)
        )
        cur.execute("COMMIT")


def measure(service: subprocess.Popen, probe: Probe, watch: Probe, args) -> dict:
    """`probe` makes the changes, `watch` (its own connections) looks for them on the other side."""
    # Simple products linked both ways (their reference is a FactuSOL article code), and linked customers.
    with probe.shop.cursor() as cur:
        cur.execute(
            "SELECT p.id_product, p.reference FROM ps_product p WHERE p.reference <> '' AND NOT EXISTS"
            " (SELECT 1 FROM ps_product_attribute a WHERE a.id_product = p.id_product) ORDER BY p.id_product"
        )
        products = [
            (pid, ref)
            for pid, ref in cur.fetchall()
            if probe.fs_one("SELECT 1 FROM F_STO WHERE ARTSTO = ? AND ALMSTO = 'GEN'", (ref,))
        ]
        cur.execute("SELECT id_customer FROM ps_customer WHERE deleted = 0 AND is_guest = 0 ORDER BY id_customer")
        customers = [r[0] for r in cur.fetchall()]
    if len(products) < 8 or len(customers) < 4:
        raise SystemExit("not enough linked products or customers to edit")
    # Orders take products and customers nobody edits meanwhile (an order moves its product's shop stock).
    order_products, products = products[-len(products) // 4 :], products[: -len(products) // 4]
    order_customers, customers = customers[-len(customers) // 4 :], customers[: -len(customers) // 4]
    pending: dict[int, tuple[str, float, object, object]] = {}  # n -> (direction, started, check, entity)
    seen: dict[str, list[float]] = {"factusol_to_shop": [], "shop_to_factusol": []}
    missed = {k: 0 for k in seen}
    plock = threading.Lock()
    done = threading.Event()
    trace: list[tuple] = []  # (n, direction, wall time of the edit, wall time seen), kept with --keep

    def observe() -> None:
        while not (done.is_set() and not pending):
            now = time.monotonic()
            with plock:
                items = list(pending.items())
            try:
                in_shop = shop_seen(watch, [v[2] for _n, v in items if isinstance(v[2], ShopCheck)])
            except Exception:  # noqa: BLE001 - a read that failed is tried again
                in_shop = set()
            for n, (direction, started, check, _entity) in items:
                try:
                    ok = check.pid in in_shop if isinstance(check, ShopCheck) else check()
                except Exception:  # noqa: BLE001 - a read that failed is tried again
                    ok = False
                t = time.monotonic()
                with plock:
                    if ok:
                        seen[direction].append(t - started)
                        if args.keep:
                            trace.append((n, direction, time.time() - (t - started), time.time()))
                        pending.pop(n, None)
                    elif t - started > args.timeout:
                        missed[direction] += 1
                        pending.pop(n, None)
            time.sleep(max(0.0, 0.01 - (time.monotonic() - now)))

    observer = threading.Thread(target=observe, daemon=True)
    observer.start()
    cpu0, t0 = cpu_seconds(service.pid), time.monotonic()
    interval = 1.0 / args.rate
    n = 0
    # An entity is not edited again before its last edit was seen (or missed): a second edit would hide the first.

    def free(candidates: list, offset: int):
        with plock:
            waiting = {entity for _d, _t, _c, entity in pending.values()}
        for i in range(len(candidates)):
            c = candidates[(offset + i) % len(candidates)]
            if c not in waiting:
                return c
        return None

    while n < args.changes and time.monotonic() - t0 < args.max_seconds:
        kind = n % 4
        token = f"L{n:05d}"
        if kind == 0:  # FactuSOL stock edit -> shop quantity
            pid, ref = free(products, n // 3) or products[0]
            before = probe.shop_one(
                "SELECT quantity FROM ps_stock_available WHERE id_product = %s AND id_product_attribute = 0", (pid,)
            )
            with probe.lock:
                probe.fs.execute(
                    "UPDATE F_STO SET ACTSTO = ACTSTO + 1, DISSTO = DISSTO + 1 WHERE ARTSTO = ? AND ALMSTO = 'GEN'",
                    (ref,),
                )
            check = ShopCheck(pid, before=before)
            direction = "factusol_to_shop"
        elif kind == 1:  # FactuSOL article edit (FUMART stamped) -> product name
            pid, ref = free(products, n // 3 + len(products) // 2) or products[0]
            with probe.lock:
                probe.fs.execute(
                    "UPDATE F_ART SET DESART = ?, FUMART = ? WHERE CODART = ?",
                    (f"Artículo {token}", datetime.now().strftime("%Y-%m-%d 00:00:00"), ref),
                )
            check = ShopCheck(pid, token=token)
            direction = "factusol_to_shop"
        elif kind == 3:  # new shop order -> pedido (products and customers of their own: no other edit waits)
            pid, ref = order_products[(n // 4) % len(order_products)]
            cid = order_customers[(n // 4) % len(order_customers)]
            new_order(probe, n, token, pid, ref, cid)
            check = _pedido_for(watch, token)
            direction = "shop_to_factusol"
        else:  # shop customer edit -> F_CLI
            cid = free(customers, n // 3) or customers[0]
            probe.shop_one(
                "UPDATE ps_customer SET lastname = %s, date_upd = NOW() WHERE id_customer = %s",
                (f"Cliente {token}", cid),
            )
            check = _customer_named(watch, token)
            direction = "shop_to_factusol"
        with plock:
            pending[n] = (direction, time.monotonic(), check, (pid, ref) if kind < 2 else (cid if kind == 2 else n))
        n += 1
        time.sleep(max(0.0, t0 + n * interval - time.monotonic()))
    load_seconds = time.monotonic() - t0
    done.set()
    observer.join(args.timeout + 30)
    cpu, elapsed = cpu_seconds(service.pid) - cpu0, time.monotonic() - t0
    if args.keep:
        print("\n".join(f"trace {n} {d} {a:.3f} {b:.3f} {b - a:.3f}" for n, d, a, b in sorted(trace)), file=sys.stderr)

    # One unstamped edit, alone: FUMART not moved.
    pid, ref = products[0]
    token = "UNSTAMPED"
    with probe.lock:
        probe.fs.execute("UPDATE F_ART SET DESART = ? WHERE CODART = ?", (f"Artículo {token}", ref))
    started, unstamped = time.monotonic(), None
    while time.monotonic() - started < args.timeout:
        if shop_seen(probe, [ShopCheck(pid, token=token)]):
            unstamped = round(time.monotonic() - started, 3)
            break
        time.sleep(0.01)
    return {
        "changes": n,
        "load_seconds": round(load_seconds, 1),
        "rate": round(n / load_seconds, 1),
        "seconds_until_all_seen": round(elapsed, 1),
        "factusol_to_shop": summary(seen["factusol_to_shop"], missed["factusol_to_shop"]),
        "shop_to_factusol": summary(seen["shop_to_factusol"], missed["shop_to_factusol"]),
        "unstamped_article_edit_seconds": unstamped,
        "timeout": args.timeout,
        "service_cpu_share_of_one_core": round(cpu / elapsed, 3),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=2000)
    ap.add_argument("--rate", type=float, default=20.0, help="changes a second")
    ap.add_argument("--changes", type=int, default=200)
    ap.add_argument("--max-seconds", type=float, default=60.0)
    ap.add_argument("--timeout", type=float, default=30.0, help="a change not seen by then is missed")
    ap.add_argument("--customers", type=int, default=40, help="shop customers besides the demo's")
    ap.add_argument("--settle", type=float, default=5.0)
    ap.add_argument("--modes", default="binlog,poll")
    ap.add_argument("--poll-seconds", type=float, default=1.0)
    ap.add_argument("--journal", default="wal", choices=["wal", "delete"], help="the stand-in file's journal mode")
    ap.add_argument("--poll-checksum-seconds", type=float, default=0, help="poll mode: server checksums this often")
    ap.add_argument("--log-level", default="INFO", help="the service's log level (DEBUG: every scan and poll timed)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (service log, store) to look into")
    ap.add_argument("--profile", default="", help="a folder for cProfile stats of the service's apply loop (MODE.prof)")
    args, _unknown = ap.parse_known_args()  # `python -m bench -- ...` passes every script the same arguments
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)
    server = LocalMariaDB().start()
    try:
        results = [run_mode(mode, args, server) for mode in args.modes.split(",")]
    finally:
        server.stop()
    print(
        json.dumps(
            {
                "bench": "latency",
                "articles": args.articles,
                "poll_seconds": args.poll_seconds,
                "journal": args.journal,
                "rate_asked": args.rate,
                "results": results,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
