"""The quarantine tab: changes parked with their reason; s skips the selected one (not in read-only)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import DataTable, Static

from replicator.store import Quarantine, Store

from .format import safe, short, show_time
from .messages import StoreChanged

READONLY_NOTICE = "Read-only mode (--readonly): quarantined changes can be looked at but not skipped."
COLUMNS = ("id", "since", "side", "entity", "key", "field", "attempts", "reason")


class QuarantinePane(Vertical):
    """Table of open quarantine rows plus the full reason of the selected one."""

    BINDINGS = [Binding("s", "skip", "Skip")]
    DEFAULT_CSS = """
    QuarantinePane .notice { background: $warning 30%; padding: 0 1; }
    QuarantinePane #quarantine-table { height: 1fr; }
    QuarantinePane #quarantine-detail-box { height: auto; max-height: 10; border-top: solid $primary; }
    """

    def __init__(self, readonly: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.readonly = readonly
        self.rows: dict[int, Quarantine] = {}
        self.store: Store | None = None

    def compose(self) -> ComposeResult:
        notice = Static(READONLY_NOTICE, classes="notice", id="quarantine-readonly")
        notice.display = self.readonly
        yield notice
        table = DataTable(id="quarantine-table", cursor_type="row", zebra_stripes=True)
        for name in COLUMNS:
            table.add_column(name, key=name)
        yield table
        with VerticalScroll(id="quarantine-detail-box"):
            yield Static("Nothing in quarantine.", id="quarantine-detail")

    @property
    def table(self) -> DataTable:
        return self.query_one("#quarantine-table", DataTable)

    def refresh_from(self, store: Store) -> None:
        self.store = store
        current = {q.id: q for q in store.quarantined("open")}
        if _signature(current) == _signature(self.rows):
            return
        selected = self.selected_id()
        self.rows = current
        table = self.table
        table.clear()
        for row in current.values():
            table.add_row(row.id, show_time(row.created_at), row.side, row.entity, safe(short(row.key, 24)),
                          row.field, row.attempts, safe(short(row.reason, 80)), key=str(row.id))
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

    def show_detail(self, quarantine_id: int | None) -> None:
        detail = self.query_one("#quarantine-detail", Static)
        row = self.rows.get(quarantine_id) if quarantine_id is not None else None
        if row is None:
            detail.update("Nothing in quarantine." if not self.rows else "")
            return
        text = Text()
        text.append(f"quarantine {row.id}: {row.side} {row.entity} {safe(row.key)}", style="bold")
        if row.change_id:
            text.append(f"  (change {row.change_id})", style="dim")
        text.append(f"\n{safe(row.reason)}")
        detail.update(text)

    def action_skip(self) -> None:
        if self.readonly:
            self.notify(READONLY_NOTICE, severity="warning")
            return
        row_id = self.selected_id()
        if row_id is None or self.store is None:
            self.notify("Nothing selected.", severity="warning")
            return
        try:
            self.store.skip_quarantine(row_id)
        except KeyError as exc:
            self.notify(safe(exc), severity="error")
        else:
            self.notify(f"Quarantined change {row_id} skipped.")
        self.post_message(StoreChanged())


def _signature(rows: dict[int, Quarantine]) -> list[tuple]:
    return [(q.id, q.reason, q.attempts, q.field) for q in rows.values()]
