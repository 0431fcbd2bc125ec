"""The Textual TUI: `ReplicatorApp` and `run_tui`, the entry point `replicator tui` calls.

The app attaches to the same state store a headless daemon writes and re-reads it every second (only
new change ids, open conflicts and quarantine rows, counts).  Nothing from the configuration is shown
except through `Config.describe()`, and every displayed text passes through `redact`.
"""

from __future__ import annotations

import sys
from typing import Any

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, TabbedContent, TabPane

from replicator.config import ConfigError, load_config, redact
from replicator.store import Store

from .changes import ChangeLogPane
from .conflicts import ConflictsPane
from .messages import StoreChanged
from .quarantine import QuarantinePane
from .status import StatusHeader

TABS = {"changes": "Change log", "conflicts": "Conflicts", "quarantine": "Quarantine"}


class ReplicatorApp(App):
    """Status header, then tabs for the change log, the open conflicts and the quarantine."""

    TITLE = "FactuSOL ⇄ PrestaShop replicator"
    CSS = """
    Screen { layout: vertical; }
    #tabs { height: 1fr; }
    TabPane { padding: 0; }
    TabPane > Vertical { height: 1fr; }
    """
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("1", "show_tab('changes')", "Changes"),
        Binding("2", "show_tab('conflicts')", "Conflicts"),
        Binding("3", "show_tab('quarantine')", "Quarantine"),
        Binding("r", "refresh_now", "Refresh"),
    ]

    def __init__(self, store: Store, config_description: dict[str, Any], readonly: bool = False,
                 refresh_seconds: float = 1.0, window: int = 500):
        super().__init__()
        self.store = store
        self.config_description = config_description
        self.readonly = readonly
        self.refresh_seconds = refresh_seconds
        self.window = window
        self.last_error = ""
        self.sub_title = "read-only" if readonly else ""

    def compose(self) -> ComposeResult:
        yield Header()
        yield StatusHeader(self.config_description, self.readonly, id="status")
        with TabbedContent(initial="changes", id="tabs"):
            with TabPane(TABS["changes"], id="changes"):
                yield ChangeLogPane(window=self.window, id="change-log")
            with TabPane(TABS["conflicts"], id="conflicts"):
                yield ConflictsPane(readonly=self.readonly, id="conflict-pane")
            with TabPane(TABS["quarantine"], id="quarantine"):
                yield QuarantinePane(readonly=self.readonly, id="quarantine-pane")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(ChangeLogPane).reload(self.store)
        self.refresh_data()
        self.query_one("#change-table", DataTable).focus()
        self.set_interval(self.refresh_seconds, self.refresh_data)

    def refresh_data(self) -> None:
        """One refresh tick.  A store error (locked, unreachable) is reported once, not raised."""
        try:
            status = self.query_one(StatusHeader)
            status.refresh_from(self.store)
            self.query_one(ChangeLogPane).refresh_from(self.store)
            self.query_one(ConflictsPane).refresh_from(self.store)
            self.query_one(QuarantinePane).refresh_from(self.store)
        except Exception as exc:  # noqa: BLE001 - keep the TUI alive while the store is unavailable
            message = redact(f"state store: {exc}")
            if message != self.last_error:
                self.last_error = message
                self.notify(message, severity="error", timeout=10)
            return
        self.last_error = ""
        tabs = self.query_one(TabbedContent)
        summary = status.summary
        tabs.get_tab("conflicts").label = f"{TABS['conflicts']} ({summary.get('open_conflicts', 0)})"
        tabs.get_tab("quarantine").label = f"{TABS['quarantine']} ({summary.get('open_quarantine', 0)})"

    def action_refresh_now(self) -> None:
        self.refresh_data()

    def on_store_changed(self, _message: StoreChanged) -> None:
        self.refresh_data()

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        """Put the keyboard on the active tab's table so its keys (f/p/b/e, s, /) work at once."""
        pane = event.pane
        if pane is not None:
            pane.query(DataTable).first().focus()


def build_app(config_path: str, readonly: bool = False) -> ReplicatorApp:
    """Load the configuration, open its store and build the app (without running it)."""
    config = load_config(config_path)
    return ReplicatorApp(Store(config.store), config.describe(), readonly=readonly)


def run_tui(config_path: str, readonly: bool = False) -> int:
    """Run the TUI on the store named by the configuration file; returns the exit code (2: bad config)."""
    try:
        app = build_app(config_path, readonly=readonly)
    except ConfigError as exc:
        print(redact(exc), file=sys.stderr)
        return 2
    app.run()
    return app.return_code or 0
