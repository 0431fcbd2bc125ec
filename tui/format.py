"""Small text helpers shared by the widgets: value rendering, masking, the before/after comparison.

Everything that reaches the screen from the store or the configuration passes through `safe()`, which
applies `replicator.config.redact` so a registered secret can never be displayed.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

from rich.table import Table
from rich.text import Text

from replicator.config import MASK, redact

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

# Row columns that hold credentials or tokens (PrestaShop customer.passwd, secure_key, ...): never shown.
_SENSITIVE = re.compile(r"(?i)(passw|pwd|secure_key|token|secret)")


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


def show_time(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:  # SQLite gives naive datetimes back; they were stored in UTC
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def status_text(status: str) -> Text:
    return Text(status, style=STATUS_STYLES.get(status, ""))


def is_sensitive(field: str) -> bool:
    return bool(_SENSITIVE.search(field))


def changed_fields(before: dict | None, after: dict | None) -> set[str]:
    """Names of the fields whose value differs between the two images (all fields on insert/delete)."""
    before, after = before or {}, after or {}
    return {k for k in set(before) | set(after) if k not in before or k not in after or before[k] != after[k]}


def diff_table(before: dict | None, after: dict | None, before_kept: bool = True) -> Table:
    """A field | before | after table; changed fields are marked with * and highlighted.

    Columns that hold credentials (passwd, secure_key, tokens) show *** instead of their value.
    `before_kept=False`: an update or delete whose before-image was not kept (see docs/reliability.md); the
    table says so instead of marking every field as changed.
    """
    changed = changed_fields(before, after) if before_kept else set()
    table = Table(expand=True, show_lines=False)
    if not before_kept:
        table.caption = "before-image not kept" + (": which fields changed is unknown" if after else "")
    table.add_column("field", no_wrap=True)
    table.add_column("before", overflow="fold", ratio=1)
    table.add_column("after", overflow="fold", ratio=1)
    fields = list((before or {}).keys()) + [k for k in (after or {}) if k not in (before or {})]
    for name in fields:
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
    if not fields:
        table.add_row(Text("(no image)", style="dim"), Text("not kept", style="dim") if not before_kept else "", "")
    return table


def parse_filter(text: str) -> dict[str, str | None]:
    """'conflict customer' or 'status=conflict entity=customer side=factusol' -> filter keywords.

    A bare word is a status if it names one, a side if it names one, otherwise an entity.
    """
    result: dict[str, str | None] = {"status": None, "entity": None, "side": None}
    for word in text.split():
        if "=" in word or ":" in word:
            name, _, value = word.replace(":", "=", 1).partition("=")
            if name in result and value:
                result[name] = SIDE_ALIASES.get(value, value) if name == "side" else value
        elif word in STATUSES:
            result["status"] = word
        elif word in SIDE_ALIASES:
            result["side"] = SIDE_ALIASES[word]
        else:
            result["entity"] = word
    return result
