"""What the conflicts and quarantine tabs share: a read-only notice, the filter bar, a table of store records and a
detail box.

A subclass says how a record fills a table row and the detail box, which parts the filter looks at, and which
fields make a record "changed" (the table is rebuilt only when those change, so the cursor does not jump).
Records come from the app's snapshot (`show_records`), read on a worker thread; writes run on a worker too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Vertical, VerticalScroll
from textual.widgets import DataTable, Static

from replicator.store import Store, is_busy

from .filter_bar import FilterBar
from .filters import Filter
from .format import safe
from .messages import StoreChanged


class RecordPane(Vertical):
    PREFIX = ""  # widget ids: <PREFIX>-table, <PREFIX>-detail, <PREFIX>-readonly
    COLUMNS: tuple[str, ...] = ()
    READONLY_NOTICE = ""
    EMPTY_TEXT = ""
    NOTHING_SELECTED = "Nothing selected."
    FILTER_HINT = "/ filter: entity, side, key=…, or text such as a name, an e-mail or a code — Enter applies"
    BINDINGS = [
        Binding("slash", "focus_filter", "Filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def __init__(self, readonly: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.readonly = readonly
        self.all_records: list[Any] = []
        self.records: dict[int, Any] = {}
        self.labels: dict[tuple[str, str], str] = {}
        self.filter = Filter()
        self.store: Store | None = None

    # -- what subclasses say ----------------------------------------------------------------------
    def row_cells(self, record: Any) -> tuple:
        raise NotImplementedError

    def signature(self, record: Any) -> tuple:
        raise NotImplementedError

    def detail_text(self, record: Any) -> Any:
        raise NotImplementedError

    def filter_parts(self, record: Any) -> dict[str, Any]:
        """status, entity, side, key and texts of a record, for `Filter.matches`."""
        raise NotImplementedError

    def label(self, record: Any) -> str:
        return self.labels.get((record.entity, record.key), record.key)

    # -- shared behaviour ---------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        notice = Static(self.READONLY_NOTICE, classes="notice", id=f"{self.PREFIX}-readonly")
        notice.display = self.readonly
        yield notice
        yield FilterBar(self.PREFIX, self.FILTER_HINT)
        with Container(id=f"{self.PREFIX}-body", classes="record-body"):
            table = DataTable(id=f"{self.PREFIX}-table", cursor_type="row", zebra_stripes=True)
            for name in self.COLUMNS:
                table.add_column(name, key=name)
            yield table
            with VerticalScroll(id=f"{self.PREFIX}-detail-box", classes="record-detail"):
                yield Static(self.EMPTY_TEXT, id=f"{self.PREFIX}-detail")

    @property
    def table(self) -> DataTable:
        return self.query_one(f"#{self.PREFIX}-table", DataTable)

    def show_records(self, store: Store, records: list[Any], labels: dict[tuple[str, str], str]) -> None:
        """Show a snapshot's records (filtered); the table is rebuilt only when what it shows changed."""
        self.store = store
        self.labels = labels
        self.all_records = records
        self._render_records()

    def _render_records(self) -> None:
        current = {r.id: r for r in self.all_records if self.filter.matches(**self.filter_parts(r))}
        if [self.signature(r) for r in current.values()] == [
            self.signature(r) for r in self.records.values()
        ] and self.table.row_count == len(current):
            return
        selected = self.selected_id()
        self.records = current
        table = self.table
        table.clear()
        for record in current.values():
            table.add_row(*self.row_cells(record), key=str(record.id))
        if selected in current:
            table.move_cursor(row=table.get_row_index(str(selected)), animate=False)
        self.show_detail(self.selected_id())

    def selected_id(self) -> int | None:
        table = self.table
        if not table.row_count:
            return None
        row_key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return int(row_key.value) if row_key.value is not None else None

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self.show_detail(self.selected_id())  # the row under the cursor now (see ChangeLogPane)

    def show_detail(self, record_id: int | None) -> None:
        detail = self.query_one(f"#{self.PREFIX}-detail", Static)
        record = self.records.get(record_id) if record_id is not None else None
        if record is None:
            if self.all_records and self.filter.active and not self.records:
                detail.update(Text("Nothing matches the filter (Esc clears it).", style="dim"))
            else:
                detail.update(self.EMPTY_TEXT if not self.records else "")
            return
        detail.update(self.detail_text(record))

    def target(self) -> Any | None:
        """The selected record for an action that writes, or None with a notice saying why not."""
        if self.readonly:
            self.notify(self.READONLY_NOTICE, severity="warning")
            return None
        record_id = self.selected_id()
        if record_id is None or self.store is None:
            self.notify(self.NOTHING_SELECTED, severity="warning")
            return None
        return self.records[record_id]

    # -- filter ------------------------------------------------------------------------------------
    def action_focus_filter(self) -> None:
        self.query_one(FilterBar).open()

    def action_clear_filter(self) -> None:
        self.query_one(FilterBar).clear()
        self.table.focus()

    def on_filter_bar_applied(self, event: FilterBar.Applied) -> None:
        event.stop()
        self.filter = event.filter
        self._render_records()
        self.table.focus()

    # -- writing -----------------------------------------------------------------------------------
    def write_in_background(self, write: Callable[[], str], after: Callable[[], None] | None = None) -> None:
        """Run a store write on a worker thread, so the screen keeps answering while the store is busy (the running
        replicator may hold its write lock for a moment).  ``write`` returns the message to show; a KeyError or
        ValueError it raises is shown as an error, and so is a store that stayed locked.  ``after`` runs on the UI
        thread once the write succeeded."""
        app = self.app

        def run() -> None:
            ok = False
            try:
                message, severity, ok = write(), "information", True
            except KeyError as exc:
                message, severity = safe(exc.args[0] if exc.args else exc), "error"
            except ValueError as exc:
                message, severity = safe(exc), "error"
            except Exception as exc:
                if not is_busy(exc):
                    raise
                message, severity = "The state store stayed busy (the replicator is writing): try again.", "error"
            app.call_from_thread(self.notify, message, severity=severity, timeout=8)
            if ok and after is not None:
                app.call_from_thread(after)
            app.call_from_thread(self.post_message, StoreChanged())

        self.run_worker(run, thread=True, group="store-writes", exit_on_error=False)
