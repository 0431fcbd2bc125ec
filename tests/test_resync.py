"""`replicator resync`: a corrected rule repairs what the old one published (real MariaDB shop, FactuSOL stand-in),
the dry run lists it and writes nothing, the writes carry the echo marker, and a rule reload says what would change."""

from __future__ import annotations

import copy
import json
import logging
from decimal import Decimal

import pytest

from replicator.cli import main
from replicator.daemon import run_once
from replicator.sandbox.access_sql import access_sql_guard  # noqa: F401  (every statement must be Access SQL)
from replicator.reload import adopt
from replicator.resync import render, resync
from replicator.store import PENDING
from replicator.sync.categories import CategorySync
from replicator.sync.products import ProductSync
from replicator.sync.stock import StockSync

from _sync_env import build, open_env
from test_sync_products import add_article

pytestmark = pytest.mark.mysql


@pytest.fixture
def env(mysql_server, mysql_db, tmp_path):
    config = build(mysql_server, mysql_db, tmp_path, demo=True, articles=0, customers=0, orders=0, workers="thread")
    e = open_env(config)
    e.runtime.engine.syncs = {"category": CategorySync(), "product": ProductSync(), "stock": StockSync()}
    e.rules.entity("stock").options["subtract_unsynced_shop_orders"] = False
    add_article(
        e.fs,
        "TAZ010",
        "Taza",
        price="7.438017",
        price_incl="9",
        family="MEN",
        stock={("GEN", "", ""): 10, ("AL2", "", ""): 5},
    )
    add_article(
        e.fs, "LIB020", "Libro", price="18.269231", price_incl="19", vat=2, family="LIB", stock={("GEN", "", ""): 3}
    )
    run_once(e.runtime)
    yield e
    e.close()


def qty(env, ref: str) -> int:
    row = env.shop.query_one(
        "SELECT sa.quantity FROM {p}stock_available sa JOIN {p}product p ON p.id_product ="
        " sa.id_product WHERE p.reference = %s AND sa.id_product_attribute = 0",
        (ref,),
    )
    return row["quantity"]


def price(env, ref: str) -> Decimal:
    return env.shop.query_one(
        "SELECT price FROM {p}product_shop WHERE id_product = (SELECT id_product FROM {p}product WHERE reference = %s)",
        (ref,),
    )["price"]


def test_a_corrected_rule_is_written_by_resync_after_a_dry_run(env):
    assert (qty(env, "TAZ010"), qty(env, "LIB020")) == (10, 3)
    # the rule is corrected: the shop warehouse AL2 counts too; nothing changed in FactuSOL, so no cycle repairs it
    env.rules.entity("stock").options["warehouses"] = ["GEN", "AL2"]
    env.cycle()
    assert qty(env, "TAZ010") == 10
    reports = resync(env.runtime.engine, ["stock"], dry_run=True)
    assert reports["stock"].changes == {"TAZ010": ["TAZ010 10 -> 15"]} and reports["stock"].checked == 2
    assert render(reports, True)[:2] == ["stock: 1 of 2 keys would change", "  TAZ010: TAZ010 10 -> 15"]
    assert qty(env, "TAZ010") == 10  # the dry run wrote nothing
    reports = resync(env.runtime.engine, ["stock"])
    assert reports["stock"].outcomes == {"applied": 1} and qty(env, "TAZ010") == 15
    # through the normal apply path: the shop write carries our echo marker, so nothing comes back as a change
    env.cycle()
    assert env.store.changes(status=PENDING) == []
    assert resync(env.runtime.engine, ["stock"], dry_run=True)["stock"].changes == {}
    # an exempt article (0 %) is the shop's "No tax": nothing to resync right after it was made
    add_article(env.fs, "REG100", "Tarjeta regalo", vat=3, family="TAR")
    env.runtime.engine.sync_keys("product", ["REG100"])
    assert resync(env.runtime.engine, ["product"], keys=["REG100"], dry_run=True)["product"].changes == {}
    # products: tariff 2 (19 with 4 % VAT) gives 18.269231 where tariff 1 (a Moneda column) gave 18.2692; empty
    # FactuSOL texts never wipe the shop's
    product = env.rules.entity("product")
    product.options["tariff"] = 2
    reports = resync(env.runtime.engine, ["product"], keys=["LIB020"], dry_run=True)
    assert reports["product"].checked == 1
    assert reports["product"].changes == {"LIB020": ["price_tax_excl: 18.2692 -> 18.269231"]}
    # a back-office price edit is replaced by FactuSOL's by the resync (FactuSOL owns prices)
    env.shop.execute(
        "UPDATE {p}product_shop SET price = 99 WHERE id_product = (SELECT id_product FROM {p}product"
        " WHERE reference = 'LIB020')"
    )
    env.shop.execute("UPDATE {p}product SET price = 99 WHERE reference = 'LIB020'")
    reports = resync(env.runtime.engine, ["product"], keys=["LIB020"], dry_run=True)
    assert reports["product"].changes == {"LIB020": ["price_tax_excl: 99 -> 18.269231"]}
    resync(env.runtime.engine, ["product"], keys=["LIB020"])
    assert price(env, "LIB020") == Decimal("18.269231")


def test_reload_says_how_many_keys_the_new_rules_change(env, caplog):
    rules = copy.deepcopy(env.rules)
    rules.entity("stock").options["warehouses"] = "all"
    with caplog.at_level(logging.INFO, logger="replicator.rules"):
        assert adopt(env.runtime, rules)
    assert "the new rules would change 1 stock key already in the shop" in caplog.text
    assert "replicator resync --dry-run" in caplog.text
    assert env.runtime.ctx.rules is rules and qty(env, "TAZ010") == 10  # adopted, nothing written yet


def _config_file(env, tmp_path):
    """A configuration file on the env's store and sides whose stock rule now takes warehouse AL2 too."""
    config = env.config
    config_file = tmp_path / "resync.yaml"
    rules_dir = tmp_path / "rules"
    import shutil

    shutil.copytree(config.rules_dir, rules_dir)
    stock = rules_dir / "stock.yaml"
    stock.write_text(
        stock.read_text(encoding="utf-8")
        .replace("warehouses: [GEN]", "warehouses: [GEN, AL2]")
        .replace("subtract_unsynced_shop_orders: true", "subtract_unsynced_shop_orders: false"),
        encoding="utf-8",
    )
    config_file.write_text(
        f'factusol:\n  connection: "{config.factusol.connection}"\n  file: {config.factusol.file}\n'
        f'prestashop:\n  url: "{config.prestashop.url}"\n  server_id: {config.prestashop.server_id}\n'
        f'store: "{config.store}"\nrules: {rules_dir}\ninitial_sync_workers: thread\n',
        encoding="utf-8",
    )
    return config_file


def test_resync_command_json(env, tmp_path, capsys):
    config_file = _config_file(env, tmp_path)
    assert main(["resync", "stock", "--dry-run", "--json", "--config", str(config_file)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["dry_run"] is True and out["entities"]["stock"]["changes"] == {"TAZ010": ["TAZ010 10 -> 15"]}
    assert qty(env, "TAZ010") == 10
    assert main(["resync", "stock", "--keys", "TAZ010", "--config", str(config_file)]) == 0
    assert "stock: 1 of 1 keys changed" in capsys.readouterr().out
    assert qty(env, "TAZ010") == 15


def test_tui_resync_dry_run_shows_counts_then_writes_after_y(env, tmp_path):
    import asyncio

    from tui.app import build_app
    from tui.modals import ConfirmModal

    app = build_app(str(_config_file(env, tmp_path)))

    async def until(pilot, condition, timeout=60.0):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition():
            assert loop.time() < deadline, "timed out"
            await pilot.pause(0.1)

    async def scenario():
        async with app.run_test(size=(160, 48)) as pilot:
            await pilot.press("ctrl+p")
            await pilot.pause()
            await pilot.press(*"Resync (dry run)")
            await pilot.pause(0.3)
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
            assert "stock: 1 of" in str(app.screen.body) and "TAZ010 10 -> 15" in str(app.screen.body)
            assert qty(env, "TAZ010") == 10  # the dry run wrote nothing
            await pilot.press("y")
            await until(
                pilot,
                lambda: (
                    app.resync_reports is not None
                    and not isinstance(app.screen, ConfirmModal)
                    and any("Resync written" in n.message for n in app._notifications)
                ),
            )

    asyncio.run(scenario())
    assert qty(env, "TAZ010") == 15
