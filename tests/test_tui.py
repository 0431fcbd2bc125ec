"""The Textual TUI against a real state store on a temporary SQLite file (no mocks).

Each test drives `ReplicatorApp` with Textual's pilot (key presses) and checks both the screen's text and the
store.  The app reads the store on a worker thread: `settle` waits for the snapshot and lets the UI apply it.
"""

from __future__ import annotations

import asyncio
import html
import re
import threading
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from replicator.instance_lock import InstanceLock
from replicator.store import APPLIED, CapturedRow, Store, dumps
from tui.app import ReplicatorApp, build_app
from tui.changes import ChangeLogPane
from tui.filters import Filter, parse_filter
from tui.format import changed_fields
from tui.help import HelpScreen
from tui.modals import ConfirmModal

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


def capture(store: Store, n: int, entity: str = "customer", side: str = "factusol", start: int = 1, key=None) -> None:
    rows = [
        CapturedRow(
            side=side,
            entity=entity,
            source_table="F_CLI" if side == "factusol" else "ps_customer",
            row_key=dumps([key or i]),
            op="update",
            before={"CODCLI": i, "NOFCLI": f"Client {i}", "TELCLI": "600000000", "EMACLI": f"c{i}@mail.es"},
            after={"CODCLI": i, "NOFCLI": f"Client {i} SL", "TELCLI": "600000000", "EMACLI": f"c{i}@mail.es"},
            position=f"scan-{i}",
        )
        for i in range(start, start + n)
    ]
    store.record_capture(rows, checkpoint=("factusol.scan", {"scan": start + n}))


def customer_with_name(store: Store, shop_id: int = 4, code: int = 431) -> None:
    """A linked customer whose baseline names her: what the conflict tab turns `ps:4` into."""
    store.link("customer", str(code), str(shop_id))
    image = {"firstname": "Pierre", "lastname": "Martin", "email": "pierre@example.es"}
    store.set_baseline("customer", f"ps:{shop_id}", {"factusol": image, "prestashop": image})


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


async def settle(pilot, app, timeout: float = 10.0) -> None:
    """Let the snapshot worker (and any write) finish, then let the UI apply what it posted: until no read is
    running and the change log has what its filter asks for."""
    pane = app.query_one(ChangeLogPane)
    waited = 0.0
    while True:
        await app.workers.wait_for_complete()
        await pilot.pause()
        if not app.loading and not pane.reload_pending and app.snapshot is not None:
            break
        assert waited < timeout, "the snapshot did not arrive in time"
        await pilot.pause(0.05)
        waited += 0.05
    await app.workers.wait_for_complete()
    await pilot.pause()


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


def detail(app, selector: str, width: int = 160) -> str:
    """A Static's content as plain text, as rich lays it out at `width` columns."""
    import io

    from rich.console import Console

    console = Console(width=width, record=True, file=io.StringIO())
    console.print(app.query_one(selector, Static).content)
    return console.export_text()


# --------------------------------------------------------------------------------------------- status bar


def test_app_starts_and_shows_counts_that_agree(store):
    capture(store, 3)
    store.set_change_status([1], APPLIED)
    store.open_conflict("customer", "7", "NOFCLI", "A", "B", "C")

    async def scenario():
        app = ReplicatorApp(store, DESCRIPTION)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            text = screen_text(app)
            assert "pending 2" in text and "applied 1" in text
            assert "needs you 1 conflict" in text and "open conflicts" not in text
            assert "Conflicts (1)" in text
            assert "{" not in detail(app, "#status")  # no raw JSON in the status bar
            assert table_ids(app, "#change-table") == [3, 2, 1]  # newest first

    run(scenario())


def test_status_bar_shows_the_service_and_its_watchers_in_words(store):
    store.set_checkpoint(
        "service",
        {
            "capture": {
                "factusol": {"state": "locked", "locked_since": "2026-01-01T10:00:00+00:00"},
                "prestashop": {"state": "streaming", "last_event_at": None},
            }
        },
    )
    lock = InstanceLock(store, "run")

    async def scenario():
        app = ReplicatorApp(store, DESCRIPTION, refresh_seconds=0.1)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            text = screen_text(app)
            assert "service stopped" in text and "FactuSOL stopped" in text
            lock.acquire()
            try:
                await wait_for(pilot, lambda: "running pid" in screen_text(app))
                text = screen_text(app)
                assert "FactuSOL locked (for" in text and "shop streaming" in text
            finally:
                lock.release()

    run(scenario())


# --------------------------------------------------------------------------------------------- change log


def test_new_change_appears_and_its_status_and_detail_update_in_place(store):
    capture(store, 2)

    async def scenario():
        app = ReplicatorApp(store, DESCRIPTION, refresh_seconds=0.1)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            assert table_ids(app, "#change-table") == [2, 1]
            capture(store, 1, entity="product", start=3)  # as the daemon would, while the app runs
            long_detail = "written to PrestaShop: customer 1 fiscal name and phone"
            store.set_change_status([1], APPLIED, long_detail)
            table = app.query_one("#change-table", DataTable)
            await wait_for(pilot, lambda: str(table.get_cell("1", "status")) == "applied")
            assert table_ids(app, "#change-table") == [3, 2, 1]
            assert "pending 2" in screen_text(app)
            detail_column = next(c for c in table.columns.values() if c.key.value == "detail")
            # the column grows (on the table's next idle), not left at its old width ("shop p")
            await wait_for(pilot, lambda: detail_column.get_render_width(table) >= len(long_detail))
            assert str(table.get_cell("1", "detail")) == long_detail

    run(scenario())


def test_selecting_a_change_shows_changed_fields_first_and_a_toggle(store):
    capture(store, 2)

    async def scenario():
        app = ReplicatorApp(store, DESCRIPTION)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            await pilot.press("down")  # newest first: row 2 is change 1
            await pilot.pause()
            text = detail(app, "#change-detail")
            assert "change 1" in text
            assert '"Client 1"' in text and '"Client 1 SL"' in text
            assert "TELCLI" not in text and "3 unchanged fields hidden (a: show all)" in text
            await pilot.press("a")
            await pilot.pause()
            text = detail(app, "#change-detail")
            assert "TELCLI" in text and text.index("NOFCLI") < text.index("CODCLI")  # changed first
            await pilot.press("a")
            await pilot.pause()
            assert "TELCLI" not in detail(app, "#change-detail")

    run(scenario())


def test_detail_follows_the_cursor_when_rows_arrive(store):
    capture(store, 3)

    async def scenario():
        app = ReplicatorApp(store, DESCRIPTION, refresh_seconds=0.1)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            await pilot.press("down", "down")  # the last row: change 1
            await pilot.pause()
            assert detail(app, "#change-detail").startswith("change 1 ")
            capture(store, 2, start=4)
            await wait_for(pilot, lambda: table_ids(app, "#change-table")[0] == 5)
            pane = app.query_one(ChangeLogPane)
            assert detail(app, "#change-detail").startswith(f"change {pane.selected_id()} ")

    run(scenario())


def test_filter_by_status_entity_and_text_with_a_chip(store):
    capture(store, 2)
    capture(store, 2, entity="product", start=3)
    store.set_change_status([4], "quarantined", "unknown tax")

    async def scenario():
        app = ReplicatorApp(store, DESCRIPTION, refresh_seconds=0.1)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            await pilot.press("slash", *"quarantined", "enter")  # the 'q' typed into the filter must not quit
            await settle(pilot, app)
            assert app.is_running
            assert table_ids(app, "#change-table") == [4]
            assert "filter  status=quarantined" in screen_text(app)  # the chip
            await pilot.press("slash", "home", "ctrl+k", *"product", "enter")
            await settle(pilot, app)
            assert table_ids(app, "#change-table") == [4, 3]
            await pilot.press("slash", "home", "ctrl+k", *"c2@mail.es", "enter")  # an e-mail in the images
            await settle(pilot, app)
            assert table_ids(app, "#change-table") == [2]
            await pilot.press("escape")
            await settle(pilot, app)
            assert table_ids(app, "#change-table") == [4, 3, 2, 1]
            assert "filter  " not in screen_text(app)

    run(scenario())


def test_keys_are_not_cut_at_200_columns_and_80x24_still_works(store):
    long_key = "A-VERY-LONG-ARTICLE-CODE-WITH-VARIANT-RED-XXL-2026"  # 50 characters
    capture(store, 1, entity="product", key=long_key)
    for _ in range(3):
        capture(store, 8, start=10)

    async def scenario():
        app = ReplicatorApp(store, DESCRIPTION)
        async with app.run_test(size=(200, 50)) as pilot:
            await settle(pilot, app)
            assert long_key in screen_text(app)
            assert app.screen.has_class("wide")  # table and detail side by side
        app = ReplicatorApp(store, DESCRIPTION)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot, app)
            assert not app.screen.has_class("wide")
            header = app.query_one("#status")
            assert header.size.height <= 2  # the status bar leaves the screen to the tables
            table = app.query_one("#change-table", DataTable)
            assert table.size.height >= 5 and "change " in detail(app, "#change-detail")
            assert "Help" in screen_text(app)  # the footer

    run(scenario())


# --------------------------------------------------------------------------------------------- conflicts


def test_conflict_side_by_side_with_the_record_name(store):
    customer_with_name(store)
    store.open_conflict("customer", "ps:4", "firstname", "Pierre", "Pierre A.", "Pierrot")

    async def scenario():
        app = ReplicatorApp(store, DESCRIPTION)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            await pilot.press("2")
            await pilot.pause()
            text = detail(app, "#conflict-detail")
            assert "Pierre Martin <pierre@example.es> · FactuSOL 431 · shop 4" in text
            assert "base (last agreed)" in text and "FactuSOL" in text and "shop" in text
            assert '"Pierre A."' in text and '"Pierrot"' in text
            assert "Pierre Martin" in screen_text(app)  # in the table's record column too

    run(scenario())


def test_resolve_is_previewed_and_confirmed(store):
    customer_with_name(store)
    first = store.open_conflict("customer", "ps:4", "firstname", "Pierre", "Pierre A.", "Pierrot")
    second = store.open_conflict("customer", "8", "TELCLI", "1", "2", "3")

    async def scenario():
        app = ReplicatorApp(store, DESCRIPTION)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            await pilot.press("2", "p")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmModal)
            text = screen_text(app)
            assert "Resolve conflict" in text and 'becomes "Pierrot" on both sides' in text
            assert "Pierre Martin" in text
            await pilot.press("n")  # cancelled: nothing written
            await settle(pilot, app)
            assert store.conflict(first).status == "open"
            await pilot.press("p", "y")
            await settle(pilot, app)
            resolved = store.conflict(first)
            assert resolved.status == "resolved" and resolved.resolved_by == "prestashop"
            assert resolved.resolution == dumps("Pierrot")
            assert table_ids(app, "#conflict-table") == [second]
            await pilot.press("e", "home", "ctrl+k", *"612 345 678", "enter")
            await pilot.pause()
            assert '"612 345 678"' in screen_text(app)  # the preview of the own value
            await pilot.press("enter")
            await settle(pilot, app)
            custom = store.conflict(second)
            assert custom.status == "resolved" and custom.resolved_by == "custom"
            assert custom.resolution == dumps("612 345 678")
            assert table_ids(app, "#conflict-table") == []
            assert "Conflicts (0)" in screen_text(app)

    run(scenario())


def test_conflicts_and_quarantine_filter_by_name(store):
    customer_with_name(store)
    store.open_conflict("customer", "ps:4", "firstname", "Pierre", "Pierre A.", "Pierrot")
    store.open_conflict("product", "A100", "price", 1, 2, 3)
    store.quarantine("product", "B200", "factusol", "unknown tax 7%")
    store.quarantine("customer", "ps:4", "prestashop", "unknown country XX")

    async def scenario():
        app = ReplicatorApp(store, DESCRIPTION)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            await pilot.press("2", "slash", *"martin", "enter")
            await pilot.pause()
            assert str(app.query_one("#conflict-table", DataTable).get_row_at(0)[2]).startswith("Pierre Martin")
            assert len(table_ids(app, "#conflict-table")) == 1 and '"martin"' in screen_text(app)
            await pilot.press("escape")
            await pilot.pause()
            assert len(table_ids(app, "#conflict-table")) == 2
            await pilot.press("3", "slash", *"product", "enter")
            await pilot.pause()
            assert len(table_ids(app, "#quarantine-table")) == 1 and "unknown tax" in screen_text(app)
            await pilot.press("slash", "home", "ctrl+k", *"pierre@example.es", "enter")
            await pilot.pause()
            assert len(table_ids(app, "#quarantine-table")) == 1 and "unknown country" in screen_text(app)

    run(scenario())


def test_a_busy_store_does_not_freeze_the_screen(store):
    """The running replicator holds the store's write lock while a person resolves a conflict: the screen keeps
    answering (another tab opens), and the resolution lands once the lock is released."""
    import sqlite3

    first = store.open_conflict("customer", "7", "NOFCLI", "Ana", "Ana B", "Ana C")
    holder = sqlite3.connect(store.url.removeprefix("sqlite:///"), isolation_level=None, check_same_thread=False)

    async def scenario():
        app = ReplicatorApp(store, DESCRIPTION)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            holder.execute("BEGIN IMMEDIATE")  # what a capture commit in progress looks like to the TUI
            await pilot.press("2", "p", "y")
            await pilot.press("1")  # answered while the write waits for the lock
            await pilot.pause()
            assert app.query_one("TabbedContent").active == "changes"
            assert store.conflict(first).status == "open"
            threading.Timer(0.3, holder.execute, ["ROLLBACK"]).start()
            await settle(pilot, app)
            resolved = store.conflict(first)
            assert resolved.status == "resolved" and resolved.resolved_by == "prestashop"

    try:
        run(scenario())
    finally:
        holder.close()


def test_store_reads_happen_off_the_ui_thread(tmp_path):
    """A store whose first read does not come back until the test lets it (a slow network database): keys are
    answered meanwhile, and every read runs on a worker thread."""
    threads: set[str] = set()  # names of the threads that read the store
    release = threading.Event()

    class SlowStore(Store):
        def status_summary(self):
            threads.add(threading.current_thread().name)
            release.wait(10)
            return super().status_summary()

    slow = SlowStore(f"sqlite:///{tmp_path / 'slow.sqlite'}")
    slow.open_conflict("customer", "7", "NOFCLI", "Ana", "Ana B", "Ana C")

    async def scenario():
        app = ReplicatorApp(slow, DESCRIPTION)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("2")
            await pilot.pause()
            assert app.query_one("TabbedContent").active == "conflicts"
            assert app.snapshot is None  # answered while the first read is still waiting
            release.set()
            await settle(pilot, app)
            assert "Conflicts (1)" in screen_text(app)
        assert threads and threading.main_thread().name not in threads

    run(scenario())


# --------------------------------------------------------------------------------------------- quarantine


def test_quarantine_skip_is_confirmed_and_can_be_undone(store):
    capture(store, 1)
    store.set_change_status([1], "quarantined", "unknown tax 7%")
    quarantine_id = store.quarantine("customer", "1", "factusol", "unknown tax 7%", change_id=1)

    async def scenario():
        app = ReplicatorApp(store, DESCRIPTION)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            await pilot.press("3")
            await pilot.pause()
            assert "unknown tax 7%" in screen_text(app)
            await pilot.press("s")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmModal) and "Skip quarantined change" in screen_text(app)
            await pilot.press("y")
            await settle(pilot, app)
            assert table_ids(app, "#quarantine-table") == []
            assert store.quarantined("skipped")[0].id == quarantine_id
            assert store.changes()[0].status == "skipped"
            await pilot.press("u")
            await settle(pilot, app)
            assert table_ids(app, "#quarantine-table") == [quarantine_id]
        assert [q.id for q in store.quarantined("open")] == [quarantine_id]
        assert store.changes()[0].status == "quarantined"

    run(scenario())


def test_readonly_refuses_to_resolve_and_skip(store):
    conflict_id = store.open_conflict("customer", "7", "NOFCLI", "Ana", "Ana B", "Ana C")
    quarantine_id = store.quarantine("article", "A1", "factusol", "unknown tax 7%")

    async def scenario():
        app = ReplicatorApp(store, DESCRIPTION, readonly=True)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            await pilot.press("2", "f", "b", "e")
            await pilot.pause()
            assert "Read-only mode" in screen_text(app) and "READ-ONLY" in screen_text(app)
            assert len(app.screen_stack) == 1  # no editor nor confirmation opened
            await pilot.press("3", "s", "u")
            await pilot.pause()
            assert "Read-only mode" in screen_text(app)
            assert len(app.screen_stack) == 1
        assert store.conflict(conflict_id).status == "open"
        assert [q.id for q in store.quarantined("open")] == [quarantine_id]

    run(scenario())


# --------------------------------------------------------------------------------------------- help, palette


def test_help_lists_every_key_of_the_current_tab(store):
    async def scenario():
        app = ReplicatorApp(store, DESCRIPTION)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            await pilot.press("2", "question_mark")
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            text = screen_text(app)
            for words in (
                "Take FactuSOL",
                "Take shop",
                "Keep base",
                "Own value",
                "Filter",
                "Clear filter",
                "Quit",
                "Refresh",
                "Help",
            ):
                assert words in text, words
            assert "Skip" not in text  # the quarantine's keys are not this tab's
            await pilot.press("escape", "3", "question_mark")
            await pilot.pause()
            text = screen_text(app)
            assert "Skip" in text and "Undo skip" in text and "Take FactuSOL" not in text
            await pilot.press("question_mark")
            await pilot.pause()
            assert not isinstance(app.screen, HelpScreen)

    run(scenario())


def test_command_palette_has_the_app_commands(store):
    store.open_conflict("customer", "7", "NOFCLI", "Ana", "Ana B", "Ana C")

    async def scenario():
        app = ReplicatorApp(store, DESCRIPTION)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            await pilot.press("ctrl+p", *"resolve")
            await pilot.pause(0.5)
            text = screen_text(app)
            assert "Resolve conflict: take FactuSOL" in text and "Resolve conflict: take shop" in text
            await pilot.press("escape")
            await pilot.pause()
            await pilot.press("ctrl+p", *"go to conflicts")
            await pilot.pause(0.5)
            await pilot.press("enter")
            await pilot.pause()
            assert app.query_one("TabbedContent").active == "conflicts"
            await pilot.press("ctrl+p", *"take FactuSOL")
            await pilot.pause(0.5)
            await pilot.press("enter")
            await pilot.pause(0.3)
            assert isinstance(app.screen, ConfirmModal)  # the same confirmation as the key

    run(scenario())


# --------------------------------------------------------------------------------------------- secrets


def test_password_from_config_never_on_screen(tmp_path, monkeypatch):
    password = "Sup3rS3cretPw"
    (tmp_path / "rules").mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "0012026.accdb").touch()
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
            await settle(pilot, app)
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


def test_tui_needs_no_shop_password(tmp_path, monkeypatch):
    monkeypatch.delenv("PS_NOT_SET", raising=False)
    (tmp_path / "rules").mkdir()
    config = tmp_path / "replicator.yaml"
    config.write_text(
        "store: sqlite:///state.sqlite\nrules: rules\nfactusol:\n  file: data/0012026.accdb\n"
        "prestashop:\n  url: mysql://shop:${PS_NOT_SET}@127.0.0.1:3306/prestashop\n",
        encoding="utf-8",
    )
    app = build_app(str(config), readonly=True)
    assert app.readonly and app.store is not None


def test_sensitive_columns_are_masked_in_the_image_view(store):
    store.record_capture(
        [
            CapturedRow(
                side="prestashop",
                entity="customer",
                source_table="ps_customer",
                row_key=dumps([5]),
                op="update",
                before={
                    "id_customer": 5,
                    "passwd": "$2y$10$abcdefghijklmnopqrstuv",
                    "secure_key": "0123456789abcdef",
                    "reset_password_token": "tok-aaaa",
                },
                after={
                    "id_customer": 5,
                    "passwd": "$2y$10$zyxwvutsrqponmlkjihgfe",
                    "secure_key": "0123456789abcdef",
                    "reset_password_token": "tok-bbbb",
                },
                position="mysql-bin.000001:400",
            )
        ]
    )

    async def scenario():
        app = ReplicatorApp(store, DESCRIPTION)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            await pilot.press("a")  # every field, the unchanged secure_key too
            await pilot.pause()
            text = screen_text(app)
            assert "* passwd" in text and "secure_key" in text and "reset_password_token" in text
            assert "abcdefghij" not in text and "zyxwvu" not in text and "0123456789abcdef" not in text
            assert "tok-" not in text

    run(scenario())


# --------------------------------------------------------------------------------------------- helpers


def test_helpers():
    assert changed_fields({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": 4}) == {"b", "c"}
    assert changed_fields(None, {"a": 1}) == {"a"}
    parsed = parse_filter("conflict customer ps")
    assert (parsed["status"], parsed["entity"], parsed["side"]) == ("conflict", "customer", "prestashop")
    parsed = parse_filter("status=applied entity=order side=fs key=A100 pierre")
    assert (parsed["status"], parsed["entity"], parsed["side"], parsed["key"], parsed["text"]) == (
        "applied",
        "order",
        "factusol",
        "A100",
        ["pierre"],
    )
    flt = Filter.parse("customer martin")
    assert flt.matches(entity="customer", key="ps:4", texts=["Pierre Martin"])
    assert not flt.matches(entity="product", key="ps:4", texts=["Pierre Martin"])
    assert flt.chip() == 'entity=customer  "martin"'


def test_run_tui_reports_a_bad_config(tmp_path, capsys):
    from tui.app import run_tui

    assert run_tui(str(tmp_path / "missing.yaml")) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "no such configuration file" in err


# --------------------------------------------------------------------------------------------- pause, resume


def test_pause_then_resume_from_the_tui_changes_the_stores_pause_request(store):
    from replicator.service.pause import pause_request

    async def scenario():
        app = ReplicatorApp(store, DESCRIPTION)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            assert "PAUSED" not in screen_text(app)
            await pilot.press("P")
            await settle(pilot, app)
            request = pause_request(store)
            assert request is not None and request["reason"] == "paused from the TUI"
            await wait_for(pilot, lambda: "PAUSED" in screen_text(app))
            await pilot.press("R")
            await settle(pilot, app)
            assert pause_request(store) is None
            await wait_for(pilot, lambda: "PAUSED" not in screen_text(app))
            await pilot.press("question_mark")
            await pilot.pause()
            help_text = screen_text(app)
            assert "Pause service (give FactuSOL the file)" in help_text and "Resume service" in help_text

    run(scenario())


def test_pause_from_the_palette_and_readonly_refuses_it(store):
    from replicator.service.pause import pause_request, request_pause

    async def palette(pilot, app, words: str) -> None:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*words)
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot, app)

    async def scenario():
        app = ReplicatorApp(store, DESCRIPTION)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            await palette(pilot, app, "Pause the service")
            await wait_for(pilot, lambda: pause_request(store) is not None)
        async with ReplicatorApp(store, DESCRIPTION, readonly=True).run_test(size=SIZE) as pilot:
            app = pilot.app
            await settle(pilot, app)
            await palette(pilot, app, "Resume the service")
            await wait_for(pilot, lambda: any("Read-only mode" in n.message for n in app._notifications))
            assert pause_request(store) is not None  # still paused
            request_resume_never = pause_request(store)
            assert request_resume_never["reason"] == "paused from the TUI"
            await pilot.press("R")
            await pilot.pause()
            assert pause_request(store) is not None
            await palette(pilot, app, "Resync (dry run)")
            await wait_for(pilot, lambda: any("does not resync" in n.message for n in app._notifications))
            assert len(app.screen_stack) == 1 and app.resync_reports is None

    run(scenario())
    request_pause(store, "again")  # the library call the CLI uses agrees with what the TUI wrote
    assert pause_request(store)["reason"] == "again"
