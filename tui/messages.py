"""Messages the panes send to the app."""

from textual.message import Message


class StoreChanged(Message):
    """A pane wrote to the store (resolved a conflict, skipped a row): refresh everything now."""
