"""The status bar: the service and its watchers in words, with age and colour; then the counts; then the config.

    ● running pid 412 · heartbeat 3 s   FactuSOL idle, scanned 12 s ago   shop streaming, event 1 s ago
    changes pending 2 · applied 120 · echo 4 · conflict 1 · quarantined 0 · skipped 0   needs you 1 conflict ·
    0 in quarantine   (one line on screen)

Change counts are counts of captured changes by status; "needs you" counts the open conflict and quarantine
records (one conflict record per field, so the two are labelled apart and never read as a contradiction).  The
configuration line (store, FactuSOL, shop, passwords masked) is shown when the screen has room for it.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from replicator.service_state import NEVER_RUN, NOT_RESPONDING, RUNNING, STOPPED, WATCHER_STYLES, ServiceState, age_text
from replicator.store import utcnow

from .format import STATUS_STYLES, STATUSES, safe

SIDE_NAMES = {"factusol": "FactuSOL", "prestashop": "shop"}
SERVICE_STYLES = {RUNNING: "bold green", NOT_RESPONDING: "bold red", STOPPED: "bold yellow", NEVER_RUN: "dim"}
ROOMY_HEIGHT = 32  # from this many lines up the configuration line is shown too
COMPACT_WIDTH = 130  # below this many columns the bar uses fewer words (it must not wrap at 80)


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


def service_text(service: ServiceState | None, readonly: bool = False, compact: bool = False) -> Text:
    """The first line: the service, then each watcher's state with its age (`compact`: fewer words, for a
    narrow screen)."""
    text = Text()
    if readonly:
        text.append(" READ-ONLY ", style="bold reverse").append(" ")
    if service is None:
        return text.append("reading the state store…", style="dim")
    text.append("● ", style=SERVICE_STYLES.get(service.state, ""))
    if service.state in (RUNNING, NOT_RESPONDING) and service.holder:
        text.append(f"{service.state} ", style=SERVICE_STYLES[service.state])
        if not compact:
            text.append(f"pid {service.holder.pid} · ", style="dim")
        text.append(f"heartbeat {age_text(service.holder.age_seconds)}", style="dim")
    elif service.state == STOPPED:
        text.append("service stopped ", style=SERVICE_STYLES[STOPPED])
        if service.last_seen_seconds is not None and not compact:
            text.append(f"(last seen {age_text(service.last_seen_seconds)} ago)", style="dim")
    else:
        text.append("no service has run on this store yet", style="dim")
    now = utcnow()
    for watcher in service.watchers:
        text.append("  " if compact else "   ")
        text.append(f"{SIDE_NAMES.get(watcher.side, watcher.side)} ", style="bold")
        text.append(watcher.state, style=WATCHER_STYLES.get(watcher.state, ""))
        if watcher.since is not None:
            age = age_text((now - watcher.since).total_seconds())
            word = {"locked": "for", "error": "since"}.get(watcher.state, "last activity")
            text.append(f" {age}" if compact else f" ({word} {age}{' ago' if word != 'for' else ''})", style="dim")
        if watcher.state == "error" and watcher.detail and not compact:
            text.append(f" {safe(watcher.detail)[:60]}", style="red")
    if service.paused:
        text.append("   PAUSED", style="bold yellow")
    return text


def counts_text(counts: dict[str, int], open_conflicts: int, open_quarantine: int, compact: bool = False) -> Text:
    """Change counts by status, then what needs a person (`compact`: statuses at 0 left out, pending kept)."""
    text = Text()
    text.append("changes ", style="dim")
    shown = [s for s in STATUSES if not compact or s == "pending" or counts.get(s)]
    for i, status in enumerate(shown):
        if i:
            text.append(" · ", style="dim")
        text.append(f"{status} ", style="dim").append(str(counts.get(status, 0)), style=STATUS_STYLES[status])
    text.append("  needs you " if compact else "   needs you ", style="dim")
    text.append(
        f"{open_conflicts} conflict{'s' if open_conflicts != 1 else ''}", style="bold red" if open_conflicts else ""
    )
    text.append(" · ", style="dim")
    text.append(f"{open_quarantine} in quarantine", style="magenta" if open_quarantine else "")
    return text


class StatusHeader(Static):
    """Two lines (three when the screen is tall): service and watchers, counts, configuration."""

    DEFAULT_CSS = """
    StatusHeader { height: auto; padding: 0 1; background: $boost; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, config_description: dict[str, Any], readonly: bool = False, **kwargs):
        super().__init__("", **kwargs)
        self.config_description = config_description
        self.readonly = readonly
        self.summary: dict[str, Any] = {}
        self.service: ServiceState | None = None

    def on_mount(self) -> None:
        self.update(self.render_summary())

    def show(self, counts: dict[str, int], open_conflicts: int, open_quarantine: int, service: ServiceState) -> None:
        self.summary = {"changes": counts, "open_conflicts": open_conflicts, "open_quarantine": open_quarantine}
        self.service = service
        self.update(self.render_summary())

    def on_resize(self) -> None:
        self.update(self.render_summary())

    def render_summary(self) -> Text:
        compact = self.app.size.width < COMPACT_WIDTH
        text = service_text(self.service, self.readonly, compact)
        if self.summary:
            text.append("\n").append_text(
                counts_text(
                    self.summary.get("changes", {}),
                    self.summary.get("open_conflicts", 0),
                    self.summary.get("open_quarantine", 0),
                    compact,
                )
            )
        if self.app.size.height >= ROOMY_HEIGHT:
            text.append("\n").append_text(describe_config(self.config_description))
        return text
