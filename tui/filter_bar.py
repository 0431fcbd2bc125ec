"""The filter row above a tab's table: an input that `/` opens and a chip that shows the active filter.

The input is shown only while typing; once applied, the filter stays visible as a highlighted chip
(`filter: status=pending "pierre" · Esc clears`) until Esc clears it.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static

from .filters import Filter


class FilterBar(Vertical):
    """Input + chip; posts `FilterBar.Applied` with the parsed filter."""

    DEFAULT_CSS = """
    FilterBar { height: auto; }
    FilterBar Input { display: none; }
    FilterBar.-typing Input { display: block; }
    FilterBar .chip { display: none; background: $accent 40%; color: $text; padding: 0 1; }
    FilterBar.-active .chip { display: block; }
    """

    class Applied(Message):
        def __init__(self, bar: "FilterBar", flt: Filter) -> None:
            super().__init__()
            self.bar = bar
            self.filter = flt

    def __init__(self, prefix: str, placeholder: str, **kwargs):
        super().__init__(id=f"{prefix}-filterbar", **kwargs)
        self.prefix = prefix
        self.placeholder = placeholder
        self.filter = Filter()

    def compose(self) -> ComposeResult:
        yield Input(placeholder=self.placeholder, id=f"{self.prefix}-filter")
        yield Static("", classes="chip", id=f"{self.prefix}-chip")

    @property
    def input(self) -> Input:
        return self.query_one(Input)

    def open(self) -> None:
        self.add_class("-typing")
        self.input.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.apply(event.value)

    def apply(self, text: str) -> None:
        self.filter = Filter.parse(text)
        self.input.value = text
        self.remove_class("-typing")
        self.set_class(self.filter.active, "-active")
        chip = Text()
        chip.append(" filter ", style="bold reverse").append(" ").append(self.filter.chip())
        chip.append("   Esc clears", style="dim")
        self.query_one(".chip", Static).update(chip)
        self.post_message(self.Applied(self, self.filter))

    def clear(self) -> bool:
        """Clear the filter (True if there was one or the input was open)."""
        had = self.filter.active or self.has_class("-typing") or bool(self.input.value)
        if had:
            self.apply("")
        return had
