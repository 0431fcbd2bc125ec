"""The quarantine tab: changes parked with their reason; s skips the selected one (not in read-only)."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding

from replicator.store import Quarantine, Store

from .format import safe, short, show_time
from .record_pane import RecordPane


class QuarantinePane(RecordPane):
    """Table of open quarantine rows plus the full reason of the selected one."""

    PREFIX = "quarantine"
    COLUMNS = ("id", "since", "side", "entity", "key", "field", "attempts", "reason")
    READONLY_NOTICE = "Read-only mode (--readonly): quarantined changes can be looked at but not skipped."
    EMPTY_TEXT = "Nothing in quarantine."
    BINDINGS = [Binding("s", "skip", "Skip")]
    DEFAULT_CSS = """
    QuarantinePane .notice { background: $warning 30%; padding: 0 1; }
    QuarantinePane #quarantine-table { height: 1fr; }
    QuarantinePane #quarantine-detail-box { height: auto; max-height: 10; border-top: solid $primary; }
    """

    def fetch(self, store: Store) -> list[Quarantine]:
        return store.quarantined("open")

    def row_cells(self, row: Quarantine) -> tuple:
        return (row.id, show_time(row.created_at), row.side, row.entity, safe(short(row.key, 24)), row.field,
                row.attempts, safe(short(row.reason, 80)))

    def signature(self, row: Quarantine) -> tuple:
        return (row.id, row.reason, row.attempts, row.field)

    def detail_text(self, row: Quarantine) -> Text:
        text = Text()
        text.append(f"quarantine {row.id}: {row.side} {row.entity} {safe(row.key)}", style="bold")
        if row.change_id:
            text.append(f"  (change {row.change_id})", style="dim")
        text.append(f"\n{safe(row.reason)}")
        return text

    def action_skip(self) -> None:
        row = self.target()
        if row is None:
            return
        store = self.store

        def write() -> str:
            store.skip_quarantine(row.id)
            return f"Quarantined change {row.id} skipped."
        self.write_in_background(write)
