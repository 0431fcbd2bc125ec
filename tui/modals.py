"""Modal screens: the custom value editor of a conflict, and the confirmation before a write."""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class _Cancelled:
    """Marker returned when the editor is closed without a value."""


CANCELLED = _Cancelled()


def parse_value(text: str) -> Any:
    """The typed text as a JSON value when it parses (12.5, null, "x", true), else as a plain string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


class ValueInputModal(ModalScreen[Any]):
    """Asks for a value; dismisses with the parsed value, or CANCELLED on Escape."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    ValueInputModal { align: center middle; }
    ValueInputModal > Vertical {
        width: 80%; max-width: 100; height: auto; padding: 1 2;
        border: thick $primary; background: $surface;
    }
    ValueInputModal Label { width: 100%; margin-bottom: 1; }
    """

    def __init__(self, title: str, initial: str = ""):
        super().__init__()
        self.title_text = title
        self.initial = initial

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, id="value-title")
            yield Label(
                'Type a JSON value (12.5, null, "text") or plain text. Enter saves, Esc cancels.', classes="hint"
            )
            yield Input(value=self.initial, id="value-input")

    def on_mount(self) -> None:
        self.query_one("#value-input", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(parse_value(event.value))

    def action_cancel(self) -> None:
        self.dismiss(CANCELLED)


class ConfirmModal(ModalScreen[bool]):
    """Shows what a key is about to write and asks for y (or Enter) before it is written; n or Esc cancels."""

    BINDINGS = [Binding("y,enter", "answer(True)", "Yes, write it"), Binding("n,escape", "answer(False)", "No")]
    DEFAULT_CSS = """
    ConfirmModal { align: center middle; }
    ConfirmModal > Vertical {
        width: 90%; max-width: 110; height: auto; padding: 1 2; border: thick $warning; background: $surface;
    }
    ConfirmModal #confirm-keys { margin-top: 1; color: $text-muted; }
    """

    def __init__(self, title: str, body: Any, yes: str = "write it"):
        super().__init__()
        self.title_text = title
        self.body = body
        self.yes = yes

    def compose(self) -> ComposeResult:
        from textual.widgets import Static

        with Vertical():
            yield Label(Text(self.title_text, style="bold"), id="confirm-title")
            yield Static(self.body, id="confirm-body")
            yield Label(Text(f"[y] / Enter: {self.yes}    [n] / Esc: cancel"), id="confirm-keys")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
