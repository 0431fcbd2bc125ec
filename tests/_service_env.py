"""Shared set-up of the service tests: a FactuSOL stand-in, a demo shop and a config beside them."""

from __future__ import annotations

import shutil
import time

from replicator.config import render_config
from replicator.factusol.connection import open_factusol
from replicator.prestashop.connection import ShopConnection
from replicator.sandbox.factusol import create_sandbox
from replicator.sandbox.shop import create_shop


def wait_for(predicate, seconds: float = 30.0, step: float = 0.3):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return None


def _installation(mysql_server, mysql_db, tmp_path, articles=15):
    from replicator.cli import default_rules_dir

    fs_path = tmp_path / "FS" / "0012026.sqlite"
    fs_path.parent.mkdir()
    connection = create_sandbox(str(fs_path), articles=articles, customers=3, seed=5)
    shop_url = create_shop(mysql_server.url, mysql_db, demo=True)
    config = tmp_path / "replicator.yaml"
    config.write_text(
        render_config(connection, shop_url).replace("apply_interval_seconds: 2", "apply_interval_seconds: 0.5"),
        encoding="utf-8",
    )
    shutil.copytree(default_rules_dir(), tmp_path / "rules")
    return config, connection, shop_url


def _a_published_article(connection, shop_url):
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
        shop.conn.commit()
        return shop.query_one(
            "SELECT quantity FROM {p}stock_available WHERE id_product = %s AND id_product_attribute = 0",
            (product["id_product"],),
        )["quantity"]

    return fs, shop, product["reference"], quantity
