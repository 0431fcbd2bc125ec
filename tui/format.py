"""Small text helpers shared by the widgets: value rendering, masking, the before/after comparison.

Everything that reaches the screen from the store or the configuration passes through `safe()`, which
applies `replicator.config.redact` so a registered secret can never be displayed.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from rich.table import Table
from rich.text import Text

from replicator.config import MASK, redact
from replicator.masking import is_credential

STATUS_STYLES = {
    "pending": "yellow",
    "applied": "green",
    "echo": "dim",
    "conflict": "bold red",
    "quarantined": "magenta",
    "skipped": "dim italic",
}
STATUSES = tuple(STATUS_STYLES)
SIDES = ("factusol", "prestashop")
SIDE_ALIASES = {"fs": "factusol", "ps": "prestashop", "factusol": "factusol", "prestashop": "prestashop"}


def safe(value: Any) -> str:
    """`value` as text with every secret redacted."""
    return redact("" if value is None else value)


def short(text: str, width: int = 60) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def show_json(raw: str | None) -> str:
    """A stored JSON value as compact readable text ("null" when absent)."""
    if raw is None:
        return "null"
    try:
        return json.dumps(json.loads(raw), ensure_ascii=False)
    except ValueError:
        return raw


def show_value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def show_time(value: datetime | None, brief: bool = False) -> str:
    """Local time; `brief` (table cells): today's times as HH:MM:SS, older ones as MM-DD HH:MM."""
    if value is None:
        return ""
    if value.tzinfo is None:  # SQLite gives naive datetimes back; they were stored in UTC
        value = value.replace(tzinfo=timezone.utc)
    local = value.astimezone()
    if brief:
        return local.strftime("%H:%M:%S" if local.date() == datetime.now().astimezone().date() else "%m-%d %H:%M")
    return local.strftime("%Y-%m-%d %H:%M:%S")


def status_text(status: str) -> Text:
    return Text(status, style=STATUS_STYLES.get(status, ""))


def is_sensitive(field: str) -> bool:
    """Columns that hold credentials or tokens: one rule for the CLI and the TUI (replicator.masking)."""
    return is_credential(field)


def changed_fields(before: dict | None, after: dict | None) -> set[str]:
    """Names of the fields whose value differs between the two images (all fields on insert/delete)."""
    before, after = before or {}, after or {}
    return {k for k in set(before) | set(after) if k not in before or k not in after or before[k] != after[k]}


def diff_table(before: dict | None, after: dict | None, before_kept: bool = True, show_all: bool = False) -> Table:
    """A field | before | after table: changed fields first, marked with * and highlighted; the unchanged ones
    follow with `show_all`, else one line says how many are hidden (`a` shows them).

    Columns that hold credentials (passwd, secure_key, tokens) show *** instead of their value.
    `before_kept=False`: an update or delete whose before-image was not kept (see docs/reliability.md); the
    table says so and lists every field, since which changed is unknown.
    """
    changed = changed_fields(before, after) if before_kept else set()
    table = Table(expand=True, show_lines=False)
    if not before_kept:
        table.caption = "before-image not kept" + (": which fields changed is unknown" if after else "")
    table.add_column("field", no_wrap=True)
    table.add_column("before", overflow="fold", ratio=1)
    table.add_column("after", overflow="fold", ratio=1)
    fields = list((before or {}).keys()) + [k for k in (after or {}) if k not in (before or {})]
    ordered = [f for f in fields if f in changed] + [f for f in fields if f not in changed]
    hidden = 0
    for name in ordered:
        if name not in changed and before_kept and not show_all and changed:
            hidden += 1
            continue
        cells = []
        for is_before, image in ((True, before), (False, after)):
            if is_before and not before_kept:
                cells.append(Text("not kept", style="dim"))
            elif image is None or name not in image:
                cells.append(Text("—", style="dim"))
            elif is_sensitive(name):
                cells.append(Text(MASK, style="dim"))
            else:
                cells.append(Text(safe(show_value(image[name]))))
        style = "bold yellow" if name in changed else ""
        if name in changed:
            cells = [Text(c.plain, style="bold yellow" if c.style != "dim" else "dim") for c in cells]
        table.add_row(Text(("* " if name in changed else "  ") + name, style=style), *cells)
    if hidden:
        table.add_row(
            Text(f"  … {hidden} unchanged field{'s' if hidden != 1 else ''} hidden (a: show all)", style="dim italic"),
            "",
            "",
        )
    if not fields:
        table.add_row(Text("(no image)", style="dim"), Text("not kept", style="dim") if not before_kept else "", "")
    return table
