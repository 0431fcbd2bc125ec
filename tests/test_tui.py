"""The Textual TUI against a real state store on a temporary SQLite file (no mocks).

Each test drives `ReplicatorApp` with Textual's pilot and checks both the screen and the store.
"""

from __future__ import annotations

import asyncio
import html
import re
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from replicator.store import APPLIED, CapturedRow, Store, dumps
from tui.app import ReplicatorApp, build_app
from tui.format import changed_fields, parse_filter

DESCRIPTION = {
    "config": "/srv/replicator/replicator.yaml",
    "store": "sqlite:///state.sqlite",
    "rules": "/srv/replicator/rules",
    "factusol": {"connection": "", "file": "/data/0012026.accdb", "data_dir": None, "company": ""},
    "prestashop": {"url": "mysql://shop:***@db/prestashop", "prefix": "ps_", "id_shop": 1, "capture": "poll"},
}
SIZE = (160, 48)


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'state.sqlite'}")


def capture(store: Store, n: int, entity: str = "customer", side: str = "factusol", start: int = 1) -> None:
    rows = [
        CapturedRow(side=side, entity=entity, source_table="F_CLI" if side == "factusol" else "ps_customer",
                    row_key=dumps([i]), op="update",
                    before={"CODCLI": i, "NOFCLI": f"Client {i}", "TELCLI": "600000000"},
                    after={"CODCLI": i, "NOFCLI": f"Client {i} SL", "TELCLI": "600000000"},
                    position=f"scan-{i}")
        for i in range(start, start + n)
    ]
    store.record_capture(rows, checkpoint=("factusol.scan", {"scan": start + n}))


def screen_text(app) -> str:
    """The visible screen as plain text, from the SVG screenshot (tags stripped, entities decoded)."""
    svg = app.export_screenshot()
    return html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")


def widget_texts(app) -> list[str]:
    """Every Static's content and every DataTable cell of the current screen, as text."""
    texts = [str(w.render()) for w in app.screen.query(Static)]
    for table in app.screen.query(DataTable):
        for row_key in table.rows:
            texts.extend(str(cell) for cell in table.get_row(row_key))
    return texts


async def wait_for(pilot, condition, timeout: float = 5.0) -> None:
    """Let the app run until `condition()` holds (the refresh timer is real time)."""
    waited = 0.0
    while not condition():
        assert waited < timeout, "condition not met in time"
        await pilot.pause(0.05)
        waited += 0.05


def table_ids(app, selector: str) -> list[int]:
    table = app.query_one(selector, DataTable)
    return [int(row.key.value) for row in table.ordered_rows]


def test_app_starts_and_shows_counts(store):
    capture(store, 3)
    store.set_change_status([1], APPLIED)
    store.open_conflict("customer", "7", "NOFCLI", "A", "B", "C")

    async def scenario():
        app = ReplicatorApp(store, DESCRIPTION)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            text = screen_text(app)
            assert "pending 2" in text and "applied 1" in text
            assert "open conflicts 1" in text
            assert "factusol.scan" in text  # checkpoint shown
            assert "Conflicts (1)" in text
            assert table_ids(app, "#change-table") == [3, 2, 1]  # newest first

    run(scenario())


def test_new_change_appears_after_refresh(store):
    capture(store, 2)

    async def scenario():
        app = ReplicatorApp(store, DESCRIPTION, refresh_seconds=0.1)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert table_ids(app, "#change-table") == [2, 1]
            capture(store, 1, entity="product", start=3)  # as the daemon would, while the app runs
            store.set_change_status([1], APPLIED, "written to PrestaShop")
            table = app.query_one("#change-table", DataTable)
            await wait_for(pilot, lambda: str(table.get_cell("1", "status")) == "applied")
            assert table_ids(app, "#change-table") == [3, 2, 1]
            assert "pending 2" in screen_text(app)

    run(scenario())


def test_selecting_a_change_shows_before_and_after(store):
    capture(store, 2)

    async def scenario():
        app = ReplicatorApp(store, DESCRIPTION)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("down")  # newest first: row 2 is change 1
            await pilot.pause()
            text = screen_text(app)
            assert "change 1" in text
            assert '"Client 1"' in text and '"Client 1 SL"' in text

    run(scenario())


def test_filter_by_status_and_entity(store):
    capture(store, 2)
    capture(store, 2, entity="product", start=3)
    store.set_change_status([4], "quarantined", "unknown tax")

    async def scenario():
        app = ReplicatorApp(store, DESCRIPTION, refresh_seconds=0.1)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("slash", *"quarantined", "enter")  # the 'q' typed into the filter must not quit
            await pilot.pause()
            assert app.is_running
            assert table_ids(app, "#change-table") == [4]
            await pilot.press("slash", "home", "ctrl+k", *"product", "enter")
            await pilot.pause()
            assert table_ids(app, "#change-table") == [4, 3]
            await pilot.press("slash", "escape")
            await pilot.pause()
            assert table_ids(app, "#change-table") == [4, 3, 2, 1]

    run(scenario())


def test_resolve_conflict_with_keys(store):
    first = store.open_conflict("customer", "7", "NOFCLI", "Ana", "Ana B", "Ana C")
    second = store.open_conflict("customer", "8", "TELCLI", "1", "2", "3")

    async def scenario():
        app = ReplicatorApp(store, DESCRIPTION)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("2", "p")
            await app.workers.wait_for_complete()  # the write runs on a worker thread
            await pilot.pause()
            resolved = store.conflict(first)
            assert resolved.status == "resolved" and resolved.resolved_by == "prestashop"
            assert resolved.resolution == dumps("Ana C")
            assert table_ids(app, "#conflict-table") == [second]
            await pilot.press("e", "home", "ctrl+k", *"612 345 678", "enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
            custom = store.conflict(second)
            assert custom.status == "resolved" and custom.resolved_by == "custom"
            assert custom.resolution == dumps("612 345 678")
            assert table_ids(app, "#conflict-table") == []
            assert "Conflicts (0)" in screen_text(app)

    run(scenario())


def test_a_busy_store_does_not_freeze_the_screen(store):
    """The running replicator holds the store's write lock while a person resolves a conflict: the screen keeps
    answering (another tab opens), and the resolution lands once the lock is released."""
    import sqlite3
    import threading

    first = store.open_conflict("customer", "7", "NOFCLI", "Ana", "Ana B", "Ana C")
    holder = sqlite3.connect(store.url.removeprefix("sqlite:///"), isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # what a capture commit in progress looks like to the TUI

    async def scenario():
        app = ReplicatorApp(store, DESCRIPTION)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("2", "p")
            await pilot.press("1")  # answered while the write waits for the lock
            await pilot.pause()
            assert app.query_one("TabbedContent").active == "changes"
            assert store.conflict(first).status == "open"
            threading.Timer(0.3, holder.execute, ["ROLLBACK"]).start()
            await app.workers.wait_for_complete()
            await pilot.pause()
            resolved = store.conflict(first)
            assert resolved.status == "resolved" and resolved.resolved_by == "prestashop"

    try:
        run(scenario())
    finally:
        holder.close()


def test_readonly_refuses_to_resolve_and_skip(store):
    conflict_id = store.open_conflict("customer", "7", "NOFCLI", "Ana", "Ana B", "Ana C")
    quarantine_id = store.quarantine("article", "A1", "factusol", "unknown tax 7%")

    async def scenario():
        app = ReplicatorApp(store, DESCRIPTION, readonly=True)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("2", "f", "b", "e")
            await pilot.pause()
            assert "Read-only mode" in screen_text(app)
            assert len(app.screen_stack) == 1  # no value editor opened
            await pilot.press("3", "s")
            await pilot.pause()
            assert "Read-only mode" in screen_text(app)
        assert store.conflict(conflict_id).status == "open"
        assert [q.id for q in store.quarantined("open")] == [quarantine_id]

    run(scenario())


def test_quarantine_skip(store):
    capture(store, 1)
    store.set_change_status([1], "quarantined", "unknown tax 7%")
    quarantine_id = store.quarantine("customer", "1", "factusol", "unknown tax 7%", change_id=1)

    async def scenario():
        app = ReplicatorApp(store, DESCRIPTION)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("3")
            await pilot.pause()
            assert "unknown tax 7%" in screen_text(app)
            await pilot.press("s")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert table_ids(app, "#quarantine-table") == []
        assert store.quarantined("open") == []
        assert store.quarantined("skipped")[0].id == quarantine_id
        assert store.changes()[0].status == "skipped"

    run(scenario())


def test_password_from_config_never_on_screen(tmp_path, monkeypatch):
    password = "Sup3rS3cretPw"
    (tmp_path / "rules").mkdir()
    config = tmp_path / "replicator.yaml"
    config.write_text(
        "store: sqlite:///state.sqlite\n"
        "rules: rules\n"
        "factusol:\n  file: data/0012026.accdb\n"
        f"prestashop:\n  url: mysql://shop:{password}@127.0.0.1:3306/prestashop\n",
        encoding="utf-8",
    )
    app = build_app(str(config))
    store = app.store
    # the secret also leaks into data a daemon could write: error details, conflict values, reasons
    capture(store, 1)
    store.set_change_status([1], "quarantined", f"cannot connect to mysql://shop:{password}@127.0.0.1/prestashop")
    store.open_conflict("customer", "1", "NOFCLI", "x", password, "y")
    store.quarantine("customer", "1", "factusol", f"login failed for {password}", change_id=1)

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            seen = []
            for tab in ("1", "2", "3"):
                await pilot.press(tab)
                await pilot.pause()
                seen.append(screen_text(app))
                seen.extend(widget_texts(app))
            await pilot.press("1")
            await pilot.pause()
            seen.append(screen_text(app))
            seen.extend(widget_texts(app))
            everything = "\n".join(seen)
            assert "mysql://shop:***@127.0.0.1:3306/prestashop" in everything  # the URL is shown, masked
            assert "cannot connect" in everything
            assert password not in everything
            assert password not in app.title + app.sub_title

    run(scenario())


def test_helpers():
    assert changed_fields({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": 4}) == {"b", "c"}
    assert changed_fields(None, {"a": 1}) == {"a"}
    assert parse_filter("conflict customer ps") == {"status": "conflict", "entity": "customer",
                                                    "side": "prestashop"}
    assert parse_filter("status=applied entity=order side=fs") == {"status": "applied", "entity": "order",
                                                                   "side": "factusol"}


def test_sensitive_columns_are_masked_in_the_image_view(store):
    store.record_capture([CapturedRow(
        side="prestashop", entity="customer", source_table="ps_customer", row_key=dumps([5]), op="update",
        before={"id_customer": 5, "passwd": "$2y$10$abcdefghijklmnopqrstuv", "secure_key": "0123456789abcdef"},
        after={"id_customer": 5, "passwd": "$2y$10$zyxwvutsrqponmlkjihgfe", "secure_key": "0123456789abcdef"},
        position="mysql-bin.000001:400")])

    async def scenario():
        app = ReplicatorApp(store, DESCRIPTION)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            text = screen_text(app)
            assert "* passwd" in text and "secure_key" in text
            assert "abcdefghij" not in text and "zyxwvu" not in text and "0123456789abcdef" not in text

    run(scenario())


def test_run_tui_reports_a_bad_config(tmp_path, capsys):
    from tui.app import run_tui

    assert run_tui(str(tmp_path / "missing.yaml")) == 2
    assert "no such configuration file" in capsys.readouterr().err
