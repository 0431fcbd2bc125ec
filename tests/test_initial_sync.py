"""Initial sync through `run_once` on a fresh pair: link before create, progress lines, resumable after kill -9."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from replicator.daemon import run_once
from replicator.gil import SWITCH_INTERVAL
from replicator.factusol.testing import access_sql_guard  # noqa: F401  (every statement must be Access SQL)
from replicator.model import Product
from replicator.prestashop import writer as ps_writer
from replicator.store import PENDING

from _sync_env import build, open_env

pytestmark = pytest.mark.mysql
ARTICLES, CUSTOMERS = 150, 30


@pytest.fixture
def config(mysql_server, mysql_db, tmp_path):
    return build(mysql_server, mysql_db, tmp_path, demo=False, articles=ARTICLES, customers=0, orders=0,
                 shop_customers=CUSTOMERS)


def counts(env) -> dict:
    q = env.shop.query_one
    return {"products": q("SELECT COUNT(*) AS n FROM {p}product")["n"],
            "distinct_refs": q("SELECT COUNT(DISTINCT reference) AS n FROM {p}product")["n"],
            "f_cli": env.fs.scalar("SELECT COUNT(*) AS [N] FROM [F_CLI]"),
            "f_cli_nif": env.fs.scalar("SELECT COUNT(*) AS [N] FROM (SELECT DISTINCT [NIFCLI] FROM [F_CLI])")}


def published(env) -> list[str]:
    return [r["CODART"] for r in env.fs.query("SELECT [CODART] FROM [F_ART] WHERE [SUWART] = 1 ORDER BY [CODART]")]


def test_run_once_links_before_create_and_logs_progress(config, caplog):
    env = open_env(config)
    try:
        first = published(env)[0]
        existing = ps_writer.upsert_product(env.shop, Product(reference=first, name="Hecho en la tienda", price_tax_excl=1))
        customers_before = counts(env)["f_cli"]
        with caplog.at_level(logging.INFO, logger="replicator"):
            run_once(env.runtime)
        lines = [r.getMessage() for r in caplog.records]
        assert f"initial sync: product, {ARTICLES} keys" in lines and f"initial sync: product {ARTICLES}/{ARTICLES}" in lines
        assert any(m.startswith("initial sync done:") for m in lines)
        # progress, not one INFO line per created row (those are at DEBUG)
        assert not [m for r, m in zip(caplog.records, lines) if r.levelno >= logging.INFO and "new shop customer" in m]
        c = counts(env)
        assert c["products"] == c["distinct_refs"] == len(published(env))  # the shop's product was linked
        assert env.store.map_id("product", factusol_key=first).prestashop_id == str(existing)
        assert c["f_cli"] == customers_before + CUSTOMERS
        assert len(env.store.id_map("customer")) == CUSTOMERS
        stocked = env.shop.query_one("SELECT COUNT(*) AS n FROM {p}stock_available WHERE quantity > 0")["n"]
        assert stocked > 0
        captured, applied = env.cycle()  # nothing comes back
        assert captured.changes == 0 and applied.changes == 0 and env.store.changes(status=PENDING) == []
    finally:
        env.close()


CHILD = textwrap.dedent("""
    import sys, time, pickle
    sys.path.insert(0, {tests!r})
    from _sync_env import open_env
    from replicator.daemon import run_once
    import replicator.prestashop.writer as ps_writer
    import replicator.factusol.writer as fs_writer

    config = pickle.loads(bytes.fromhex({config!r}))
    env = open_env(config)
    calls = [0]

    def stop_after(fn, n):
        def wrapper(*a, **kw):
            out = fn(*a, **kw)
            calls[0] += 1
            if calls[0] == n:
                print("HOOK", flush=True)
                time.sleep(120)
            return out
        return wrapper

    if {where!r} == "customer":  # killed after the 2nd bulk chunk committed in FactuSOL, before the store linked it
        import replicator.sync.customers as customers
        customers.CREATE_CHUNK = 10
        fs_writer.insert_customers = stop_after(fs_writer.insert_customers, 2)
    else:  # killed after the 2nd bulk chunk committed in the shop, before the store linked it
        import replicator.sync.products as products
        products.BULK_CHUNK = 40
        ps_writer.create_products_bulk = stop_after(ps_writer.create_products_bulk, 2)
    run_once(env.runtime)
    print("DONE", flush=True)
""")


@pytest.mark.parametrize("where", ["customer", "product"])
def test_initial_sync_resumes_after_kill_9(config, where):
    import pickle

    code = CHILD.format(tests=str(Path(__file__).parent), config=pickle.dumps(config).hex(), where=where)
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             cwd=str(Path(__file__).parents[1]))
    try:
        line = child.stdout.readline()
        assert line.strip() == "HOOK", child.stderr.read()
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    env = open_env(config)
    try:
        assert not (env.store.checkpoint("initial_sync") or {}).get("done")
        run_once(env.runtime)
        c = counts(env)
        assert c["products"] == c["distinct_refs"] == len(published(env))
        assert len(env.store.id_map("product")) == len(published(env))
        assert len(env.store.id_map("customer")) == CUSTOMERS
        assert c["f_cli_nif"] == c["f_cli"]  # no customer twice
        assert (env.store.checkpoint("initial_sync") or {}).get("done")
        captured, applied = env.cycle()
        assert applied.changes == 0
    finally:
        env.close()


def test_customers_sync_on_their_own_thread_and_connections(config, monkeypatch):
    """Customers run on a second thread with their own FactuSOL and shop connections while products run here."""
    import threading

    from replicator.sync.customers import CustomerSync
    from replicator.sync.products import ProductSync


    seen: dict[str, set] = {"customer": set(), "product": set(), "customer_conns": set(), "switch": set()}

    def spy(cls, entity):
        original = cls.sync

        def sync(self, ctx, keys):
            seen[entity].add(threading.current_thread().name)
            seen["switch"].add(sys.getswitchinterval())
            if entity == "customer":
                seen["customer_conns"].add((id(ctx.factusol), id(ctx.shop)))
            return original(self, ctx, keys)
        monkeypatch.setattr(cls, "sync", sync)

    spy(CustomerSync, "customer")
    spy(ProductSync, "product")
    before = sys.getswitchinterval()
    env = open_env(config)
    try:
        run_once(env.runtime)
        # the GIL is handed over quickly while both threads run (no convoy), and the default is back afterwards
        assert [pytest.approx(SWITCH_INTERVAL)] == list(seen["switch"]) and sys.getswitchinterval() == before
        main = threading.main_thread().name
        assert seen["product"] == {main}
        assert len(seen["customer"]) == 1 and main not in seen["customer"]
        assert (id(env.runtime.ctx.factusol), id(env.runtime.ctx.shop)) not in seen["customer_conns"]
        assert len(env.store.id_map("customer")) == CUSTOMERS
        assert counts(env)["f_cli_nif"] == counts(env)["f_cli"]
    finally:
        env.close()


def test_stock_runs_in_two_halves_on_two_threads(config, monkeypatch):
    """Stock, alone once products are done, is split: the first half of the articles here, the second on a side
    thread with its own connections; every article is synced once and the shop ends with FactuSOL's stock."""
    import threading

    from replicator import engine
    from replicator.factusol import reader as fs_reader
    from replicator.sync.stock import StockSync

    monkeypatch.setattr(engine, "INITIAL_CHUNK", 20)
    calls: list[tuple[str, tuple[str, ...], int]] = []
    original = StockSync.sync

    def sync(self, ctx, keys):
        calls.append((threading.current_thread().name, tuple(keys), id(ctx.shop)))
        return original(self, ctx, keys)
    monkeypatch.setattr(StockSync, "sync", sync)
    env = open_env(config)
    try:
        run_once(env.runtime)
        threads = {name for name, _, _ in calls}
        assert threading.main_thread().name in threads and len(threads) == 2
        assert len({conn for _, _, conn in calls}) == 2
        synced = [k for _, keys, _ in calls for k in keys]
        assert sorted(synced) == sorted(env.store.id_map("product")) and len(synced) == len(set(synced))
        detail = fs_reader.read_stock_detail(env.fs)
        quantities = {r["reference"]: r["quantity"] for r in env.shop.query(
            "SELECT p.reference, s.quantity FROM {p}stock_available s JOIN {p}product p ON p.id_product = s.id_product"
            " WHERE s.id_product_attribute = 0")}
        # the stock rule: warehouse GEN, physical minus units pending on FactuSOL orders (there are none here)
        simple = [a for a in published(env) if "GEN" in detail.get((a, "", ""), {})]
        assert simple and {a: quantities[a] for a in simple} == {
            a: max(0, int(detail[(a, "", "")]["GEN"]["physical"])) for a in simple}
    finally:
        env.close()


def test_an_error_on_the_customer_thread_stops_the_initial_sync(config, monkeypatch):
    """A transient error (the FactuSOL file locked) on the customer thread fails the run like one on the main
    thread: the initial sync is not marked done and the next run redoes it."""
    from replicator.factusol.connection import FactusolLockedError
    from replicator.sync.customers import CustomerSync

    def locked(self, ctx, keys):
        raise FactusolLockedError("F_CLI: the file is locked")

    monkeypatch.setattr(CustomerSync, "sync", locked)
    env = open_env(config)
    try:
        with pytest.raises(FactusolLockedError):
            run_once(env.runtime)
        assert not (env.store.checkpoint("initial_sync") or {}).get("done")
        monkeypatch.undo()
        run_once(env.runtime)
        assert len(env.store.id_map("customer")) == CUSTOMERS
        assert (env.store.checkpoint("initial_sync") or {}).get("done")
    finally:
        env.close()


def test_factusol_edits_made_during_the_initial_sync_are_captured_by_the_same_run(config, monkeypatch):
    """The first-sight scan runs before the sync reads; what FactuSOL users change meanwhile is captured by the
    scan after the sync (narrowed by FUMART for F_ART, a full read for F_STO, which has no timestamp)."""
    from datetime import datetime

    from replicator.store import Change
    from replicator.sync.products import ProductSync

    env = open_env(config)
    article = published(env)[0]
    original = ProductSync.sync
    edited = []

    def sync(self, ctx, keys):
        out = original(self, ctx, keys)
        if not edited:  # a FactuSOL user edits while the initial sync runs
            env.fs.execute("UPDATE [F_ART] SET [DESART] = ?, [FUMART] = ? WHERE [CODART] = ?",
                           ["Renombrado durante la sincronización", datetime.now(), article])
            env.fs.execute("UPDATE [F_STO] SET [ACTSTO] = [ACTSTO] + 7, [DISSTO] = [DISSTO] + 7 WHERE [ARTSTO] = ?",
                           [article])
            edited.append(article)
        return out

    monkeypatch.setattr(ProductSync, "sync", sync)
    try:
        run_once(env.runtime)
        assert edited
        with env.store.session() as s:
            from sqlmodel import select

            changes = s.exec(select(Change).where(Change.side == "factusol")).all()
        tables = {(c.source_table, c.op) for c in changes if article in c.row_key}
        assert ("F_ART", "update") in tables and ("F_STO", "update") in tables
        name = env.shop.query_one("SELECT pl.name FROM {p}product p JOIN {p}product_lang pl"
                                  " ON pl.id_product = p.id_product WHERE p.reference = %s LIMIT 1", (article,))
        assert name["name"] == "Renombrado durante la sincronización"
    finally:
        env.close()


def test_a_failed_first_sight_syncs_nothing_and_the_next_run_does_it_all(config):
    """The FactuSOL file locked past the retry budget during the first run's first sight: the run stops with a
    clear error before syncing anything (a table synced before it was first seen could lose an edit made in
    between); once the lock is gone, the next run takes the first sight and syncs."""
    import dataclasses
    import sqlite3

    from replicator.daemon import FirstSightError

    config = dataclasses.replace(config, factusol=dataclasses.replace(config.factusol, lock_retry_seconds=0.5))
    env = open_env(config)
    locker = sqlite3.connect(config.factusol.file, timeout=0, isolation_level=None)
    try:
        locker.execute("BEGIN EXCLUSIVE")  # FactuSOL compacting the file
        with pytest.raises(FirstSightError, match="first sight failed.*factusol.*locked"):
            run_once(env.runtime)
        locker.execute("ROLLBACK")
        assert counts(env)["products"] == 0 and env.store.id_map("customer") == {}
        assert not (env.store.checkpoint("initial_sync") or {}).get("done")
        run_once(env.runtime)
        assert counts(env)["products"] == len(published(env)) and len(env.store.id_map("customer")) == CUSTOMERS
    finally:
        locker.close()
        env.close()
