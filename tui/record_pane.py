"""What the conflicts and quarantine tabs share: a read-only notice, a table of store records, a detail box.

A subclass says which records to fetch, how a record fills a table row and the detail box, and which fields
make a record "changed" (the table is rebuilt only when those change, so the cursor does not jump).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import DataTable, Static

from replicator.store import Store, is_busy

from .format import safe
from .messages import StoreChanged


class RecordPane(Vertical):
    PREFIX = ""  # widget ids: <PREFIX>-table, <PREFIX>-detail, <PREFIX>-readonly
    COLUMNS: tuple[str, ...] = ()
    READONLY_NOTICE = ""
    EMPTY_TEXT = ""
    NOTHING_SELECTED = "Nothing selected."

    def __init__(self, readonly: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.readonly = readonly
        self.records: dict[int, Any] = {}
        self.store: Store | None = None

    # -- what subclasses say ----------------------------------------------------------------------
    def fetch(self, store: Store) -> list[Any]:
        raise NotImplementedError

    def row_cells(self, record: Any) -> tuple:
        raise NotImplementedError

    def signature(self, record: Any) -> tuple:
        raise NotImplementedError

    def detail_text(self, record: Any) -> Text:
        raise NotImplementedError

    # -- shared behaviour ---------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        notice = Static(self.READONLY_NOTICE, classes="notice", id=f"{self.PREFIX}-readonly")
        notice.display = self.readonly
        yield notice
        table = DataTable(id=f"{self.PREFIX}-table", cursor_type="row", zebra_stripes=True)
        for name in self.COLUMNS:
            table.add_column(name, key=name)
        yield table
        with VerticalScroll(id=f"{self.PREFIX}-detail-box"):
            yield Static(self.EMPTY_TEXT, id=f"{self.PREFIX}-detail")

    @property
    def table(self) -> DataTable:
        return self.query_one(f"#{self.PREFIX}-table", DataTable)

    def refresh_from(self, store: Store) -> None:
        """Re-read the records; the table is rebuilt only when they changed."""
        self.store = store
        current = {record.id: record for record in self.fetch(store)}
        if [self.signature(r) for r in current.values()] == [self.signature(r) for r in self.records.values()]:
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

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is not None and event.row_key.value is not None:
            self.show_detail(int(event.row_key.value))

    def show_detail(self, record_id: int | None) -> None:
        detail = self.query_one(f"#{self.PREFIX}-detail", Static)
        record = self.records.get(record_id) if record_id is not None else None
        if record is None:
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

    # -- writing -----------------------------------------------------------------------------------
    def write_in_background(self, write: Callable[[], str]) -> None:
        """Run a store write on a worker thread, so the screen keeps answering while the store is busy (the running
        replicator may hold its write lock for a moment).  ``write`` returns the message to show; a KeyError or
        ValueError it raises is shown as an error, and so is a store that stayed locked."""
        app = self.app

        def run() -> None:
            try:
                message, severity = write(), "information"
            except (KeyError, ValueError) as exc:
                message, severity = safe(exc), "error"
            except Exception as exc:
                if not is_busy(exc):
                    raise
                message, severity = "The state store stayed busy (the replicator is writing): try again.", "error"
            app.call_from_thread(self.notify, message, severity=severity)
            app.call_from_thread(self.post_message, StoreChanged())

        self.run_worker(run, thread=True, group="store-writes", exit_on_error=False)
