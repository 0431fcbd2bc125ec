"""The whole pipeline on real databases: capture -> engine -> both sides, conflicts resolved by a person, no echo.

A demo shop (real MariaDB with binlog) and a FactuSOL stand-in (pyodbc + SQLite3 ODBC driver) are set up,
`run --once` does the initial sync, then edits are made on both sides as people would make them.
"""

from __future__ import annotations

import logging

import pytest

from replicator.capture.service import capture_once
from replicator.config import load_config, render_config
from replicator.daemon import run_once
from replicator.runtime import open_runtime
from replicator.sandbox.factusol import create_sandbox
from replicator.sandbox.shop import create_shop
from replicator.store import APPLIED, CONFLICT, PENDING


@pytest.fixture
def runtime(mysql_server, mysql_db, tmp_path):
    from replicator.config import default_rules_dir
    import shutil

    fs_path = tmp_path / "FS" / "0012026.sqlite"
    fs_path.parent.mkdir()
    connection = create_sandbox(str(fs_path), articles=20, customers=5, seed=3)
    shop_url = create_shop(mysql_server.url, mysql_db, demo=True)
    (tmp_path / "replicator.yaml").write_text(render_config(connection, shop_url), encoding="utf-8")
    shutil.copytree(default_rules_dir(), tmp_path / "rules")
    rt = open_runtime(load_config(tmp_path / "replicator.yaml"))
    run_once(rt)
    yield rt
    rt.close()


def cycle(rt):
    capture_once(rt.config, rt.store)
    return rt.engine.apply_pending()


def fs_nif(rt, code):
    return rt.ctx.factusol.scalar("SELECT [NIFCLI] FROM [F_CLI] WHERE [CODCLI] = ?", [code])


def shop_dni(rt, customer_id):
    return rt.ctx.shop.query_one(
        "SELECT dni FROM {p}address WHERE id_customer = %s AND deleted = 0 ORDER BY id_address LIMIT 1", (customer_id,)
    )["dni"]


def test_manual_conflict_waits_for_a_person_then_reaches_both_sides_without_echo(runtime):
    rt = runtime
    code = int(rt.store.map_id("customer", prestashop_id="1").factusol_key)
    rt.ctx.factusol.execute("UPDATE [F_CLI] SET [NIFCLI] = ? WHERE [CODCLI] = ?", ["11111111H", code])
    rt.ctx.shop.execute("UPDATE {p}address SET dni = %s WHERE id_customer = 1", ("22222222J",))
    cycle(rt)
    conflicts = rt.store.conflicts()
    assert [(c.entity, c.key, c.field) for c in conflicts] == [("customer", "ps:1", "nif")]
    # nobody's value was overwritten while the conflict waits
    assert fs_nif(rt, code) == "11111111H" and shop_dni(rt, 1) == "22222222J"
    held = [c for c in rt.store.changes() if c.status == CONFLICT]
    assert held and all(c.held_by == "customer:ps:1" for c in held)
    cycle(rt)  # seen again, still one open conflict
    assert len(rt.store.conflicts()) == 1

    rt.store.resolve_conflict(conflicts[0].id, "prestashop")
    report = cycle(rt)
    assert report.outcomes.get("resolved") == 1
    assert fs_nif(rt, code) == "22222222J" and shop_dni(rt, 1) == "22222222J"
    assert rt.store.conflicts() == []
    assert not [c for c in rt.store.changes() if c.status == CONFLICT]
    # our own writes come back as echoes, not as new changes: nothing ping-pongs
    cycle(rt)
    cycle(rt)
    assert rt.store.changes(status=PENDING) == []
    assert fs_nif(rt, code) == "22222222J" and shop_dni(rt, 1) == "22222222J"


def test_one_sided_edits_on_both_sides_both_survive(runtime):
    rt = runtime
    code = int(rt.store.map_id("customer", prestashop_id="1").factusol_key)
    rt.ctx.factusol.execute("UPDATE [F_CLI] SET [TELCLI] = ? WHERE [CODCLI] = ?", ["911222333", code])
    rt.ctx.shop.execute("UPDATE {p}customer SET email = %s WHERE id_customer = 1", ("maria.nueva@example.com",))
    cycle(rt)
    row = rt.ctx.factusol.query_one("SELECT [TELCLI], [EMACLI] FROM [F_CLI] WHERE [CODCLI] = ?", [code])
    assert row["EMACLI"] == "maria.nueva@example.com" and row["TELCLI"] == "911222333"
    assert (
        rt.ctx.shop.query_one(
            "SELECT phone FROM {p}address WHERE id_customer = 1 AND deleted = 0 ORDER BY id_address LIMIT 1"
        )["phone"]
        == "911222333"
    )
    assert {c.status for c in rt.store.changes()} <= {APPLIED}
    cycle(rt)
    assert rt.store.changes(status=PENDING) == []


def test_quarantined_order_goes_through_once_its_article_exists(runtime):
    rt = runtime
    # the demo shop's products are not FactuSOL articles in this stand-in: its orders wait in quarantine
    held = {q.key for q in rt.store.quarantined() if q.entity == "order"}
    assert held, "orders with unknown articles are quarantined, not lost"
    reasons = " ".join(q.reason for q in rt.store.quarantined())
    assert "unknown FactuSOL article" in reasons
    # FactuSOL gets the article of one order; the next cycles let that order through
    order = sorted(held)[0]
    order_id = int(order.split(":")[1])
    refs = [
        r["product_reference"]
        for r in rt.ctx.shop.query("SELECT product_reference FROM {p}order_detail WHERE id_order = %s", (order_id,))
    ]
    for ref in refs:
        article = ref.split("-")[0]
        if not rt.ctx.factusol.scalar("SELECT COUNT(*) FROM [F_ART] WHERE [CODART] = ?", [article]):
            rt.ctx.factusol.execute(
                "INSERT INTO [F_ART] ([CODART], [DESART], [SUWART]) VALUES (?, ?, ?)",
                [article, f"Artículo {article}", 1],
            )
        parts = ref.split("-")[1:]
        if parts:
            size, colour = (parts + [""])[:2] if len(parts) == 2 else (parts[0], "")
            rt.ctx.factusol.execute(
                "INSERT INTO [F_ARC] ([ARTARC], [CE1ARC], [CE2ARC]) VALUES (?, ?, ?)", [article, size, colour]
            )
    # The article's product is linked in this cycle: the quarantined orders are retried in it, not 30 s later.
    cycle(rt)
    assert order not in {q.key for q in rt.store.quarantined()}
    assert (
        rt.store.map_id("order", prestashop_id=str(order_id)) is not None
        or rt.ctx.factusol.scalar("SELECT COUNT(*) FROM [F_PCL] WHERE [REFPCL] LIKE ?", [f"PS-{order_id}-%"]) == 1
    )


def test_quarantined_keys_are_not_retried_after_every_applied_cycle(runtime, monkeypatch):
    """A busy service applies something in every cycle: retrying every quarantined key each time cost a sync of each
    of them per cycle.  After an applied change they are retried at most every few seconds (at once after a link)."""
    rt = runtime
    assert rt.store.quarantined()
    retries = []
    real_retry = rt.engine.retry_quarantined
    monkeypatch.setattr(
        rt.engine, "retry_quarantined", lambda report=None, **kw: retries.append(1) or real_retry(report, **kw)
    )
    rt.engine.retry_due = 0.0  # the retry interval passed
    cycle(rt)
    assert len(retries) == 1
    article = sorted(rt.store.id_map("product"))[0]
    rename = "UPDATE [F_ART] SET [DESART] = ? WHERE [CODART] = ?"
    for n in range(3):  # an article renamed in FactuSOL, applied to the shop, three cycles in a row
        rt.ctx.factusol.execute(rename, [f"Renamed {n}", article])
        report = cycle(rt)
        assert report.outcomes.get("applied")
    assert len(retries) == 1
    monkeypatch.setattr("replicator.engine.QUARANTINE_RETRY_AFTER_APPLIED_SECONDS", 0.0)
    rt.ctx.factusol.execute(rename, ["Renamed again", article])
    cycle(rt)
    assert len(retries) == 2


def test_a_link_retries_at_once_only_the_entities_that_can_wait_for_it(runtime, monkeypatch):
    """A new shop order's pedido is a link: it cannot be what a quarantined order waits for (an article, a customer),
    so the quarantined orders are not re-synced after every new order; a customer linked lets them through at once."""
    rt = runtime
    assert {q.entity for q in rt.store.quarantined()} == {"order"}
    retried: list[set[str]] = []
    real_sync_keys = rt.engine.sync_keys
    monkeypatch.setattr(
        rt.engine, "sync_keys", lambda entity, keys: retried.append(entity) or real_sync_keys(entity, keys)
    )
    rt.engine.retry_due = float("inf")  # no periodic retry in this test
    rt.engine._retried_at = float("inf")
    rt.store.link("order", "1-9001", "ps:9001")  # an order applied in this cycle
    cycle(rt)
    assert "order" not in retried
    rt.store.link("customer", "9002", "ps:9002")  # a customer: an order may wait for it
    cycle(rt)
    assert retried.count("order") == 1
    cycle(rt)  # nothing linked since: no retry
    assert retried.count("order") == 1


def test_a_quarantine_reported_by_another_process_is_not_reported_again(runtime, caplog):
    # The first run's customers are synced in a child process, and a service restarts: the process that retries a
    # quarantined key is often not the one that logged it.  The same reason again is not news.
    rt = runtime
    held = rt.store.quarantined()
    assert held
    other = open_runtime(rt.config)
    try:
        with caplog.at_level(logging.WARNING):
            other.engine.retry_quarantined()
        assert {(q.entity, q.key) for q in other.store.quarantined()} == {(q.entity, q.key) for q in held}
        assert not [r for r in caplog.records if "quarantined:" in r.getMessage()]
    finally:
        other.close()
