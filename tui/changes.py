"""The change log tab: the newest changes in a table, a filter input, and the before/after view.

Refreshing is incremental: each tick fetches only changes with an id above the newest one shown, plus the
(status, detail) of the rows already on screen, so a daemon moving a row from pending to applied shows up.
"""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import DataTable, Input, Static

from replicator.store import Change, Store, loads

from .format import diff_table, parse_filter, safe, short, show_time, status_text

SIDE_LABELS = {"factusol": "FS", "prestashop": "PS"}
COLUMNS = ("id", "time", "side", "entity", "table", "key", "op", "status", "detail")


class ChangeLogPane(Vertical):
    """Filter input, change table (newest first) and the selected change's images."""

    BINDINGS = [
        Binding("slash", "focus_filter", "Filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]
    DEFAULT_CSS = """
    ChangeLogPane #change-filter { dock: top; }
    ChangeLogPane #change-table { height: 1fr; }
    ChangeLogPane #change-detail-box { height: 1fr; border-top: solid $primary; }
    """

    def __init__(self, window: int = 500, **kwargs):
        super().__init__(**kwargs)
        self.window = window
        self.filters: dict[str, str | None] = {"status": None, "entity": None, "side": None}
        self.last_id = 0
        self.changes: dict[int, Change] = {}
        self.shown_id: int | None = None
        self.store: Store | None = None

    def compose(self) -> ComposeResult:
        yield Input(placeholder="/ filter: status, entity or side (e.g. 'conflict customer', 'side=ps') — "
                                "Enter applies, Esc clears", id="change-filter")
        table = DataTable(id="change-table", cursor_type="row", zebra_stripes=True)
        for name in COLUMNS:
            table.add_column(name, key=name)
        yield table
        with VerticalScroll(id="change-detail-box"):
            yield Static("Select a change to see its before and after images.", id="change-detail")

    @property
    def table(self) -> DataTable:
        return self.query_one("#change-table", DataTable)

    # -- data ------------------------------------------------------------------------------------
    def reload(self, store: Store) -> None:
        """Drop what is shown and load the newest `window` changes matching the filter."""
        self.store = store
        self.table.clear()
        self.changes.clear()
        self.last_id = 0
        self._add(store.newest_changes(self.window, **self.filters))
        if self.table.row_count:
            self.table.move_cursor(row=0)

    def refresh_from(self, store: Store) -> None:
        """Bring the table up to date with the store.

        Unfiltered: fetch only the changes after the newest one shown, and refresh the status of the rows
        on screen.  Filtered: re-read the filtered window (an indexed LIMIT query), so rows that start or
        stop matching (e.g. a pending change that gets applied) come and go.
        """
        self.store = store
        if any(self.filters.values()):
            rows = store.newest_changes(self.window, **self.filters)
            keep = {change.id for change in rows}
            for change_id in [i for i in self.changes if i not in keep]:
                del self.changes[change_id]
                self.table.remove_row(str(change_id))
            self._update_states({c.id: (c.status, c.detail) for c in rows})
            self._add(rows)
            return
        if self.changes:
            self._update_states(store.change_states(min(self.changes), max(self.changes)))
        self._add(store.changes(after_id=self.last_id, limit=self.window))

    def _update_states(self, states: dict[int, tuple[str, str]]) -> None:
        for change_id, (status, detail) in states.items():
            change = self.changes.get(change_id)
            if change and (change.status, change.detail) != (status, detail):
                change.status, change.detail = status, detail
                self.table.update_cell(str(change_id), "status", status_text(status))
                self.table.update_cell(str(change_id), "detail", safe(short(detail)))
                if change_id == self.shown_id:
                    self.show_change(change_id)

    def _add(self, rows: list[Change]) -> None:
        if not rows:
            return
        table = self.table
        selected = self.selected_id()
        rows = [change for change in rows if change.id not in self.changes]
        if not rows:
            return
        for change in rows:
            self.changes[change.id] = change
            table.add_row(*self._cells(change), key=str(change.id))
            self.last_id = max(self.last_id, change.id)
        while len(self.changes) > self.window:  # keep the window bounded: forget the oldest rows
            oldest = min(self.changes)
            del self.changes[oldest]
            table.remove_row(str(oldest))
        table.sort("id", reverse=True)
        if selected is not None and selected in self.changes:
            table.move_cursor(row=table.get_row_index(str(selected)), animate=False)

    @staticmethod
    def _cells(change: Change) -> list:
        return [
            change.id,
            show_time(change.captured_at),
            SIDE_LABELS.get(change.side, change.side),
            change.entity,
            change.source_table,
            safe(short(_key_text(change.row_key), 30)),
            change.op,
            status_text(change.status),
            safe(short(change.detail)),
        ]

    def selected_id(self) -> int | None:
        table = self.table
        if not table.row_count:
            return None
        row_key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return int(row_key.value) if row_key.value is not None else None

    # -- detail ----------------------------------------------------------------------------------
    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is None or event.row_key.value is None:
            return
        self.show_change(int(event.row_key.value))

    def show_change(self, change_id: int) -> None:
        change = self.changes.get(change_id)
        detail = self.query_one("#change-detail", Static)
        if change is None:
            detail.update("")
            return
        self.shown_id = change_id
        title = Text()
        title.append(f"change {change.id}  ", style="bold")
        title.append(f"{change.side} {change.source_table} {safe(_key_text(change.row_key))} {change.op}  ")
        title.append_text(status_text(change.status))
        title.append(f"  position {safe(change.position)}", style="dim")
        if change.detail:
            title.append(f"\n{safe(change.detail)}", style="italic")
        # An update or delete without a before-image: it was not kept (see diff_table), not an empty row.
        kept = change.before is not None or change.op == "insert"
        detail.update(Group(title, diff_table(loads(change.before), loads(change.after), before_kept=kept)))

    # -- filter ----------------------------------------------------------------------------------
    def action_focus_filter(self) -> None:
        self.query_one("#change-filter", Input).focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#change-filter", Input)
        if box.value or any(self.filters.values()):
            box.value = ""
            self.apply_filter("")
        self.table.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "change-filter":
            event.stop()
            self.apply_filter(event.value)
            self.table.focus()

    def apply_filter(self, text: str) -> None:
        self.filters = parse_filter(text)
        if self.store is not None:
            self.reload(self.store)


def _key_text(row_key: str) -> str:
    """A stored row key (JSON) as short text: a single value without brackets."""
    try:
        value = loads(row_key)
    except ValueError:
        return row_key
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, dict) and len(value) == 1:
        value = next(iter(value.values()))
    return str(value) if not isinstance(value, (list, dict)) else row_key
