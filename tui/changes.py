"""The change log tab: the newest changes in a table, the filter bar, and the selected change's images.

The pane never reads the store itself: it says what it needs (`request()`: the changes after the newest one
shown plus the states of the rows on screen, or a filtered window) and the app's worker answers with
`apply_data()`.  A daemon moving a row from pending to applied shows up in place, its detail cell widened to fit.
"""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Vertical, VerticalScroll
from textual.widgets import DataTable, Static

from replicator.store import Change, loads

from .filter_bar import FilterBar
from .filters import Filter
from .format import diff_table, safe, short, show_time, status_text
from .snapshot import ChangeData, ChangeRequest

SIDE_LABELS = {"factusol": "FS", "prestashop": "PS"}
COLUMNS = ("id", "time", "side", "entity", "status", "key", "op", "table", "detail")
FIXED_WIDTH = 74  # the columns other than key and detail, with their gaps, at their usual widths


def key_width(table_width: int) -> int:
    """How much of a row key the table shows: 24 characters at 80 columns, up to 90 on a wide table (the rest of
    a longer key is in the detail pane's title)."""
    return max(24, min(90, table_width - FIXED_WIDTH))


class ChangeLogPane(Vertical):
    """Filter bar, change table (newest first) and the selected change's images."""

    BINDINGS = [
        Binding("slash", "focus_filter", "Filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("a", "toggle_fields", "All fields"),
    ]
    DEFAULT_CSS = """
    ChangeLogPane #change-body { layout: vertical; height: 1fr; }
    ChangeLogPane #change-table { height: 1fr; }
    ChangeLogPane #change-detail-box { height: 1fr; border-top: solid $primary; }
    .wide ChangeLogPane #change-body { layout: horizontal; }
    .wide ChangeLogPane #change-table { width: 3fr; height: 1fr; }
    .wide ChangeLogPane #change-detail-box { width: 2fr; height: 1fr; border-top: none; border-left: solid $primary; }
    """

    def __init__(self, window: int = 500, **kwargs):
        super().__init__(**kwargs)
        self.window = window
        self.filter = Filter()
        self.generation = 0
        self.reload_pending = True
        self.last_id = 0
        self.changes: dict[int, Change] = {}
        self.shown_id: int | None = None
        self.show_all = False

    def compose(self) -> ComposeResult:
        yield FilterBar(
            "change",
            "/ filter: status, side, entity, key=…, or text such as an article code, a name "
            "or an e-mail — Enter applies, Esc clears",
        )
        with Container(id="change-body"):
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
    def request(self) -> ChangeRequest:
        """What the next snapshot should read for this pane."""
        shown = (min(self.changes), max(self.changes)) if self.changes else None
        return ChangeRequest(
            self.generation, self.filter, self.window, after_id=self.last_id, shown=shown, reload=self.reload_pending
        )

    def apply_data(self, data: ChangeData) -> None:
        if data.request.generation != self.generation:
            return  # read for a filter that has since changed
        if data.request.reload or data.request.flt.active:
            keep = {change.id for change in data.rows}
            for change_id in [i for i in self.changes if i not in keep]:
                del self.changes[change_id]
                self.table.remove_row(str(change_id))
            if data.request.reload:
                self.reload_pending = False
                self.last_id = 0
        self._update_states(data.states)
        self._add(data.rows)
        self._show_selected()

    def _update_states(self, states: dict[int, tuple[str, str]]) -> None:
        for change_id, (status, detail) in states.items():
            change = self.changes.get(change_id)
            if change and (change.status, change.detail) != (status, detail):
                change.status, change.detail = status, detail
                self.table.update_cell(str(change_id), "status", status_text(status), update_width=True)
                self.table.update_cell(str(change_id), "detail", safe(short(detail)), update_width=True)
                if change_id == self.shown_id:
                    self.show_change(change_id)

    def _add(self, rows: list[Change]) -> None:
        rows = [change for change in rows if change.id not in self.changes]
        if not rows:
            return
        table = self.table
        selected = self.selected_id()
        wide = self.screen.has_class("wide")
        width = key_width(self.app.size.width * 2 // 3 if wide else self.app.size.width)
        for change in rows:
            self.changes[change.id] = change
            table.add_row(*self._cells(change, width), key=str(change.id))
            self.last_id = max(self.last_id, change.id)
        while len(self.changes) > self.window:  # keep the window bounded: forget the oldest rows
            oldest = min(self.changes)
            del self.changes[oldest]
            table.remove_row(str(oldest))
        table.sort("id", reverse=True)
        if selected is not None and selected in self.changes:
            table.move_cursor(row=table.get_row_index(str(selected)), animate=False)

    @staticmethod
    def _cells(change: Change, width: int = 30) -> list:
        return [
            change.id,
            show_time(change.captured_at, brief=True),
            SIDE_LABELS.get(change.side, change.side),
            change.entity,
            status_text(change.status),
            safe(short(_key_text(change.row_key), width)),
            change.op,
            change.source_table,
            safe(short(change.detail)),
        ]

    def selected_id(self) -> int | None:
        table = self.table
        if not table.row_count:
            return None
        row_key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return int(row_key.value) if row_key.value is not None else None

    # -- detail ----------------------------------------------------------------------------------
    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        # The row under the cursor NOW, not the event's: rows added and sorted since it was posted moved it (a
        # first load highlighted change 1, then sorted newest first: the pane showed change 1 on change 8's row).
        self._show_selected()

    def _show_selected(self) -> None:
        """The detail pane always shows the row under the cursor (rows added above it or sorted move it)."""
        selected = self.selected_id()
        if selected != self.shown_id or selected is None:
            self.show_change(selected)

    def show_change(self, change_id: int | None) -> None:
        change = self.changes.get(change_id) if change_id is not None else None
        detail = self.query_one("#change-detail", Static)
        self.shown_id = change_id
        if change is None:
            detail.update("No change matches the filter." if self.filter.active else "No changes yet.")
            return
        title = Text()
        title.append(f"change {change.id}  ", style="bold")
        title.append(f"{change.side} {change.source_table} {safe(_key_text(change.row_key))} {change.op}  ")
        title.append_text(status_text(change.status))
        title.append(f"  position {safe(change.position)}", style="dim")
        if change.detail:
            title.append(f"\n{safe(change.detail)}", style="italic")
        # An update or delete without a before-image: it was not kept (see diff_table), not an empty row.
        kept = change.before is not None or change.op == "insert"
        detail.update(
            Group(
                title, diff_table(loads(change.before), loads(change.after), before_kept=kept, show_all=self.show_all)
            )
        )

    def action_toggle_fields(self) -> None:
        self.show_all = not self.show_all
        self.notify("All fields shown (changed first)." if self.show_all else "Changed fields only.", timeout=2)
        self.show_change(self.shown_id)

    # -- filter ----------------------------------------------------------------------------------
    def action_focus_filter(self) -> None:
        self.query_one(FilterBar).open()

    def action_clear_filter(self) -> None:
        self.query_one(FilterBar).clear()
        self.table.focus()

    def on_filter_bar_applied(self, event: FilterBar.Applied) -> None:
        event.stop()
        self.apply_filter(event.filter)
        self.table.focus()

    def apply_filter(self, flt: Filter | str) -> None:
        """Show only the changes matching `flt`; the next snapshot reads them."""
        self.filter = Filter.parse(flt) if isinstance(flt, str) else flt
        self.generation += 1
        self.reload_pending = True
        self.table.clear(columns=True)  # columns too: their widths were fitted to the rows that went
        for name in COLUMNS:
            self.table.add_column(name, key=name)
        self.changes.clear()
        self.last_id = 0
        self.shown_id = None
        self.app.refresh_data()


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
