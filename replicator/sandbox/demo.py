"""`replicator demo`: everything local, nothing to configure.

It creates a FactuSOL stand-in and a PrestaShop sandbox database (on a throwaway MariaDB it starts, unless
REPLICATOR_DEMO_MYSQL_URL names a server), writes a config beside them, runs the initial sync, then plays
a FactuSOL user who changes stock every few seconds while the replicator runs: each change is captured
from the FactuSOL file and applied to the shop, one log line per change.  With the TUI (default on a
terminal) the same run is shown live; `--headless` prints log lines.
"""

from __future__ import annotations

import logging
import os
import random
import shutil
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

from replicator.config import load_config, render_config
from replicator.store import APPLIED

log = logging.getLogger("replicator.sandbox.demo")
COMPANY, YEAR = "001", 2026


def _mysql(workdir: Path):
    url = os.environ.get("REPLICATOR_DEMO_MYSQL_URL")
    if url:
        return url, None
    from replicator.sandbox.mariadb import LocalMariaDB

    log.info("starting a throwaway MariaDB (ROW binlog) in %s", workdir / "mysql")
    server = LocalMariaDB(base_dir=workdir / "mysql").start()
    return server.url, server


# The demo shop's catalogue (replicator.sandbox.shop.DEMO_PRODUCTS) also exists in FactuSOL, as it would
# in a shop that was loaded from FactuSOL: its products are linked by reference and its orders can become
# pedidos.  Shop attribute names -> FactuSOL talla/color codes.
SIZE_CODES = {1: "S", 2: "M", 3: "L", 4: "XL", 5: "38", 6: "40", 7: "42"}
COLOUR_CODES = {8: "BLA", 9: "NEG", 10: "ROJ", 11: "AZU"}
VAT_SELECTOR = {1: 0, 2: 1, 3: 2}  # demo tax rules group -> FactuSOL VAT type (21 %, 10 %, 4 %)
# FactuSOL families of the demo catalogue (replicator.factusol.seeddata.FAMILIES): they become shop categories
DEMO_FAMILIES = {"CAM001": "CAM", "SUD002": "CHA", "PAN004": "PAN", "TAZ010": "MEN", "LIB020": "LIB"}


def add_shop_catalogue(connection: str) -> int:
    """Write the demo shop's products into the FactuSOL stand-in (articles, variants, prices, stock)."""
    from replicator.factusol.connection import open_factusol
    from replicator.factusol.writer import insert_row
    from replicator.sandbox.shop import DEMO_PRODUCTS

    conn = open_factusol(connection)
    try:
        with conn.transaction():
            for ref, _cat, tax, price, cost, weight, ean, _en, es, combos, quantity in DEMO_PRODUCTS:
                insert_row(
                    conn,
                    "F_ART",
                    {
                        "CODART": ref,
                        "DESART": es,
                        "EANART": ean,
                        "PESART": Decimal(weight),
                        "PCOART": Decimal(cost),
                        "TIVART": VAT_SELECTOR[tax],
                        "SUWART": 1,
                        "FAMART": DEMO_FAMILIES.get(ref, ""),
                    },
                    key=ref,
                )
                for tariff in (1, 2):
                    rate = Decimal({0: 21, 1: 10, 2: 4}[VAT_SELECTOR[tax]]) / 100
                    value = Decimal(price) * (1 + rate if tariff == 2 else 1)
                    insert_row(
                        conn,
                        "F_LTA",
                        {"TARLTA": tariff, "ARTLTA": ref, "PRELTA": value.quantize(Decimal("0.0001"))},
                        key=ref,
                    )
                if not combos:  # FactuSOL has a few more units than the shop showed: the sync corrects it
                    for warehouse, units in (("GEN", quantity + 3), ("AL2", 2)):
                        insert_row(
                            conn,
                            "F_STO",
                            {"ARTSTO": ref, "ALMSTO": warehouse, "ACTSTO": units, "DISSTO": units},
                            key=ref,
                        )
                for size, colour, units, _impact in combos:
                    ce1, ce2 = SIZE_CODES.get(size, ""), COLOUR_CODES.get(colour, "")
                    insert_row(conn, "F_ARC", {"ARTARC": ref, "CE1ARC": ce1, "CE2ARC": ce2}, key=ref)
                    insert_row(
                        conn,
                        "F_STC",
                        {
                            "ARTSTC": ref,
                            "ALMSTC": "GEN",
                            "CE1STC": ce1,
                            "CE2STC": ce2,
                            "ACTSTC": units + 1,
                            "DISSTC": units + 1,
                        },
                        key=ref,
                    )
        return len(DEMO_PRODUCTS)
    finally:
        conn.close()


def prepare(workdir: Path, mysql_url: str, articles: int = 60, customers: int = 30) -> Path:
    """Create both sandboxes and a config; returns the config path."""
    from replicator.config import default_rules_dir
    from replicator.sandbox.factusol import create_sandbox
    from replicator.sandbox.shop import create_shop

    fs_file = workdir / "FS" / f"{COMPANY}{YEAR}.sqlite"
    fs_file.parent.mkdir(parents=True, exist_ok=True)
    connection = create_sandbox(str(fs_file), articles=articles, customers=customers, seed=7)
    added = add_shop_catalogue(connection)
    log.info("FactuSOL stand-in: %s (%d articles, %d customers)", fs_file, articles + added, customers)
    shop_url = create_shop(mysql_url, "replicator_demo", demo=True)
    log.info("PrestaShop sandbox: database replicator_demo")
    config_path = workdir / "replicator.yaml"
    config_path.write_text(
        render_config(connection, shop_url, store="sqlite:///replicator-state.sqlite"), encoding="utf-8"
    )
    shutil.copytree(default_rules_dir(), workdir / "rules", dirs_exist_ok=True)
    return config_path


class FactusolUser(threading.Thread):
    """Plays a person in FactuSOL: adjusts the stock of a linked article every few seconds."""

    def __init__(self, connection: str, articles: list[str], interval: float, stop: threading.Event):
        super().__init__(name="factusol-user", daemon=True)
        self.connection, self.articles, self.interval, self.stop_event = connection, articles, interval, stop
        self.random = random.Random(42)
        self.changes = 0

    def run(self) -> None:
        from replicator.factusol.connection import open_factusol
        from replicator.factusol.writer import update_stock

        conn = open_factusol(self.connection)
        try:
            while not self.stop_event.wait(self.interval):
                article = self.random.choice(self.articles)
                row = conn.row("F_STO", {"ARTSTO": article, "ALMSTO": "GEN"})
                if row is None:
                    continue
                delta = Decimal(self.random.choice([-3, -2, -1, 2, 5, 10]))
                actual = max(Decimal(row["ACTSTO"]) + delta, Decimal(0))
                available = max(Decimal(row["DISSTO"]) + delta, Decimal(0))
                update_stock(conn, article, "GEN", actual=actual, available=available)
                self.changes += 1
                log.info("FactuSOL user: stock of %s in GEN %s -> %s", article, int(row["ACTSTO"]), int(actual))
        finally:
            conn.close()


def run_demo(headless: bool = False, seconds: int = 60, workdir: str | None = None) -> int:
    from replicator.capture.service import CaptureService
    from replicator.daemon import publish_status, run_once
    from replicator.factusol.years import connection_string
    from replicator.instance_lock import InstanceLock
    from replicator.runtime import open_runtime

    keep = workdir is not None
    root = Path(workdir or tempfile.mkdtemp(prefix="replicator-demo-")).resolve()
    root.mkdir(parents=True, exist_ok=True)
    mysql_url, server = _mysql(root)
    stop = threading.Event()
    try:
        config = load_config(prepare(root, mysql_url))
        if not headless:
            logging.getLogger().handlers[:] = [logging.FileHandler(root / "demo.log", encoding="utf-8")]
        runtime = open_runtime(config)
        log.info("initial sync (articles, stock, customers, orders)...")
        run_once(runtime)
        articles = sorted(runtime.store.id_map("product"))
        if not articles:
            log.error("the initial sync linked no article: nothing to demonstrate")
            return 1
        user = FactusolUser(connection_string(config.factusol), articles, interval=2.0, stop=stop)
        capture = CaptureService(config, runtime.store).start()
        user.start()
        log.info(
            "replicating %s: a FactuSOL user changes stock every 2 s",
            f"for {seconds} s" if headless else "until you quit the TUI (q)",
        )

        def apply_loop() -> None:
            while not stop.is_set():
                report = runtime.engine.apply_pending()
                publish_status(runtime, capture, report, "")  # the TUI's status bar shows the watchers
                stop.wait(1.0)

        lock = InstanceLock(runtime.store, "demo")  # the TUI shows the demo as the running service
        lock.acquire()
        applier = threading.Thread(target=apply_loop, name="apply", daemon=True)
        applier.start()
        if headless:
            stop.wait(seconds)
        else:
            from tui.app import ReplicatorApp

            app = ReplicatorApp(runtime.store, config.describe())
            app.run()  # until the person quits (q): a timer would close the screen under someone using it
        stop.set()
        applier.join(10)
        user.join(10)
        capture.stop()
        lock.release()
        time.sleep(0.5)
        runtime.engine.apply_pending()
        applied = [c for c in runtime.store.changes(status=APPLIED, entity="stock") if c.side == "factusol"]
        summary = (
            f"demo done: {user.changes} FactuSOL stock edits, {len(applied)} stock changes replicated to "
            f"the shop; files in {root if keep else 'a temp folder (removed)'}"
        )
        log.info("%s", summary)
        if not headless:  # the log went to a file while the TUI had the screen
            print(summary + (f"\nlog: {root / 'demo.log'}" if keep else ""))
        runtime.close()
        return 0 if applied else 1
    finally:
        stop.set()
        if server:
            server.stop()
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
