"""`?`: every key of the current screen (the tab's own keys and the app's), plus the filter words.

The list is taken from Textual's active bindings when `?` is pressed, so it cannot drift from what the keys do;
keys hidden from the footer (Esc, the undo) are listed too.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

FILTER_HELP = (
    "Filter words: a status (pending, conflict…), a side (fs, ps), an entity (customer, product…), "
    "key=…, or any text (article code, customer name or e-mail). Esc clears."
)
SECTIONS = ("This tab", "Everywhere", "Moving around")


def collect_keys(app) -> list[tuple[str, list[tuple[str, str]]]]:
    """Every binding active on the current screen, in sections: the tab's own keys, the app's keys, then the
    table's and the screen's movement keys.  Each row is (key, what it does)."""
    from textual.app import App
    from textual.screen import Screen
    from textual.widgets import DataTable

    sections: dict[str, dict[str, list[str]]] = {name: {} for name in SECTIONS}  # section -> does -> keys
    for active in app.screen.active_bindings.values():
        binding, node = active.binding, active.node
        if binding.action in ("command_palette", "help_quit"):
            continue  # ctrl+p is listed below
        description = binding.description or binding.action.replace("_", " ")
        description += "" if active.enabled else " (not available here)"
        section = (
            "Everywhere"
            if isinstance(node, App)
            else "Moving around"
            if isinstance(node, (DataTable, Screen))
            else "This tab"
        )
        keys = sections[section].setdefault(description, [])  # one line per action: q and ctrl+q both quit
        if app.get_key_display(binding) not in keys:
            keys.append(app.get_key_display(binding))
    sections["Moving around"]["command palette: every action by name"] = ["ctrl+p"]
    return [(name, [(", ".join(keys), does) for does, keys in rows.items()]) for name, rows in sections.items() if rows]


class HelpScreen(ModalScreen[None]):
    """A table of keys; any of Esc, q or ? closes it."""

    BINDINGS = [Binding("escape,q,question_mark", "dismiss_help", "Close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90%; max-width: 100; height: auto; max-height: 90%; padding: 0 1;
        border: thick $primary; background: $surface;
    }
    """

    def __init__(self, title: str, keys: list[tuple[str, list[tuple[str, str]]]]):
        super().__init__()
        self.title_text = title
        self.keys = keys

    def compose(self) -> ComposeResult:
        table = Table(show_header=False, expand=True, box=None, padding=(0, 1))
        table.add_column("key", style="bold cyan", no_wrap=True, width=14)
        table.add_column("does")
        for section, rows in self.keys:
            table.add_row(Text(section, style="bold underline"), "")
            for key, description in rows:
                table.add_row(key, description)
        with VerticalScroll():
            yield Static(Text(f"Keys of this screen: {self.title_text}", style="bold"), id="help-title")
            yield Static(table, id="help-keys")
            yield Static(Text(FILTER_HELP, style="dim"), id="help-filter")
            yield Static(Text("Esc or ? closes this help.", style="dim"))

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
