"""The one shared set-up of the service tests: a FactuSOL stand-in, a demo shop, a config and rules beside them, a
published article to change, `replicator run` as a child process, and `wait_for`."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from replicator.config import default_rules_dir, render_config
from replicator.factusol.connection import open_factusol
from replicator.prestashop.connection import ShopConnection
from replicator.sandbox.factusol import create_sandbox
from replicator.sandbox.shop import create_shop


def wait_for(predicate, seconds: float = 30.0, step: float = 0.3):
    """The first true value `predicate` returns within `seconds`, else None."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return None


def factusol_standin(tmp_path: Path, articles: int = 15) -> str:
    """A seeded FactuSOL stand-in at tmp_path/FS/0012026.sqlite; its connection string."""
    fs_path = tmp_path / "FS" / "0012026.sqlite"
    fs_path.parent.mkdir()
    return create_sandbox(str(fs_path), articles=articles, customers=3, seed=5)


def write_config(
    tmp_path: Path, connection: str, shop_url: str, apply_interval: str = "0.5", edits: tuple = ()
) -> Path:
    """replicator.yaml (with each (old, new) of `edits` replaced) and the default rules in tmp_path."""
    text = render_config(connection, shop_url).replace(
        "apply_interval_seconds: 2", f"apply_interval_seconds: {apply_interval}"
    )
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    config = tmp_path / "replicator.yaml"
    config.write_text(text, encoding="utf-8")
    shutil.copytree(default_rules_dir(), tmp_path / "rules")
    return config


def installation(mysql_server, mysql_db, tmp_path, articles=15, apply_interval="0.5", edits=()):
    """A stand-in, a demo shop and their config: (config path, FactuSOL connection string, shop URL)."""
    connection = factusol_standin(tmp_path, articles)
    shop_url = create_shop(mysql_server.url, mysql_db, demo=True)
    return write_config(tmp_path, connection, shop_url, apply_interval, edits), connection, shop_url


def published_article(connection, shop_url):
    """(FactuSOL connection, shop connection, the code of an article published in the shop without variants,
    a function reading its shop quantity afresh)."""
    fs = open_factusol(connection)
    shop = ShopConnection(shop_url)
    articles = [
        r["CODART"]
        for r in fs.query(
            "SELECT [CODART] FROM [F_ART] WHERE [SUWART] = ? AND [CODART]"
            " NOT IN (SELECT [ARTARC] FROM [F_ARC]) ORDER BY [CODART]",
            [1],
        )
    ]
    marks = ", ".join(["%s"] * len(articles))
    product = shop.query_one(
        f"SELECT id_product, reference FROM {{p}}product WHERE reference IN ({marks}) ORDER BY id_product LIMIT 1",
        articles,
    )

    def quantity():
        shop.conn.commit()  # a fresh snapshot for the next read
        return shop.query_one(
            "SELECT quantity FROM {p}stock_available WHERE id_product = %s AND id_product_attribute = 0",
            (product["id_product"],),
        )["quantity"]

    return fs, shop, product["reference"], quantity


def start_service(config: Path, log_path: Path) -> subprocess.Popen:
    """`replicator run --config CONFIG` as a child process, its output in `log_path`."""
    with open(log_path, "w") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "replicator.cli", "run", "--config", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def stop_service(service: subprocess.Popen, timeout: float = 60) -> int:
    """SIGTERM, then its exit code."""
    service.send_signal(signal.SIGTERM)
    return service.wait(timeout=timeout)
