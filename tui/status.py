"""The status header: change counts per status, open conflicts and quarantine, checkpoints, configuration.

The configuration part comes from `Config.describe()` (already masked) and is redacted once more here.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from replicator.store import Store

from .format import STATUS_STYLES, STATUSES, safe, short, show_time, show_value


def describe_config(description: dict[str, Any]) -> Text:
    """One line naming the store, the FactuSOL source and the shop database, secrets masked."""
    fs = description.get("factusol") or {}
    ps = description.get("prestashop") or {}
    if fs.get("file"):
        fs_source = fs["file"]
    elif fs.get("data_dir"):
        fs_source = f"{fs['data_dir']} (company {fs.get('company', '')})"
    else:
        fs_source = fs.get("connection") or "?"
    text = Text()
    text.append("store ", style="dim").append(safe(description.get("store", "")))
    text.append("  FactuSOL ", style="dim").append(safe(fs_source))
    text.append("  PrestaShop ", style="dim").append(safe(ps.get("url", "")))
    if ps.get("capture"):
        text.append(f" ({safe(ps['capture'])})", style="dim")
    return text


class StatusHeader(Static):
    """Three lines: counts, checkpoints, configuration."""

    DEFAULT_CSS = """
    StatusHeader { height: auto; padding: 0 1; background: $boost; }
    """

    def __init__(self, config_description: dict[str, Any], readonly: bool = False, **kwargs):
        super().__init__("", **kwargs)
        self.config_description = config_description
        self.readonly = readonly
        self.summary: dict[str, Any] = {}

    def refresh_from(self, store: Store) -> None:
        self.summary = store.status_summary()
        self.summary["checkpoint_times"] = store.checkpoint_times()
        self.update(self.render_summary())

    def render_summary(self) -> Text:
        counts = self.summary.get("changes", {})
        text = Text()
        for status in STATUSES:
            text.append(f"{status} ", style="dim").append(str(counts.get(status, 0)), style=STATUS_STYLES[status])
            text.append("  ")
        text.append("│ open conflicts ", style="dim")
        text.append(str(self.summary.get("open_conflicts", 0)),
                    style="bold red" if self.summary.get("open_conflicts") else "")
        text.append("  open quarantine ", style="dim")
        text.append(str(self.summary.get("open_quarantine", 0)),
                    style="magenta" if self.summary.get("open_quarantine") else "")
        if self.readonly:
            text.append("  READ-ONLY", style="bold reverse")
        text.append("\n")
        points = self.summary.get("checkpoint_times", {})
        if points:
            for name, (value, updated_at) in sorted(points.items()):
                text.append(f"{safe(name)} ", style="dim")
                text.append(safe(short(show_value(value), 50)))
                text.append(f" @ {show_time(updated_at)}   ", style="dim")
        else:
            text.append("no checkpoints yet (nothing captured)", style="dim")
        text.append("\n")
        text.append_text(describe_config(self.config_description))
        return text
