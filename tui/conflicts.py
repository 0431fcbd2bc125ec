"""The conflicts tab: open conflicts and the keys that resolve them (f, p, b, e).

Every resolution goes through `Store.resolve_conflict`.  In read-only mode a notice is shown and the keys
only explain why nothing happens.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import DataTable, Static

from replicator.store import Conflict, Store

from .format import safe, short, show_json, show_time
from .modals import CANCELLED, ValueInputModal
from .messages import StoreChanged

READONLY_NOTICE = "Read-only mode (--readonly): conflicts can be looked at but not resolved."
COLUMNS = ("id", "entity", "key", "field", "base", "FactuSOL", "PrestaShop", "since")


class ConflictsPane(Vertical):
    """Table of open conflicts plus the full values of the selected one."""

    BINDINGS = [
        Binding("f", "take('factusol')", "Take FactuSOL"),
        Binding("p", "take('prestashop')", "Take PrestaShop"),
        Binding("b", "take('base')", "Keep base"),
        Binding("e", "edit", "Custom value"),
    ]
    DEFAULT_CSS = """
    ConflictsPane .notice { background: $warning 30%; padding: 0 1; }
    ConflictsPane #conflict-table { height: 1fr; }
    ConflictsPane #conflict-detail-box { height: auto; max-height: 12; border-top: solid $primary; }
    """

    def __init__(self, readonly: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.readonly = readonly
        self.conflicts: dict[int, Conflict] = {}
        self.store: Store | None = None

    def compose(self) -> ComposeResult:
        notice = Static(READONLY_NOTICE, classes="notice", id="conflict-readonly")
        notice.display = self.readonly
        yield notice
        table = DataTable(id="conflict-table", cursor_type="row", zebra_stripes=True)
        for name in COLUMNS:
            table.add_column(name, key=name)
        yield table
        with VerticalScroll(id="conflict-detail-box"):
            yield Static("No open conflicts.", id="conflict-detail")

    @property
    def table(self) -> DataTable:
        return self.query_one("#conflict-table", DataTable)

    def refresh_from(self, store: Store) -> None:
        """Re-read the open conflicts; the table is rebuilt only when they changed."""
        self.store = store
        current = {c.id: c for c in store.conflicts("open")}
        if _signature(current) == _signature(self.conflicts):
            return
        selected = self.selected_id()
        self.conflicts = current
        table = self.table
        table.clear()
        for conflict in current.values():
            table.add_row(
                conflict.id, conflict.entity, safe(short(conflict.key, 24)), conflict.field,
                safe(short(show_json(conflict.base), 24)), safe(short(show_json(conflict.factusol), 24)),
                safe(short(show_json(conflict.prestashop), 24)), show_time(conflict.created_at),
                key=str(conflict.id),
            )
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

    def show_detail(self, conflict_id: int | None) -> None:
        detail = self.query_one("#conflict-detail", Static)
        conflict = self.conflicts.get(conflict_id) if conflict_id is not None else None
        if conflict is None:
            detail.update("No open conflicts." if not self.conflicts else "")
            return
        text = Text()
        text.append(f"conflict {conflict.id}: {conflict.entity} {safe(conflict.key)} field {conflict.field}",
                    style="bold")
        if conflict.change_id:
            text.append(f"  (change {conflict.change_id})", style="dim")
        for label, raw, key in (("base", conflict.base, "b"), ("FactuSOL", conflict.factusol, "f"),
                                ("PrestaShop", conflict.prestashop, "p")):
            text.append(f"\n[{key}] {label:<11}", style="dim")
            text.append(safe(show_json(raw)))
        detail.update(text)

    # -- actions ---------------------------------------------------------------------------------
    def _target(self) -> Conflict | None:
        if self.readonly:
            self.notify(READONLY_NOTICE, severity="warning")
            return None
        conflict_id = self.selected_id()
        if conflict_id is None or self.store is None:
            self.notify("No conflict selected.", severity="warning")
            return None
        return self.conflicts[conflict_id]

    def action_take(self, take: str) -> None:
        conflict = self._target()
        if conflict is not None:
            self._resolve(conflict, take)

    def action_edit(self) -> None:
        conflict = self._target()
        if conflict is None:
            return

        def done(value: Any) -> None:
            if value is not CANCELLED:
                self._resolve(conflict, "custom", value)

        title = f"Custom value for {conflict.entity} {safe(conflict.key)} field {conflict.field}"
        self.app.push_screen(ValueInputModal(title, safe(show_json(conflict.factusol))), done)

    def _resolve(self, conflict: Conflict, take: str, value: Any = None) -> None:
        try:
            resolved = self.store.resolve_conflict(conflict.id, take, value)
        except (KeyError, ValueError) as exc:
            self.notify(safe(exc), severity="error")
        else:
            self.notify(f"Conflict {conflict.id} resolved ({take}): {safe(short(show_json(resolved.resolution)))}")
        self.post_message(StoreChanged())


def _signature(conflicts: dict[int, Conflict]) -> list[tuple]:
    return [(c.id, c.base, c.factusol, c.prestashop) for c in conflicts.values()]
