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
from replicator.factusol import connection as fs_connection
from replicator.gil import SWITCH_INTERVAL
from replicator.sandbox.access_sql import access_sql_guard  # noqa: F401  (every statement must be Access SQL)
from replicator.model import Product
from replicator.prestashop import write as ps_writer
from replicator.store import PENDING, dumps

from _sync_env import build, open_env

pytestmark = pytest.mark.mysql
ARTICLES, CUSTOMERS = 150, 30


@pytest.fixture(params=["process-delete", "process-wal", "thread-delete"])
def config(mysql_server, mysql_db, tmp_path, request):
    """Helper work in a child process (the default) with the stand-in in both journal modes (in WAL mode the first
    sight is taken in two parts), and on threads."""
    workers, journal_mode = request.param.split("-")
    return build(
        mysql_server,
        mysql_db,
        tmp_path,
        demo=False,
        articles=ARTICLES,
        customers=0,
        orders=0,
        shop_customers=CUSTOMERS,
        journal_mode=journal_mode,
        workers=workers,
    )


@pytest.fixture
def thread_config(mysql_server, mysql_db, tmp_path):
    """Helper work on threads: for the tests that watch the syncs from inside this process."""
    return build(
        mysql_server,
        mysql_db,
        tmp_path,
        demo=False,
        articles=ARTICLES,
        customers=0,
        orders=0,
        shop_customers=CUSTOMERS,
        workers="thread",
    )


def counts(env) -> dict:
    q = env.shop.query_one
    return {
        "products": q("SELECT COUNT(*) AS n FROM {p}product")["n"],
        "distinct_refs": q("SELECT COUNT(DISTINCT reference) AS n FROM {p}product")["n"],
        "f_cli": env.fs.scalar("SELECT COUNT(*) AS [N] FROM [F_CLI]"),
        "f_cli_nif": env.fs.scalar("SELECT COUNT(*) AS [N] FROM (SELECT DISTINCT [NIFCLI] FROM [F_CLI])"),
    }


def published(env) -> list[str]:
    return [r["CODART"] for r in env.fs.query("SELECT [CODART] FROM [F_ART] WHERE [SUWART] = 1 ORDER BY [CODART]")]


def test_run_once_links_before_create_and_logs_progress(config, caplog):
    env = open_env(config)
    try:
        first = published(env)[0]
        existing = ps_writer.upsert_product(
            env.shop, Product(reference=first, name="Hecho en la tienda", price_tax_excl=1)
        )
        customers_before = counts(env)["f_cli"]
        with caplog.at_level(logging.INFO, logger="replicator"):
            run_once(env.runtime)
        lines = [r.getMessage() for r in caplog.records]
        assert (
            f"initial sync: product, {ARTICLES} keys" in lines
            and f"initial sync: product {ARTICLES}/{ARTICLES}" in lines
        )
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
    import replicator.prestashop.write as ps_writer
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
        import replicator.sync.customer_create as customer_create
        customer_create.CREATE_CHUNK = 10
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
    import dataclasses
    import pickle

    if where == "customer":  # the hook on the customers' writes must be in the killed process
        config = dataclasses.replace(config, initial_sync_workers="thread")
    code = CHILD.format(tests=str(Path(__file__).parent), config=pickle.dumps(config).hex(), where=where)
    child = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=str(Path(__file__).parents[1]),
    )
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


def test_customers_sync_on_their_own_thread_and_connections(thread_config, monkeypatch):
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
    env = open_env(thread_config)
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


def test_stock_runs_in_two_halves(config, monkeypatch, caplog):
    """Stock, alone once products are done, is split: the first half of the articles here, the second on the
    helper worker (a thread or the child process) with its own connections; every article is synced once and the shop
    ends with FactuSOL's stock."""
    import threading

    from replicator import engine
    from replicator.factusol import reader as fs_reader
    from replicator.sync.stock import StockSync

    monkeypatch.setattr(engine, "INITIAL_CHUNK", 20)
    calls: list[tuple[str, tuple[str, ...], int]] = []
    original = StockSync.sync

    def sync(self, ctx, keys):  # seen for the keys synced in this process only
        calls.append((threading.current_thread().name, tuple(keys), id(ctx.shop)))
        return original(self, ctx, keys)

    monkeypatch.setattr(StockSync, "sync", sync)
    env = open_env(config)
    # no customers here: the stock's second half goes to the helper worker only once the customers' job is done
    # (see test_stock_is_not_handed_to_a_helper_worker_still_busy_with_customers), which would make this a race
    del env.runtime.engine.syncs["customer"]
    try:
        with caplog.at_level(logging.DEBUG, logger="replicator"):  # the child logs at this process's level
            run_once(env.runtime)
        synced = [k for _, keys, _ in calls for k in keys]
        if config.initial_sync_workers == "thread":
            threads = {name for name, _, _ in calls}
            assert threading.main_thread().name in threads and len(threads) == 2
            assert len({conn for _, _, conn in calls}) == 2
        else:
            assert {name for name, _, _ in calls} == {threading.main_thread().name}
            # the child's "stock <article>: ..." lines (each applied article, at DEBUG) are the other half
            synced += [
                r.getMessage().split()[1].rstrip(":")
                for r in caplog.records
                if r.process != os.getpid() and r.name == "replicator.apply" and r.getMessage().startswith("stock ")
            ]
            assert len(synced) > len(calls[0][1])
        stocked = [k for k in env.store.id_map("product")]
        assert sorted(set(synced)) == sorted(stocked) and len(synced) == len(set(synced))
        detail = fs_reader.read_stock_detail(env.fs)
        quantities = {
            r["reference"]: r["quantity"]
            for r in env.shop.query(
                "SELECT p.reference, s.quantity FROM {p}stock_available s"
                " JOIN {p}product p ON p.id_product = s.id_product WHERE s.id_product_attribute = 0"
            )
        }
        # the stock rule: warehouse GEN, physical minus units pending on FactuSOL orders (there are none here)
        simple = [a for a in published(env) if "GEN" in detail.get((a, "", ""), {})]
        assert simple and {a: quantities[a] for a in simple} == {
            a: max(0, int(detail[(a, "", "")]["GEN"]["physical"])) for a in simple
        }
    finally:
        env.close()


def test_an_error_on_the_customer_thread_stops_the_initial_sync(thread_config, monkeypatch):
    """A transient error (the FactuSOL file locked) on the customer thread fails the run like one on the main
    thread: the initial sync is not marked done and the next run redoes it."""
    from replicator.factusol.connection import FactusolLockedError
    from replicator.sync.customers import CustomerSync

    def locked(self, ctx, keys):
        raise FactusolLockedError("F_CLI: the file is locked")

    monkeypatch.setattr(CustomerSync, "sync", locked)
    env = open_env(thread_config)
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
            env.fs.execute(
                "UPDATE [F_ART] SET [DESART] = ?, [FUMART] = ? WHERE [CODART] = ?",
                ["Renombrado durante la sincronización", datetime.now(), article],
            )
            env.fs.execute(
                "UPDATE [F_STO] SET [ACTSTO] = [ACTSTO] + 7, [DISSTO] = [DISSTO] + 7 WHERE [ARTSTO] = ?", [article]
            )
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
        name = env.shop.query_one(
            "SELECT pl.name FROM {p}product p JOIN {p}product_lang pl"
            " ON pl.id_product = p.id_product WHERE p.reference = %s LIMIT 1",
            (article,),
        )
        assert name["name"] == "Renombrado durante la sincronización"
    finally:
        env.close()


def test_stock_is_not_handed_to_a_helper_worker_still_busy_with_customers(thread_config, monkeypatch):
    """Stock is split only when the helper worker is free: a half handed to a worker still creating customers would
    wait for them, so this process syncs all of it."""
    from concurrent.futures import Future

    from replicator import engine
    from replicator.engine import ApplyReport
    from replicator.sync.stock import StockSync

    monkeypatch.setattr(engine, "INITIAL_CHUNK", 20)  # enough keys to split
    customers: Future = Future()
    submitted: list[str] = []

    class BusyHelper:  # a helper worker whose customers' job is still running when stock starts
        def submit(self, entity, keys=None):
            submitted.append(entity)
            return customers

    synced: list[str] = []
    original = StockSync.sync

    def sync(self, ctx, keys):
        if not customers.done():  # the split was decided: now the customers may finish
            customers.set_result(ApplyReport())
        synced.extend(keys)
        return original(self, ctx, keys)

    monkeypatch.setattr(StockSync, "sync", sync)
    env = open_env(thread_config)
    try:
        report = env.runtime.engine.initial_sync(helper=BusyHelper())
        assert submitted == ["customer"]
        assert sorted(synced) == sorted(env.store.id_map("product")) and report.keys > len(synced)
    finally:
        env.close()


@pytest.mark.parametrize("workers", ["process", "thread"])
def test_a_failed_first_sight_syncs_nothing_and_the_next_run_does_it_all(mysql_server, mysql_db, tmp_path, workers):
    """The FactuSOL file locked past the retry budget during the first run's first sight: the run stops with a
    clear error before syncing anything (a table synced before it was first seen could lose an edit made in
    between); once the lock is gone, the next run takes the first sight and syncs.  (Rollback-journal mode: there
    an exclusive lock keeps readers out, as FactuSOL compacting the file does.)"""
    import dataclasses
    import sqlite3

    from replicator.capture.service import FirstSightError

    config = build(
        mysql_server,
        mysql_db,
        tmp_path,
        demo=False,
        articles=ARTICLES,
        customers=0,
        orders=0,
        shop_customers=CUSTOMERS,
        workers=workers,
    )
    config = dataclasses.replace(config, factusol=dataclasses.replace(config.factusol, lock_retry_seconds=0.5))
    env = open_env(config)
    locker = sqlite3.connect(config.factusol.file, timeout=0, isolation_level=None)
    try:
        locker.execute("BEGIN EXCLUSIVE")
        with pytest.raises(FirstSightError, match="first sight failed.*factusol.*locked"):
            run_once(env.runtime)
        locker.execute("ROLLBACK")
        locker.close()
        assert counts(env)["products"] == 0 and env.store.id_map("customer") == {}
        assert not (env.store.checkpoint("initial_sync") or {}).get("done")
        run_once(env.runtime)
        assert counts(env)["products"] == len(published(env)) and len(env.store.id_map("customer")) == CUSTOMERS
    finally:
        locker.close()
        env.close()


def test_customers_sync_in_a_child_process_beside_the_rest_of_the_first_sight(config, monkeypatch, caplog):
    """Helper work in a child process, FactuSOL's reads not holding off writes (WAL here, Access's page locks): this
    process takes the shop's position, the child takes the first sight of F_CLI/F_OBR and then creates customers,
    and this process scans the other tables meanwhile.  Otherwise (rollback-journal mode, or helper work on threads)
    the whole first sight comes first, here.  Either way every customer is created once, and what the customers'
    sync wrote comes back as echoes only: F_CLI was seen before it was written."""
    import threading

    from replicator.factusol.scanner import FactusolScanner

    file = str(config.factusol.file)
    overlap = config.initial_sync_workers == "process" and not fs_connection.reads_hold_off_writes(
        config.factusol.connection.replace("{file}", file)
    )
    child_customers = threading.Event()
    child_lines: list[str] = []

    class Watch(logging.Handler):  # the child's records reach this process's loggers
        def emit(self, record):
            if record.process != os.getpid():
                child_lines.append(record.getMessage())
                # each customer the child creates is logged there at DEBUG ("customer ps:1: new shop customer ...")
                if record.getMessage().startswith("customer "):
                    child_customers.set()

    scans: list[tuple] = []
    real_scan = FactusolScanner.scan

    def scan(self, full=True, only=None):  # the scans of this process
        beside = child_customers.is_set()
        if only is not None and "F_ART" in only:  # the child must get going while this part waits for it
            beside = child_customers.wait(30)
        scans.append((None if only is None else sorted(only), beside))
        return real_scan(self, full=full, only=only)

    monkeypatch.setattr(FactusolScanner, "scan", scan)
    watch = Watch(logging.DEBUG)
    logging.getLogger("replicator").addHandler(watch)
    env = open_env(config)
    try:
        with caplog.at_level(logging.DEBUG, logger="replicator"):  # the child logs at this process's level
            run_once(env.runtime)
        if overlap:
            assert "F_ART" in scans[0][0] and "F_CLI" not in scans[0][0] and "F_OBR" not in scans[0][0]
            assert scans[0][1], "the rest of the first sight did not run beside the child's customers"
            seen = [n for n, line in enumerate(child_lines) if line.startswith("factusol scan") and "F_CLI" in line]
            created = [n for n, line in enumerate(child_lines) if line.startswith("customer ")]
            assert seen and created and seen[0] < created[0]  # the child saw F_CLI before it wrote there
        else:
            assert scans[0] == (None, False)  # one first sight, before any customer is synced
        assert child_customers.is_set() is (config.initial_sync_workers == "process")
        assert scans[-1][0] is None  # the capture after the sync reads every table
        assert len(env.store.id_map("customer")) == CUSTOMERS
        c = counts(env)
        assert c["products"] == len(published(env)) and c["f_cli_nif"] == c["f_cli"]
        [after] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("captured FactuSOL")]
        assert f"FactuSOL 0 changes, {CUSTOMERS} echoes" in after  # the new F_CLI rows are our own writes
        captured, applied = env.cycle()
        assert captured.changes == 0 and applied.changes == 0 and env.store.changes(status=PENDING) == []
    finally:
        logging.getLogger("replicator").removeHandler(watch)
        env.close()


def _children_of(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:  # it has ended
        return b""


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find the child process")
def test_kill_9_during_the_childs_customers_leaves_no_orphan_and_resumes(mysql_server, mysql_db, tmp_path):
    """kill -9 of the run while its child process creates customers: the child dies with it (nothing is written
    after the kill), and the next run creates each remaining customer once."""
    import pickle
    import time

    from replicator.store import Store

    many = 3000
    config = build(
        mysql_server, mysql_db, tmp_path, demo=False, articles=ARTICLES, customers=0, orders=0, shop_customers=many
    )
    code = textwrap.dedent("""
        import sys, pickle
        sys.path.insert(0, {tests!r})
        from _sync_env import open_env
        from replicator.daemon import run_once
        run_once(open_env(pickle.loads(bytes.fromhex({config!r}))).runtime)
    """).format(tests=str(Path(__file__).parent), config=pickle.dumps(config).hex())
    run = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=str(Path(__file__).parents[1]),
    )
    store = Store(config.store)
    try:
        deadline = time.monotonic() + 120
        linked = 0
        while time.monotonic() < deadline and run.poll() is None:
            try:
                linked = len(store.id_map("customer"))
            except Exception:  # the store is being created
                linked = 0
            if linked:
                break
            time.sleep(0.05)
        assert 0 < linked < many, run.stderr.read() if run.poll() is not None else f"{linked} linked"
        workers = _children_of(run.pid)
        assert workers, "no child process"
        os.kill(run.pid, signal.SIGKILL)
    finally:
        run.wait(timeout=30)
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers), "the child process outlived the killed run"
    env = open_env(config)
    try:
        written = counts(env)["f_cli"]
        time.sleep(1.0)
        assert counts(env)["f_cli"] == written  # nobody writes any more
        run_once(env.runtime)
        c = counts(env)
        assert len(env.store.id_map("customer")) == many
        assert c["f_cli_nif"] == c["f_cli"]  # no customer twice
        assert c["products"] == len(published(env))
        captured, applied = env.cycle()
        assert applied.changes == 0
    finally:
        env.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find the child process")
def test_kill_9_of_the_child_stops_the_run_with_a_clear_error_and_the_next_run_resumes(
    mysql_server, mysql_db, tmp_path
):
    """The child process killed (the OOM killer, an admin) while it creates customers: the run stops with an error
    that says what happened and what to do, nothing is marked done, and the next run creates each customer once."""
    import threading
    import time

    from replicator.initial import HelperDiedError

    many = 3000
    config = build(
        mysql_server, mysql_db, tmp_path, demo=False, articles=ARTICLES, customers=0, orders=0, shop_customers=many
    )
    env = open_env(config)
    killed: list[int] = []

    def kill_the_child_once_it_links() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            children = [pid for pid in _children_of(os.getpid()) if b"spawn_main" in _cmdline(pid)]
            if children and env.store.id_map("customer"):
                os.kill(children[0], signal.SIGKILL)
                killed.append(children[0])
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_the_child_once_it_links)
    killer.start()
    try:
        with pytest.raises(HelperDiedError, match="child process ended unexpectedly.*run again"):
            run_once(env.runtime)
        killer.join()
        assert killed
        assert not (env.store.checkpoint("initial_sync") or {}).get("done")
        assert 0 < len(env.store.id_map("customer")) < many
        run_once(env.runtime)
        c = counts(env)
        assert len(env.store.id_map("customer")) == many and c["f_cli_nif"] == c["f_cli"]  # no customer twice
        assert (env.store.checkpoint("initial_sync") or {}).get("done")
    finally:
        killer.join()
        env.close()


@pytest.mark.parametrize("capture", ["poll", "binlog"])
def test_a_polled_shop_knows_the_initial_syncs_rows_as_its_own(mysql_server, mysql_db, tmp_path, capture):
    """Poll mode sees rows, not transactions: the rows the initial sync wrote came back at the first poll as
    changes (every product's product, product_shop, product_lang and stock rows), each applied to FactuSOL as a
    no-op.  The bulk writers now read them back in their transaction, so the poll knows them as ours, and a shop
    edit made afterwards is still captured.  Binlog mode needs no read-back (the ledger row tells)."""
    config = build(mysql_server, mysql_db, tmp_path, demo=False, articles=ARTICLES, capture=capture, workers="thread")
    env = open_env(config)
    try:
        run_once(env.runtime)  # first sight, initial sync, then the first capture (the first poll after the sync)
        stocked = env.shop.query_one("SELECT COUNT(*) AS n FROM {p}stock_available WHERE quantity > 0")["n"]
        assert stocked > 0
        came_back = [c for c in env.store.changes(side="prestashop") if c.source_table != "replicator_ledger"]
        assert came_back == [], [(c.source_table, c.row_key) for c in came_back[:5]]
        langs = env.shop.query("SELECT id_product, id_shop, id_lang FROM {p}product_lang LIMIT 3")
        recorded = env.store.last_written_hashes("prestashop", "product_lang", [dumps(row) for row in langs])
        assert len(recorded) == (3 if capture == "poll" else 0)  # binlog mode reads nothing back
        product = env.shop.query_one("SELECT MIN(id_product) AS id FROM {p}product")["id"]
        env.shop.execute("UPDATE {p}product_lang SET name = %s WHERE id_product = %s", ("Renamed in the shop", product))
        captured, _ = env.cycle()
        assert captured.changes >= 1
        assert [c.source_table for c in env.store.changes(side="prestashop")] == ["product_lang"] * captured.changes
    finally:
        env.close()
