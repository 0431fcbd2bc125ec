"""The conflicts tab: open conflicts and the keys that resolve them (f, p, b, e).

Every resolution goes through `Store.resolve_conflict`.  In read-only mode a notice is shown and the keys
only explain why nothing happens.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.binding import Binding

from replicator.store import Conflict, Store

from .format import safe, short, show_json, show_time
from .modals import CANCELLED, ValueInputModal
from .record_pane import RecordPane

READONLY_NOTICE = "Read-only mode (--readonly): conflicts can be looked at but not resolved."


class ConflictsPane(RecordPane):
    """Table of open conflicts plus the full values of the selected one."""

    PREFIX = "conflict"
    COLUMNS = ("id", "entity", "key", "field", "base", "FactuSOL", "PrestaShop", "since")
    READONLY_NOTICE = READONLY_NOTICE
    EMPTY_TEXT = "No open conflicts."
    NOTHING_SELECTED = "No conflict selected."
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

    def fetch(self, store: Store) -> list[Conflict]:
        return store.conflicts("open")

    def row_cells(self, conflict: Conflict) -> tuple:
        return (conflict.id, conflict.entity, safe(short(conflict.key, 24)), conflict.field,
                safe(short(show_json(conflict.base), 24)), safe(short(show_json(conflict.factusol), 24)),
                safe(short(show_json(conflict.prestashop), 24)), show_time(conflict.created_at))

    def signature(self, conflict: Conflict) -> tuple:
        return (conflict.id, conflict.base, conflict.factusol, conflict.prestashop)

    def detail_text(self, conflict: Conflict) -> Text:
        text = Text()
        text.append(f"conflict {conflict.id}: {conflict.entity} {safe(conflict.key)} field {conflict.field}",
                    style="bold")
        if conflict.change_id:
            text.append(f"  (change {conflict.change_id})", style="dim")
        for label, raw, key in (("base", conflict.base, "b"), ("FactuSOL", conflict.factusol, "f"),
                                ("PrestaShop", conflict.prestashop, "p")):
            text.append(f"\n[{key}] {label:<11}", style="dim")
            text.append(safe(show_json(raw)))
        return text

    # -- actions ---------------------------------------------------------------------------------
    def action_take(self, take: str) -> None:
        conflict = self.target()
        if conflict is not None:
            self._resolve(conflict, take)

    def action_edit(self) -> None:
        conflict = self.target()
        if conflict is None:
            return

        def done(value: Any) -> None:
            if value is not CANCELLED:
                self._resolve(conflict, "custom", value)

        title = f"Custom value for {conflict.entity} {safe(conflict.key)} field {conflict.field}"
        self.app.push_screen(ValueInputModal(title, safe(show_json(conflict.factusol))), done)

    def _resolve(self, conflict: Conflict, take: str, value: Any = None) -> None:
        store = self.store

        def write() -> str:
            resolved = store.resolve_conflict(conflict.id, take, value)
            return f"Conflict {conflict.id} resolved ({take}): {safe(short(show_json(resolved.resolution)))}"
        self.write_in_background(write)
