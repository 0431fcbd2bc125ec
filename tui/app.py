"""The Textual TUI: `ReplicatorApp` and `run_tui`, the entry point `replicator tui` calls.

The app attaches to the same state store a headless daemon writes.  Every second a thread worker reads a
snapshot of it (`tui.snapshot`: counts, the service and its watchers, new changes, open conflicts and quarantine
with their records' names) and posts it to the widgets; the UI thread never waits for the store.  Nothing from the
configuration is shown except through `Config.describe()`, and every displayed text passes through `redact`.
"""

from __future__ import annotations

import sys
from typing import Any, Iterable

from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, TabbedContent, TabPane

from replicator.config import ConfigError, load_config, redact
from replicator.store import Store

from .changes import ChangeLogPane
from .conflicts import ConflictsPane
from .help import HelpScreen, collect_keys
from .messages import StoreChanged
from .quarantine import QuarantinePane
from .snapshot import Snapshot, describe_error, take_snapshot
from .status import StatusHeader

TABS = {"changes": "Change log", "conflicts": "Conflicts", "quarantine": "Quarantine"}
WIDE = 160  # from this many columns up, tables and detail panes sit side by side


class ReplicatorApp(App):
    """Status bar, then tabs for the change log, the open conflicts and the quarantine."""

    TITLE = "FactuSOL ⇄ PrestaShop replicator"
    CSS = """
    Screen { layout: vertical; }
    #tabs { height: 1fr; }
    TabPane { padding: 0; }
    TabPane > Vertical { height: 1fr; }
    /* a wide screen (WIDE columns and more): each table with its detail pane beside it */
    .wide #change-body, .wide #conflict-body { layout: horizontal; }
    .wide #change-table { width: 2fr; height: 1fr; }
    .wide #conflict-table { width: 1fr; height: 1fr; }
    .wide #change-detail-box, .wide #conflict-detail-box {
        width: 1fr; height: 1fr; max-height: 100%; border-top: none; border-left: solid $primary;
    }
    """
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help"),
        Binding("1", "show_tab('changes')", "Changes"),
        Binding("2", "show_tab('conflicts')", "Conflicts"),
        Binding("3", "show_tab('quarantine')", "Quarantine"),
        Binding("r", "refresh_now", "Refresh"),
        Binding("P", "pause_service", "Pause service (give FactuSOL the file)", show=False),
        Binding("R", "resume_service", "Resume service", show=False),
    ]

    def __init__(
        self,
        store: Store,
        config_description: dict[str, Any],
        readonly: bool = False,
        refresh_seconds: float = 1.0,
        window: int = 500,
    ):
        super().__init__()
        self.store = store
        self.config_description = config_description
        self.readonly = readonly
        self.refresh_seconds = refresh_seconds
        self.window = window
        self.last_error = ""
        self.sub_title = "read-only" if readonly else ""
        self.snapshot: Snapshot | None = None
        self.resync_reports = None  # the last resync report shown (dry run or written)
        self.loading = False
        self.again = False
        self.open_runtime = None  # set by build_app: opens the runtime a resync needs (the store alone does not do)
        self.labels: dict[tuple[str, str], str] = {}  # record names, filled by the worker

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
        self.query_one("#change-table", DataTable).focus()
        self._fit(self.size.width)
        self.refresh_data()
        self.set_interval(self.refresh_seconds, self.refresh_data)

    def on_resize(self, event) -> None:
        self._fit(event.size.width)

    def _fit(self, width: int) -> None:
        self.screen.set_class(width >= WIDE, "wide")

    # -- the snapshot worker -------------------------------------------------------------------------
    def refresh_data(self) -> None:
        """Start a snapshot read on a worker thread (one at a time: a slow store delays, never piles up)."""
        if self.loading:
            self.again = True
            return
        try:
            request = self.query_one(ChangeLogPane).request()
        except NoMatches:  # the app is closing: its widgets are gone
            return
        self.loading, self.again = True, False
        store, labels = self.store, self.labels

        def load() -> None:
            try:
                snapshot = take_snapshot(store, request, labels)
            except Exception as exc:  # noqa: BLE001 - keep the TUI alive while the store is unavailable
                self.call_from_thread(self._store_failed, exc)
                return
            self.call_from_thread(self.show_snapshot, snapshot)

        self.run_worker(load, thread=True, group="snapshot", exit_on_error=False)

    def _done_loading(self) -> None:
        self.loading = False
        if self.again:
            self.refresh_data()

    def _store_failed(self, exc: BaseException) -> None:
        message = redact(f"The state store cannot be read: {describe_error(exc)}")
        if message != self.last_error:
            self.last_error = message
            self.notify(message, severity="error", timeout=10)
        self._done_loading()

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Copy a snapshot into the widgets (UI thread)."""
        self.snapshot = snapshot
        self.last_error = ""
        try:
            self.query_one(StatusHeader).show(
                snapshot.counts, snapshot.open_conflicts, snapshot.open_quarantine, snapshot.service
            )
            self.query_one(ChangeLogPane).apply_data(snapshot.changes)
            self.query_one(ConflictsPane).show_records(self.store, snapshot.conflicts, snapshot.labels)
            self.query_one(QuarantinePane).show_records(self.store, snapshot.quarantine, snapshot.labels)
            tabs = self.query_one(TabbedContent)
            tabs.get_tab("conflicts").label = f"{TABS['conflicts']} ({snapshot.open_conflicts})"
            tabs.get_tab("quarantine").label = f"{TABS['quarantine']} ({snapshot.open_quarantine})"
        except NoMatches:  # the app is closing: nothing left to show it in
            pass
        finally:
            self._done_loading()

    def action_refresh_now(self) -> None:
        self.refresh_data()

    def on_store_changed(self, _message: StoreChanged) -> None:
        self.refresh_data()

    # -- pause / resume: the same calls as `replicator pause` / `replicator resume` ----------------------
    def _refuse_readonly(self, what: str) -> bool:
        if self.readonly:
            self.notify(
                f"Read-only mode: the TUI does not {what}; start it without --readonly, or use the command line",
                severity="warning",
            )
        return self.readonly

    def action_pause_service(self) -> None:
        from replicator.service.pause import request_pause

        if self._refuse_readonly("pause the service"):
            return
        request_pause(self.store, "paused from the TUI")
        self.notify(
            "Pause requested: the service closes the FactuSOL file within one apply interval (the status "
            "bar says PAUSED); press R to resume"
        )
        self.refresh_data()

    def action_resume_service(self) -> None:
        from replicator.service.pause import request_resume

        if self._refuse_readonly("resume the service"):
            return
        standing = request_resume(self.store)
        self.notify(
            "Resumed: the service scans the whole FactuSOL file, then applies what waited"
            if standing
            else "The replicator was not paused"
        )
        self.refresh_data()

    # -- resync: the same call as `replicator resync [--dry-run]`, on a worker thread ----------------------
    def action_resync_dry_run(self) -> None:
        if self._refuse_readonly("resync"):
            return
        if self.open_runtime is None:
            self.notify(
                "Resync needs the configuration file: start the TUI with `replicator tui --config FILE`",
                severity="warning",
            )
            return
        self.notify("Resync dry run: reading every category, product and stock key from both sides…")
        self._resync_worker(dry_run=True)

    def _resync_worker(self, dry_run: bool) -> None:
        from .resync import run_resync

        opener = self.open_runtime

        def work() -> None:
            try:
                reports = run_resync(opener, dry_run)
            except Exception as exc:  # noqa: BLE001 - said in a notice; the TUI goes on
                self.call_from_thread(
                    self.notify, redact(f"Resync failed: {describe_error(exc)}"), severity="error", timeout=10
                )
                return
            self.call_from_thread(self._resync_done, reports, dry_run)

        self.run_worker(work, thread=True, group="resync", exclusive=True, exit_on_error=False)

    def _resync_done(self, reports, dry_run: bool) -> None:
        from rich.text import Text

        from .modals import ConfirmModal
        from .resync import counts_lines

        self.resync_reports = reports
        text = "\n".join(counts_lines(reports, dry_run))
        if not dry_run:
            self.notify(f"Resync written:\n{text}", timeout=10)
            self.refresh_data()
            return
        if not any(r.changes for r in reports.values()):
            self.notify(f"Resync dry run: the current rules change nothing\n{text}", timeout=10)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.notify("Resync: writing what differs…")
                self._resync_worker(dry_run=False)

        self.push_screen(
            ConfirmModal(
                "Resync: what the current rules would change (nothing written yet)",
                Text(text),
                yes="write it through the normal apply path",
            ),
            answered,
        )

    # -- navigation, help, palette -------------------------------------------------------------------
    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        """Put the keyboard on the active tab's table so its keys (f/p/b/e, s, /) work at once."""
        pane = event.pane
        if pane is not None:
            pane.query(DataTable).first().focus()

    def active_pane(self):
        tab = self.query_one(TabbedContent).active
        return self.query_one({"changes": ChangeLogPane, "conflicts": ConflictsPane, "quarantine": QuarantinePane}[tab])

    def action_help(self) -> None:
        tab = self.query_one(TabbedContent).active
        self.push_screen(HelpScreen(TABS.get(tab, tab), collect_keys(self)))

    def _on_pane(self, tab: str, action: str) -> None:
        self.action_show_tab(tab)
        self.call_after_refresh(lambda: self.active_pane().run_action(action))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The app's own commands in the palette (ctrl+p), beside Textual's."""
        yield SystemCommand("Go to change log", "the captured changes (1)", lambda: self.action_show_tab("changes"))
        yield SystemCommand(
            "Go to conflicts", "fields changed on both sides (2)", lambda: self.action_show_tab("conflicts")
        )
        yield SystemCommand(
            "Go to quarantine", "changes that could not be applied (3)", lambda: self.action_show_tab("quarantine")
        )
        for take, name, what in (
            ("factusol", "FactuSOL", "the FactuSOL value (f)"),
            ("prestashop", "shop", "the shop value (p)"),
            ("base", "base", "the base value, the last agreed (b)"),
        ):
            yield SystemCommand(
                f"Resolve conflict: take {name}",
                f"the selected conflict gets {what}; you confirm first",
                lambda take=take: self._on_pane("conflicts", f"take('{take}')"),
            )
        yield SystemCommand(
            "Resolve conflict: own value",
            "type the value the selected conflict gets (e)",
            lambda: self._on_pane("conflicts", "edit"),
        )
        yield SystemCommand(
            "Skip quarantined change",
            "the selected one is never applied; you confirm first (s)",
            lambda: self._on_pane("quarantine", "skip"),
        )
        yield SystemCommand(
            "Undo last skip",
            "put the last skipped change back in quarantine (u)",
            lambda: self._on_pane("quarantine", "undo_skip"),
        )
        yield SystemCommand(
            "Filter this tab",
            "by status, side, entity, key, name, e-mail or code (/)",
            lambda: self.active_pane().run_action("focus_filter"),
        )
        yield SystemCommand(
            "Clear the filter", "show every row again (Esc)", lambda: self.active_pane().run_action("clear_filter")
        )
        yield SystemCommand(
            "Show all fields / changed only",
            "in the change's detail pane (a)",
            lambda: self._on_pane("changes", "toggle_fields"),
        )
        yield SystemCommand("Refresh now", "read the state store again (r)", self.action_refresh_now)
        yield SystemCommand(
            "Pause the service (give FactuSOL the file)",
            "for FactuSOL's compact/repair or a restore (P)",
            self.action_pause_service,
        )
        yield SystemCommand(
            "Resume the service",
            "it rescans the FactuSOL file, then applies what waited (R)",
            self.action_resume_service,
        )
        yield SystemCommand(
            "Resync (dry run)",
            "how many keys per entity the current rules would change; y then writes them, as `replicator resync`",
            self.action_resync_dry_run,
        )
        yield SystemCommand("Help: keys of this screen", "every key and what it does (?)", self.action_help)
        yield from super().get_system_commands(screen)


def build_app(config_path: str, readonly: bool = False) -> ReplicatorApp:
    """Load the configuration (no shop password needed: the TUI only uses the store) and build the app."""
    from .resync import runtime_opener

    config = load_config(config_path, need_secrets=False)
    app = ReplicatorApp(Store(config.store, config.store_namespace), config.describe(), readonly=readonly)
    app.open_runtime = runtime_opener(config_path)  # only a resync opens the sides (and needs the secrets)
    return app


def run_tui(config_path: str, readonly: bool = False) -> int:
    """Run the TUI on the store named by the configuration file; returns the exit code (2: bad config)."""
    try:
        app = build_app(config_path, readonly=readonly)
    except ConfigError as exc:
        print(f"error: {redact(exc)}", file=sys.stderr)
        return 2
    app.run()
    return app.return_code or 0
