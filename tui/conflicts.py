"""The conflicts tab: open conflicts, the field side by side (base / FactuSOL / shop) with the record's human
name, and the keys that resolve them (f, p, b, e), each previewed and confirmed before it is written.

Every resolution goes through `Store.resolve_conflict`.  In read-only mode a notice is shown and the keys only
explain why nothing happens.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.binding import Binding

from replicator.masking import MASK, is_credential
from replicator.store import Conflict

from .format import safe, short, show_json, show_time
from .modals import CANCELLED, ConfirmModal, ValueInputModal
from .record_pane import RecordPane

READONLY_NOTICE = "Read-only mode (--readonly): conflicts can be looked at but not resolved."
TAKE_NAMES = {
    "factusol": "the FactuSOL value",
    "prestashop": "the shop value",
    "base": "the base value (last agreed)",
    "custom": "your value",
}


def shown_value(conflict: Conflict, raw: str | None) -> str:
    """A conflict value as JSON text, masked when the field holds a credential."""
    if is_credential(conflict.field) and raw not in (None, '""', "null"):
        return MASK
    return safe(show_json(raw))


class ConflictsPane(RecordPane):
    """Table of open conflicts plus the selected one side by side."""

    PREFIX = "conflict"
    COLUMNS = ("id", "entity", "record", "field", "base", "FactuSOL", "shop", "since")
    READONLY_NOTICE = READONLY_NOTICE
    EMPTY_TEXT = "No open conflicts."
    NOTHING_SELECTED = "No conflict selected."
    BINDINGS = [
        Binding("f", "take('factusol')", "Take FactuSOL"),
        Binding("p", "take('prestashop')", "Take shop"),
        Binding("b", "take('base')", "Keep base"),
        Binding("e", "edit", "Own value"),
    ]
    DEFAULT_CSS = """
    ConflictsPane .notice { background: $warning 30%; padding: 0 1; }
    ConflictsPane #conflict-body { height: 1fr; }
    ConflictsPane #conflict-table { height: 1fr; }
    ConflictsPane #conflict-detail-box { height: auto; max-height: 14; border-top: solid $primary; }
    """

    def row_cells(self, conflict: Conflict) -> tuple:
        return (
            conflict.id,
            conflict.entity,
            safe(short(self.label(conflict), 36)),
            conflict.field,
            short(shown_value(conflict, conflict.base), 20),
            short(shown_value(conflict, conflict.factusol), 20),
            short(shown_value(conflict, conflict.prestashop), 20),
            show_time(conflict.created_at, brief=True),
        )

    def signature(self, conflict: Conflict) -> tuple:
        return (conflict.id, conflict.base, conflict.factusol, conflict.prestashop, self.label(conflict))

    def filter_parts(self, conflict: Conflict) -> dict[str, Any]:
        return {
            "status": "open" if self.filter.status == "open" else "",
            "entity": conflict.entity,
            "key": conflict.key,
            "texts": [
                self.label(conflict),
                conflict.field,
                conflict.base or "",
                conflict.factusol or "",
                conflict.prestashop or "",
            ],
        }

    def detail_text(self, conflict: Conflict) -> Group:
        head = Text()
        head.append(f"conflict {conflict.id} · {conflict.entity} ", style="bold")
        head.append(safe(self.label(conflict)), style="bold cyan")
        head.append(f"  (key {safe(conflict.key)}", style="dim")
        head.append(f", change {conflict.change_id})" if conflict.change_id else ")", style="dim")
        head.append("\nfield ").append(conflict.field, style="bold")
        head.append(f" changed on both sides; opened {show_time(conflict.created_at)}", style="dim")
        table = Table(expand=True, show_lines=False)
        for title, key in (("base (last agreed)", "b"), ("FactuSOL", "f"), ("shop", "p")):
            table.add_column(f"[{key}] {title}", overflow="fold", ratio=1)
        table.add_row(
            Text(shown_value(conflict, conflict.base), style="dim"),
            Text(shown_value(conflict, conflict.factusol), style="bold"),
            Text(shown_value(conflict, conflict.prestashop), style="bold"),
        )
        return Group(head, table)

    # -- actions ---------------------------------------------------------------------------------
    def action_take(self, take: str) -> None:
        conflict = self.target()
        if conflict is not None:
            raw = {"factusol": conflict.factusol, "prestashop": conflict.prestashop, "base": conflict.base}[take]
            self._confirm(conflict, take, json.loads(raw) if raw is not None else None)

    def action_edit(self) -> None:
        conflict = self.target()
        if conflict is None:
            return

        def done(value: Any) -> None:
            if value is not CANCELLED:
                self._confirm(conflict, "custom", value)

        title = f"Own value for {conflict.entity} {safe(self.label(conflict))} field {conflict.field}"
        initial = "" if is_credential(conflict.field) else safe(show_json(conflict.factusol))
        self.app.push_screen(ValueInputModal(title, initial), done)

    def preview(self, conflict: Conflict, take: str, value: Any) -> Group:
        """What the resolution will write, shown before it is written."""
        shown = MASK if is_credential(conflict.field) else safe(json.dumps(value, ensure_ascii=False))
        text = Text()
        text.append(f"{conflict.entity} ", style="bold").append(safe(self.label(conflict)), style="bold cyan")
        text.append("\nfield ").append(conflict.field, style="bold").append(" becomes ")
        text.append(shown, style="bold green").append(f" on both sides ({TAKE_NAMES[take]}).")
        text.append("\nThe running replicator writes it on its next cycle.", style="dim")
        return Group(text, self.detail_text(conflict).renderables[1])

    def _confirm(self, conflict: Conflict, take: str, value: Any) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self._resolve(conflict, take, value)
            else:
                self.notify(f"Conflict {conflict.id} left open.", timeout=3)

        self.app.push_screen(
            ConfirmModal(f"Resolve conflict {conflict.id}?", self.preview(conflict, take, value), yes="resolve"),
            answered,
        )

    def _resolve(self, conflict: Conflict, take: str, value: Any = None) -> None:
        store = self.store

        def write() -> str:
            resolved = store.resolve_conflict(conflict.id, take, value)
            shown = MASK if is_credential(conflict.field) else safe(short(show_json(resolved.resolution)))
            return f"Conflict {conflict.id} resolved ({TAKE_NAMES[take]}): {shown}"

        self.write_in_background(write)
