"""The quarantine tab: changes parked with their reason; s skips the selected one after a confirmation, u undoes
the last skip (neither in read-only mode)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.binding import Binding

from replicator.store import Quarantine

from .changes import SIDE_LABELS
from .format import safe, short, show_time
from .modals import ConfirmModal
from .record_pane import RecordPane


class QuarantinePane(RecordPane):
    """Table of open quarantine rows plus the full reason of the selected one."""

    PREFIX = "quarantine"
    COLUMNS = ("id", "since", "side", "entity", "record", "field", "tries", "reason")
    READONLY_NOTICE = "Read-only mode (--readonly): quarantined changes can be looked at but not skipped."
    EMPTY_TEXT = "Nothing in quarantine."
    BINDINGS = [Binding("s", "skip", "Skip"), Binding("u", "undo_skip", "Undo skip")]
    DEFAULT_CSS = """
    QuarantinePane .notice { background: $warning 30%; padding: 0 1; }
    QuarantinePane #quarantine-body { height: 1fr; }
    QuarantinePane #quarantine-table { height: 1fr; }
    QuarantinePane #quarantine-detail-box { height: auto; max-height: 10; border-top: solid $primary; }
    """

    def __init__(self, readonly: bool = False, **kwargs):
        super().__init__(readonly=readonly, **kwargs)
        self.skipped: list[Quarantine] = []  # this session's skips, newest last: what `u` can undo

    def row_cells(self, row: Quarantine) -> tuple:
        return (
            row.id,
            show_time(row.created_at, brief=True),
            SIDE_LABELS.get(row.side, row.side),
            row.entity,
            safe(short(self.label(row), 36)),
            row.field,
            row.attempts,
            safe(short(row.reason, 80)),
        )

    def signature(self, row: Quarantine) -> tuple:
        return (row.id, row.reason, row.attempts, row.field, self.label(row))

    def filter_parts(self, row: Quarantine) -> dict[str, Any]:
        return {
            "status": "open" if self.filter.status == "open" else "",
            "entity": row.entity,
            "side": row.side,
            "key": row.key,
            "texts": [self.label(row), row.reason, row.field],
        }

    def detail_text(self, row: Quarantine) -> Text:
        text = Text()
        text.append(f"quarantine {row.id} · {row.side} {row.entity} ", style="bold")
        text.append(safe(self.label(row)), style="bold cyan")
        text.append(f"  (key {safe(row.key)}" + (f", change {row.change_id})" if row.change_id else ")"), style="dim")
        text.append(f"\n{safe(row.reason)}")
        text.append(f"\ntried {row.attempts} time(s) since {show_time(row.created_at)}", style="dim")
        return text

    def action_skip(self) -> None:
        row = self.target()
        if row is None:
            return
        body = Text()
        body.append(f"{row.entity} ", style="bold").append(safe(self.label(row)), style="bold cyan")
        body.append(f"\n{safe(row.reason)}\n")
        body.append("Its change is marked skipped and never applied; u undoes the skip.", style="dim")

        def answered(yes: bool | None) -> None:
            if yes:
                self._skip(row)

        self.app.push_screen(ConfirmModal(f"Skip quarantined change {row.id}?", body, yes="skip it"), answered)

    def _skip(self, row: Quarantine) -> None:
        store = self.store

        def write() -> str:
            store.skip_quarantine(row.id)
            return f"Quarantined change {row.id} skipped (u undoes it)."

        self.write_in_background(write, after=lambda: self.skipped.append(row))

    def action_undo_skip(self) -> None:
        if self.readonly:
            self.notify(self.READONLY_NOTICE, severity="warning")
            return
        if not self.skipped or self.store is None:
            self.notify("No skip to undo in this session.", severity="warning")
            return
        row = self.skipped.pop()
        store = self.store

        def write() -> str:
            store.unskip_quarantine(row.id)
            return f"Quarantined change {row.id} is back in quarantine: it is retried on the next cycle."

        self.write_in_background(write)
